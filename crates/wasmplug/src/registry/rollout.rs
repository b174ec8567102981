//! Moving traffic between the loaded versions of a plugin: weights, explicit rollback, and
//! the automatic rollback of a failing canary.
//!
//! Rollback is defined by the deploy history, not by weights: it sends all traffic to the
//! version that served before the latest deploy of the plugin (a load, or a held version
//! deployed again), or before the latest rollback, so that a second rollback undoes the
//! first. Weight changes do not move the target: after deploying 1.1.0 over 1.0.0 and
//! splitting 50/50, a rollback goes to 1.0.0.

use std::sync::Arc;

use super::Registry;
use super::events::RegistryEvent;
use super::routing::Entry;
use super::rules::{DefaultRoute, RoutingRules};
use super::version::LoadedVersion;
use crate::error::{Error, Result};

impl Registry {
    /// Sets the weights of the listed versions (others keep theirs).
    ///
    /// # Errors
    /// [`Error::PluginNotFound`] or [`Error::VersionNotFound`]; nothing changes then.
    pub fn set_weights(&self, name: &str, weights: &[(semver::Version, u32)]) -> Result<()> {
        let result = self.update(name, |table| {
            let entry = table.plugins.get_mut(name).ok_or_else(|| not_found(name))?;
            for (version, _) in weights {
                if entry.route(version).is_none() {
                    return Err(Error::VersionNotFound {
                        name: name.to_string(),
                        version: version.to_string(),
                        loaded: entry.versions(),
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
        })??;
        self.inner.events.emit(RegistryEvent::WeightsChanged {
            plugin: name.to_string(),
            weights: result,
        });
        self.notify_sync(name);
        Ok(())
    }

    /// Replaces the rollout rules of plugin `name` (see [`RoutingRules`]); `None` removes
    /// them, leaving the weights. A default of weights replaces the weights.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`], or [`Error::InvalidRouting`] when a rule is malformed or
    /// has no loaded target; nothing changes then.
    pub fn set_rules(&self, name: &str, rules: Option<RoutingRules>) -> Result<()> {
        self.update(name, |table| {
            let entry = table.plugins.get_mut(name).ok_or_else(|| not_found(name))?;
            if let Some(rules) = &rules {
                let versions: Vec<&semver::Version> =
                    entry.routes.iter().map(|r| &r.version.version).collect();
                rules
                    .validate(&versions)
                    .map_err(|reason| Error::InvalidRouting {
                        plugin: name.to_string(),
                        reason,
                    })?;
                if let Some(DefaultRoute::Weights(weights)) = &rules.default {
                    for r in &mut entry.routes {
                        r.weight = weights.get(&r.version.version).copied().unwrap_or(0);
                        r.version.reset_window();
                    }
                }
            }
            entry.rules = rules.map(Arc::new);
            Ok(())
        })??;
        self.inner.events.emit(RegistryEvent::RoutingChanged {
            plugin: name.to_string(),
        });
        self.notify_sync(name);
        Ok(())
    }

    /// The rollout rules of plugin `name`, if it has any.
    pub fn rules(&self, name: &str) -> Option<RoutingRules> {
        let table = self.inner.table.load();
        table.plugins.get(name)?.rules.as_deref().cloned()
    }

    /// Whether calls of plugin `name` are routed by rules (so callers should fill
    /// [`crate::CallOptions`]' headers, query and labels).
    pub fn has_rules(&self, name: &str) -> bool {
        let table = self.inner.table.load();
        table.plugins.get(name).is_some_and(|e| e.rules.is_some())
    }

    /// Sends all traffic to the version that served before the latest deploy (or the
    /// latest rollback): see the module docs. Returns the version that serves now.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`], or [`Error::NoPreviousVersion`] when the plugin has no
    /// earlier version loaded.
    pub fn rollback(&self, name: &str) -> Result<semver::Version> {
        let (from, to) = self.update(name, |table| {
            let entry = table.plugins.get_mut(name).ok_or_else(|| not_found(name))?;
            let target = entry
                .rollback_to
                .clone()
                .filter(|v| entry.route(v).is_some())
                .ok_or_else(|| Error::NoPreviousVersion {
                    name: name.to_string(),
                    loaded: entry.versions(),
                })?;
            let from = losing_traffic(entry, &target);
            if let Some(from) = &from {
                entry.rollback_to = Some(from.clone());
                entry.serve_only(&target);
            }
            Ok::<_, Error>((from, target))
        })??;
        if let Some(from) = from {
            self.inner.events.emit(RegistryEvent::RolledBack {
                plugin: name.to_string(),
                from: from.to_string(),
                to: to.to_string(),
                reason: "requested".into(),
            });
        }
        self.notify_sync(name);
        Ok(to)
    }

    /// Takes a failing version with traffic out of rotation, if another version can serve.
    pub(super) fn auto_rollback(&self, name: &str, failing: &Arc<LoadedVersion>, rate: f64) {
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
        let moved = self.update(name, |table| {
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
                // Prefer the rollback target; else the newest other version.
                let target = entry
                    .rollback_to
                    .clone()
                    .filter(|v| v != &failing.version && entry.route(v).is_some())
                    .or_else(|| {
                        entry
                            .routes
                            .iter()
                            .rev()
                            .find(|r| !Arc::ptr_eq(&r.version, failing))
                            .map(|r| r.version.version.clone())
                    })?;
                entry.serve_only(&target);
            }
            entry.rollback_to = Some(failing.version.clone());
            let to = entry.primary()?.version.version.to_string();
            Some(to)
        });
        let moved = moved.unwrap_or_else(|e| {
            tracing::warn!(plugin = name, "automatic rollback not applied: {e}");
            None
        });
        if let Some(to) = moved {
            failing.reset_window();
            self.inner.events.emit(RegistryEvent::RolledBack {
                plugin: name.to_string(),
                from: failing.version.to_string(),
                to,
                reason,
            });
            // The other replicas take the failing version out of rotation too.
            self.notify_sync(name);
        }
    }
}

/// The version that loses traffic when `target` takes all of it: the one with the most
/// weight other than `target` (the newest on ties), or `None` if `target` has it all.
fn losing_traffic(entry: &Entry, target: &semver::Version) -> Option<semver::Version> {
    entry
        .routes
        .iter()
        .filter(|r| &r.version.version != target && r.weight > 0)
        .max_by_key(|r| r.weight)
        .map(|r| r.version.version.clone())
}

fn not_found(name: &str) -> Error {
    Error::PluginNotFound {
        name: name.to_string(),
    }
}
