//! Redis key names of a namespace, and the lexicographic range of a key prefix.
//!
//! A namespace's keys are `<prefix>{<len>:<namespace>}:e`, `...:k` and `...:u`, where `<len>`
//! is the namespace's length in bytes, in decimal. Reading a name back is unambiguous: the
//! length says where the namespace ends, whatever bytes (`}`, `:`, `/`) it contains, so no
//! two namespaces share a Redis key.

/// The three Redis keys of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamespaceKeys {
    /// Hash: plugin key -> value.
    pub(super) entries: Vec<u8>,
    /// Sorted set of the plugin keys (score 0), for listing in byte order.
    pub(super) index: Vec<u8>,
    /// Integer: bytes used (absent when 0).
    pub(super) usage: Vec<u8>,
}

impl NamespaceKeys {
    pub(super) fn new(prefix: &str, namespace: &str) -> NamespaceKeys {
        let base = format!("{prefix}{{{}:{namespace}}}:", namespace.len());
        let with = |suffix: &str| format!("{base}{suffix}").into_bytes();
        NamespaceKeys {
            entries: with("e"),
            index: with("k"),
            usage: with("u"),
        }
    }
}

/// `ZRANGEBYLEX` bounds selecting exactly the members that start with `prefix`: from
/// `[prefix` (inclusive) to `(` + the smallest string greater than every string with that
/// prefix, or `-` / `+` when there is no such bound.
pub(super) fn lex_range(prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
    if prefix.is_empty() {
        return (b"-".to_vec(), b"+".to_vec());
    }
    let mut min = b"[".to_vec();
    min.extend_from_slice(prefix);
    let max = match successor(prefix) {
        Some(next) => {
            let mut max = b"(".to_vec();
            max.extend_from_slice(&next);
            max
        }
        None => b"+".to_vec(),
    };
    (min, max)
}

/// The smallest byte string greater than every string starting with `prefix`: drop trailing
/// `0xff` bytes and increment the last remaining one. `None` if `prefix` is all `0xff`.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let keep = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut next = prefix[..=keep].to_vec();
    next[keep] += 1;
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_namespace_length() {
        let keys = NamespaceKeys::new("p:", "a/b");
        assert_eq!(keys.entries, b"p:{3:a/b}:e");
        assert_eq!(keys.index, b"p:{3:a/b}:k");
        assert_eq!(keys.usage, b"p:{3:a/b}:u");
        // Namespaces that would collide without the length do not.
        let tricky = NamespaceKeys::new("p:", "a}:e");
        assert_ne!(tricky.entries, NamespaceKeys::new("p:", "a").entries);
        assert_eq!(NamespaceKeys::new("", "").entries, b"{0:}:e");
    }

    #[test]
    fn prefix_ranges() {
        assert_eq!(lex_range(b""), (b"-".to_vec(), b"+".to_vec()));
        assert_eq!(lex_range(b"ab"), (b"[ab".to_vec(), b"(ac".to_vec()));
        assert_eq!(lex_range(b"a\xff"), (b"[a\xff".to_vec(), b"(b".to_vec()));
        assert_eq!(
            lex_range(b"\xff\xff"),
            (b"[\xff\xff".to_vec(), b"+".to_vec())
        );
        assert_eq!(successor(b"a\xfe\xff"), Some(b"a\xff".to_vec()));
    }
}
