//! What a [`crate::Connection`] connects to: one server, a Redis Cluster, or the master a set of
//! Sentinels points at; and the shared connection made to it. redis-rs does the work (its
//! `ConnectionManager`, cluster-async and sentinel support): this file only picks and wraps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{
    ConnectionAddr, IntoConnectionInfo, RedisError, RedisResult, TlsCertificates, TlsMode,
};

use crate::connection::ConnectionOptions;
use crate::error::{Error, Result};

/// Where a connection goes, parsed from its URL.
pub(crate) enum Target {
    Single(redis::Client),
    Cluster {
        /// One `redis[s]://[user:password@]host:port[#insecure]` per seed node.
        nodes: Vec<String>,
        /// The CA named by `?tls_ca=`, if any.
        certificates: Option<TlsCertificates>,
        description: String,
    },
    Sentinel {
        sentinels: Vec<ConnectionAddr>,
        master: String,
        username: Option<String>,
        password: Option<String>,
        db: i64,
        tls: Option<TlsMode>,
        certificates: Option<TlsCertificates>,
        description: String,
    },
}

/// Takes `tls_ca=PATH` out of the URL's query (`rediss://host:6379/?tls_ca=/etc/ca.pem`, any
/// scheme with TLS): the certificate authority, in PEM, that the server's certificate must chain
/// to, instead of the system's roots (a private CA, as in a self-managed Redis). The file is read
/// here, once. Other query parameters stay for redis-rs.
fn take_tls_ca(url: &str) -> Result<(String, Option<TlsCertificates>)> {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut ca_path = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("tls_ca", path)) => ca_path = Some(path),
            _ => kept.push(pair),
        }
    }
    let Some(ca_path) = ca_path else {
        return Ok((url.to_owned(), None));
    };
    if !url.starts_with("rediss") {
        return Err(Error::invalid_argument(format!(
            "invalid Redis URL {:?}: tls_ca needs a TLS scheme (rediss://, rediss+cluster://, \
             rediss+sentinel://)",
            redact(url)
        )));
    }
    let pem = std::fs::read(ca_path).map_err(|err| {
        Error::invalid_argument(format!(
            "invalid Redis URL {:?}: cannot read the tls_ca file {ca_path:?}: {err}",
            redact(url)
        ))
    })?;
    let mut rest = base.to_owned();
    if !kept.is_empty() {
        rest = format!("{rest}?{}", kept.join("&"));
    }
    if let Some(fragment) = fragment {
        rest = format!("{rest}#{fragment}");
    }
    Ok((
        rest,
        Some(TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        }),
    ))
}

/// The parts of a `scheme://[userinfo@]host:port[,host:port…][/path][#fragment]` URL.
struct MultiHost<'a> {
    tls: bool,
    userinfo: Option<&'a str>,
    hosts: Vec<&'a str>,
    path: &'a str,
    fragment: Option<&'a str>,
}

fn split_multi_host<'a>(url: &'a str, rest: &'a str, tls: bool) -> Result<MultiHost<'a>> {
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').filter(|host| !host.is_empty()).collect();
    if hosts.is_empty() {
        return Err(Error::invalid_argument(format!(
            "invalid Redis URL {:?}: no host:port",
            redact(url)
        )));
    }
    Ok(MultiHost {
        tls,
        userinfo,
        hosts,
        path,
        fragment,
    })
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl MultiHost<'_> {
    /// One ordinary URL for `host`, carrying the user, password and TLS mode.
    fn node_url(&self, host: &str, path: &str) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let userinfo = self.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
        let fragment = self.fragment.map(|f| format!("#{f}")).unwrap_or_default();
        format!("{scheme}://{userinfo}{host}{path}{fragment}")
    }

    fn description(&self, kind: &str) -> String {
        format!("{kind} {}", self.hosts.join(","))
    }
}

impl Target {
    pub fn parse(url: &str) -> Result<Target> {
        let (url, certificates) = take_tls_ca(url)?;
        let url = url.as_str();
        let invalid = |err: RedisError| {
            Error::invalid_argument(format!("invalid Redis URL {:?}: {err}", redact(url)))
        };
        for (scheme, tls) in [("redis+cluster://", false), ("rediss+cluster://", true)] {
            if let Some(rest) = url.strip_prefix(scheme) {
                let parts = split_multi_host(url, rest, tls)?;
                if !parts.path.is_empty() && parts.path != "/" && parts.path != "/0" {
                    return Err(Error::invalid_argument(format!(
                        "invalid Redis URL {:?}: a Cluster has only database 0",
                        redact(url)
                    )));
                }
                let nodes: Vec<String> =
                    parts.hosts.iter().map(|h| parts.node_url(h, "")).collect();
                // Parse each now, so a bad one is an error here.
                for node in &nodes {
                    node.as_str().into_connection_info().map_err(invalid)?;
                }
                return Ok(Target::Cluster {
                    description: parts.description("the Redis Cluster at"),
                    nodes,
                    certificates,
                });
            }
        }
        for (scheme, tls) in [("redis+sentinel://", false), ("rediss+sentinel://", true)] {
            if let Some(rest) = url.strip_prefix(scheme) {
                let parts = split_multi_host(url, rest, tls)?;
                let mut path = parts.path.trim_start_matches('/').splitn(2, '/');
                let master = path.next().unwrap_or_default();
                if master.is_empty() {
                    return Err(Error::invalid_argument(format!(
                        "invalid Redis URL {:?}: name the master after the Sentinels, as in \
                         redis+sentinel://host:26379/mymaster",
                        redact(url)
                    )));
                }
                let db_path = path.next().map(|db| format!("/{db}")).unwrap_or_default();
                let mut sentinels = Vec::new();
                let (mut username, mut password, mut db, mut tls_mode) = (None, None, 0, None);
                for host in &parts.hosts {
                    let info = parts
                        .node_url(host, &db_path)
                        .as_str()
                        .into_connection_info()
                        .map_err(invalid)?;
                    username = info.redis_settings().username().map(str::to_owned);
                    password = info.redis_settings().password().map(str::to_owned);
                    db = info.redis_settings().db();
                    // The Sentinels themselves are reached without the data nodes' password.
                    sentinels.push(match info.addr().clone() {
                        ConnectionAddr::TcpTls {
                            host,
                            port,
                            insecure,
                            ..
                        } => {
                            tls_mode = Some(if insecure {
                                TlsMode::Insecure
                            } else {
                                TlsMode::Secure
                            });
                            ConnectionAddr::TcpTls {
                                host,
                                port,
                                insecure,
                                tls_params: None,
                            }
                        }
                        addr => addr,
                    });
                }
                return Ok(Target::Sentinel {
                    description: format!(
                        "the master {master:?} of the Sentinels at {}",
                        parts.hosts.join(",")
                    ),
                    sentinels,
                    master: master.to_owned(),
                    username,
                    password,
                    db,
                    tls: tls_mode,
                    certificates,
                });
            }
        }
        let client = match certificates {
            Some(certificates) => redis::Client::build_with_tls(url, certificates),
            None => redis::Client::open(url),
        };
        Ok(Target::Single(client.map_err(invalid)?))
    }

    /// Where this goes, for messages (never the password).
    pub fn describe(&self) -> String {
        match self {
            Target::Single(client) => client.get_connection_info().addr().to_string(),
            Target::Cluster { description, .. } | Target::Sentinel { description, .. } => {
                description.clone()
            }
        }
    }

    /// The one server's client (not for a Cluster or Sentinel).
    pub fn single_client(&self) -> &redis::Client {
        match self {
            Target::Single(client) => client,
            _ => unreachable!("single_client on a Cluster or Sentinel target"),
        }
    }

    /// A Cluster client; `shared` ones bound each answer by the response timeout, blocking ones
    /// wait as long as their command.
    pub fn cluster_client(
        &self,
        options: &ConnectionOptions,
        shared: bool,
    ) -> Result<ClusterClient> {
        let Target::Cluster {
            nodes,
            certificates,
            ..
        } = self
        else {
            unreachable!("cluster_client on a target that is not a Cluster");
        };
        let mut builder = ClusterClient::builder(nodes.clone())
            .connection_timeout(options.connect_timeout)
            .retries(8);
        if let Some(certificates) = certificates {
            builder = builder.certs(certificates.clone());
        }
        if shared {
            if let Some(timeout) = options.response_timeout {
                builder = builder.response_timeout(timeout);
            }
        }
        builder.build().map_err(|err| {
            Error::invalid_argument(format!("invalid Redis Cluster settings: {err}"))
        })
    }

    /// Opens the shared connection.
    pub async fn connect_shared(&self, options: &ConnectionOptions) -> RedisResult<Shared> {
        let manager = |client: redis::Client| {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(options.connect_timeout))
                .set_response_timeout(options.response_timeout)
                .set_number_of_retries(2);
            ConnectionManager::new_with_config(client, config)
        };
        // Three attempts' worth, as a single server's connection manager gets.
        let within = options.connect_timeout * 3;
        match self {
            Target::Single(client) => Ok(Shared::Single(manager(client.clone()).await?)),
            Target::Cluster { .. } => {
                let client = self
                    .cluster_client(options, true)
                    .map_err(|err| RedisError::from(std::io::Error::other(err.to_string())))?;
                // redis-rs issue 1953: connecting can hang; bound it.
                match tokio::time::timeout(within, client.get_async_connection()).await {
                    Ok(connected) => Ok(Shared::Cluster(connected?)),
                    Err(_) => Err(timed_out()),
                }
            }
            Target::Sentinel {
                sentinels,
                master,
                username,
                password,
                db,
                tls,
                certificates,
                ..
            } => {
                let mut builder = SentinelClientBuilder::new(
                    sentinels.clone(),
                    master,
                    SentinelServerType::Master,
                )?
                .set_client_to_redis_db(*db);
                if let Some(username) = username {
                    builder = builder.set_client_to_redis_username(username);
                }
                if let Some(password) = password {
                    builder = builder.set_client_to_redis_password(password);
                }
                if let Some(tls) = tls {
                    builder = builder
                        .set_client_to_redis_tls_mode(*tls)
                        .set_client_to_sentinel_tls_mode(*tls);
                }
                if let Some(certificates) = certificates {
                    builder = builder
                        .set_client_to_redis_certificates(certificates.clone())
                        .set_client_to_sentinel_certificates(certificates.clone());
                }
                let mut sentinel = builder.build()?;
                let client = match tokio::time::timeout(within, sentinel.async_get_client()).await {
                    Ok(client) => client?,
                    Err(_) => return Err(timed_out()),
                };
                Ok(Shared::Sentinel {
                    manager: manager(client.clone()).await?,
                    client: Box::new(client),
                    stale: Arc::new(AtomicBool::new(false)),
                })
            }
        }
    }
}

fn timed_out() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "timed out connecting",
    ))
}

/// The shared connection: redis-rs's connection manager (one server: reconnects by itself), its
/// Cluster connection (follows MOVED/ASK, refreshes the slot map, reconnects), or a connection
/// manager to the master Sentinel named, marked stale when the master may have moved (a broken
/// connection, or a READONLY answer from a demoted master) so the next use asks the Sentinels again.
#[derive(Clone)]
pub(crate) enum Shared {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel {
        manager: ConnectionManager,
        client: Box<redis::Client>,
        stale: Arc<AtomicBool>,
    },
}

impl Shared {
    pub fn is_stale(&self) -> bool {
        match self {
            Shared::Sentinel { stale, .. } => stale.load(Ordering::Acquire),
            _ => false,
        }
    }
}

/// An answer that says the Sentinel master may be elsewhere now.
fn master_may_have_moved(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
}

impl ConnectionLike for Shared {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Shared::Single(c) => c.req_packed_command(cmd),
            Shared::Cluster(c) => c.req_packed_command(cmd),
            Shared::Sentinel { manager, stale, .. } => Box::pin(async move {
                let answer = manager.req_packed_command(cmd).await;
                if let Err(err) = &answer {
                    if master_may_have_moved(err) {
                        stale.store(true, Ordering::Release);
                    }
                }
                answer
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Shared::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Shared::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Shared::Sentinel { manager, stale, .. } => Box::pin(async move {
                let answer = manager.req_packed_commands(pipeline, offset, count).await;
                if let Err(err) = &answer {
                    if master_may_have_moved(err) {
                        stale.store(true, Ordering::Release);
                    }
                }
                answer
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Shared::Single(c) => c.get_db(),
            Shared::Cluster(c) => c.get_db(),
            Shared::Sentinel { manager, .. } => manager.get_db(),
        }
    }
}

/// True if `name` (a queue's key prefix) holds a Redis Cluster hash tag: a `{`, later a `}`, and
/// at least one character between them. Every key of the queue then hashes to the same slot.
pub(crate) fn has_hash_tag(name: &str) -> bool {
    match name.find('{') {
        Some(open) => match name[open + 1..].find('}') {
            Some(len) => len > 0,
            None => false,
        },
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tags() {
        assert!(has_hash_tag("{jobs}"));
        assert!(has_hash_tag("app:{jobs}:eu"));
        assert!(!has_hash_tag("jobs"));
        assert!(!has_hash_tag("{}jobs"));
        assert!(!has_hash_tag("{jobs"));
        // Redis takes the first `{` and the first `}` after it: "{}" then "{b}" gives no tag.
        assert!(!has_hash_tag("{}{b}"));
    }

    #[test]
    fn urls() {
        let Target::Cluster { nodes, .. } =
            Target::parse("rediss+cluster://u:p@127.0.0.1:7000,127.0.0.1:7001#insecure").unwrap()
        else {
            panic!("not a cluster")
        };
        assert_eq!(
            nodes,
            [
                "rediss://u:p@127.0.0.1:7000#insecure",
                "rediss://u:p@127.0.0.1:7001#insecure"
            ]
        );
        let Target::Sentinel {
            sentinels,
            master,
            password,
            db,
            ..
        } = Target::parse("redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/2")
            .unwrap()
        else {
            panic!("not a sentinel")
        };
        assert_eq!(sentinels.len(), 2);
        assert_eq!(
            (master.as_str(), password.as_deref(), db),
            ("mymaster", Some("pw"), 2)
        );
        for bad in [
            "redis+sentinel://127.0.0.1:26379",
            "redis+cluster://",
            "redis+cluster://h:1/3",
        ] {
            let err = Target::parse(bad).err().expect(bad);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
        assert_eq!(
            redact("redis+cluster://u:secret@h:1"),
            "redis+cluster://u:***@h:1"
        );
    }
}
