//! Persistent kv backend: one redb database file, one transaction per operation.
//!
//! Entries live in one table under a composite key: the namespace's length (8 bytes, big
//! endian), the namespace's bytes, then the plugin's key. The length prefix makes the encoding
//! unambiguous (no key of one namespace can start with another namespace's prefix), keeps a
//! namespace's keys contiguous and in the plugin's byte order, and needs no table per plugin.
//! A second table keeps each namespace's used bytes, updated in the same write transaction as
//! the entry; redb runs one write transaction at a time, so the quota is exact under
//! concurrent writers.

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, Key, ReadOnlyTable, ReadableDatabase, ReadableTable, Table,
    TableDefinition, Value,
};

use super::{KvBackend, KvError, entry_bytes, usage_after_set};

const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv_entries");
const USAGE: TableDefinition<&str, u64> = TableDefinition::new("kv_usage");
type Entries<'txn> = Table<'txn, &'static [u8], &'static [u8]>;
type Usage<'txn> = Table<'txn, &'static str, u64>;

/// Kv backend on a redb database file, locked by this process while open.
pub(super) struct RedbBackend {
    db: Database,
    path: PathBuf,
}

/// Stored form of `key`: the length of `namespace` (u64, big endian), its bytes, then `key`.
fn entry_key(namespace: &str, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + namespace.len() + key.len());
    out.extend_from_slice(&(namespace.len() as u64).to_be_bytes());
    out.extend_from_slice(namespace.as_bytes());
    out.extend_from_slice(key);
    out
}

fn backend_error(path: &Path, action: &str, error: impl Display) -> KvError {
    KvError::Backend(format!("kv store {}: {action}: {error}", path.display()))
}

impl RedbBackend {
    /// Opens or creates the database at `path`, creating parent directories and the tables.
    pub(super) fn open(path: &Path) -> Result<Self, KvError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .map_err(|e| backend_error(path, "cannot create parent directory", e))?;
        }
        // Verify checksums on open so that a damaged file is reported, never trusted.
        let db = Database::builder()
            .set_check_integrity_on_open(true)
            .create(path)
            .map_err(|e| match e {
                DatabaseError::DatabaseAlreadyOpen => KvError::Backend(format!(
                    "kv store {}: the file is already open in this or another process; \
                     open it once and clone the KvStore to share it",
                    path.display()
                )),
                other => backend_error(path, "cannot open", other),
            })?;
        let backend = Self {
            db,
            path: path.to_owned(),
        };
        // Create both tables now, so that reads never meet a missing table.
        backend.write(|_, _| Ok(((), true)))?;
        Ok(backend)
    }

    /// Maps a redb error of `action` to [`KvError::Backend`] naming this store.
    fn fail<E: Display>(&self, action: &'static str) -> impl FnOnce(E) -> KvError + '_ {
        move |error| backend_error(&self.path, action, error)
    }

    /// One table in a fresh read transaction (the table keeps the snapshot alive).
    fn read<K: Key + 'static, V: Value + 'static>(
        &self,
        table: TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>, KvError> {
        let txn = self.db.begin_read().map_err(self.fail("begin read"))?;
        txn.open_table(table).map_err(self.fail("open table"))
    }

    /// Runs `op` on both tables in one write transaction. Commits when `op` returns
    /// `Ok((_, true))`, aborts (changing nothing) when it returns `Ok((_, false))` or an error.
    fn write<T>(
        &self,
        op: impl FnOnce(&mut Entries<'_>, &mut Usage<'_>) -> Result<(T, bool), KvError>,
    ) -> Result<T, KvError> {
        let txn = self.db.begin_write().map_err(self.fail("begin write"))?;
        let outcome = {
            let mut entries = txn.open_table(ENTRIES).map_err(self.fail("open table"))?;
            let mut usage = txn.open_table(USAGE).map_err(self.fail("open table"))?;
            op(&mut entries, &mut usage)
        };
        match outcome {
            Ok((value, true)) => txn.commit().map_err(self.fail("commit")).map(|()| value),
            Ok((value, false)) => txn.abort().map_err(self.fail("abort")).map(|()| value),
            Err(error) => {
                // The operation's error says more than a failure to abort would.
                let _ = txn.abort();
                Err(error)
            }
        }
    }
}

fn read_usage(usage: &Usage<'_>, namespace: &str) -> Result<u64, redb::StorageError> {
    Ok(usage.get(namespace)?.map_or(0, |guard| guard.value()))
}

fn write_usage(
    usage: &mut Usage<'_>,
    namespace: &str,
    used: u64,
) -> Result<(), redb::StorageError> {
    if used == 0 {
        usage.remove(namespace)?;
    } else {
        usage.insert(namespace, used)?;
    }
    Ok(())
}

impl KvBackend for RedbBackend {
    fn get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        let entries = self.read(ENTRIES)?;
        let value = entries.get(entry_key(namespace, key).as_slice());
        Ok(value
            .map_err(self.fail("read"))?
            .map(|guard| guard.value().to_vec()))
    }

    fn set(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        max_total_bytes: u64,
    ) -> Result<(), KvError> {
        let stored_key = entry_key(namespace, key);
        self.write(|entries, usage| {
            let old = entries
                .get(stored_key.as_slice())
                .map_err(self.fail("read"))?;
            let old = old.map(|guard| entry_bytes(key, guard.value().len()));
            let used = read_usage(usage, namespace).map_err(self.fail("read usage"))?;
            let new = entry_bytes(key, value.len());
            let after = usage_after_set(namespace, used, old, new, max_total_bytes)?;
            entries
                .insert(stored_key.as_slice(), value)
                .map_err(self.fail("write"))?;
            write_usage(usage, namespace, after).map_err(self.fail("write usage"))?;
            Ok(((), true))
        })
    }

    fn delete(&self, namespace: &str, key: &[u8]) -> Result<bool, KvError> {
        self.write(|entries, usage| {
            let old = entries.remove(entry_key(namespace, key).as_slice());
            let Some(removed) = old
                .map_err(self.fail("delete"))?
                .map(|guard| entry_bytes(key, guard.value().len()))
            else {
                return Ok((false, false));
            };
            let used = read_usage(usage, namespace).map_err(self.fail("read usage"))?;
            write_usage(usage, namespace, used.saturating_sub(removed))
                .map_err(self.fail("write usage"))?;
            Ok((true, true))
        })
    }

    fn list(&self, namespace: &str, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, KvError> {
        let mut keys = Vec::new();
        if limit == 0 {
            return Ok(keys);
        }
        let namespace_prefix = entry_key(namespace, b"");
        let start = entry_key(namespace, prefix);
        let entries = self.read(ENTRIES)?;
        for item in entries
            .range(start.as_slice()..)
            .map_err(self.fail("list"))?
        {
            let (stored_key, _) = item.map_err(self.fail("list"))?;
            let stored_key = stored_key.value();
            let Some(key) = stored_key
                .strip_prefix(namespace_prefix.as_slice())
                .filter(|key| key.starts_with(prefix))
            else {
                break;
            };
            keys.push(key.to_vec());
            if keys.len() == limit {
                break;
            }
        }
        Ok(keys)
    }

    fn used_bytes(&self, namespace: &str) -> Result<u64, KvError> {
        let usage = self.read(USAGE)?;
        let used = usage.get(namespace).map_err(self.fail("read usage"))?;
        Ok(used.map_or(0, |guard| guard.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{KvError, KvQuota, KvStore, conformance};
    use std::process::Command;

    /// A store in a fresh directory that is removed on drop.
    struct TempStore {
        store: KvStore,
        dir: tempfile::TempDir,
    }

    impl std::ops::Deref for TempStore {
        type Target = KvStore;
        fn deref(&self) -> &KvStore {
            &self.store
        }
    }

    fn temp_store() -> TempStore {
        let dir = tempfile::tempdir().unwrap();
        let store = KvStore::open(dir.path().join("kv.redb")).unwrap();
        TempStore { store, dir }
    }

    conformance::behaviour_tests!(temp_store());

    #[test]
    fn redb_data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dirs/kv.redb");
        let store = KvStore::open(&path).unwrap();
        assert!(format!("{store:?}").contains("kv.redb"));
        let ns = store.namespace("p", KvQuota::default());
        ns.set(b"k", b"value").unwrap();
        ns.set(b"gone", b"x").unwrap();
        assert!(ns.delete(b"gone").unwrap());
        drop((ns, store));
        let ns = KvStore::open(&path)
            .unwrap()
            .namespace("p", KvQuota::default());
        assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b"value"[..]));
        assert_eq!(ns.list(b"").unwrap(), vec![b"k".to_vec()]);
        assert_eq!(ns.used_bytes().unwrap(), 6);
    }

    #[test]
    fn redb_second_open_in_process_is_refused() {
        let TempStore { store, dir } = temp_store();
        let err = KvStore::open(dir.path().join("kv.redb")).unwrap_err();
        assert!(
            matches!(&err, KvError::Backend(m) if m.contains("already open")),
            "{err}"
        );
        assert!(err.to_string().contains("kv.redb"), "{err}");
        // The first handle keeps working.
        store
            .namespace("p", KvQuota::default())
            .set(b"k", b"v")
            .unwrap();
        drop(store);
        KvStore::open(dir.path().join("kv.redb")).unwrap();
    }

    const CHILD_PATH_VAR: &str = "WASMPLUG_KV_TEST_OPEN_PATH";

    /// Run by `redb_open_in_other_process_is_refused` in a child process.
    #[test]
    #[ignore = "helper run in a child process"]
    fn redb_child_process_open_helper() {
        let Some(path) = std::env::var_os(CHILD_PATH_VAR) else {
            return;
        };
        let err = KvStore::open(path).unwrap_err();
        assert!(err.to_string().contains("already open"), "{err}");
    }

    #[test]
    fn redb_open_in_other_process_is_refused() {
        let TempStore { store: _store, dir } = temp_store();
        let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                &format!("{module}::redb_child_process_open_helper"),
            ])
            .args(["--ignored", "--test-threads=1"])
            .env(CHILD_PATH_VAR, dir.path().join("kv.redb"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }

    #[test]
    fn redb_garbage_file_is_a_backend_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        std::fs::write(&path, vec![0xAB; 64 * 1024]).unwrap();
        let err = KvStore::open(&path).unwrap_err();
        assert!(
            matches!(&err, KvError::Backend(m) if m.starts_with("kv store ")),
            "{err}"
        );
        let err = KvStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, KvError::Backend(_)), "{err}");
    }
}
