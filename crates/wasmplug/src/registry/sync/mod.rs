//! Replicas that agree: N registries configured with the same Redis ([`SyncConfig`],
//! `[sync] redis = "redis://..."` in `wasmplug.toml`) share each plugin's versions and
//! routing (weights, rules, rollback target) and learn about each other's changes.
//!
//! What is shared, under a key prefix (`wasmplug:sync:` by default):
//! - `<prefix>plugins`: a hash, one JSON [`PluginDoc`] per plugin (versions with their module
//!   sha256, the routing, or a tombstone after an unload), and `<prefix>revs`: the revision
//!   of each plugin's document, taken from the counter `<prefix>rev`. One Lua script bumps
//!   the counter, writes both and publishes the plugin's name on `<prefix>changes`, so
//!   documents and revisions never disagree.
//! - `<prefix>artefact:<name>:<version>:<sha256>`: the manifest text and module bytes of a
//!   version (bounded by [`SyncConfig::max_artefact_size`]), so that an upload reaches
//!   replicas that do not share the uploader's disk.
//! - `<prefix>replica:<id>`: each replica's status ([`ReplicaStatus`]: which version of each
//!   plugin it serves, what it rejected), refreshed every check interval with a TTL.
//!
//! Invariants:
//! - Only changes made through the registry's public API (a load or deploy, weights, rules,
//!   rollback, unload, version removal, an automatic canary rollback) are published;
//!   applying another replica's document never is, so changes do not echo.
//! - A replica applies a document only when its revision is newer than the last one it
//!   applied or published for that plugin; the pub/sub message only says *which* plugin
//!   changed, the document is always read from the hash (pub/sub can drop messages: every
//!   [`SyncConfig::check_interval`] the counter is compared too, and everything is re-read
//!   after a reconnect).
//! - A version learnt from another replica is validated here like any load before any
//!   traffic reaches it; when it is refused, this replica keeps its routing for that plugin
//!   and reports the rejection in its status.
//! - The first replica to know a plugin that Redis does not seeds it; a later replica
//!   converges to what Redis holds (its own start-up state is overridden).
//! - Versions are identified by version and module sha256. Versions a document no longer
//!   lists are dropped from memory only (as `keep_previous` pruning does); their files stay.
//! - Do not also [`Registry::watch`] the sync's `plugin_dir`: a rewrite of a held version's
//!   files would promote it here only (`wasmplug serve` turns hot reload off with `[sync]`).

mod apply;
mod doc;
mod shared;
mod status;
mod task;

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

pub use doc::{PluginDoc, SharedVersion};
pub use status::{Rejection, ReplicaPlugin, ReplicaStatus};

use super::{Inner, Registry};
use shared::SharedStore;

/// Default bound on one version's artefact (manifest plus module) stored in Redis.
pub const DEFAULT_MAX_ARTEFACT_SIZE: u64 = 32 * 1024 * 1024;

/// How a registry shares its state with the other replicas.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncConfig {
    /// `redis://[user:password@]host[:port][/db]`.
    pub redis: String,
    /// This replica's id in the status list. By default `<hostname>:<pid>`.
    pub id: String,
    /// Prefix of every key. By default `wasmplug:sync:`.
    pub prefix: String,
    /// Where versions learnt from other replicas are written (`<dir>/<name>/<version>/`).
    pub plugin_dir: PathBuf,
    /// How often the revision counter is compared and the status refreshed. By default 1 s.
    pub check_interval: Duration,
    /// How long a replica's status outlives its last refresh. By default 10 s.
    pub status_ttl: Duration,
    /// Largest artefact (manifest plus module) published to Redis. By default 32 MiB.
    pub max_artefact_size: u64,
}

impl SyncConfig {
    /// Sharing through the Redis at `redis`, writing received versions into `plugin_dir`.
    pub fn new(redis: impl Into<String>, plugin_dir: impl Into<PathBuf>) -> SyncConfig {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "replica".into());
        SyncConfig {
            redis: redis.into(),
            id: format!("{host}:{}", std::process::id()),
            prefix: "wasmplug:sync:".into(),
            plugin_dir: plugin_dir.into(),
            check_interval: Duration::from_secs(1),
            status_ttl: Duration::from_secs(10),
            max_artefact_size: DEFAULT_MAX_ARTEFACT_SIZE,
        }
    }

    /// Sets [`SyncConfig::id`].
    pub fn id(mut self, id: impl Into<String>) -> SyncConfig {
        self.id = id.into();
        self
    }

    /// Sets [`SyncConfig::prefix`].
    pub fn prefix(mut self, prefix: impl Into<String>) -> SyncConfig {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`SyncConfig::check_interval`].
    pub fn check_interval(mut self, interval: Duration) -> SyncConfig {
        self.check_interval = interval;
        self
    }
}

/// Why sharing state through Redis failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// [`crate::RegistryConfig::sync`] is not set.
    #[error("sync is not configured (RegistryConfig::sync is None)")]
    NotConfigured,
    /// [`Registry::start_sync`] ran already.
    #[error("sync was started already")]
    AlreadyStarted,
    /// The URL is not a Redis URL.
    #[error("`[sync]` redis URL `{url}` is invalid: {reason}")]
    InvalidUrl {
        /// The URL, its password replaced by `***`.
        url: String,
        /// Why.
        reason: String,
    },
    /// A Redis command failed (the server is down, or answered an error).
    #[error("sync: redis at {address}: {reason}")]
    Redis {
        /// `host:port`.
        address: String,
        /// The client's error.
        reason: String,
    },
    /// A version's files exceed [`SyncConfig::max_artefact_size`].
    #[error("sync: {plugin} {version} is {size} bytes, over the artefact limit of {limit}")]
    ArtefactTooLarge {
        /// Plugin.
        plugin: String,
        /// Version.
        version: String,
        /// Manifest plus module, in bytes.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A version's files could not be read to publish them.
    #[error("sync: cannot read the files of {plugin} {version}: {reason}")]
    Files {
        /// Plugin.
        plugin: String,
        /// Version.
        version: String,
        /// Why.
        reason: String,
    },
}

/// This registry's link to the other replicas (see the module docs); cheap to clone.
#[derive(Clone)]
pub struct Replica {
    shared: Arc<task::Shared>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("id", &self.shared.config.id)
            .field("redis", &self.shared.store.address())
            .finish()
    }
}

impl Replica {
    /// This replica's id.
    pub fn id(&self) -> &str {
        &self.shared.config.id
    }

    /// The status of every replica whose status has not expired, this one included.
    ///
    /// # Errors
    /// [`SyncError::Redis`].
    pub async fn replicas(&self) -> Result<Vec<ReplicaStatus>, SyncError> {
        self.shared.store.replicas().await
    }

    /// Whether this replica has read the shared state once (it has converged to what Redis
    /// held then).
    pub fn is_synced(&self) -> bool {
        self.shared.is_synced()
    }

    /// The last revision of the shared state this replica has seen.
    pub fn seen_revision(&self) -> u64 {
        self.shared.seen_revision()
    }
}

impl Registry {
    /// Starts sharing this registry's state through [`crate::RegistryConfig::sync`]: call
    /// it once the local plugins are loaded. Tasks run on the current tokio runtime (or the
    /// host functions' runtime outside one) and stop when the registry is dropped. Redis
    /// being down is not an error here: the replica connects when it can.
    ///
    /// # Errors
    /// [`SyncError::NotConfigured`], [`SyncError::AlreadyStarted`],
    /// [`SyncError::InvalidUrl`].
    pub fn start_sync(&self) -> Result<Replica, SyncError> {
        let config = self
            .inner
            .config
            .sync
            .clone()
            .ok_or(SyncError::NotConfigured)?;
        if self.inner.sync.get().is_some() {
            return Err(SyncError::AlreadyStarted);
        }
        let handle =
            crate::host_fn::runtime::current_or_host().map_err(|reason| SyncError::Redis {
                address: shared::redacted(&config.redis),
                reason,
            })?;
        let store = SharedStore::new(&config, &handle)?;
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let (replica, receiver) = task::Shared::new(config, store);
        let replica = Replica {
            shared: Arc::new(replica),
        };
        self.inner
            .sync
            .set(replica.clone())
            .map_err(|_| SyncError::AlreadyStarted)?;
        task::spawn(&handle, weak, replica.shared.clone(), receiver);
        Ok(replica)
    }

    /// [`crate::RegistryConfig::sync`].
    pub fn sync_config(&self) -> Option<&SyncConfig> {
        self.inner.config.sync.as_ref()
    }

    /// The link to the other replicas, once [`Registry::start_sync`] ran.
    pub fn replica(&self) -> Option<Replica> {
        self.inner.sync.get().cloned()
    }

    /// Tells the other replicas that plugin `name` changed here.
    pub(super) fn notify_sync(&self, name: &str) {
        if let Some(replica) = self.inner.sync.get() {
            replica.shared.changed(name);
        }
    }
}
