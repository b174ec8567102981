//! The `[[oci]]` plugins of `wasmplug serve`: pulled into `<cache dir>/oci` after the
//! plugin directory is loaded, one line printed per source.

use wasmplug::Registry;
use wasmplug::oci::OciStore;
use wasmplug_gateway::GatewayConfig;

/// Pulls and loads every `[[oci]]` source of `config`; failures are printed, not fatal.
pub async fn load(registry: &Registry, config: &GatewayConfig) {
    if config.oci.is_empty() {
        return;
    }
    let dir = config
        .cache_dir
        .as_ref()
        .map(|d| d.join("oci"))
        .unwrap_or_else(super::oci::default_oci_cache_dir);
    let store = OciStore::new(&dir);
    // Sources with `poll` follow new version tags from now on.
    tokio::spawn(wasmplug_gateway::follow_oci(
        registry.clone(),
        store.clone(),
        config.oci.clone(),
    ));
    println!("plugins from OCI registries (cache {}):", dir.display());
    for load in wasmplug_gateway::load_oci(registry, &store, &config.oci).await {
        match load.result {
            Ok((pulled, version)) => println!(
                "  {} {version} from {} ({}{})",
                pulled.name,
                load.reference,
                pulled.digest,
                if pulled.from_cache { ", cached" } else { "" }
            ),
            Err(e) => println!("  {}: not loaded ({}): {e}", load.reference, e.class()),
        }
    }
}
