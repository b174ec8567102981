//! Applying another replica's [`PluginDoc`] here: unload on a tombstone; otherwise write and
//! load (fully validated, without traffic) the versions this replica lacks, then take the
//! shared routing in one table change, then forget versions the document no longer lists.
//! Nothing here is published back (see the module docs of `sync`).

use std::sync::Arc;

use super::doc::{Artefact, PluginDoc, SharedVersion};
use super::status::Rejection;
use crate::error::{Error, Result};
use crate::manifest::MANIFEST_FILE;
use crate::registry::Registry;
use crate::registry::events::RegistryEvent;
use crate::registry::store::dir;

impl Registry {
    /// Applies `doc` to plugin `name`, with the files of the versions this replica lacked
    /// (`artefacts`; a version missing there is a rejection). Returns the versions refused.
    pub(super) fn apply_doc(
        &self,
        name: &str,
        doc: &PluginDoc,
        artefacts: Vec<(SharedVersion, Option<Artefact>)>,
        plugin_dir: &std::path::Path,
    ) -> Vec<Rejection> {
        if doc.unloaded {
            let loaded = self.inner.table.load().plugins.contains_key(name);
            if loaded && let Err(e) = self.unload_local(name) {
                tracing::warn!(plugin = name, "sync: unload not applied: {e}");
            }
            return Vec::new();
        }
        let mut rejected = Vec::new();
        for (version, artefact) in artefacts {
            let result = match artefact {
                Some(artefact) => self.add_held(name, &version, &artefact, plugin_dir),
                None => Err(Error::invalid_plugin(format!(
                    "the files of {name} {} are not in Redis",
                    version.version
                ))),
            };
            if let Err(e) = result {
                tracing::warn!(plugin = name, version = %version.version, "sync: version refused: {e}");
                rejected.push(Rejection {
                    plugin: name.to_string(),
                    version: version.version.to_string(),
                    sha256: version.sha256.clone(),
                    class: e.class().to_string(),
                    reason: e.to_string(),
                });
            }
        }
        if !rejected.is_empty() {
            // Keep serving what serves here: the shared routing names versions we refused.
            return rejected;
        }
        if let Err(e) = self.take_routing(name, doc) {
            tracing::warn!(plugin = name, "sync: routing not applied: {e}");
            rejected.push(Rejection {
                plugin: name.to_string(),
                version: String::new(),
                sha256: String::new(),
                class: e.class().to_string(),
                reason: e.to_string(),
            });
            return rejected;
        }
        let stale: Vec<semver::Version> = {
            let table = self.inner.table.load();
            table
                .plugins
                .get(name)
                .map(|e| {
                    e.routes
                        .iter()
                        .map(|r| r.version.version.clone())
                        .filter(|v| !doc.versions.iter().any(|d| &d.version == v))
                        .collect()
                })
                .unwrap_or_default()
        };
        for version in stale {
            // Memory only, as pruning does: the files stay on disk.
            if let Err(e) = self.forget_version(name, &version) {
                tracing::warn!(plugin = name, %version, "sync: version not removed: {e}");
            }
        }
        rejected
    }

    /// Writes `artefact` into `<plugin_dir>/<name>/<version>/` and loads it without traffic.
    fn add_held(
        &self,
        name: &str,
        version: &SharedVersion,
        artefact: &Artefact,
        plugin_dir: &std::path::Path,
    ) -> Result<()> {
        let folder = dir::version_folder(&plugin_dir.join(name), &version.version);
        let written = dir::write_files(
            &folder,
            &[
                (artefact.module_file.clone(), artefact.module.clone()),
                (
                    MANIFEST_FILE.to_string(),
                    artefact.manifest.as_bytes().to_vec(),
                ),
            ],
        )?;
        match self.load_mode(&folder.join(MANIFEST_FILE), false, false) {
            Ok(loaded) if loaded == version.version => Ok(()),
            Ok(loaded) => Err(Error::invalid_plugin(format!(
                "the files of {name} {} hold version {loaded}",
                version.version
            ))),
            Err(e) => {
                written.restore();
                Err(e)
            }
        }
    }

    /// Takes the weights, rules and rollback target of `doc` in one table change.
    fn take_routing(&self, name: &str, doc: &PluginDoc) -> Result<()> {
        let routing = doc.routing();
        self.update(name, |table| {
            let entry = table
                .plugins
                .get_mut(name)
                .ok_or_else(|| Error::PluginNotFound {
                    name: name.to_string(),
                })?;
            if let Some(rules) = &routing.rules {
                let versions: Vec<&semver::Version> =
                    entry.routes.iter().map(|r| &r.version.version).collect();
                rules
                    .validate(&versions)
                    .map_err(|reason| Error::InvalidRouting {
                        plugin: name.to_string(),
                        reason,
                    })?;
            }
            for r in &mut entry.routes {
                let weight = routing
                    .weights
                    .get(&r.version.version)
                    .copied()
                    .unwrap_or(0);
                if weight != r.weight {
                    r.weight = weight;
                    r.version.reset_window();
                }
            }
            entry.rules = routing.rules.clone().map(Arc::new);
            entry.rollback_to = routing
                .rollback_to
                .clone()
                .filter(|v| entry.route(v).is_some());
            Ok::<_, Error>(())
        })??;
        self.inner.events.emit(RegistryEvent::RoutingChanged {
            plugin: name.to_string(),
        });
        Ok(())
    }
}
