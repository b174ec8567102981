//! The registry: named plugins, their versions, routing weights, breakers, metrics and hot
//! reload.
//!
//! Calls go through [`Registry::call`] by plugin name. The routing table is immutable and
//! swapped atomically (`arc-swap`) on every change, so a call that started on version A
//! finishes on A even if B becomes active meanwhile, and A's instances are freed when its
//! last call ends. A candidate is validated completely (manifest, pin, size, compile, ABI,
//! capability escalation, instantiate + `init`) before it serves anything; a failed
//! candidate leaves the running version in place and is reported as a
//! [`RegistryEvent::Rejected`].

mod events;
mod routing;
pub(crate) mod store;
mod version;
mod watch;

pub use events::RegistryEvent;
pub use routing::CallOptions;
pub use version::CanaryConfig;
pub use watch::Watcher;

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::breaker::{BreakerConfig, BreakerState, Permit};
use crate::capability::Capabilities;
use crate::error::{Error, Result};
use crate::host_fn::HostConfig;
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::plugin::{CallOutput, Plugin, PluginBuilder};
use events::Events;
use routing::{Entry, Route, Table};
use version::LoadedVersion;

/// Registry settings.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Compiled-module cache directory for every plugin loaded by the registry.
    pub cache_dir: Option<PathBuf>,
    /// Accept new versions that ask for more capabilities than the running one. By default
    /// `false`: an escalation is refused and the running version keeps serving.
    pub allow_escalation: bool,
    /// Circuit-breaker thresholds of every version.
    pub breaker: BreakerConfig,
    /// Automatic rollback of failing versions.
    pub canary: CanaryConfig,
    /// Quiet time after the last file event before a plugin folder is reloaded. By default
    /// 50 ms.
    pub debounce: Duration,
    /// Versions without traffic kept for rollback, per plugin. By default 1.
    pub keep_previous: usize,
    /// Host functions, kv store and HTTP client offered to every plugin.
    pub host: HostConfig,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            cache_dir: None,
            allow_escalation: false,
            breaker: BreakerConfig::default(),
            canary: CanaryConfig::default(),
            debounce: Duration::from_millis(50),
            keep_previous: 1,
            host: HostConfig::default(),
        }
    }
}

/// The result of a routed call.
#[derive(Debug, Clone)]
pub struct RoutedOutput {
    /// The version that served the call.
    pub version: semver::Version,
    /// The call's output.
    pub output: CallOutput,
}

/// A snapshot of one plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    /// Plugin name.
    pub name: String,
    /// Loaded versions, oldest first.
    pub versions: Vec<VersionStatus>,
}

/// A snapshot of one loaded version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionStatus {
    /// Version.
    pub version: String,
    /// Routing weight.
    pub weight: u32,
    /// sha256 of the module.
    pub sha256: String,
    /// Circuit breaker state.
    pub breaker: BreakerState,
    /// Calls served.
    pub calls: u64,
    /// Calls that counted as failures ([`Error::counts_against_plugin`]).
    pub failures: u64,
    /// Instances alive / idle.
    pub instances: (usize, usize),
    /// Callable functions.
    pub functions: Vec<String>,
}

/// Named plugins with versions, routing, breakers and hot reload. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    config: RegistryConfig,
    table: ArcSwap<Table>,
    /// Serialises changes to the table (loads, weights, rollbacks); calls never take it.
    write: Mutex<()>,
    events: Events,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(RegistryConfig::default())
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(config: RegistryConfig) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                config,
                table: ArcSwap::from_pointee(Table::default()),
                write: Mutex::new(()),
                events: Events::default(),
            }),
        }
    }

    /// Receives every event from now on.
    pub fn subscribe(&self) -> Receiver<RegistryEvent> {
        self.inner.events.subscribe()
    }

    /// Loads every `<dir>/<name>/plugin.toml`. Failures are reported per plugin (and as
    /// events); the others load.
    ///
    /// # Errors
    /// Only if `dir` cannot be read.
    pub fn load_dir(&self, dir: &Path) -> Result<Vec<(PathBuf, Result<String>)>> {
        let mut manifests: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join(MANIFEST_FILE))
            .filter(|p| p.is_file())
            .collect();
        manifests.sort();
        Ok(manifests
            .into_iter()
            .map(|m| {
                let r = self.load(&m).map(|v| v.to_string());
                (m, r)
            })
            .collect())
    }

    /// Validates the plugin described by `manifest` completely and, if it passes, makes it
    /// the serving version of its name (weight 100; other versions get 0 and the newest of
    /// them is kept for rollback). A candidate identical to a loaded version is a no-op.
    ///
    /// # Errors
    /// Any load error, or [`Error::CapabilityEscalation`]. The running version is kept.
    pub fn load(&self, manifest: &Path) -> Result<semver::Version> {
        // One spelling per file, so the watcher (which sees absolute paths) finds it again.
        let canonical = manifest.canonicalize();
        let manifest = canonical.as_deref().unwrap_or(manifest);
        let result = self.try_load(manifest);
        if let Err(e) = &result {
            let plugin = Manifest::from_file(manifest)
                .map(|m| m.name.to_string())
                .unwrap_or_else(|_| folder_name(manifest));
            crate::metrics::reload(&plugin, false);
            self.inner.events.emit(RegistryEvent::Rejected {
                plugin,
                class: e.class().to_string(),
                reason: e.to_string(),
            });
        }
        result
    }

    fn try_load(&self, path: &Path) -> Result<semver::Version> {
        let digest = digest(path)?;
        let manifest = Manifest::from_file(path)?;
        let name = manifest.name.to_string();
        if let Some(entry) = self.inner.table.load().plugins.get(&name)
            && let Some(same) = entry.routes.iter().find(|r| r.version.digest == digest)
        {
            return Ok(same.version.version.clone());
        }
        if !self.inner.config.allow_escalation
            && let Some(current) = self.primary(&name)
        {
            let added = escalation(
                current.plugin.compiled().capabilities(),
                &manifest.capabilities,
            );
            if !added.is_empty() {
                return Err(Error::CapabilityEscalation {
                    plugin: name,
                    added,
                });
            }
        }
        let mut builder = PluginBuilder::new().host(self.inner.config.host.clone());
        if let Some(dir) = &self.inner.config.cache_dir {
            builder = builder.cache_dir(dir);
        }
        let compiled = builder.compile(path)?;
        if let Some(current) = self.primary(&name) {
            let dropped: Vec<String> = current
                .plugin
                .functions()
                .iter()
                .filter(|f| !compiled.interface().functions.contains(f))
                .cloned()
                .collect();
            if !dropped.is_empty() {
                return Err(Error::invalid_plugin(format!(
                    "the new version of `{name}` lacks function(s) {} that the running version serves; callers would break (unload the plugin first to change its interface)",
                    dropped
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let plugin = Plugin::new(compiled)?;
        let breaker = manifest
            .breaker
            .clone()
            .unwrap_or_else(|| self.inner.config.breaker.clone());
        let loaded = Arc::new(LoadedVersion::new(
            plugin,
            breaker,
            Some(path.to_path_buf()),
            digest,
        ));
        Ok(self.install(loaded))
    }

    /// Adds an already loaded plugin (no manifest, so no hot reload) as the serving version.
    pub fn insert(&self, plugin: Plugin) -> semver::Version {
        let digest = plugin.compiled().sha256().to_string();
        let breaker = self.inner.config.breaker.clone();
        self.install(Arc::new(LoadedVersion::new(plugin, breaker, None, digest)))
    }

    fn install(&self, loaded: Arc<LoadedVersion>) -> semver::Version {
        let name = loaded.plugin.meta().name.to_string();
        let version = loaded.version.clone();
        let sha256 = loaded.plugin.compiled().sha256().to_string();
        self.update(|table| {
            let entry = table
                .plugins
                .entry(name.clone())
                .or_insert(Entry { routes: Vec::new() });
            entry.routes.retain(|r| r.version.version != version);
            for r in &mut entry.routes {
                r.weight = 0;
            }
            entry.routes.push(Route {
                version: loaded,
                weight: 100,
            });
            let keep = self.inner.config.keep_previous;
            let idle = entry.routes.len() - 1;
            if idle > keep {
                entry.routes.drain(..idle - keep);
            }
        });
        crate::metrics::reload(&name, true);
        self.inner.events.emit(RegistryEvent::Loaded {
            plugin: name,
            version: version.to_string(),
            sha256,
        });
        version
    }

    /// Applies `change` to a copy of the table and swaps it in.
    fn update<R>(&self, change: impl FnOnce(&mut Table) -> R) -> R {
        let _guard = self.inner.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = Table::clone(&self.inner.table.load());
        let r = change(&mut table);
        self.inner.table.store(Arc::new(table));
        r
    }

    fn primary(&self, name: &str) -> Option<Arc<LoadedVersion>> {
        let table = self.inner.table.load();
        table
            .plugins
            .get(name)?
            .primary()
            .map(|r| r.version.clone())
    }

    /// Calls `function` of plugin `name` on the version chosen by `opts` and the weights.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`], [`Error::VersionNotFound`], [`Error::NoRoute`],
    /// [`Error::CircuitOpen`], or any error of [`Plugin::call`].
    pub fn call(
        &self,
        name: &str,
        function: &str,
        input: &[u8],
        opts: &CallOptions,
    ) -> Result<RoutedOutput> {
        let version = {
            let table = self.inner.table.load();
            let entry = table
                .plugins
                .get(name)
                .ok_or_else(|| Error::PluginNotFound {
                    name: name.to_string(),
                })?;
            entry.select(name, opts)?.clone()
        };
        let probe = match version.breaker.permit() {
            Permit::Allowed { probe } => probe,
            Permit::Rejected { retry_after } => {
                return Err(Error::CircuitOpen {
                    plugin: name.to_string(),
                    version: version.version.to_string(),
                    retry_after,
                });
            }
        };
        version.metrics.started();
        let start = Instant::now();
        let (result, function_index) = match version.plugin.function_index(function) {
            Ok(index) => {
                let request_id: Option<Arc<str>> = opts.request_id.as_deref().map(Arc::from);
                let result = version.plugin.call_index(index, input, request_id.as_ref());
                (result, Some(index))
            }
            Err(e) => (Err(e), None),
        };
        let usage = result
            .as_ref()
            .ok()
            .map(|o| (o.fuel_consumed, o.memory_bytes));
        version.metrics.finished(
            function_index,
            start.elapsed(),
            result.as_ref().err(),
            usage,
        );
        version.metrics.instances(version.plugin.instance_counts());
        let failed = result.as_ref().is_err_and(Error::counts_against_plugin);
        let counted = result
            .as_ref()
            .map_or_else(Error::counts_against_plugin, |_| true);
        if counted {
            if let Some(state) = version.breaker.record(!failed, probe) {
                version.metrics.breaker(state);
                self.inner.events.emit(RegistryEvent::Breaker {
                    plugin: name.to_string(),
                    version: version.version.to_string(),
                    state,
                });
            }
            if let Some(rate) = version.record(failed, &self.inner.config.canary)
                && rate > self.inner.config.canary.max_error_rate
            {
                self.auto_rollback(name, &version, rate);
            }
        } else if probe {
            version.breaker.cancel_probe();
        }
        result.map(|output| RoutedOutput {
            version: version.version.clone(),
            output,
        })
    }

    /// Like [`Registry::call`], on tokio's blocking pool.
    ///
    /// # Errors
    /// As [`Registry::call`].
    pub async fn call_async(
        &self,
        name: &str,
        function: &str,
        input: Vec<u8>,
        opts: CallOptions,
    ) -> Result<RoutedOutput> {
        let (registry, name, function) = (self.clone(), name.to_string(), function.to_string());
        tokio::task::spawn_blocking(move || registry.call(&name, &function, &input, &opts))
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
    }

    /// Takes a failing version with traffic out of rotation, if another version can serve.
    fn auto_rollback(&self, name: &str, failing: &Arc<LoadedVersion>, rate: f64) {
        let reason = format!(
            "failure rate {:.0}% over the last {} calls exceeds {:.0}%",
            rate * 100.0,
            self.inner
                .config
                .canary
                .window
                .min(failing.calls.load(std::sync::atomic::Ordering::Relaxed) as usize),
            self.inner.config.canary.max_error_rate * 100.0
        );
        let moved = self.update(|table| {
            let entry = table.plugins.get_mut(name)?;
            let index = entry
                .routes
                .iter()
                .position(|r| Arc::ptr_eq(&r.version, failing))?;
            if entry.routes[index].weight == 0 || entry.routes.len() < 2 {
                return None;
            }
            entry.routes[index].weight = 0;
            if entry.routes.iter().all(|r| r.weight == 0) {
                let target = entry
                    .routes
                    .iter_mut()
                    .enumerate()
                    .rev()
                    .find(|(i, _)| *i != index)?
                    .1;
                target.weight = 100;
            }
            let to = entry.primary()?.version.version.to_string();
            Some(to)
        });
        if let Some(to) = moved {
            failing.reset_window();
            self.inner.events.emit(RegistryEvent::RolledBack {
                plugin: name.to_string(),
                from: failing.version.to_string(),
                to,
                reason,
            });
        }
    }

    /// Sets the weights of the listed versions (others keep theirs).
    ///
    /// # Errors
    /// [`Error::PluginNotFound`] or [`Error::VersionNotFound`]; nothing changes then.
    pub fn set_weights(&self, name: &str, weights: &[(semver::Version, u32)]) -> Result<()> {
        let result = self.update(|table| {
            let entry = table
                .plugins
                .get_mut(name)
                .ok_or_else(|| Error::PluginNotFound {
                    name: name.to_string(),
                })?;
            for (version, _) in weights {
                if !entry.routes.iter().any(|r| &r.version.version == version) {
                    return Err(Error::VersionNotFound {
                        name: name.to_string(),
                        version: version.to_string(),
                        loaded: entry
                            .routes
                            .iter()
                            .map(|r| r.version.version.to_string())
                            .collect(),
                    });
                }
            }
            for r in &mut entry.routes {
                if let Some((_, w)) = weights.iter().find(|(v, _)| v == &r.version.version) {
                    r.weight = *w;
                    r.version.reset_window();
                }
            }
            Ok(entry
                .routes
                .iter()
                .map(|r| (r.version.version.to_string(), r.weight))
                .collect())
        })?;
        self.inner.events.emit(RegistryEvent::WeightsChanged {
            plugin: name.to_string(),
            weights: result,
        });
        Ok(())
    }

    /// Sends all traffic back to the version loaded before the current one.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`], or [`Error::NoRoute`] when there is no other version.
    pub fn rollback(&self, name: &str) -> Result<semver::Version> {
        let (from, to) = self.update(|table| {
            let entry = table
                .plugins
                .get_mut(name)
                .ok_or_else(|| Error::PluginNotFound {
                    name: name.to_string(),
                })?;
            let current =
                entry
                    .primary()
                    .map(|r| r.version.clone())
                    .ok_or_else(|| Error::NoRoute {
                        name: name.to_string(),
                    })?;
            let target = entry
                .routes
                .iter()
                .rev()
                .find(|r| !Arc::ptr_eq(&r.version, &current))
                .map(|r| r.version.clone())
                .ok_or_else(|| Error::NoRoute {
                    name: name.to_string(),
                })?;
            for r in &mut entry.routes {
                r.weight = if Arc::ptr_eq(&r.version, &target) {
                    100
                } else {
                    0
                };
            }
            Ok::<_, Error>((current.version.clone(), target.version.clone()))
        })?;
        self.inner.events.emit(RegistryEvent::RolledBack {
            plugin: name.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            reason: "requested".into(),
        });
        Ok(to)
    }

    /// Reloads plugin `name` from the manifest of its current version.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`] (or no manifest to reload from), or any load error.
    pub fn reload(&self, name: &str) -> Result<semver::Version> {
        let current = self.primary(name).ok_or_else(|| Error::PluginNotFound {
            name: name.to_string(),
        })?;
        let manifest = current.manifest.clone().ok_or_else(|| {
            Error::invalid_plugin(format!(
                "`{name}` was added without a manifest, so there is nothing to reload it from"
            ))
        })?;
        self.load(&manifest)
    }

    /// Removes plugin `name`. Calls already running finish on their version.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`].
    pub fn unload(&self, name: &str) -> Result<()> {
        self.update(|table| table.plugins.remove(name))
            .ok_or_else(|| Error::PluginNotFound {
                name: name.to_string(),
            })?;
        self.inner.events.emit(RegistryEvent::Unloaded {
            plugin: name.to_string(),
        });
        Ok(())
    }

    /// A snapshot of every plugin and version.
    pub fn plugins(&self) -> Vec<PluginStatus> {
        let table = self.inner.table.load();
        table
            .plugins
            .iter()
            .map(|(name, entry)| PluginStatus {
                name: name.clone(),
                versions: entry
                    .routes
                    .iter()
                    .map(|r| VersionStatus {
                        version: r.version.version.to_string(),
                        weight: r.weight,
                        sha256: r.version.plugin.compiled().sha256().to_string(),
                        breaker: r.version.breaker.state(),
                        calls: r.version.calls.load(std::sync::atomic::Ordering::Relaxed),
                        failures: r
                            .version
                            .failures
                            .load(std::sync::atomic::Ordering::Relaxed),
                        instances: r.version.plugin.instance_counts(),
                        functions: r.version.plugin.functions().to_vec(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The plugin serving most traffic under `name` (for direct use, bypassing routing).
    pub fn get(&self, name: &str) -> Option<Plugin> {
        self.primary(name).map(|v| v.plugin.clone())
    }

    /// The name of the plugin loaded from `manifest`, if any.
    fn name_for_manifest(&self, manifest: &Path) -> Option<String> {
        let table = self.inner.table.load();
        table.plugins.iter().find_map(|(name, entry)| {
            entry
                .routes
                .iter()
                .any(|r| r.version.manifest.as_deref() == Some(manifest))
                .then(|| name.clone())
        })
    }

    /// Watches `dir` (one folder per plugin) and reloads a plugin when its files change,
    /// unloads it when its manifest disappears. Stops when the returned [`Watcher`] drops.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be watched.
    pub fn watch(&self, dir: &Path) -> Result<Watcher> {
        Watcher::start(self.clone(), dir)
    }
}

/// sha256 over a manifest and the module it names.
fn digest(manifest: &Path) -> Result<String> {
    let text = std::fs::read(manifest).map_err(|e| Error::io(manifest, e))?;
    let parsed = Manifest::from_file(manifest)?;
    let wasm = std::fs::read(&parsed.wasm).map_err(|e| Error::io(&parsed.wasm, e))?;
    let mut h = Sha256::new();
    h.update((text.len() as u64).to_le_bytes());
    h.update(&text);
    h.update(&wasm);
    Ok(hex::encode(h.finalize()))
}

fn folder_name(manifest: &Path) -> String {
    manifest
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The grants of `new` that `old` does not have.
fn escalation(old: &Capabilities, new: &Capabilities) -> Vec<String> {
    let mut added = Vec::new();
    for m in &new.fs {
        let covered = old.fs.iter().any(|o| {
            o.host == m.host
                && o.guest == m.guest
                && (o.mode == m.mode || m.mode == crate::FsMode::ReadOnly)
        });
        if !covered {
            added.push(format!("fs {m}"));
        }
    }
    for e in &new.env {
        if !old.env.iter().any(|o| o.name() == e.name()) {
            added.push(format!("env {}", e.name()));
        }
    }
    for n in &new.net {
        if !old.net.contains(n) {
            added.push(format!("net {n}"));
        }
    }
    added
}
