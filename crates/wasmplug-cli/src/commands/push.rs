//! `wasmplug push`: publish a plugin to an OCI registry (docs/oci.md).

use std::path::PathBuf;

use wasmplug::oci::OciReference;

use super::oci::{self, RegistryArgs};

/// Publish a plugin to an OCI registry as a Wasm OCI artifact.
#[derive(Debug, clap::Args)]
pub struct Push {
    /// The plugin: its `plugin.toml` or the folder holding it.
    #[arg(value_name = "PLUGIN")]
    plugin: PathBuf,
    /// Where to: `oci://host[:port]/repository:tag`.
    #[arg(value_name = "REFERENCE", value_parser = oci::parse_reference)]
    reference: OciReference,
    #[command(flatten)]
    registry: RegistryArgs,
}

impl Push {
    /// Validates, packs and uploads the plugin; prints its digest and pinned reference.
    pub fn execute(self) -> anyhow::Result<()> {
        // Nothing is cached by a push.
        let store = self.registry.store(None);
        let pushed =
            oci::block_on(store.push(&self.plugin, &self.reference))?.map_err(oci::failure)?;
        println!(
            "pushed {} {} to {} ({} bytes)",
            pushed.name, pushed.version, self.reference, pushed.size
        );
        println!("digest: {}", pushed.digest);
        println!("pinned: {}", pushed.pinned);
        Ok(())
    }
}
