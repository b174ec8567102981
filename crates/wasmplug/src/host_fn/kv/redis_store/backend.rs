//! The synchronous [`KvBackend`] adapter over the async [`RedisStore`]: each call runs on the
//! host functions' runtime and waits for it (never `block_on`), so it works from any thread.
//! This file is all that changes when the kv trait becomes async.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::super::{KvBackend, KvError};
use super::{RedisOptions, RedisStore};
use crate::host_fn::runtime::{self, Stopped};

/// Margin past the store's own timeout before the waiting thread gives up on the task.
const BACKSTOP: Duration = Duration::from_millis(250);

/// [`RedisStore`] behind the synchronous kv trait.
pub(in crate::host_fn::kv) struct RedisBackend {
    store: RedisStore,
    handle: Handle,
}

impl RedisBackend {
    /// A backend for `url` on the host functions' runtime; does not connect yet.
    pub(in crate::host_fn::kv) fn connect(
        url: &str,
        options: RedisOptions,
    ) -> Result<RedisBackend, KvError> {
        let handle = runtime::handle().map_err(KvError::Backend)?;
        let store = {
            let _runtime = handle.enter();
            RedisStore::new(url, options)?
        };
        Ok(RedisBackend { store, handle })
    }

    /// `host:port` of the server.
    pub(in crate::host_fn::kv) fn address(&self) -> &str {
        self.store.address()
    }

    /// Runs `op` on a clone of the store and waits for it, at most the store's timeout plus
    /// [`BACKSTOP`].
    fn wait<T: Send + 'static, F>(&self, op: impl FnOnce(RedisStore) -> F) -> Result<T, KvError>
    where
        F: Future<Output = Result<T, KvError>> + Send + 'static,
    {
        let deadline = Instant::now() + self.store.options.timeout + BACKSTOP;
        match runtime::run_until(&self.handle, op(self.store.clone()), deadline) {
            Ok(result) => result,
            Err(Stopped::Deadline) => Err(KvError::Unavailable {
                store: format!("redis at {}", self.store.address()),
                reason: "the operation did not finish in time".into(),
            }),
            Err(Stopped::Died) => Err(KvError::Backend(
                "kv store: the host functions' runtime stopped".into(),
            )),
        }
    }
}

impl KvBackend for RedisBackend {
    fn get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        let (namespace, key) = (namespace.to_owned(), key.to_vec());
        self.wait(|s| async move { s.get(&namespace, &key).await })
    }

    fn set(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        max_total_bytes: u64,
    ) -> Result<(), KvError> {
        let (namespace, key, value) = (namespace.to_owned(), key.to_vec(), value.to_vec());
        self.wait(|s| async move { s.set(&namespace, &key, &value, max_total_bytes).await })
    }

    fn delete(&self, namespace: &str, key: &[u8]) -> Result<bool, KvError> {
        let (namespace, key) = (namespace.to_owned(), key.to_vec());
        self.wait(|s| async move { s.delete(&namespace, &key).await })
    }

    fn list(&self, namespace: &str, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, KvError> {
        let (namespace, prefix) = (namespace.to_owned(), prefix.to_vec());
        self.wait(|s| async move { s.list(&namespace, &prefix, limit).await })
    }

    fn used_bytes(&self, namespace: &str) -> Result<u64, KvError> {
        let namespace = namespace.to_owned();
        self.wait(|s| async move { s.used_bytes(&namespace).await })
    }
}
