//! Start-up: loading a plugin directory, with versions side by side, falling back to an
//! older version when the newest fails, and restoring the persisted routing.
//!
//! For each plugin folder (see `store/dir.rs` for the layouts):
//! 1. the persisted routing state of the plugin is read, if any;
//! 2. the newest `keep_previous + 1` versions, and any version the persisted routing names,
//!    load, oldest first (each one serves as it loads, so the newest that loads ends up
//!    serving); if none of them loads, older versions are tried, newest first, until one
//!    does. A newest version that failed while an older one serves makes the plugin
//!    degraded (see `degraded.rs`);
//! 3. the routing is restored: the configured rules (`RegistryConfig::routing`), or the
//!    persisted weights, rules and rollback target when the configuration has not changed
//!    since they were saved;
//! 4. versions beyond `keep_previous` without traffic are dropped from memory (their files
//!    stay on disk).
//!
//! A folder whose plugin name is already served from another folder of the directory (two
//! folders claiming one name, e.g. a copy that kept its `name`) is refused with
//! [`Error::Manifest`] and a `Rejected` event: folders load in name order, the first keeps
//! the name. The hot-reload watcher applies the same rule to folders that appear later.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Registry;
use super::events::RegistryEvent;
use super::persist::RoutingState;
use super::rules::RoutingRules;
use super::store::dir::{self, OnDisk};
use crate::error::{Error, Result};

impl Registry {
    /// Loads every plugin of `dir`: each `<name>/plugin.toml` and `<name>/<version>/
    /// plugin.toml` (see the module docs for which versions load and which serves).
    /// Failures are reported per manifest (and as events); the others load.
    ///
    /// # Errors
    /// Only if `dir` cannot be read.
    pub fn load_dir(&self, dir: &Path) -> Result<Vec<(PathBuf, Result<String>)>> {
        let mut results = Vec::new();
        for folder in dir::plugin_folders(dir)? {
            results.extend(self.load_folder(&folder));
        }
        Ok(results)
    }

    /// Loads the versions of one plugin folder (steps 1–4 of the module docs).
    pub(super) fn load_folder(&self, folder: &Path) -> Vec<(PathBuf, Result<String>)> {
        let on_disk = dir::versions(folder);
        let Some(name) = on_disk
            .iter()
            .rev()
            .find_map(|v| v.name.clone())
            .or_else(|| (!on_disk.is_empty()).then(|| folder_name(folder)))
        else {
            return Vec::new();
        };
        if let Some(first) = self.served_from_sibling(&name, folder) {
            return self.refuse_duplicate(&name, folder, &first, &on_disk);
        }
        let state = self.inner.state.as_ref().and_then(|s| s.read(&name));
        let keep = self.inner.config.keep_previous + 1;
        let first_kept = on_disk.len().saturating_sub(keep);
        let wanted = |i: usize, v: &OnDisk| {
            i >= first_kept
                || v.version.is_none()
                || v.version
                    .as_ref()
                    .zip(state.as_ref())
                    .is_some_and(|(v, s)| s.references(v))
        };
        let mut chosen: Vec<&OnDisk> = Vec::new();
        let mut older: Vec<&OnDisk> = Vec::new();
        for (i, v) in on_disk.iter().enumerate() {
            if wanted(i, v) {
                chosen.push(v);
            } else {
                older.push(v);
            }
        }
        let mut results: Vec<(PathBuf, Result<String>)> = chosen
            .iter()
            .map(|v| (v.manifest.clone(), self.load_version(&v.manifest)))
            .collect();
        if results.iter().all(|(_, r)| r.is_err()) {
            for v in older.iter().rev() {
                let r = self.load_version(&v.manifest);
                let ok = r.is_ok();
                results.push((v.manifest.clone(), r));
                if ok {
                    break;
                }
            }
        }
        if self.primary(&name).is_some() {
            self.restore(&name, state);
        }
        results
    }

    /// The manifest of a loaded version of `name` that lives, still on disk, in another
    /// folder of the directory that holds `folder` (a second folder claiming a plugin's
    /// name). A version whose manifest is gone does not count (its folder was removed or
    /// renamed: the watcher is about to forget it).
    pub(super) fn served_from_sibling(&self, name: &str, folder: &Path) -> Option<PathBuf> {
        let folder = folder
            .canonicalize()
            .unwrap_or_else(|_| folder.to_path_buf());
        let parent = folder.parent()?;
        let table = self.inner.table.load();
        table
            .plugins
            .get(name)?
            .routes
            .iter()
            .filter_map(|r| r.version.manifest())
            .find(|m| m.starts_with(parent) && !m.starts_with(&folder) && m.is_file())
    }

    /// Where the files of version `version` of `name`, whose manifest was removed,
    /// are now: a manifest of the same name, version and digest in a folder of `root` (the
    /// folder was renamed). The version then belongs to that manifest and stays loaded.
    pub(super) fn adopt_moved(
        &self,
        name: &str,
        version: &semver::Version,
        root: &Path,
    ) -> Option<PathBuf> {
        let table = self.inner.table.load();
        let route = table.plugins.get(name)?.route(version)?;
        let moved = dir::plugin_folders(root)
            .ok()?
            .iter()
            .flat_map(|folder| dir::versions(folder))
            .filter(|v| v.name.as_deref() == Some(name) && v.version.as_ref() == Some(version))
            .map(|v| v.manifest.canonicalize().unwrap_or(v.manifest))
            .find(|m| {
                super::disk::digest(m).is_ok_and(|(digest, _)| digest == route.version.digest)
            })?;
        route.version.moved_to(&moved);
        self.inner.verdicts.record(
            &moved,
            route.version.digest.clone(),
            super::disk::Verdict::Loaded,
        );
        Some(moved)
    }

    /// Refuses every manifest of `folder`: plugin `name` is already served from the
    /// folder of `first` (the plugin directory's folders load in name order, so the
    /// first one keeps it instead of the two replacing each other's versions).
    fn refuse_duplicate(
        &self,
        name: &str,
        folder: &Path,
        first: &Path,
        on_disk: &[OnDisk],
    ) -> Vec<(PathBuf, Result<String>)> {
        on_disk
            .iter()
            .map(|v| {
                let e = self.duplicate(name, folder, first, &v.manifest);
                (v.manifest.clone(), Err(e))
            })
            .collect()
    }

    /// The error (also emitted as a `Rejected` event) refusing `manifest` of `folder`:
    /// plugin `name` is already served from `first`'s folder.
    pub(super) fn duplicate(
        &self,
        name: &str,
        folder: &Path,
        first: &Path,
        manifest: &Path,
    ) -> Error {
        let first = first.parent().unwrap_or(first);
        let e = Error::Manifest {
            path: manifest.to_path_buf(),
            message: format!(
                "plugin `{name}` is already served from `{}`; folder `{}` claims the same \
                 name (one folder per plugin: give this one its own `name`)",
                first.display(),
                folder.display()
            ),
        };
        self.inner.events.emit(RegistryEvent::Rejected {
            plugin: name.to_string(),
            class: e.class().to_string(),
            reason: e.to_string(),
        });
        e
    }

    fn load_version(&self, manifest: &Path) -> Result<String> {
        self.load_with(manifest, false).map(|v| v.to_string())
    }

    /// Step 3 and 4 of the module docs.
    fn restore(&self, name: &str, state: Option<RoutingState>) {
        let configured = self.inner.config.routing.get(name).cloned();
        let state = state.filter(|s| s.configured == configured);
        let rules: Option<RoutingRules> = match &state {
            Some(s) => s.rules.clone(),
            None => configured,
        };
        let keep_previous = self.inner.config.keep_previous;
        let restored = self.update(name, |table| {
            let Some(entry) = table.plugins.get_mut(name) else {
                return Ok(());
            };
            if let Some(s) = &state {
                let any = entry
                    .routes
                    .iter()
                    .any(|r| s.weights.get(&r.version.version).is_some_and(|w| *w > 0));
                if any {
                    for r in &mut entry.routes {
                        r.weight = s.weights.get(&r.version.version).copied().unwrap_or(0);
                    }
                }
                if let Some(target) = s.rollback_to.clone().filter(|v| entry.route(v).is_some()) {
                    entry.rollback_to = Some(target);
                }
            }
            let result = match &rules {
                Some(rules) => {
                    let versions: Vec<&semver::Version> =
                        entry.routes.iter().map(|r| &r.version.version).collect();
                    rules
                        .validate(&versions)
                        .map(|()| Some(Arc::new(rules.clone())))
                }
                None => Ok(None),
            };
            match result {
                Ok(rules) => {
                    if let Some(super::rules::DefaultRoute::Weights(w)) =
                        rules.as_deref().and_then(|r| r.default.as_ref())
                        && state.is_none()
                    {
                        for r in &mut entry.routes {
                            r.weight = w.get(&r.version.version).copied().unwrap_or(0);
                        }
                    }
                    entry.rules = rules;
                    entry.prune(keep_previous);
                    Ok(())
                }
                Err(reason) => {
                    entry.prune(keep_previous);
                    Err(reason)
                }
            }
        });
        match restored {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                tracing::warn!(plugin = name, "routing rules not applied: {reason}");
            }
            Err(e) => tracing::warn!(plugin = name, "routing state not saved: {e}"),
        }
    }
}

fn folder_name(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
