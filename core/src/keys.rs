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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pattern_escapes_glob_characters() {
        let keys = Keys::new(r"a*b?c[d]e\f").unwrap();
        assert_eq!(keys.item_scan_pattern(), r"a\*b\?c\[d\]e\\f:item:*");
    }

    #[test]
    fn empty_prefix_is_refused() {
        assert_eq!(
            Keys::new("").unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
    }
}
