//! The eviction check made once when a [`crate::Connection`] opens.
//!
//! A Redis whose `maxmemory-policy` is not `noeviction` deletes keys when it reaches `maxmemory`:
//! a queue's lists and item keys among them, so items are lost without a trace (BullMQ warns about
//! this at start for the same reason). The check reads `INFO memory` (allowed on more managed
//! Redis services than `CONFIG GET`), on a Cluster from every master, and by default only warns:
//! the finding is kept by the connection ([`crate::Connection::warnings`]) and each binding emits
//! it once through its language's usual channel. The URL query parameter `eviction` chooses:
//! `warn` (the default), `refuse` (opening fails with a Connection error) or `ignore` (no check).

use redis::aio::ConnectionLike;
use redis::Value;

use crate::error::{Error, ErrorKind, Result};

/// What opening a connection does about a Redis that may evict keys: the URL's `eviction`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum EvictionMode {
    #[default]
    Warn,
    Refuse,
    Ignore,
}

/// Takes the `eviction` query parameter out of `url`, which is then passed on without it (redis-rs
/// and the Cluster and Sentinel URL forms never see it); other query parameters stay.
pub(crate) fn take_mode(url: &str) -> Result<(String, EvictionMode)> {
    let (body, fragment) = url.split_at(url.find('#').unwrap_or(url.len()));
    let Some(query_at) = body.find('?') else {
        return Ok((url.to_owned(), EvictionMode::Warn));
    };
    let mut mode = EvictionMode::Warn;
    let mut kept = Vec::new();
    for pair in body[query_at + 1..].split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "eviction" {
            if !pair.is_empty() {
                kept.push(pair);
            }
            continue;
        }
        mode = match value {
            "warn" => EvictionMode::Warn,
            "refuse" => EvictionMode::Refuse,
            "ignore" => EvictionMode::Ignore,
            other => {
                return Err(Error::invalid_argument(format!(
                    "invalid Redis URL: eviction must be warn, refuse or ignore, got {other:?}"
                )))
            }
        };
    }
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    Ok((format!("{}{query}{fragment}", &body[..query_at]), mode))
}

/// What the check found, kept by the connection for its lifetime.
#[derive(Clone, Debug, Default)]
pub(crate) struct Finding {
    /// The policy Redis reported: on a Cluster, the first master's that is not `noeviction` (or
    /// `noeviction` when all are). `None` when not checked or not readable.
    pub policy: Option<String>,
    /// One sentence per thing the application should be told, each emitted once.
    pub warnings: Vec<String>,
}

/// Reads `maxmemory_policy` through `connection` (on a Cluster, from every master) and applies
/// `mode`. `place` names the server for messages when the answer does not (one server, Sentinel).
pub(crate) async fn check(
    connection: &mut impl ConnectionLike,
    mode: EvictionMode,
    place: &str,
) -> Result<Finding> {
    if mode == EvictionMode::Ignore {
        return Ok(Finding::default());
    }
    let policies: Vec<(String, std::result::Result<String, String>)> = match redis::cmd("INFO")
        .arg("memory")
        .query_async::<Value>(connection)
        .await
    {
        Ok(Value::Map(per_node)) => per_node
            .into_iter()
            .map(|(node, answer)| {
                let node = match node {
                    Value::BulkString(address) => {
                        format!(
                            "the Redis Cluster node {}",
                            String::from_utf8_lossy(&address)
                        )
                    }
                    _ => place.to_owned(),
                };
                (node, read_policy(&answer))
            })
            .collect(),
        Ok(answer) => vec![(place.to_owned(), read_policy(&answer))],
        // A server error reply (NOPERM for an ACL user without +info, a renamed or disabled INFO
        // on some managed services) is said once instead of failing; a broken or slow connection
        // is an error as at any other step of opening.
        Err(err) if err.code().is_some() => {
            vec![(place.to_owned(), Err(format!("INFO was refused ({err})")))]
        }
        Err(err) => return Err(err.into()),
    };
    let mut finding = Finding::default();
    let mut evicting = Vec::new();
    for (node, policy) in policies {
        match policy {
            Ok(policy) if policy == "noeviction" => {
                finding.policy.get_or_insert(policy);
            }
            Ok(policy) => evicting.push((node, policy)),
            Err(why) => finding.warnings.push(format!(
                "leaseq cannot check the maxmemory-policy of {node}: {why}. If it is not \
                 noeviction, Redis may evict queue keys and lose items; set it with CONFIG SET \
                 maxmemory-policy noeviction, or add eviction=ignore to the connection URL to \
                 silence this warning"
            )),
        }
    }
    if let Some((node, policy)) = evicting.first() {
        finding.policy = Some(policy.clone());
        let more = match evicting.len() {
            1 => String::new(),
            n => format!(" (and {} other masters)", n - 1),
        };
        if mode == EvictionMode::Refuse {
            return Err(Error::new(
                ErrorKind::Connection,
                format!(
                    "{node}{more} has maxmemory-policy {policy}: it may evict queue keys and lose \
                     items, and the URL asks to refuse that (eviction=refuse). Set it with CONFIG \
                     SET maxmemory-policy noeviction (and in redis.conf)"
                ),
            ));
        }
        finding.warnings.push(format!(
            "{node}{more} has maxmemory-policy {policy}: when it reaches maxmemory it may evict \
             queue keys and lose items without a trace. Set it with CONFIG SET maxmemory-policy \
             noeviction (and in redis.conf), or add eviction=ignore to the connection URL to \
             silence this warning"
        ));
    }
    Ok(finding)
}

/// The `maxmemory_policy` field of one node's `INFO memory` answer, or why there is none.
fn read_policy(answer: &Value) -> std::result::Result<String, String> {
    let text = match answer {
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::SimpleString(text) => text.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::ServerError(err) => return Err(format!("INFO was refused ({err})")),
        other => return Err(format!("INFO answered {other:?}")),
    };
    text.lines()
        .find_map(|line| line.trim().strip_prefix("maxmemory_policy:"))
        .map(str::to_owned)
        .ok_or_else(|| "INFO memory has no maxmemory_policy field".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eviction_parameter_is_taken_out_of_the_url() {
        let take = |url| take_mode(url).unwrap();
        assert_eq!(
            take("redis://127.0.0.1:6379"),
            ("redis://127.0.0.1:6379".to_owned(), EvictionMode::Warn)
        );
        assert_eq!(
            take("redis://127.0.0.1:6379/2?eviction=refuse"),
            ("redis://127.0.0.1:6379/2".to_owned(), EvictionMode::Refuse)
        );
        assert_eq!(
            take("rediss://u:p@h:1?protocol=resp3&eviction=ignore#insecure"),
            (
                "rediss://u:p@h:1?protocol=resp3#insecure".to_owned(),
                EvictionMode::Ignore
            )
        );
        assert_eq!(
            take("redis+cluster://h:1,h:2?eviction=warn"),
            ("redis+cluster://h:1,h:2".to_owned(), EvictionMode::Warn)
        );
        assert_eq!(
            take("unix:///tmp/redis.sock?db=1&eviction=refuse"),
            (
                "unix:///tmp/redis.sock?db=1".to_owned(),
                EvictionMode::Refuse
            )
        );
        let err = take_mode("redis://h:1?eviction=never").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.message().contains("warn, refuse or ignore"), "{err}");
        assert_eq!(
            take_mode("redis://h:1?eviction").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn the_policy_is_read_from_info_memory() {
        let info = Value::BulkString(
            b"# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\n".to_vec(),
        );
        assert_eq!(read_policy(&info), Ok("allkeys-lru".to_owned()));
        let empty = Value::BulkString(b"# Memory\r\nused_memory:1\r\n".to_vec());
        assert!(read_policy(&empty)
            .unwrap_err()
            .contains("no maxmemory_policy"));
    }
}
