//! Hot reload: watches a plugin directory (`<dir>/<name>/plugin.toml` + module) with
//! `notify` and brings the registry in line with each plugin folder that changed.
//!
//! - Only events that change content count (create, data written, close after writing,
//!   rename, remove). Opening or reading a file, including the registry's own reads while it
//!   validates a candidate, is not a change: an idle directory causes no work at all.
//! - Events are debounced per plugin folder, remembering which versions changed: the plain
//!   layout's files (`<name>/plugin.toml` and its module) or a version's own folder
//!   (`<name>/<version>/`); only those are synced. A version waits until its files stop
//!   changing (sizes and modification times, no reads) before its digest is taken once.
//!   A version whose manifest is gone is removed; a plugin whose folder is gone, unloaded.
//! - Files already judged are not judged again until they change: a rejected candidate is
//!   rejected once, an unloaded plugin stays unloaded (see `disk.rs`).
//! - Validation runs off the watcher thread, one queue per plugin folder: a slow or
//!   spinning candidate delays only its own folder, and a folder that changes while it is
//!   validated is synced once more afterwards (changes coalesce, none is lost).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use super::Registry;
use super::disk::{Verdict, digest, fingerprint};
use crate::error::{Error, Result};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// Keeps watching while alive; dropping it stops the watcher thread.
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
    stop: std::sync::mpsc::Sender<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

/// What the watcher thread receives: a changed path, or "rescan everything" (the kernel's
/// event queue overflowed, so changes may have been missed).
enum Change {
    Path(PathBuf),
    Rescan,
}

impl Watcher {
    pub(crate) fn start(registry: Registry, dir: &Path) -> Result<Watcher> {
        let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        let (tx, rx) = channel::<Change>();
        let (stop, stopped) = channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if event.need_rescan() {
                    let _ = tx.send(Change::Rescan);
                } else if changes_content(&event.kind) {
                    for path in event.paths {
                        let _ = tx.send(Change::Path(path));
                    }
                }
            })
            .map_err(|e| Error::io(dir, std::io::Error::other(e)))?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|e| Error::io(dir, std::io::Error::other(e)))?;
        let debounce = registry.inner.config.debounce;
        let queues = Queues::new(registry);
        std::thread::Builder::new()
            .name("wasmplug-reload".into())
            .spawn(move || {
                let mut pending: HashMap<PathBuf, (Instant, BTreeSet<PathBuf>)> = HashMap::new();
                loop {
                    if stopped.try_recv().is_ok() {
                        return;
                    }
                    match rx.recv_timeout(debounce / 2) {
                        Ok(Change::Path(path)) => {
                            if let Some((folder, changed)) = changed_dir(&root, &path) {
                                let slot = pending
                                    .entry(folder)
                                    .or_insert_with(|| (Instant::now(), BTreeSet::new()));
                                slot.0 = Instant::now();
                                slot.1.insert(changed);
                            }
                            continue;
                        }
                        Ok(Change::Rescan) => {
                            for folder in plugin_folders(&root) {
                                let slot = pending
                                    .entry(folder.clone())
                                    .or_insert_with(|| (Instant::now(), BTreeSet::new()));
                                slot.0 = Instant::now();
                                slot.1.insert(folder);
                            }
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    pending.retain(|folder, (t, changed)| {
                        if t.elapsed() < debounce {
                            return true;
                        }
                        queues.schedule(folder, std::mem::take(changed));
                        false
                    });
                }
            })
            .map_err(|e| Error::io(dir, e))?;
        Ok(Watcher {
            _watcher: watcher,
            stop,
        })
    }
}

/// Whether an event can mean that a file's content changed.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
    }
}

/// For a changed path inside a plugin folder: the folder, and the directory whose version
/// changed — the folder itself for the plain layout's files (or when the folder itself was
/// created or removed: then every version is looked at), `<folder>/<sub>` for anything in
/// a version's own folder.
fn changed_dir(root: &Path, path: &Path) -> Option<(PathBuf, PathBuf)> {
    let rel = path.strip_prefix(root).ok()?;
    let mut components = rel.components();
    let folder = root.join(components.next()?);
    let Some(second) = components.next() else {
        return Some((folder.clone(), folder));
    };
    let candidate = folder.join(second);
    let deeper = components.next().is_some();
    if deeper || candidate.is_dir() {
        Some((folder, candidate))
    } else {
        Some((folder.clone(), folder))
    }
}

fn plugin_folders(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// One validation queue per plugin folder.
struct Queues {
    registry: Registry,
    /// Folders being synced, each with the directories that changed again meanwhile.
    busy: Mutex<HashMap<PathBuf, BTreeSet<PathBuf>>>,
}

impl Queues {
    fn new(registry: Registry) -> Arc<Queues> {
        Arc::new(Queues {
            registry,
            busy: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, BTreeSet<PathBuf>>> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Syncs `changed` of `folder` on its own thread, or after the sync in progress.
    fn schedule(self: &Arc<Self>, folder: &Path, changed: BTreeSet<PathBuf>) {
        {
            let mut busy = self.lock();
            if let Some(again) = busy.get_mut(folder) {
                again.extend(changed);
                return;
            }
            busy.insert(folder.to_path_buf(), BTreeSet::new());
        }
        let (queues, folder) = (Arc::clone(self), folder.to_path_buf());
        let spawned = std::thread::Builder::new()
            .name("wasmplug-validate".into())
            .spawn({
                let folder = folder.clone();
                move || {
                    let mut changed = changed;
                    loop {
                        sync_folder(&queues.registry, &folder, &changed);
                        let mut busy = queues.lock();
                        match busy.get_mut(&folder) {
                            Some(again) if !again.is_empty() => changed = std::mem::take(again),
                            _ => {
                                busy.remove(&folder);
                                return;
                            }
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(folder = %folder.display(), "cannot start a validation thread: {e}");
            self.lock().remove(&folder);
        }
    }
}

/// Brings the registry in line with the `changed` directories of plugin folder `folder`.
fn sync_folder(registry: &Registry, folder: &Path, changed: &BTreeSet<PathBuf>) {
    let mut dirs: BTreeSet<PathBuf> = changed.clone();
    if changed.contains(folder) {
        // The folder itself (or its plain layout) changed: look at every version, on disk
        // and loaded.
        dirs.extend(plugin_folders(folder).into_iter().filter(|p| p.is_dir()));
        dirs.extend(
            registry
                .manifests_under(folder)
                .into_iter()
                .filter_map(|m| m.parent().map(Path::to_path_buf)),
        );
    }
    for dir in &dirs {
        sync_version(registry, folder, &dir.join(MANIFEST_FILE));
    }
}

/// Loads, or removes, the version whose manifest is `manifest` (of plugin folder `folder`).
fn sync_version(registry: &Registry, folder: &Path, manifest: &Path) {
    if !manifest.exists() {
        for (name, version) in registry.versions_for_manifest(manifest) {
            // The same files under another folder: the folder was renamed, the version
            // stays (and now belongs to its new manifest).
            if let Some(moved) = folder
                .parent()
                .and_then(|root| registry.adopt_moved(&name, &version, root))
            {
                tracing::info!(from = %manifest.display(), to = %moved.display(), "plugin files moved");
                continue;
            }
            if let Err(e) = registry.forget_version(&name, &version) {
                tracing::warn!(manifest = %manifest.display(), %version, "version files removed but the version stays loaded: {e}");
            }
        }
        registry.inner.verdicts.forget(manifest);
        return;
    }
    let manifest = manifest
        .canonicalize()
        .unwrap_or_else(|_| manifest.to_path_buf());
    // Wait until the files stop changing (a writer may still be copying the module).
    let mut last = fingerprint(&manifest);
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(25));
        let now = fingerprint(&manifest);
        if now.is_some() && now == last {
            break;
        }
        last = now;
    }
    if let Ok((digest, _)) = digest(&manifest) {
        match registry.inner.verdicts.get(&manifest, &digest) {
            Some(Verdict::Rejected) | Some(Verdict::Unloaded) => {
                tracing::debug!(manifest = %manifest.display(), "unchanged since it was judged; skipped");
                return;
            }
            Some(Verdict::Loaded) | None => {}
        }
    }
    // A folder claiming a name that another folder of the directory serves (a copy that
    // kept its `name`) is refused, as at start-up (`load_dir.rs`); a version already
    // loaded from these files (an admin upload) is not.
    if registry.version_for_manifest(&manifest).is_none()
        && let Ok(parsed) = Manifest::from_file(&manifest)
        && let Some(first) = registry.served_from_sibling(parsed.name.as_str(), folder)
    {
        registry.duplicate(parsed.name.as_str(), folder, &first, &manifest);
        return;
    }
    if let Err(e) = registry.load(&manifest) {
        tracing::debug!(manifest = %manifest.display(), "reload refused: {e}");
    }
}
