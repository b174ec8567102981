//! The two tasks of a replica: the publisher (local changes to Redis, coalesced per plugin,
//! retried while Redis is down) and the follower (pub/sub announcements, the periodic
//! revision check, full re-reads after a reconnect, the status refresh).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::doc::Artefact;
use super::shared::SharedStore;
use super::status::Rejection;
use super::{SyncConfig, SyncError};
use crate::registry::{Inner, Registry};

/// Pause before a failed publish is retried.
const RETRY: Duration = Duration::from_millis(250);

/// What the registry's handle and the tasks share.
pub(super) struct Shared {
    pub(super) config: SyncConfig,
    pub(super) store: SharedStore,
    changes: mpsc::UnboundedSender<String>,
    /// Last revision applied or published per plugin; held across one publish or one apply
    /// so that the two never interleave for a plugin.
    applied: tokio::sync::Mutex<HashMap<String, u64>>,
    /// The global counter at the last full read.
    seen: AtomicU64,
    /// Whether one full read has completed.
    synced: std::sync::atomic::AtomicBool,
    rejected: std::sync::Mutex<BTreeMap<String, Vec<Rejection>>>,
}

impl Shared {
    pub(super) fn new(
        config: SyncConfig,
        store: SharedStore,
    ) -> (Shared, mpsc::UnboundedReceiver<String>) {
        let (changes, receiver) = mpsc::unbounded_channel();
        let shared = Shared {
            config,
            store,
            changes,
            applied: tokio::sync::Mutex::default(),
            seen: AtomicU64::new(0),
            synced: std::sync::atomic::AtomicBool::new(false),
            rejected: std::sync::Mutex::default(),
        };
        (shared, receiver)
    }

    pub(super) fn changed(&self, name: &str) {
        let _ = self.changes.send(name.to_string());
    }

    pub(super) fn seen_revision(&self) -> u64 {
        self.seen.load(Ordering::Acquire)
    }

    pub(super) fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    fn rejections(&self) -> Vec<Rejection> {
        let rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        rejected.values().flatten().cloned().collect()
    }

    fn set_rejections(&self, name: &str, list: Vec<Rejection>) {
        let mut rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        if list.is_empty() {
            rejected.remove(name);
        } else {
            rejected.insert(name.to_string(), list);
        }
    }
}

pub(super) fn spawn(
    handle: &tokio::runtime::Handle,
    weak: Weak<Inner>,
    shared: Arc<Shared>,
    receiver: mpsc::UnboundedReceiver<String>,
) {
    handle.spawn(publisher(weak.clone(), shared.clone(), receiver));
    handle.spawn(follower(weak, shared));
}

fn registry(weak: &Weak<Inner>) -> Option<Registry> {
    weak.upgrade().map(|inner| Registry { inner })
}

async fn publisher(
    weak: Weak<Inner>,
    shared: Arc<Shared>,
    mut receiver: mpsc::UnboundedReceiver<String>,
) {
    let mut pending = BTreeSet::new();
    loop {
        if pending.is_empty() {
            tokio::select! {
                name = receiver.recv() => match name {
                    Some(name) => { pending.insert(name); }
                    None => return,
                },
                () = tokio::time::sleep(shared.config.check_interval) => {}
            }
        }
        while let Ok(name) = receiver.try_recv() {
            pending.insert(name);
        }
        let Some(registry) = registry(&weak) else {
            return;
        };
        let mut failed = BTreeSet::new();
        for name in std::mem::take(&mut pending) {
            if let Err(e) = publish(&registry, &shared, &name).await {
                tracing::warn!(plugin = name, "sync: publish failed, retrying: {e}");
                failed.insert(name);
            }
        }
        drop(registry);
        if !failed.is_empty() {
            pending = failed;
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// Publishes this replica's state of `name`: its versions' files first, then the document.
async fn publish(registry: &Registry, shared: &Shared, name: &str) -> Result<(), SyncError> {
    let mut applied = shared.applied.lock().await;
    let (doc, files) = registry.sync_doc(name, &shared.config.id);
    for (version, manifest) in files {
        let Some(manifest) = manifest else {
            tracing::warn!(plugin = name, version = %version.version, "sync: added without files; other replicas cannot load it");
            continue;
        };
        match Artefact::read(
            name,
            &version.version,
            &manifest,
            shared.config.max_artefact_size,
        ) {
            Ok(artefact) => shared.store.put_artefact(name, &version, &artefact).await?,
            // The others report it as missing; the document is still published.
            Err(e) => tracing::warn!(plugin = name, "sync: artefact not published: {e}"),
        }
    }
    let revision = shared.store.publish(name, &doc).await?;
    applied.insert(name.to_string(), revision);
    Ok(())
}

async fn follower(weak: Weak<Inner>, shared: Arc<Shared>) {
    let mut announcements: Option<redis::aio::PubSubStream> = None;
    let mut full = true;
    let mut tick = tokio::time::interval(shared.config.check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if weak.strong_count() == 0 {
            return;
        }
        if announcements.is_none() {
            match subscribe(&shared).await {
                Ok(stream) => {
                    announcements = Some(stream);
                    full = true;
                }
                Err(e) => tracing::debug!("sync: not subscribed yet: {e}"),
            }
        }
        if full {
            match full_sync(&weak, &shared).await {
                Ok(()) => full = false,
                Err(e) => tracing::warn!("sync: cannot read the shared state: {e}"),
            }
        }
        let message = match announcements.as_mut() {
            Some(stream) => tokio::select! {
                message = stream.next() => Some(message),
                _ = tick.tick() => None,
            },
            None => {
                tick.tick().await;
                None
            }
        };
        match message {
            Some(Some(message)) => {
                let name: String = message.get_payload().unwrap_or_default();
                if let Err(e) = follow(&weak, &shared, &name).await {
                    tracing::warn!(plugin = name, "sync: change not applied yet: {e}");
                    full = true;
                }
            }
            // The subscription ended: the connection dropped. Re-read everything once back.
            Some(None) => {
                announcements = None;
                full = true;
            }
            None => {
                match shared.store.revision().await {
                    Ok(revision) if revision != shared.seen_revision() => full = true,
                    Ok(_) => {}
                    Err(e) => tracing::debug!("sync: revision check failed: {e}"),
                }
                refresh_status(&weak, &shared).await;
            }
        }
    }
}

async fn subscribe(shared: &Shared) -> Result<redis::aio::PubSubStream, SyncError> {
    let connect = async {
        let mut pubsub = shared.store.client().get_async_pubsub().await?;
        pubsub.subscribe(shared.store.channel()).await?;
        Ok::<_, redis::RedisError>(pubsub.into_on_message())
    };
    match tokio::time::timeout(Duration::from_secs(2), connect).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(shared.store.error(e.to_string())),
        Err(_) => Err(shared.store.error("no answer to SUBSCRIBE".into())),
    }
}

/// Applies every document newer than what this replica has, and seeds the plugins Redis
/// does not know.
async fn full_sync(weak: &Weak<Inner>, shared: &Shared) -> Result<(), SyncError> {
    let global = shared.store.revision().await?;
    if global < shared.seen_revision() {
        // The counter went back: Redis lost its data (restarted without persistence).
        shared.applied.lock().await.clear();
    }
    let revisions = shared.store.revisions().await?;
    for (name, revision) in &revisions {
        let newer = shared
            .applied
            .lock()
            .await
            .get(name)
            .is_none_or(|applied| revision > applied);
        if newer {
            follow(weak, shared, name).await?;
        }
    }
    let Some(registry) = registry(weak) else {
        return Ok(());
    };
    for plugin in registry.plugins() {
        if !revisions.contains_key(&plugin.name) {
            shared.changed(&plugin.name);
        }
    }
    shared.seen.store(global, Ordering::Release);
    shared.synced.store(true, Ordering::Release);
    refresh_status(weak, shared).await;
    Ok(())
}

/// Applies the shared document of `name` if it is newer than what this replica has.
async fn follow(weak: &Weak<Inner>, shared: &Shared, name: &str) -> Result<(), SyncError> {
    let mut applied = shared.applied.lock().await;
    let Some((doc, revision)) = shared.store.document(name).await? else {
        return Ok(());
    };
    if applied.get(name).is_some_and(|a| revision <= *a) {
        return Ok(());
    }
    let Some(registry) = registry(weak) else {
        return Ok(());
    };
    if registry.matches(name, &doc) {
        applied.insert(name.to_string(), revision);
        shared.set_rejections(name, Vec::new());
        return Ok(());
    }
    let mut artefacts = Vec::new();
    for version in registry.missing(name, &doc) {
        let artefact = shared.store.artefact(name, &version).await?;
        artefacts.push((version, artefact));
    }
    let dir = shared.config.plugin_dir.clone();
    let plugin = name.to_string();
    let rejected =
        tokio::task::spawn_blocking(move || registry.apply_doc(&plugin, &doc, artefacts, &dir))
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
    applied.insert(name.to_string(), revision);
    shared.set_rejections(name, rejected);
    drop(applied);
    refresh_status(weak, shared).await;
    Ok(())
}

async fn refresh_status(weak: &Weak<Inner>, shared: &Shared) {
    let Some(registry) = registry(weak) else {
        return;
    };
    let status = registry.replica_status(
        &shared.config.id,
        shared.seen_revision(),
        shared.rejections(),
    );
    drop(registry);
    if let Err(e) = shared
        .store
        .put_status(&status, shared.config.status_ttl)
        .await
    {
        tracing::debug!("sync: status not refreshed: {e}");
    }
}
