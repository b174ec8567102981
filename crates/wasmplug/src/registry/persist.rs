//! Routing state that survives a restart: weights, rules and the rollback target, one JSON
//! file per plugin under `<state_dir>/routing/<name>.json` (removed when the plugin is
//! unloaded: a restart then starts it with default routing).
//!
//! A change made through the registry (weights, rules, rollback, deploy, unload) is written
//! (to a temporary file, then renamed) before it takes effect; at start-up
//! [`crate::Registry::load_dir`] reads it back after loading the plugin's versions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::routing::Entry;
use super::rules::RoutingRules;
use crate::error::{Error, Result};

/// What is persisted of one plugin's routing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RoutingState {
    /// Weight of each loaded version.
    #[serde(default)]
    pub(crate) weights: BTreeMap<semver::Version, u32>,
    /// Rollout rules, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rules: Option<RoutingRules>,
    /// The rollback target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rollback_to: Option<semver::Version>,
    /// The rules configured for the plugin (`RegistryConfig::routing`) when this was
    /// saved: when the configuration has changed since, it wins over the saved rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) configured: Option<RoutingRules>,
}

impl RoutingState {
    pub(crate) fn of(entry: &Entry, configured: Option<&RoutingRules>) -> RoutingState {
        RoutingState {
            configured: configured.cloned(),
            weights: entry
                .routes
                .iter()
                .map(|r| (r.version.version.clone(), r.weight))
                .collect(),
            rules: entry.rules.as_deref().cloned(),
            rollback_to: entry.rollback_to.clone(),
        }
    }

    /// Whether this state names `version` (with weight, or as the rollback target).
    pub(crate) fn references(&self, version: &semver::Version) -> bool {
        self.weights.get(version).is_some_and(|w| *w > 0)
            || self.rollback_to.as_ref() == Some(version)
    }
}

/// The directory of persisted routing states.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    pub(crate) fn new(state_dir: &Path) -> StateDir {
        StateDir {
            dir: state_dir.join("routing"),
        }
    }

    fn path(&self, plugin: &str) -> PathBuf {
        self.dir.join(format!("{plugin}.json"))
    }

    /// The state of `plugin`, if one was saved and is readable (an unreadable one is
    /// logged and ignored: the plugin then starts with default routing).
    pub(crate) fn read(&self, plugin: &str) -> Option<RoutingState> {
        let path = self.path(plugin);
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(state) => Some(state),
            Err(e) => {
                tracing::warn!(plugin, path = %path.display(), "ignoring unreadable routing state: {e}");
                None
            }
        }
    }

    /// Forgets the state of `plugin`.
    pub(crate) fn remove(&self, plugin: &str) -> Result<()> {
        let path = self.path(plugin);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Writes `state` for `plugin` atomically.
    pub(crate) fn write(&self, plugin: &str, state: &RoutingState) -> Result<()> {
        let path = self.path(plugin);
        let io = |e| Error::io(&path, e);
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let tmp = self.dir.join(format!(".{plugin}.json.tmp"));
        let text = serde_json::to_vec_pretty(state).expect("routing state serialises");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(io)
    }
}
