//! Key naming: the one place that knows the schema in `spec/key-schema.md`.

use crate::error::{Error, Result};

/// The Redis keys of one queue, derived from its prefix.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub prefix: String,
    pub queue: String,
    pub processing: String,
    pub cleaning: String,
    pub lease_prefix: String,
    pub old_lease_prefix: String,
    pub item_prefix: String,
    pub prioritized: String,
    pub delayed: String,
    pub deadlines: String,
    pub attempts: String,
    pub errors: String,
    pub priority: String,
    pub dead: String,
    pub paused: String,
    pub signal: String,
    pub done_prefix: String,
    /// Per-minute counters (see `inspect.rs`).
    pub stats: String,
    /// The last fencing token handed out (a counter that is never reset).
    pub last_fence: String,
    /// The fencing token of each id's latest delivery, a hash.
    pub fences: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Result<Keys> {
        if prefix.is_empty() {
            return Err(Error::invalid_argument(
                "queue name (key prefix) must not be empty",
            ));
        }
        Ok(Keys {
            prefix: prefix.to_owned(),
            queue: format!("{prefix}:queue"),
            processing: format!("{prefix}:processing"),
            cleaning: format!("{prefix}:cleaning"),
            lease_prefix: format!("{prefix}:lease:"),
            old_lease_prefix: format!("{prefix}:leased_by_session:"),
            item_prefix: format!("{prefix}:item:"),
            prioritized: format!("{prefix}:prioritized"),
            delayed: format!("{prefix}:delayed"),
            deadlines: format!("{prefix}:deadlines"),
            attempts: format!("{prefix}:attempts"),
            errors: format!("{prefix}:errors"),
            priority: format!("{prefix}:priority"),
            dead: format!("{prefix}:dead"),
            paused: format!("{prefix}:paused"),
            signal: format!("{prefix}:signal"),
            done_prefix: format!("{prefix}:done:"),
            stats: format!("{prefix}:stats"),
            last_fence: format!("{prefix}:last_fence"),
            fences: format!("{prefix}:fences"),
        })
    }

    pub fn item(&self, id: &str) -> String {
        format!("{}{id}", self.item_prefix)
    }

    pub fn lease(&self, id: &str) -> String {
        format!("{}{id}", self.lease_prefix)
    }

    pub fn done(&self, id: &str) -> String {
        format!("{}{id}", self.done_prefix)
    }

    pub fn old_lease(&self, id: &str) -> String {
        format!("{}{id}", self.old_lease_prefix)
    }

    /// A key under this queue's prefix followed by raw id bytes (an id need not be UTF-8 when a
    /// foreign producer wrote it).
    pub fn with_id(prefix: &str, id: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(prefix.len() + id.len());
        key.extend_from_slice(prefix.as_bytes());
        key.extend_from_slice(id);
        key
    }

    /// The SCAN pattern matching every item key, with glob characters of the prefix escaped so a
    /// prefix like `jobs[eu]*` matches only itself.
    pub fn item_scan_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.item_prefix.len() + 1);
        for ch in self.item_prefix.chars() {
            if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('*');
        pattern
    }
}

/// The per-queue key names of the schema (`<p>:<name>`).
const QUEUE_KEY_NAMES: [&str; 16] = [
    "schema",
    "last_fence",
    "fences",
    "stats",
    "queue",
    "processing",
    "cleaning",
    "prioritized",
    "delayed",
    "deadlines",
    "attempts",
    "errors",
    "priority",
    "dead",
    "paused",
    "signal",
];
/// The per-id key names of the schema (`<p>:<name>:<id>`).
const ID_KEY_NAMES: [&str; 4] = ["item", "lease", "leased_by_session", "done"];

/// Whether `<p>:item:<rest>` could be a key of another queue, one named `<p>:item` or
/// `<p>:item:<A>` (spec/key-schema.md, "Namespaces"). Every key of a queue `q` is `q:<name>` or
/// `q:<id name>:<id>`, so the key is another queue's exactly when `rest` is `[A:]<name>` or
/// `[A:]<id name>:<anything>`. The deep clean never adopts such a key: its name alone cannot say
/// whose it is, and adopting another queue's key is what loses items; leaving one of ours loses
/// nothing (its data stays, `add_item` of the id is refused, a requeue by hand brings it back).
pub fn may_be_another_queues(rest: &[u8]) -> bool {
    let Ok(rest) = std::str::from_utf8(rest) else {
        return false;
    };
    let components: Vec<&str> = rest.split(':').collect();
    let last = components[components.len() - 1];
    if QUEUE_KEY_NAMES.contains(&last) {
        return true;
    }
    // An id name followed by at least one more component.
    components[..components.len() - 1]
        .iter()
        .any(|component| ID_KEY_NAMES.contains(component))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pattern_escapes_glob_characters() {
        let keys = Keys::new(r"a*b?c[d]e\f").unwrap();
        assert_eq!(keys.item_scan_pattern(), r"a\*b\?c\[d\]e\\f:item:*");
    }

    #[test]
    fn keys_of_nested_queues_are_recognised() {
        for rest in [
            "x:queue",
            "queue",
            "x:item:1",
            "item:1",
            "x:y:lease:a:b",
            "x:done:",
            "x:leased_by_session:s",
            "a:b:dead",
        ] {
            assert!(may_be_another_queues(rest.as_bytes()), "{rest}");
        }
        for rest in [
            "1",
            "user:17",
            "x:queued",
            "item",
            "lease",
            "a:items:b",
            "uuid-1234",
        ] {
            assert!(!may_be_another_queues(rest.as_bytes()), "{rest}");
        }
    }

    #[test]
    fn empty_prefix_is_refused() {
        assert_eq!(
            Keys::new("").unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
    }
}
