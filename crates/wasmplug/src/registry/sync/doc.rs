//! [`PluginDoc`]: what Redis holds of one plugin (its versions and routing), built from the
//! local table, and [`Artefact`]: the files of one version.
//!
//! Versions are identified across replicas by version and module sha256 (not by the
//! digest of the local files: a replica stores the manifest next to the module, so its
//! manifest text may differ from the uploader's).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SyncError;
use crate::registry::Registry;
use crate::registry::persist::RoutingState;
use crate::registry::rules::RoutingRules;

/// One plugin as the replicas share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginDoc {
    /// The replica that published it.
    pub origin: String,
    /// Set after an unload: every replica unloads the plugin, a late one does not seed it.
    #[serde(default)]
    pub unloaded: bool,
    /// Loaded versions, oldest first.
    #[serde(default)]
    pub versions: Vec<SharedVersion>,
    /// Weight of each version.
    #[serde(default)]
    pub weights: std::collections::BTreeMap<semver::Version, u32>,
    /// Rollout rules, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RoutingRules>,
    /// The rollback target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<semver::Version>,
}

/// One version in a [`PluginDoc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedVersion {
    /// Version.
    pub version: semver::Version,
    /// sha256 of the module.
    pub sha256: String,
}

impl PluginDoc {
    /// The routing part, as the registry persists it.
    pub(super) fn routing(&self) -> RoutingState {
        RoutingState {
            weights: self.weights.clone(),
            rules: self.rules.clone(),
            rollback_to: self.rollback_to.clone(),
            configured: None,
        }
    }
}

/// The files of one version: what a replica without them writes into its plugin directory.
#[derive(Debug, Clone)]
pub(super) struct Artefact {
    pub(super) manifest: String,
    pub(super) module_file: String,
    pub(super) module: Vec<u8>,
}

impl Artefact {
    /// The key suffix of a version's artefact.
    pub(super) fn key(name: &str, v: &SharedVersion) -> String {
        format!("artefact:{name}:{}:{}", v.version, v.sha256)
    }

    /// Reads the files of the version loaded from `manifest`. A manifest whose `wasm` is not
    /// a plain file name is rewritten to name the module next to it.
    pub(super) fn read(
        name: &str,
        version: &semver::Version,
        manifest: &Path,
        limit: u64,
    ) -> Result<Artefact, SyncError> {
        let files = |reason: String| SyncError::Files {
            plugin: name.to_string(),
            version: version.to_string(),
            reason,
        };
        let text = std::fs::read_to_string(manifest)
            .map_err(|e| files(format!("{}: {e}", manifest.display())))?;
        let parsed = crate::Manifest::from_file(manifest).map_err(|e| files(e.to_string()))?;
        let module_file = parsed
            .wasm
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| files("the manifest names no module file".into()))?;
        let size = std::fs::metadata(&parsed.wasm)
            .map_err(|e| files(format!("{}: {e}", parsed.wasm.display())))?
            .len()
            + text.len() as u64;
        if size > limit {
            return Err(SyncError::ArtefactTooLarge {
                plugin: name.to_string(),
                version: version.to_string(),
                size,
                limit,
            });
        }
        let module = std::fs::read(&parsed.wasm)
            .map_err(|e| files(format!("{}: {e}", parsed.wasm.display())))?;
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| files(e.to_string()))?;
        let plain = table
            .get("wasm")
            .and_then(|w| w.as_str())
            .is_some_and(|w| w == module_file);
        let manifest = if plain {
            text
        } else {
            table.insert("wasm".into(), toml::Value::String(module_file.clone()));
            toml::to_string(&table).map_err(|e| files(e.to_string()))?
        };
        Ok(Artefact {
            manifest,
            module_file,
            module,
        })
    }
}

impl Registry {
    /// The shared document of plugin `name` as this replica has it (a tombstone when it is
    /// not loaded), and the manifest of each version (to publish its files).
    pub(super) fn sync_doc(
        &self,
        name: &str,
        origin: &str,
    ) -> (PluginDoc, Vec<(SharedVersion, Option<std::path::PathBuf>)>) {
        let table = self.inner.table.load();
        let Some(entry) = table.plugins.get(name) else {
            let doc = PluginDoc {
                origin: origin.to_string(),
                unloaded: true,
                versions: Vec::new(),
                weights: Default::default(),
                rules: None,
                rollback_to: None,
            };
            return (doc, Vec::new());
        };
        let routing = RoutingState::of(entry, None);
        let files: Vec<(SharedVersion, Option<std::path::PathBuf>)> = entry
            .routes
            .iter()
            .map(|r| {
                let v = SharedVersion {
                    version: r.version.version.clone(),
                    sha256: r.version.plugin.compiled().sha256().to_string(),
                };
                (v, r.version.manifest())
            })
            .collect();
        let doc = PluginDoc {
            origin: origin.to_string(),
            unloaded: false,
            versions: files.iter().map(|(v, _)| v.clone()).collect(),
            weights: routing.weights,
            rules: routing.rules,
            rollback_to: routing.rollback_to,
        };
        (doc, files)
    }

    /// The versions of `doc` this replica does not have loaded (same version and module).
    pub(super) fn missing(&self, name: &str, doc: &PluginDoc) -> Vec<SharedVersion> {
        let table = self.inner.table.load();
        let local = table.plugins.get(name);
        doc.versions
            .iter()
            .filter(|v| {
                !local.is_some_and(|e| {
                    e.routes.iter().any(|r| {
                        r.version.version == v.version
                            && r.version.plugin.compiled().sha256() == v.sha256
                    })
                })
            })
            .cloned()
            .collect()
    }

    /// Whether this replica already has exactly `doc` for `name`.
    pub(super) fn matches(&self, name: &str, doc: &PluginDoc) -> bool {
        let (local, _) = self.sync_doc(name, &doc.origin);
        local == *doc
    }
}
