//! The module a `sign` / `verify` argument names: a module file, or the one a `plugin.toml`
//! points at, read through the bounded reader with the applicable `max_module_size`.

use std::path::{Path, PathBuf};

use wasmplug::{Limits, Manifest};

use super::sandbox::is_manifest;
use crate::exit;

/// A module read from disk.
pub struct ModuleFile {
    /// The module's path.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The manifest it was named by, if any.
    pub manifest: Option<Manifest>,
}

/// Reads the module `plugin` names (load failures exit with code 3).
pub fn read(plugin: &Path) -> anyhow::Result<ModuleFile> {
    let manifest = if is_manifest(plugin) {
        Some(Manifest::from_file(plugin).map_err(exit::load)?)
    } else {
        None
    };
    let (path, limits) = match &manifest {
        Some(m) => (m.wasm.clone(), m.limits.clone()),
        None => (plugin.to_path_buf(), Limits::default()),
    };
    let bytes =
        wasmplug::read_module_file(&path, limits.max_module_size.bytes()).map_err(exit::load)?;
    Ok(ModuleFile {
        path,
        bytes,
        manifest,
    })
}
