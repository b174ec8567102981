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
    window: Mutex<Window>,
}

/// The most recent outcomes (true: failed) and how many of them failed, so that a call's
/// record costs the same whatever the window's size.
#[derive(Default)]
struct Window {
    outcomes: VecDeque<bool>,
    failures: usize,
}

impl Window {
    /// Adds an outcome, keeping the last `size`; returns how many are kept and how many of
    /// those failed.
    fn push(&mut self, failed: bool, size: usize) -> (usize, usize) {
        self.outcomes.push_back(failed);
        self.failures += usize::from(failed);
        while self.outcomes.len() > size {
            if self.outcomes.pop_front() == Some(true) {
                self.failures -= 1;
            }
        }
        (self.outcomes.len(), self.failures)
    }
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
            window: Mutex::new(Window::default()),
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
        let (len, failures) = window.push(failed, config.window.max(1));
        (len >= config.min_calls).then(|| failures as f64 / len as f64)
    }

    /// Forgets the recent outcomes (after the version's traffic changed).
    pub(crate) fn reset_window(&self) {
        *self.window.lock().unwrap_or_else(|p| p.into_inner()) = Window::default();
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

    #[test]
    fn the_window_counts_the_failures_it_still_holds() {
        let mut w = Window::default();
        assert_eq!(w.push(true, 3), (1, 1));
        assert_eq!(w.push(false, 3), (2, 1));
        assert_eq!(w.push(true, 3), (3, 2));
        // The first failure falls out of the window.
        assert_eq!(w.push(false, 3), (3, 1));
        assert_eq!(w.push(false, 3), (3, 1));
        assert_eq!(w.push(false, 3), (3, 0));
        // A smaller size drops the oldest outcomes.
        assert_eq!(w.push(true, 1), (1, 1));
    }
}
