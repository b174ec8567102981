//! In-memory kv backend: one ordered map per namespace behind one mutex.
//!
//! A map per namespace (rather than one map of composite keys) keeps namespaces apart by
//! construction and makes `list` a range scan of that namespace only.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{KvBackend, KvError, entry_bytes, usage_after_set};

/// Entries of one namespace and their accounted size.
#[derive(Default)]
struct Namespace {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    used: u64,
}

/// Kv backend kept in process memory; every operation holds the one lock, so a `set`'s quota
/// check and write are atomic.
#[derive(Default)]
pub(super) struct MemoryBackend {
    namespaces: Mutex<BTreeMap<String, Namespace>>,
}

impl MemoryBackend {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Namespace>> {
        // Every mutation is decided before any change is made, so a thread that panicked
        // while holding the lock left the maps consistent: keep serving them.
        self.namespaces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl KvBackend for MemoryBackend {
    fn get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self
            .lock()
            .get(namespace)
            .and_then(|ns| ns.entries.get(key))
            .cloned())
    }

    fn set(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        max_total_bytes: u64,
    ) -> Result<(), KvError> {
        let mut namespaces = self.lock();
        let (used, old) = match namespaces.get(namespace) {
            Some(ns) => (
                ns.used,
                ns.entries.get(key).map(|old| entry_bytes(key, old.len())),
            ),
            None => (0, None),
        };
        let new = entry_bytes(key, value.len());
        let after = usage_after_set(namespace, used, old, new, max_total_bytes)?;
        let ns = namespaces.entry(namespace.to_owned()).or_default();
        ns.entries.insert(key.to_vec(), value.to_vec());
        ns.used = after;
        Ok(())
    }

    fn delete(&self, namespace: &str, key: &[u8]) -> Result<bool, KvError> {
        let mut namespaces = self.lock();
        let Some(ns) = namespaces.get_mut(namespace) else {
            return Ok(false);
        };
        let Some(old) = ns.entries.remove(key) else {
            return Ok(false);
        };
        ns.used = ns.used.saturating_sub(entry_bytes(key, old.len()));
        if ns.entries.is_empty() {
            namespaces.remove(namespace);
        }
        Ok(true)
    }

    fn list(&self, namespace: &str, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, KvError> {
        let namespaces = self.lock();
        let Some(ns) = namespaces.get(namespace) else {
            return Ok(Vec::new());
        };
        Ok(ns
            .entries
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .map(|(key, _)| key)
            .take_while(|key| key.starts_with(prefix))
            .take(limit)
            .cloned()
            .collect())
    }

    fn used_bytes(&self, namespace: &str) -> Result<u64, KvError> {
        Ok(self.lock().get(namespace).map_or(0, |ns| ns.used))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{KvStore, conformance};

    conformance::behaviour_tests!(KvStore::in_memory());
}
