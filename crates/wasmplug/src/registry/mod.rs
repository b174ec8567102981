//! The registry: named plugins, their versions, routing weights, breakers, metrics and hot
//! reload.
//!
//! Calls go through [`Registry::call`] by plugin name. The routing table is immutable and
//! swapped atomically (`arc-swap`) on every change, so a call that started on version A
//! finishes on A even if B becomes active meanwhile, and A's instances are freed when its
//! last call ends. A candidate is validated completely (manifest, pin, size, trust policy,
//! requirements, compile, ABI, contract diff against the running version, instantiate +
//! `init`) before it serves anything; a failed
//! candidate leaves the running version in place and is reported as a
//! [`RegistryEvent::Rejected`].

mod degraded;
mod deploy;
mod disk;
mod events;
mod http;
mod load;
mod load_dir;
mod persist;
mod rollout;
mod routing;
mod rules;
pub(crate) mod store;
pub mod sync;
mod version;
mod watch;

pub use events::RegistryEvent;
pub use routing::{CallOptions, Route};
pub use rules::{Bucket, DefaultRoute, Equals, RoutingRules, Rule, bucket_of};
pub use version::CanaryConfig;
pub use watch::Watcher;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::breaker::{BreakerConfig, BreakerState, Permit};
use crate::contract::Contract;
use crate::error::{Error, Result};
use crate::host_fn::HostConfig;
use crate::plugin::{CallOutput, CallReport, Plugin};
use crate::trust::TrustPolicy;
use disk::Verdicts;
use events::Events;
use load::LoadLocks;
use persist::{RoutingState, StateDir};
use routing::Table;
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
    /// Where routing changes (weights, rules, rollback target, unloads) are persisted so
    /// that a restart serves the same routing (`<state_dir>/routing/<name>.json`). By
    /// default `None`: not persisted.
    pub state_dir: Option<PathBuf>,
    /// Rollout rules by plugin name (`[routing.<name>]` in `wasmplug.toml`), applied by
    /// [`Registry::load_dir`]. Rules changed through the registry since are kept across
    /// restarts until this configuration changes.
    pub routing: std::collections::BTreeMap<String, RoutingRules>,
    /// Signatures every candidate must carry (docs/trust.md). By default off.
    pub trust: TrustPolicy,
    /// Accept candidates whose contract breaks the running version's (docs/contract.md:
    /// removed functions, changed imports or ABI, capability escalations). By default `false`.
    pub allow_breaking: bool,
    /// Share versions and routing with the other replicas through Redis (see
    /// [`sync`]); takes effect at [`Registry::start_sync`]. By default `None`.
    pub sync: Option<sync::SyncConfig>,
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
            state_dir: None,
            routing: std::collections::BTreeMap::new(),
            trust: TrustPolicy::default(),
            allow_breaking: false,
            sync: None,
        }
    }
}

/// The result of a routed call.
#[derive(Debug, Clone)]
pub struct RoutedOutput {
    /// The version that served the call.
    pub version: semver::Version,
    /// Which part of the routing chose it.
    pub route: Route,
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
    /// The version with the most weight (the newest on ties), if any has weight.
    pub current: Option<String>,
    /// Where a rollback would send the traffic now (see [`Registry::rollback`]).
    pub rollback_to: Option<String>,
    /// Set when the plugin's newest version failed to load and an older one serves.
    pub degraded: Option<Degraded>,
}

/// A plugin whose newest version failed to load while an older one serves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Degraded {
    /// The version that failed.
    pub failed: String,
    /// Error class of the failure.
    pub class: String,
    /// Why it failed.
    pub reason: String,
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
    /// Latency histogram, errors by class, fuel, memory high-water, calls in flight.
    pub stats: crate::CallStats,
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
    /// The last verdict on the files of each manifest (for the watcher).
    verdicts: Verdicts,
    /// Contract of the last serving version of each unloaded plugin (its grants stay the
    /// baseline of the next load).
    unloaded: Mutex<HashMap<String, Contract>>,
    /// Serialises loads of the same manifest.
    loading: LoadLocks,
    /// Persisted routing states, if configured.
    state: Option<StateDir>,
    /// Plugins whose newest version failed while an older one serves.
    degraded: Mutex<HashMap<String, Degraded>>,
    /// The link to the other replicas, once [`Registry::start_sync`] ran.
    sync: OnceLock<sync::Replica>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(RegistryConfig::default())
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(config: RegistryConfig) -> Registry {
        let state = config.state_dir.as_deref().map(StateDir::new);
        Registry {
            inner: Arc::new(Inner {
                state,
                config,
                table: ArcSwap::from_pointee(Table::default()),
                write: Mutex::new(()),
                events: Events::default(),
                verdicts: Verdicts::default(),
                unloaded: Mutex::default(),
                loading: LoadLocks::default(),
                degraded: Mutex::default(),
                sync: OnceLock::new(),
            }),
        }
    }

    /// Receives every event from now on.
    pub fn subscribe(&self) -> Receiver<RegistryEvent> {
        self.inner.events.subscribe()
    }

    /// Applies `change` (to plugin `name`) to a copy of the table, persists the plugin's
    /// routing state when a state directory is configured, and only then swaps the table in.
    ///
    /// # Errors
    /// The state could not be written; nothing changed then.
    fn update<R>(&self, name: &str, change: impl FnOnce(&mut Table) -> R) -> Result<R> {
        let _guard = self.inner.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = Table::clone(&self.inner.table.load());
        let r = change(&mut table);
        if let Some(state) = &self.inner.state {
            let configured = self.inner.config.routing.get(name);
            match table.plugins.get(name) {
                Some(entry) => state.write(name, &RoutingState::of(entry, configured))?,
                None => state.remove(name)?,
            }
        }
        self.inner.table.store(Arc::new(table));
        Ok(r)
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
        let (call, index) = self.begin(name, function, opts)?;
        let result = index.and_then(|index| {
            let request_id: Option<Arc<str>> = opts.request_id.as_deref().map(Arc::from);
            call.version
                .plugin
                .call_index_report(index, input, request_id.as_ref())
        });
        self.finish(name, call, result)
    }

    /// Like [`Registry::call`], for async code: the plugin runs inline on the polling task
    /// ([`Plugin::call_async`]: no thread hop; a slow guest moves to the slow lane after a
    /// tick). Dropping the future cancels the call.
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
        let (call, index) = self.begin(name, function, &opts)?;
        let result = match index {
            Ok(index) => {
                let request_id: Option<Arc<str>> = opts.request_id.as_deref().map(Arc::from);
                call.version
                    .plugin
                    .call_index_async_report(index, input, request_id)
                    .await
            }
            Err(e) => Err(e),
        };
        self.finish(name, call, result)
    }

    /// Routes a call: the version, its breaker's permit, the function's index.
    fn begin(
        &self,
        name: &str,
        function: &str,
        opts: &CallOptions,
    ) -> Result<(Begun, Result<usize>)> {
        let (version, route) = {
            let table = self.inner.table.load();
            let selected = match table.plugins.get(name) {
                Some(entry) => entry.select(name, opts).map(|(v, r)| (v.clone(), r)),
                None => Err(Error::PluginNotFound {
                    name: name.to_string(),
                }),
            };
            selected.inspect_err(crate::metrics::routing_error)?
        };
        let probe = match version.breaker.permit() {
            Permit::Allowed { probe } => probe,
            Permit::Rejected { retry_after } => {
                let e = Error::CircuitOpen {
                    plugin: name.to_string(),
                    version: version.version.to_string(),
                    retry_after,
                };
                version.metrics.error(&e);
                return Err(e);
            }
        };
        version.metrics.started();
        let index = version.plugin.function_index(function);
        let begun = Begun {
            index: index.as_ref().ok().copied(),
            version,
            route,
            probe,
            start: Instant::now(),
        };
        Ok((begun, index))
    }

    /// Records a routed call's outcome: metrics, breaker, canary rollback.
    fn finish(&self, name: &str, call: Begun, report: Result<CallReport>) -> Result<RoutedOutput> {
        let Begun {
            version,
            route,
            probe,
            start,
            index,
        } = call;
        // A call that ran reports its usage whether it succeeded or not.
        let usage = report
            .as_ref()
            .ok()
            .map(|(_, o)| (o.fuel_consumed, o.memory_bytes));
        let result = report.and_then(Plugin::settle);
        version
            .metrics
            .finished(index, start.elapsed(), result.as_ref().err(), usage);
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
            route,
            output,
        })
    }

    /// A snapshot of every plugin and version.
    pub fn plugins(&self) -> Vec<PluginStatus> {
        let table = self.inner.table.load();
        let degraded = self
            .inner
            .degraded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        table
            .plugins
            .iter()
            .map(|(name, entry)| PluginStatus {
                name: name.clone(),
                current: entry
                    .primary()
                    .filter(|r| r.weight > 0)
                    .map(|r| r.version.version.to_string()),
                rollback_to: entry.rollback_to.as_ref().map(|v| v.to_string()),
                degraded: degraded.get(name).cloned(),
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
                        stats: r.version.metrics.stats(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The plugin serving most traffic under `name` (for direct use, bypassing routing).
    pub fn get(&self, name: &str) -> Option<Plugin> {
        self.primary(name).map(|v| v.plugin.clone())
    }

    /// Version `version` of plugin `name`, if it is loaded (with or without traffic): its
    /// metadata, capabilities, limits and config, for status pages.
    pub fn version(&self, name: &str, version: &semver::Version) -> Option<Plugin> {
        let table = self.inner.table.load();
        let entry = table.plugins.get(name)?;
        entry
            .routes
            .iter()
            .find(|r| &r.version.version == version)
            .map(|r| r.version.plugin.clone())
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

/// A routed call between [`Registry::begin`] and [`Registry::finish`].
struct Begun {
    version: Arc<LoadedVersion>,
    /// Which part of the routing chose the version.
    route: Route,
    probe: bool,
    start: Instant,
    /// The function's index (`None`: no such function).
    index: Option<usize>,
}
