//! Adding and removing versions in a plugin directory through the registry (what the
//! gateway's admin upload and version removal do).

use std::path::Path;

use super::Registry;
use super::store::dir;
use crate::error::{Error, Result};
use crate::manifest::{MANIFEST_FILE, Manifest};

impl Registry {
    /// Adds a version to plugin directory `plugin_dir` and loads it: `module` is written as
    /// `module_file` and `manifest_text` as `plugin.toml` into `<plugin_dir>/<name>/
    /// <version>/` (or into `<plugin_dir>/<name>/` when its plain layout holds this same
    /// version), module first, each through a temporary file and a rename; then the version
    /// is loaded with the full validation of [`Registry::load`]. When it is refused, the
    /// previous files are put back and the running version keeps serving.
    ///
    /// # Errors
    /// [`Error::Manifest`], [`Error::ModuleTooLarge`] (checked before anything is written),
    /// [`Error::Io`], or any load error.
    pub fn deploy(
        &self,
        plugin_dir: &Path,
        manifest_text: &str,
        module_file: &str,
        module: &[u8],
    ) -> Result<semver::Version> {
        let manifest = Manifest::parse(manifest_text).map_err(|message| Error::Manifest {
            path: MANIFEST_FILE.into(),
            message,
        })?;
        let limit = manifest.limits.max_module_size.bytes();
        if module.len() as u64 > limit {
            return Err(Error::ModuleTooLarge {
                size: module.len() as u64,
                limit,
            });
        }
        let folder = plugin_dir.join(manifest.name.as_str());
        let target = dir::version_folder(&folder, &manifest.version);
        let written = dir::write_files(
            &target,
            &[
                (module_file.to_string(), module.to_vec()),
                (MANIFEST_FILE.to_string(), manifest_text.as_bytes().to_vec()),
            ],
        )?;
        match self.load(&target.join(MANIFEST_FILE)) {
            Ok(version) => Ok(version),
            Err(e) => {
                written.restore();
                Err(e)
            }
        }
    }

    /// Removes version `version` of plugin `name`: from the registry (the plugin is unloaded
    /// when it was its only version) and its files from disk, if it was loaded from a
    /// manifest. A version with traffic is refused: move its weight away first.
    ///
    /// # Errors
    /// [`Error::PluginNotFound`], [`Error::VersionNotFound`], [`Error::InvalidRouting`]
    /// (the version has traffic, or a rule routes to it), or [`Error::Io`].
    pub fn remove_version(&self, name: &str, version: &semver::Version) -> Result<()> {
        let manifest = self.forget_version(name, version)?;
        self.notify_sync(name);
        if let Some(manifest) = manifest {
            // `<folder>/<version>/plugin.toml` is the side-by-side layout (what `deploy`
            // writes); anything else is a plain `<folder>/plugin.toml`.
            let version_folder = manifest.parent().unwrap_or(Path::new("."));
            let side_by_side = version_folder
                .file_name()
                .is_some_and(|n| n.to_string_lossy() == version.to_string());
            let plugin_folder = match version_folder.parent() {
                Some(parent) if side_by_side => parent,
                _ => version_folder,
            };
            dir::remove_version(plugin_folder, &manifest)?;
            self.inner.verdicts.forget(&manifest);
        }
        Ok(())
    }
}
