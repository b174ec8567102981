//! The plugin directory: one folder per plugin, holding one version or several side by
//! side.
//!
//! ```text
//! plugins/
//!   greet/plugin.toml, greet.wasm             one version (the plain layout)
//!   shop/1.0.0/plugin.toml, shop.wasm         versions side by side
//!   shop/1.1.0/plugin.toml, shop.wasm
//! ```
//!
//! Both layouts may be mixed in one folder: every `plugin.toml` directly in it or in a
//! direct subfolder is a version of the plugin. An upload of a version adds
//! `<name>/<version>/` (or replaces the plain layout's files when that is the same
//! version); removing a version removes its files.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// One version's manifest in a plugin folder, with its version when the manifest parses.
#[derive(Debug, Clone)]
pub(crate) struct OnDisk {
    pub(crate) manifest: PathBuf,
    pub(crate) version: Option<semver::Version>,
    pub(crate) name: Option<String>,
}

/// The manifests of plugin folder `folder`, oldest version first (unparseable ones first).
pub(crate) fn versions(folder: &Path) -> Vec<OnDisk> {
    let mut manifests = Vec::new();
    let plain = folder.join(MANIFEST_FILE);
    if plain.is_file() {
        manifests.push(plain);
    }
    if let Ok(entries) = std::fs::read_dir(folder) {
        for entry in entries.filter_map(|e| e.ok()) {
            let candidate = entry.path().join(MANIFEST_FILE);
            if entry.path().is_dir() && candidate.is_file() {
                manifests.push(candidate);
            }
        }
    }
    let mut out: Vec<OnDisk> = manifests
        .into_iter()
        .map(|manifest| {
            let parsed = Manifest::from_file(&manifest).ok();
            OnDisk {
                version: parsed.as_ref().map(|m| m.version.clone()),
                name: parsed.map(|m| m.name.to_string()),
                manifest,
            }
        })
        .collect();
    out.sort_by(|a, b| a.version.cmp(&b.version).then(a.manifest.cmp(&b.manifest)));
    out
}

/// The plugin folders of `dir`, sorted.
pub(crate) fn plugin_folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    Ok(folders)
}

/// Where version `version` of plugin folder `folder` is written: the plain layout's folder
/// when it holds that same version, else `<folder>/<version>/`.
pub(crate) fn version_folder(folder: &Path, version: &semver::Version) -> PathBuf {
    let plain = folder.join(MANIFEST_FILE);
    if let Ok(m) = Manifest::from_file(&plain)
        && &m.version == version
    {
        return folder.to_path_buf();
    }
    folder.join(version.to_string())
}

/// Files written for an upload, and how to put back what was there.
pub(crate) struct Written {
    previous: Vec<(PathBuf, Option<Vec<u8>>)>,
    created: Option<PathBuf>,
}

impl Written {
    /// Puts the previous files back (or removes the new ones).
    pub(crate) fn restore(self) {
        for (path, old) in self.previous.iter().rev() {
            let _ = match old {
                Some(bytes) => write_atomic(path, bytes),
                None => std::fs::remove_file(path),
            };
        }
        if let Some(dir) = self.created {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes `files` (name, bytes) into `folder`, each atomically, in order (so the manifest,
/// listed last, appears last).
///
/// # Errors
/// [`Error::Io`]; what was written is put back first.
pub(crate) fn write_files(folder: &Path, files: &[(String, Vec<u8>)]) -> Result<Written> {
    let created = (!folder.exists()).then(|| folder.to_path_buf());
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let written = Written {
        previous: files
            .iter()
            .map(|(name, _)| {
                let path = folder.join(name);
                let old = std::fs::read(&path).ok();
                (path, old)
            })
            .collect(),
        created,
    };
    for (name, bytes) in files {
        let path = folder.join(name);
        if let Err(e) = write_atomic(&path, bytes) {
            written.restore();
            return Err(Error::io(path, e));
        }
    }
    Ok(written)
}

/// Removes the files of the version whose manifest is `manifest`, a version of plugin
/// folder `folder`: its own subfolder in the side-by-side layout, the manifest and module
/// in the plain layout.
///
/// # Errors
/// [`Error::Io`] (or the manifest's error when it no longer parses).
pub(crate) fn remove_version(folder: &Path, manifest: &Path) -> Result<()> {
    let parent = manifest.parent().unwrap_or(Path::new("."));
    if parent != folder {
        return std::fs::remove_dir_all(parent).map_err(|e| Error::io(parent, e));
    }
    let parsed = Manifest::from_file(manifest)?;
    std::fs::remove_file(manifest).map_err(|e| Error::io(manifest, e))?;
    std::fs::remove_file(&parsed.wasm).map_err(|e| Error::io(&parsed.wasm, e))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.upload"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
