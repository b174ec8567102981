//! One loaded version of a named plugin: the plugin, its breaker, its metrics and the
//! recent-outcome window that canary rollback reads.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::breaker::{Breaker, BreakerConfig};
use crate::metrics::VersionMetrics;
use crate::plugin::Plugin;

/// When a version with traffic is rolled back automatically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CanaryConfig {
    /// How many of the most recent calls are looked at. By default 50.
    pub window: usize,
    /// Calls needed in the window before a verdict. By default 20.
    pub min_calls: usize,
    /// Failure rate (0.0–1.0) above which the version loses its traffic. By default 0.5.
    pub max_error_rate: f64,
}

impl Default for CanaryConfig {
    fn default() -> Self {
        CanaryConfig {
            window: 50,
            min_calls: 20,
            max_error_rate: 0.5,
        }
    }
}

/// A loaded version.
pub(crate) struct LoadedVersion {
    pub(crate) plugin: Plugin,
    pub(crate) version: semver::Version,
    pub(crate) breaker: Breaker,
    pub(crate) metrics: VersionMetrics,
    /// The manifest it was loaded from, if any (see [`LoadedVersion::manifest`]).
    manifest: Mutex<Option<PathBuf>>,
    /// sha256 over the manifest text and the module bytes: a rewrite with this digest is a
    /// no-op.
    pub(crate) digest: String,
    pub(crate) calls: AtomicU64,
    pub(crate) failures: AtomicU64,
    window: Mutex<VecDeque<bool>>,
}

impl LoadedVersion {
    pub(crate) fn new(
        plugin: Plugin,
        breaker: BreakerConfig,
        manifest: Option<PathBuf>,
        digest: String,
    ) -> LoadedVersion {
        let meta = plugin.meta();
        let metrics = VersionMetrics::new(
            meta.name.as_str(),
            &meta.version.to_string(),
            plugin.functions(),
        );
        LoadedVersion {
            version: meta.version.clone(),
            breaker: Breaker::new(breaker),
            metrics,
            manifest: Mutex::new(manifest),
            digest,
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            window: Mutex::new(VecDeque::new()),
            plugin,
        }
    }

    /// The manifest it was loaded from, if any. It changes when the same files turn up
    /// under another path after the old one is gone (a renamed plugin folder).
    pub(crate) fn manifest(&self) -> Option<PathBuf> {
        self.manifest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records that this version's files now live at `manifest`.
    pub(crate) fn moved_to(&self, manifest: &std::path::Path) {
        *self.manifest.lock().unwrap_or_else(|p| p.into_inner()) = Some(manifest.to_path_buf());
    }

    /// Records a call's outcome; returns the failure rate of the window when it holds at
    /// least `config.min_calls` calls.
    pub(crate) fn record(&self, failed: bool, config: &CanaryConfig) -> Option<f64> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        window.push_back(failed);
        while window.len() > config.window.max(1) {
            window.pop_front();
        }
        (window.len() >= config.min_calls)
            .then(|| window.iter().filter(|f| **f).count() as f64 / window.len() as f64)
    }

    /// Forgets the recent outcomes (after the version's traffic changed).
    pub(crate) fn reset_window(&self) {
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_config_parses() {
        let c: CanaryConfig = toml::from_str("max_error_rate = 0.2\nmin_calls = 5").unwrap();
        assert_eq!((c.window, c.min_calls, c.max_error_rate), (50, 5, 0.2));
    }
}
