//! Degraded plugins: the newest version failed to load (at start-up or on a reload) and an
//! older one serves. Reported as [`RegistryEvent::Degraded`], in [`crate::PluginStatus`] and
//! by the gateway's `/readyz`; cleared when a version at least as new loads.

use std::path::Path;

use super::events::RegistryEvent;
use super::{Degraded, Registry};
use crate::error::Error;
use crate::manifest::Manifest;

impl Registry {
    /// Records that loading `manifest` of `plugin` failed with `error`, if it was newer than
    /// the version serving.
    pub(super) fn note_degraded(&self, plugin: &str, manifest: &Path, error: &Error) {
        let Ok(failed) = Manifest::from_file(manifest).map(|m| m.version) else {
            return;
        };
        let Some(serving) = self.primary(plugin).map(|v| v.version.clone()) else {
            return;
        };
        if failed <= serving {
            return;
        }
        let degraded = Degraded {
            failed: failed.to_string(),
            class: error.class().to_string(),
            reason: error.to_string(),
        };
        self.inner
            .degraded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(plugin.to_string(), degraded);
        self.inner.events.emit(RegistryEvent::Degraded {
            plugin: plugin.to_string(),
            failed: failed.to_string(),
            serving: serving.to_string(),
            reason: error.to_string(),
        });
    }

    /// Forgets `plugin`'s degraded state once `loaded` is at least as new as what failed.
    pub(super) fn clear_degraded(&self, plugin: &str, loaded: &semver::Version) {
        let mut degraded = self
            .inner
            .degraded
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if degraded
            .get(plugin)
            .and_then(|d| semver::Version::parse(&d.failed).ok())
            .is_some_and(|failed| loaded >= &failed)
        {
            degraded.remove(plugin);
        }
    }

    /// Plugins serving an older version because their newest failed.
    pub fn degraded(&self) -> Vec<(String, Degraded)> {
        let degraded = self
            .inner
            .degraded
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = degraded
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
