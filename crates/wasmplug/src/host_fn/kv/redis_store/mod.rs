//! Kv backend on a Redis server, shared by every process and host that points at it.
//!
//! Layout: each namespace owns three Redis keys, named
//! `<prefix>{<namespace length>:<namespace>}:<suffix>` (see [`keys`]): a hash `e` (plugin key
//! -> value), a sorted set `k` of the plugin keys, all with score 0, so `ZRANGEBYLEX` lists
//! them in byte order, and a counter `u` of the namespace's used bytes. The explicit length
//! keeps namespaces apart whatever bytes they contain, and the braces put a namespace's
//! three keys in one cluster slot.
//!
//! Invariant: the three keys change together. Reads are single commands; every write is one
//! Lua script ([`scripts`]), which Redis runs atomically, so the quota check and the update
//! are one step even with many writers on many hosts, and `u` always equals the sum of
//! `key.len() + value.len()` over the hash.
//!
//! Every operation is bounded by [`RedisOptions::timeout`], connecting included; the
//! connection manager reconnects in the background after a failure, so an outage costs
//! failed calls ([`KvError::Unavailable`]) but never a restart. The methods here are `async`;
//! [`backend`] adapts them to the synchronous [`super::KvBackend`] trait.

mod backend;
mod keys;
mod scripts;
#[cfg(test)]
mod tests;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, RedisError};

use super::{KvError, usage_after_set};
pub(super) use backend::RedisBackend;
use keys::NamespaceKeys;

/// Settings of a [`super::KvStore::redis`] store.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    timeout: Duration,
    key_prefix: String,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            timeout: Duration::from_secs(1),
            key_prefix: "wasmplug:kv:".into(),
        }
    }
}

impl RedisOptions {
    /// Longest one operation may take, connecting and reconnecting included; past it the
    /// operation fails with [`KvError::Unavailable`]. Keep it below the plugins' call
    /// timeouts, since a kv host function blocks its call meanwhile. By default 1 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Prefix of every Redis key the store uses, so that several deployments (or tests) can
    /// share one Redis database. By default `wasmplug:kv:`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }
}

/// Quota limits above 2^53 are treated as 2^53: Lua numbers are doubles, exact up to there.
const MAX_EXACT_LIMIT: u64 = 1 << 53;

/// The async Redis store. Cheap to clone (the connection manager is shared).
#[derive(Clone)]
pub(super) struct RedisStore {
    connection: ConnectionManager,
    options: RedisOptions,
    /// `host:port` of the server, for messages (never the URL: it may hold a password).
    address: String,
}

impl RedisStore {
    /// A store for `url`; does not connect yet. Must run inside a tokio runtime (the
    /// connection manager's background tasks live on it).
    pub(super) fn new(url: &str, options: RedisOptions) -> Result<RedisStore, KvError> {
        let invalid = |e: RedisError| {
            KvError::Backend(format!(
                "kv store: invalid Redis URL (expected redis://[user:password@]host[:port][/db]): {}",
                e.detail().unwrap_or("unsupported scheme or malformed URL")
            ))
        };
        let client = redis::Client::open(url).map_err(invalid)?;
        let address = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            // Retry quickly: a server that comes back is used within half a second.
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| KvError::Backend(format!("kv store redis at {address}: {e}")))?;
        Ok(RedisStore {
            connection,
            options,
            address,
        })
    }

    /// `host:port` of the server.
    pub(super) fn address(&self) -> &str {
        &self.address
    }

    /// Runs `op` on a connection within the operation timeout, mapping Redis errors.
    async fn run<T>(
        &self,
        action: &'static str,
        op: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, KvError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.options.timeout, op(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.error(action, &e)),
            Err(_) => Err(KvError::Unavailable {
                store: format!("redis at {}", self.address),
                reason: format!("no answer to {action} within {:?}", self.options.timeout),
            }),
        }
    }

    fn error(&self, action: &str, e: &RedisError) -> KvError {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            KvError::Unavailable {
                store: format!("redis at {}", self.address),
                reason: format!("{action} failed: {e}"),
            }
        } else {
            KvError::Backend(format!("kv store redis at {}: {action}: {e}", self.address))
        }
    }

    fn keys(&self, namespace: &str) -> NamespaceKeys {
        NamespaceKeys::new(&self.options.key_prefix, namespace)
    }

    /// The value of `key` in `namespace`.
    pub(super) async fn get(
        &self,
        namespace: &str,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, KvError> {
        let keys = self.keys(namespace);
        self.run("HGET", async |c| c.hget(&keys.entries, key).await)
            .await
    }

    /// Inserts or replaces, enforcing `max_total_bytes` atomically (see the module docs).
    pub(super) async fn set(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        max_total_bytes: u64,
    ) -> Result<(), KvError> {
        let keys = self.keys(namespace);
        let limit = max_total_bytes.min(MAX_EXACT_LIMIT);
        let outcome = self
            .run("the set script", async |c| {
                scripts::set(c, &keys, key, value, limit).await
            })
            .await?;
        if outcome.applied {
            return Ok(());
        }
        let new = super::entry_bytes(key, value.len());
        match usage_after_set(namespace, outcome.used, outcome.old, new, max_total_bytes) {
            Err(full) => Err(full),
            Ok(_) => Err(KvError::Backend(format!(
                "kv store redis at {}: the set script refused a write that fits the quota \
                 (used {}, limit {limit})",
                self.address, outcome.used
            ))),
        }
    }

    /// Removes `key`; whether it existed.
    pub(super) async fn delete(&self, namespace: &str, key: &[u8]) -> Result<bool, KvError> {
        let keys = self.keys(namespace);
        self.run("the delete script", async |c| {
            scripts::delete(c, &keys, key).await
        })
        .await
    }

    /// Keys starting with `prefix`, ascending, at most `limit`.
    pub(super) async fn list(
        &self,
        namespace: &str,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, KvError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let keys = self.keys(namespace);
        let (min, max) = keys::lex_range(prefix);
        let count = isize::try_from(limit).unwrap_or(isize::MAX);
        self.run("ZRANGEBYLEX", async |c| {
            c.zrangebylex_limit(&keys.index, min, max, 0, count).await
        })
        .await
    }

    /// Bytes used by `namespace`.
    pub(super) async fn used_bytes(&self, namespace: &str) -> Result<u64, KvError> {
        let keys = self.keys(namespace);
        let used: Option<u64> = self.run("GET", async |c| c.get(&keys.usage).await).await?;
        Ok(used.unwrap_or(0))
    }
}
