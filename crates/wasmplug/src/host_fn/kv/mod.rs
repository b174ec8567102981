//! Key-value storage for plugins: a [`KvStore`] shared by the host, cut into one
//! [`KvNamespace`] per plugin with its own [`KvQuota`].
//!
//! Keys and values are arbitrary bytes. A key is never empty. Every entry counts
//! `key.len() + value.len()` bytes against its namespace's `max_total_bytes`; replacing an
//! entry counts only the difference, deleting one gives its bytes back. A write that would
//! grow a namespace past its quota fails with [`KvError::QuotaExceeded`] and changes nothing;
//! a write that does not grow usage is always allowed, so a namespace left over a lowered
//! quota can still shrink.
//!
//! Namespaces never see each other's keys. Backends must keep them apart without relying on
//! a separator (a namespace `"a"` with key `"b/x"` and a namespace `"a/b"` with key `"x"` are
//! different entries): the memory backend keeps one map per namespace, the redb backend
//! prefixes every key with the namespace's length and bytes, which no key of another
//! namespace can imitate, and the Redis backend names each namespace's Redis keys after its
//! length and bytes the same way.
//!
//! Backends: [`KvStore::open`] (a redb file, persistent, exclusive to one process),
//! [`KvStore::redis`] (a Redis server shared by any number of processes and hosts; quotas
//! exact across all of them) and [`KvStore::in_memory`] (lost on drop); anything else
//! implements [`KvBackend`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;

#[cfg(test)]
mod conformance;
mod memory;
mod redb_store;
mod redis_store;

pub use redis_store::RedisOptions;

/// Storage behind the kv host functions; a networked store can implement it later.
///
/// The store does no size checks of its own beyond the total quota: [`KvNamespace`] refuses
/// empty and oversized keys and values before calling it.
pub trait KvBackend: Send + Sync + 'static {
    /// The value stored under `key` in `namespace`, if any.
    fn get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;
    /// Inserts or replaces. Must atomically enforce `max_total_bytes` for the namespace
    /// (sum over its entries of `key.len() + value.len()`, replacing an entry counts the
    /// delta) and return [`KvError::QuotaExceeded`] without changing anything when it would be
    /// exceeded. A write that does not grow the namespace is always allowed.
    fn set(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        max_total_bytes: u64,
    ) -> Result<(), KvError>;
    /// Removes `key`. Returns whether the key existed.
    fn delete(&self, namespace: &str, key: &[u8]) -> Result<bool, KvError>;
    /// Keys starting with `prefix`, in ascending byte order, at most `limit`.
    fn list(&self, namespace: &str, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, KvError>;
    /// Bytes used by the namespace (same accounting as [`KvBackend::set`]).
    fn used_bytes(&self, namespace: &str) -> Result<u64, KvError>;
}

/// Quotas per namespace; defaults: key 1 KiB, value 1 MiB, total 64 MiB, list 1000 keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// Largest key accepted, in bytes.
    pub max_key_bytes: u64,
    /// Largest value accepted, in bytes.
    pub max_value_bytes: u64,
    /// Largest sum of `key.len() + value.len()` over all entries of the namespace.
    pub max_total_bytes: u64,
    /// Most keys one [`KvNamespace::list`] call returns.
    pub max_list_keys: usize,
}

impl Default for KvQuota {
    fn default() -> Self {
        Self {
            max_key_bytes: 1024,
            max_value_bytes: 1024 * 1024,
            max_total_bytes: 64 * 1024 * 1024,
            max_list_keys: 1000,
        }
    }
}

/// Why a kv operation failed. The `Display` text is shown verbatim to plugin authors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// The key is longer than [`KvQuota::max_key_bytes`].
    #[error(
        "key of {size} bytes is over the kv key limit of {limit} bytes; use a shorter key (for example a hash of it)"
    )]
    KeyTooLarge {
        /// Length of the key, in bytes.
        size: u64,
        /// The namespace's key limit, in bytes.
        limit: u64,
    },
    /// The value is longer than [`KvQuota::max_value_bytes`].
    #[error(
        "value of {size} bytes is over the kv value limit of {limit} bytes; split it across several keys"
    )]
    ValueTooLarge {
        /// Length of the value, in bytes.
        size: u64,
        /// The namespace's value limit, in bytes.
        limit: u64,
    },
    /// The write would grow the namespace past [`KvQuota::max_total_bytes`]; nothing changed.
    #[error(
        "kv namespace \"{namespace}\" is full: this write needs {needed} more bytes but {used} of its {limit} bytes are used (keys and values both count); delete keys or ask the host to raise the kv quota"
    )]
    QuotaExceeded {
        /// The namespace written to.
        namespace: String,
        /// Bytes the namespace used before the write.
        used: u64,
        /// Bytes the write would have added (new entry minus the entry it replaces).
        needed: u64,
        /// The namespace's total limit, in bytes.
        limit: u64,
    },
    /// Keys must be at least one byte long.
    #[error("kv keys must not be empty; use a key of at least one byte")]
    EmptyKey,
    /// Open, I/O or corruption problem in the backend; the message says which store and what.
    #[error("{0}")]
    Backend(String),
    /// A networked store did not answer in time or refused the connection; nothing is known
    /// to have changed. Retrying later may succeed (the store reconnects by itself).
    #[error("kv store {store} is unreachable: {reason}; retry later")]
    Unavailable {
        /// Which store (its address, never its credentials).
        store: String,
        /// What failed: a timeout or the connection error.
        reason: String,
    },
}

/// Bytes an entry counts against its namespace's quota.
fn entry_bytes(key: &[u8], value_len: usize) -> u64 {
    (key.len() as u64).saturating_add(value_len as u64)
}

/// Usage of `namespace` after replacing an entry of `old` bytes (`None`: no entry) with one of
/// `new` bytes, or [`KvError::QuotaExceeded`] if that grows usage past `limit`. Shared by the
/// backends so that they account identically.
fn usage_after_set(
    namespace: &str,
    used: u64,
    old: Option<u64>,
    new: u64,
    limit: u64,
) -> Result<u64, KvError> {
    let freed = old.unwrap_or(0);
    let after = used.saturating_sub(freed).saturating_add(new);
    if new > freed && after > limit {
        return Err(KvError::QuotaExceeded {
            namespace: namespace.to_owned(),
            used,
            needed: new - freed,
            limit,
        });
    }
    Ok(after)
}

/// Cheap-to-clone handle to one store (`Arc` inside), shared by all plugins of a host.
#[derive(Clone)]
pub struct KvStore {
    backend: Arc<dyn KvBackend>,
    description: Arc<str>,
}

impl KvStore {
    /// Opens (creating it and its parent directories if needed) a redb database file.
    ///
    /// The file is locked for the life of the store: a second open of the same file, from
    /// this process or another, fails with [`KvError::Backend`]. Share one store by cloning.
    pub fn open(path: impl AsRef<Path>) -> Result<KvStore, KvError> {
        let path = path.as_ref();
        let backend = redb_store::RedbBackend::open(path)?;
        Ok(Self {
            backend: Arc::new(backend),
            description: format!("redb file {}", path.display()).into(),
        })
    }

    /// A store on a Redis server, `redis://[user:password@]host[:port][/db]` (no TLS:
    /// `rediss://` is refused). Any number of processes and machines may share it; every
    /// write is one Lua script, so quotas are exact across all of them.
    ///
    /// Connecting is lazy and automatic: this returns at once, even if the server is down,
    /// and every operation (re)connects when needed. An operation that cannot finish within
    /// [`RedisOptions::timeout`] fails with [`KvError::Unavailable`].
    ///
    /// # Errors
    /// [`KvError::Backend`] when `url` is not a valid Redis URL.
    pub fn redis(url: &str, options: RedisOptions) -> Result<KvStore, KvError> {
        let backend = redis_store::RedisBackend::connect(url, options)?;
        let description = format!("redis at {}", backend.address());
        Ok(Self {
            backend: Arc::new(backend),
            description: description.into(),
        })
    }

    /// A store kept in memory, lost when the last clone is dropped.
    pub fn in_memory() -> KvStore {
        Self {
            backend: Arc::new(memory::MemoryBackend::default()),
            description: "in memory".into(),
        }
    }

    /// A store on a custom backend.
    pub fn from_backend(backend: Arc<dyn KvBackend>) -> KvStore {
        Self {
            backend,
            description: "custom backend".into(),
        }
    }

    /// Where the data lives, for messages: `redb file <path>`, `redis at <host:port>` (never
    /// the URL's credentials), `in memory` or `custom backend`.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// A view restricted to one namespace with quotas. All key/value size checks happen here.
    pub fn namespace(&self, namespace: &str, quota: KvQuota) -> KvNamespace {
        KvNamespace {
            backend: Arc::clone(&self.backend),
            name: namespace.into(),
            quota,
        }
    }
}

impl fmt::Debug for KvStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvStore")
            .field("backend", &self.description)
            .finish()
    }
}

/// One namespace of a [`KvStore`] with its quota; cheap to clone.
#[derive(Clone)]
pub struct KvNamespace {
    backend: Arc<dyn KvBackend>,
    name: Arc<str>,
    quota: KvQuota,
}

impl KvNamespace {
    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quota this view enforces.
    pub fn quota(&self) -> KvQuota {
        self.quota
    }

    fn check_key(&self, key: &[u8]) -> Result<(), KvError> {
        let size = key.len() as u64;
        if key.is_empty() {
            Err(KvError::EmptyKey)
        } else if size > self.quota.max_key_bytes {
            Err(KvError::KeyTooLarge {
                size,
                limit: self.quota.max_key_bytes,
            })
        } else {
            Ok(())
        }
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.check_key(key)?;
        self.backend.get(&self.name, key)
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.check_key(key)?;
        let size = value.len() as u64;
        if size > self.quota.max_value_bytes {
            return Err(KvError::ValueTooLarge {
                size,
                limit: self.quota.max_value_bytes,
            });
        }
        self.backend
            .set(&self.name, key, value, self.quota.max_total_bytes)
    }

    /// Removes `key`; returns whether it existed.
    pub fn delete(&self, key: &[u8]) -> Result<bool, KvError> {
        self.check_key(key)?;
        self.backend.delete(&self.name, key)
    }

    /// Keys starting with `prefix` (empty: all keys) in ascending byte order, at most
    /// [`KvQuota::max_list_keys`] of them.
    pub fn list(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, KvError> {
        self.backend
            .list(&self.name, prefix, self.quota.max_list_keys)
    }

    /// Bytes the namespace uses: the sum of `key.len() + value.len()` over its entries.
    pub fn used_bytes(&self) -> Result<u64, KvError> {
        self.backend.used_bytes(&self.name)
    }
}

impl fmt::Debug for KvNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvNamespace")
            .field("name", &self.name)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_actionable() {
        let value = KvError::ValueTooLarge {
            size: 2_000_000,
            limit: 1_048_576,
        };
        assert!(
            value
                .to_string()
                .starts_with("value of 2000000 bytes is over the kv value limit of 1048576 bytes")
        );
        let key = KvError::KeyTooLarge {
            size: 2000,
            limit: 1024,
        };
        assert!(
            key.to_string()
                .starts_with("key of 2000 bytes is over the kv key limit of 1024 bytes")
        );
        let full = usage_after_set("plug", 90, Some(5), 20, 100).unwrap_err();
        assert_eq!(
            full.to_string(),
            "kv namespace \"plug\" is full: this write needs 15 more bytes but 90 of its 100 \
             bytes are used (keys and values both count); delete keys or ask the host to raise \
             the kv quota"
        );
        assert!(KvError::EmptyKey.to_string().contains("must not be empty"));
    }

    #[test]
    fn quota_arithmetic() {
        assert_eq!(usage_after_set("n", 0, None, 10, 10).unwrap(), 10);
        assert_eq!(usage_after_set("n", 10, Some(4), 4, 10).unwrap(), 10);
        assert_eq!(usage_after_set("n", 50, Some(10), 5, 10).unwrap(), 45);
        assert!(usage_after_set("n", 0, None, 11, 10).is_err());
        assert!(usage_after_set("n", u64::MAX, None, u64::MAX, u64::MAX - 1).is_err());
        assert_eq!(entry_bytes(b"ab", 3), 5);
    }

    #[test]
    fn defaults_and_debug() {
        let quota = KvQuota::default();
        assert_eq!(quota.max_key_bytes, 1024);
        assert_eq!(quota.max_value_bytes, 1 << 20);
        assert_eq!(quota.max_total_bytes, 64 << 20);
        assert_eq!(quota.max_list_keys, 1000);
        let store = KvStore::in_memory();
        assert!(format!("{store:?}").contains("in memory"));
        let ns = store.namespace("p", quota);
        assert_eq!(ns.name(), "p");
        assert_eq!(ns.quota(), quota);
        assert!(format!("{ns:?}").contains("\"p\""));
    }
}
