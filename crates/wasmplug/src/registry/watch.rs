//! Hot reload: watches a plugin directory (`<dir>/<name>/plugin.toml` + module) with
//! `notify`, debounces events per plugin folder, waits until the files stop changing, skips
//! rewrites whose digest is already loaded, and loads (or unloads) through the registry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::{Registry, digest};
use crate::error::{Error, Result};
use crate::manifest::MANIFEST_FILE;

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

impl Watcher {
    pub(crate) fn start(registry: Registry, dir: &Path) -> Result<Watcher> {
        let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        let (tx, rx) = channel::<PathBuf>();
        let (stop, stopped) = channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event {
                    for path in event.paths {
                        let _ = tx.send(path);
                    }
                }
            })
            .map_err(|e| Error::io(dir, std::io::Error::other(e)))?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|e| Error::io(dir, std::io::Error::other(e)))?;
        let debounce = registry.inner.config.debounce;
        std::thread::Builder::new()
            .name("wasmplug-reload".into())
            .spawn(move || {
                let mut pending: HashMap<PathBuf, Instant> = HashMap::new();
                loop {
                    if stopped.try_recv().is_ok() {
                        return;
                    }
                    match rx.recv_timeout(debounce / 2) {
                        Ok(path) => {
                            if let Some(folder) = plugin_folder(&root, &path) {
                                pending.insert(folder, Instant::now());
                            }
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    let due: Vec<PathBuf> = pending
                        .iter()
                        .filter(|(_, t)| t.elapsed() >= debounce)
                        .map(|(p, _)| p.clone())
                        .collect();
                    for folder in due {
                        pending.remove(&folder);
                        sync_folder(&registry, &folder);
                    }
                }
            })
            .map_err(|e| Error::io(dir, e))?;
        Ok(Watcher {
            _watcher: watcher,
            stop,
        })
    }
}

/// `<root>/<name>` for any path inside a plugin folder.
fn plugin_folder(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    let first = rel.components().next()?;
    Some(root.join(first))
}

/// Brings the registry in line with one plugin folder.
fn sync_folder(registry: &Registry, folder: &Path) {
    let manifest = folder.join(MANIFEST_FILE);
    if !manifest.exists() {
        if let Some(name) = registry.name_for_manifest(&manifest) {
            let _ = registry.unload(&name);
        }
        return;
    }
    // Wait until the files stop changing (a writer may still be copying the module).
    let mut last = digest(&manifest).ok();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(25));
        let now = digest(&manifest).ok();
        if now.is_some() && now == last {
            break;
        }
        last = now;
    }
    match registry.load(&manifest) {
        Ok(_) => {}
        Err(e) => tracing::debug!(folder = %folder.display(), "reload refused: {e}"),
    }
}
