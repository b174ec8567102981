//! Loading into the registry: validating a candidate completely, installing it as the
//! serving version, promoting a held version that is deployed again, unloading.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};

use super::Registry;
use super::disk::{Verdict, digest};
use super::events::RegistryEvent;
use super::routing::Weighted;
use super::version::LoadedVersion;
use crate::contract::{Contract, gate};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::plugin::{Plugin, PluginBuilder};

impl Registry {
    /// Validates the plugin described by `manifest` completely and, if it passes, makes it
    /// the serving version of its name (weight 100; other versions get 0 and the newest of
    /// them is kept for rollback).
    ///
    /// Files identical to a loaded version are not compiled again: if that version has
    /// traffic already, nothing changes; if it is held (weight 0, e.g. after a rollback),
    /// deploying it again makes it the serving version.
    ///
    /// # Errors
    /// Any load error, or [`Error::CapabilityEscalation`]. The running version is kept.
    pub fn load(&self, manifest: &Path) -> Result<semver::Version> {
        let version = self.load_with(manifest, true)?;
        if let Ok(m) = Manifest::from_file(manifest) {
            self.notify_sync(m.name.as_str());
        }
        Ok(version)
    }

    /// [`Registry::load`]; `prune` drops versions beyond `keep_previous` (start-up loads
    /// several versions first and prunes once their routing is restored).
    pub(super) fn load_with(&self, manifest: &Path, prune: bool) -> Result<semver::Version> {
        self.load_mode(manifest, prune, true)
    }

    /// [`Registry::load_with`]; with `serve` false the version is added without traffic
    /// (weight 0, rollback target unchanged): what a replica does with a version it learnt
    /// about through `[sync]` before it applies the shared routing.
    pub(super) fn load_mode(
        &self,
        manifest: &Path,
        prune: bool,
        serve: bool,
    ) -> Result<semver::Version> {
        // One spelling per file, so the watcher (which sees absolute paths) finds it again.
        let canonical = manifest.canonicalize();
        let manifest = canonical.as_deref().unwrap_or(manifest);
        // One load per manifest at a time: a second one waits and then finds the first's
        // result instead of compiling the same files again.
        let lock = self.inner.loading.lock_for(manifest);
        let _serial = lock.lock().unwrap_or_else(|p| p.into_inner());
        let result = self.try_load(manifest, prune, serve);
        if let Err((e, digest)) = &result {
            if let Some(digest) = digest {
                self.inner
                    .verdicts
                    .record(manifest, digest.clone(), Verdict::Rejected);
            }
            let plugin = Manifest::from_file(manifest)
                .map(|m| m.name.to_string())
                .unwrap_or_else(|_| folder_name(manifest));
            crate::metrics::reload(&plugin, false);
            self.note_degraded(&plugin, manifest, e);
            self.inner.events.emit(RegistryEvent::Rejected {
                plugin,
                class: e.class().to_string(),
                reason: e.to_string(),
            });
        }
        result.map_err(|(e, _)| e)
    }

    /// [`Registry::load`] without the reporting; a failure carries the files' digest when
    /// it could be computed.
    fn try_load(
        &self,
        path: &Path,
        prune: bool,
        serve: bool,
    ) -> Result<semver::Version, (Error, Option<String>)> {
        let (digest, manifest) = digest(path).map_err(|e| (e, None))?;
        let fail = |e: Error| (e, Some(digest.clone()));
        let name = manifest.name.to_string();
        if let Some(version) = self.find_digest(&name, &digest) {
            self.adopt_if_moved(&name, &digest, path);
            self.inner
                .verdicts
                .record(path, digest.clone(), Verdict::Loaded);
            if !serve {
                return Ok(version);
            }
            return self.promote(&name, &version).map_err(fail);
        }
        let mut builder = PluginBuilder::new()
            .host(self.inner.config.host.clone())
            .trust(self.inner.config.trust.clone());
        if let Some(dir) = &self.inner.config.cache_dir {
            builder = builder.cache_dir(dir);
        }
        let compiled = builder.compile(path).map_err(fail)?;
        if let Some((running, since_unload)) = self.baseline(&name) {
            let allowed = gate::Allowed {
                escalation: self.inner.config.allow_escalation,
                breaking: self.inner.config.allow_breaking,
                grants_only: since_unload,
            };
            gate::check(&running, &Contract::of(&compiled), allowed).map_err(fail)?;
        }
        let plugin = Plugin::new(compiled).map_err(fail)?;
        let breaker = manifest
            .breaker
            .clone()
            .unwrap_or_else(|| self.inner.config.breaker.clone());
        let loaded = Arc::new(LoadedVersion::new(
            plugin,
            breaker,
            Some(path.to_path_buf()),
            digest.clone(),
        ));
        let version = self.install(loaded, prune, serve).map_err(fail)?;
        self.inner
            .verdicts
            .record(path, digest.clone(), Verdict::Loaded);
        Ok(version)
    }

    /// The version of `name` loaded from files with `digest`, whose manifest is gone, now
    /// belongs to `path`, where the same files are (its plugin folder was renamed).
    fn adopt_if_moved(&self, name: &str, digest: &str, path: &Path) {
        let table = self.inner.table.load();
        let Some(route) = table
            .plugins
            .get(name)
            .and_then(|e| e.routes.iter().find(|r| r.version.digest == digest))
        else {
            return;
        };
        if route
            .version
            .manifest()
            .is_some_and(|old| old != path && !old.is_file())
        {
            route.version.moved_to(path);
        }
    }

    /// The version of `name` loaded from files with `digest`, if any.
    fn find_digest(&self, name: &str, digest: &str) -> Option<semver::Version> {
        let table = self.inner.table.load();
        table
            .plugins
            .get(name)?
            .routes
            .iter()
            .find(|r| r.version.digest == digest)
            .map(|r| r.version.version.clone())
    }

    /// The contract a candidate of `name` is compared with (docs/contract.md): that of the
    /// serving version, or, when the plugin was unloaded, of the last version that served
    /// (`true`: then only its grants count, so an unload followed by an upload may change
    /// the interface but cannot widen the grants unnoticed).
    fn baseline(&self, name: &str) -> Option<(Contract, bool)> {
        if let Some(current) = self.primary(name) {
            return Some((Contract::of(current.plugin.compiled()), false));
        }
        self.inner
            .unloaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .map(|c| (c.clone(), true))
    }

    /// Adds an already loaded plugin (no manifest, so no hot reload) as the serving version.
    ///
    /// # Errors
    /// The routing state could not be persisted ([`RegistryConfig::state_dir`]).
    ///
    /// [`RegistryConfig::state_dir`]: crate::RegistryConfig::state_dir
    pub fn insert(&self, plugin: Plugin) -> Result<semver::Version> {
        let digest = plugin.compiled().sha256().to_string();
        let breaker = self.inner.config.breaker.clone();
        self.install(
            Arc::new(LoadedVersion::new(plugin, breaker, None, digest)),
            true,
            true,
        )
    }

    fn install(
        &self,
        loaded: Arc<LoadedVersion>,
        prune: bool,
        serve: bool,
    ) -> Result<semver::Version> {
        let name = loaded.plugin.meta().name.to_string();
        let version = loaded.version.clone();
        let sha256 = loaded.plugin.compiled().sha256().to_string();
        self.update(&name, |table| {
            let entry = table.plugins.entry(name.clone()).or_default();
            // Without traffic only when another version serves (a plugin's first version
            // always serves).
            let serve = serve || entry.routes.is_empty();
            if serve
                && let Some(previous) = entry.primary().map(|r| r.version.version.clone())
                && previous != version
            {
                entry.rollback_to = Some(previous);
            }
            entry.routes.retain(|r| r.version.version != version);
            entry.routes.push(Weighted {
                version: loaded,
                weight: if serve { 100 } else { 0 },
            });
            if serve {
                entry.serve_only(&version);
            }
            if prune {
                entry.prune(self.inner.config.keep_previous);
            }
        })?;
        self.clear_degraded(&name, &version);
        self.inner
            .unloaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&name);
        crate::metrics::reload(&name, true);
        self.inner.events.emit(RegistryEvent::Loaded {
            plugin: name,
            version: version.to_string(),
            sha256,
        });
        Ok(version)
    }

    /// Makes the held `version` of `name` the serving one (a deploy of files identical to
    /// it). Nothing happens when it serves already.
    fn promote(&self, name: &str, version: &semver::Version) -> Result<semver::Version> {
        let promoted = self.update(name, |table| {
            let entry = table.plugins.get_mut(name)?;
            if entry.route(version)?.weight > 0 {
                return None;
            }
            let previous = entry.primary()?.version.version.clone();
            if &previous != version {
                entry.rollback_to = Some(previous);
            }
            entry.serve_only(version);
            let route = entry.route(version)?;
            route.version.reset_window();
            Some(route.version.plugin.compiled().sha256().to_string())
        })?;
        if let Some(sha256) = promoted {
            crate::metrics::reload(name, true);
            self.inner.events.emit(RegistryEvent::Loaded {
                plugin: name.to_string(),
                version: version.to_string(),
                sha256,
            });
        }
        Ok(version.clone())
    }

    /// Reloads plugin `name` from the manifest of its current version.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`] (or no manifest to reload from), or any load error.
    pub fn reload(&self, name: &str) -> Result<semver::Version> {
        let current = self.primary(name).ok_or_else(|| Error::PluginNotFound {
            name: name.to_string(),
        })?;
        let manifest = current.manifest().ok_or_else(|| {
            Error::invalid_plugin(format!(
                "`{name}` was added without a manifest, so there is nothing to reload it from"
            ))
        })?;
        self.load(&manifest)
    }

    /// Removes plugin `name`. Calls already running finish on their version. While its
    /// files stay as they are, the hot-reload watcher leaves it unloaded; any change to
    /// them is a new deploy.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`].
    pub fn unload(&self, name: &str) -> Result<()> {
        self.unload_local(name)?;
        self.notify_sync(name);
        Ok(())
    }

    /// [`Registry::unload`] without telling the other replicas (`[sync]` applying theirs).
    pub(super) fn unload_local(&self, name: &str) -> Result<()> {
        let entry = self
            .update(name, |table| table.plugins.remove(name))?
            .ok_or_else(|| Error::PluginNotFound {
                name: name.to_string(),
            })?;
        if let Some(primary) = entry.primary() {
            self.inner
                .unloaded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    name.to_string(),
                    Contract::of(primary.version.plugin.compiled()),
                );
        }
        for route in &entry.routes {
            if let Some(manifest) = &route.version.manifest() {
                match digest(manifest) {
                    Ok((digest, _)) => {
                        self.inner
                            .verdicts
                            .record(manifest, digest, Verdict::Unloaded);
                    }
                    Err(_) => self.inner.verdicts.forget(manifest),
                }
            }
        }
        self.inner.events.emit(RegistryEvent::Unloaded {
            plugin: name.to_string(),
        });
        Ok(())
    }

    /// Takes version `version` of `name` out of the registry (the whole plugin when it is
    /// the only version); returns the manifest it was loaded from.
    pub(super) fn forget_version(
        &self,
        name: &str,
        version: &semver::Version,
    ) -> Result<Option<PathBuf>> {
        let removed = self.update(name, |table| {
            let entry = table
                .plugins
                .get_mut(name)
                .ok_or_else(|| Error::PluginNotFound {
                    name: name.to_string(),
                })?;
            let index = entry
                .routes
                .iter()
                .position(|r| &r.version.version == version)
                .ok_or_else(|| Error::VersionNotFound {
                    name: name.to_string(),
                    version: version.to_string(),
                    loaded: entry.versions(),
                })?;
            if entry.routes.len() == 1 {
                let route = entry.routes.remove(index);
                table.plugins.remove(name);
                return Ok((route, true));
            }
            let refused = |why: &str| Error::InvalidRouting {
                plugin: name.to_string(),
                reason: format!("version {version} {why}; move it away first"),
            };
            if entry.routes[index].weight > 0 {
                return Err(refused("has traffic"));
            }
            let versions: Vec<&semver::Version> =
                entry.routes.iter().map(|r| &r.version.version).collect();
            if entry
                .rules
                .as_deref()
                .is_some_and(|rules| rules.targets(&versions).contains(&version))
            {
                return Err(refused("is the target of a rollout rule"));
            }
            if entry.rollback_to.as_ref() == Some(version) {
                entry.rollback_to = None;
            }
            Ok((entry.routes.remove(index), false))
        })??;
        let (route, whole) = removed;
        if whole {
            self.inner.events.emit(RegistryEvent::Unloaded {
                plugin: name.to_string(),
            });
        } else {
            self.inner.events.emit(RegistryEvent::VersionRemoved {
                plugin: name.to_string(),
                version: version.to_string(),
            });
        }
        Ok(route.version.manifest())
    }

    /// The plugin and version loaded from `manifest`, if any.
    pub(crate) fn version_for_manifest(
        &self,
        manifest: &Path,
    ) -> Option<(String, semver::Version)> {
        self.versions_for_manifest(manifest).into_iter().next()
    }

    /// Every version loaded from `manifest` (a plain-layout folder keeps the version it
    /// replaced by a hot reload beside the new one), those without traffic first, so that
    /// removing them in this order ends with the whole plugin.
    pub(crate) fn versions_for_manifest(&self, manifest: &Path) -> Vec<(String, semver::Version)> {
        let table = self.inner.table.load();
        let mut found: Vec<_> = table
            .plugins
            .iter()
            .flat_map(|(name, entry)| entry.routes.iter().map(move |r| (name, r)))
            .filter(|(_, r)| r.version.manifest().as_deref() == Some(manifest))
            .map(|(name, r)| (r.weight, name.clone(), r.version.version.clone()))
            .collect();
        found.sort_by_key(|(weight, ..)| *weight);
        found.into_iter().map(|(_, n, v)| (n, v)).collect()
    }

    /// The manifests of loaded versions that live under `folder`.
    pub(crate) fn manifests_under(&self, folder: &Path) -> Vec<PathBuf> {
        let table = self.inner.table.load();
        table
            .plugins
            .values()
            .flat_map(|e| e.routes.iter())
            .filter_map(|r| r.version.manifest())
            .filter(|m| m.starts_with(folder))
            .collect()
    }
}

/// One lock per manifest path, so that two loads of the same files never run at once.
#[derive(Default)]
pub(crate) struct LoadLocks {
    locks: Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>,
}

impl LoadLocks {
    fn lock_for(&self, manifest: &Path) -> Arc<Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(manifest.to_path_buf())
            .or_default()
            .clone()
    }
}

fn folder_name(manifest: &Path) -> String {
    manifest
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
