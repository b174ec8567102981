//! The `[sync]` table of `wasmplug serve`: starts sharing the registry's state with the other
//! replicas once the local plugins are loaded, and waits (boundedly) for the first read of
//! the shared state, so that a replica starting later is ready only once it has converged.

use std::time::{Duration, Instant};

use anyhow::Context;
use wasmplug::Registry;

/// How long start-up waits for the first read of the shared state.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts sync when the registry is configured for it; prints one line.
pub async fn start(registry: &Registry) -> anyhow::Result<()> {
    let Some(sync) = registry.sync_config().cloned() else {
        return Ok(());
    };
    let replica = registry.start_sync().context("cannot start [sync]")?;
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    while !replica.is_synced() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "sync: replica `{}` sharing routing through redis {} ({}; hot reload off)",
        replica.id(),
        redact(&sync.redis),
        if replica.is_synced() {
            "converged"
        } else {
            "redis not reachable yet: serving the local state until it is"
        }
    );
    Ok(())
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://***@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}
