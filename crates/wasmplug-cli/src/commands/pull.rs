//! `wasmplug pull`: fetch a plugin from an OCI registry into a plugin directory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmplug::Manifest;
use wasmplug::oci::OciReference;

use super::oci::{self, RegistryArgs};

/// Fetch a plugin from an OCI registry (by tag or digest), verify it and unpack it.
#[derive(Debug, clap::Args)]
pub struct Pull {
    /// What: `oci://host[:port]/repository:tag` or `...@sha256:<digest>`.
    #[arg(value_name = "REFERENCE", value_parser = oci::parse_reference)]
    reference: OciReference,
    /// Plugin directory to unpack into: the plugin lands in `DIR/<name>/`, ready for
    /// `wasmplug serve --plugins DIR` [default: the current directory].
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// Cache of verified pulls [default: the compiled-module cache directory + /oci, e.g.
    /// ~/.cache/wasmplug/oci].
    #[arg(long, value_name = "DIR")]
    oci_cache_dir: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
}

impl Pull {
    /// Pulls (through the verified cache) and copies `plugin.toml` and the module out.
    pub fn execute(self) -> anyhow::Result<()> {
        let store = self.registry.store(self.oci_cache_dir.clone());
        let pulled = oci::block_on(store.pull(&self.reference))?.map_err(oci::failure)?;
        let folder = self.dir.join(&pulled.name);
        copy_plugin(&pulled.manifest_path, &folder)?;
        println!(
            "pulled {} {} ({}) into {}",
            pulled.name,
            pulled.version,
            pulled.digest,
            folder.display()
        );
        println!("pinned: {}", pulled.pinned);
        Ok(())
    }
}

/// Copies the manifest at `manifest` and its module into `folder` (created if needed).
fn copy_plugin(manifest: &Path, folder: &Path) -> anyhow::Result<()> {
    let parsed = Manifest::from_file(manifest)?;
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create `{}`", folder.display()))?;
    let module = parsed
        .wasm
        .file_name()
        .context("the pulled manifest names no module file")?;
    for (from, name) in [
        (
            manifest.to_path_buf(),
            Path::new(wasmplug::MANIFEST_FILE).as_os_str(),
        ),
        (parsed.wasm.clone(), module),
    ] {
        let to = folder.join(name);
        std::fs::copy(&from, &to)
            .with_context(|| format!("cannot copy `{}` to `{}`", from.display(), to.display()))?;
    }
    Ok(())
}
