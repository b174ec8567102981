//! What `push` and `pull` share: the reference argument, the store, a small runtime, and
//! the exit code of each [`OciError`].

use std::path::PathBuf;

use wasmplug::oci::{OciError, OciReference, OciStore};

use crate::exit;

/// Parses an `oci://` reference for clap (a bad one is a usage error, exit code 2).
pub fn parse_reference(text: &str) -> Result<OciReference, String> {
    text.parse::<OciReference>().map_err(|e| e.to_string())
}

/// Registry access options of `push` and `pull`.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// Plain HTTP to a registry that is not on a loopback address (loopback registries
    /// always use plain HTTP).
    #[arg(long)]
    pub insecure: bool,
}

impl RegistryArgs {
    /// A store with these options, caching pulls in `cache_dir` (default:
    /// [`default_oci_cache_dir`]).
    pub fn store(&self, cache_dir: Option<PathBuf>) -> OciStore {
        OciStore::new(cache_dir.unwrap_or_else(default_oci_cache_dir)).insecure(self.insecure)
    }
}

/// `<cache dir>/oci`, where the cache dir is the compiled-module cache's default.
pub fn default_oci_cache_dir() -> PathBuf {
    wasmplug::dirs::default_cache_dir()
        .unwrap_or_else(|| PathBuf::from(".wasmplug-cache"))
        .join("oci")
}

/// Runs `future` on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}

/// `err` with its exit code: content that is not a usable plugin is a load failure (3),
/// registry and cache problems are other failures (1).
pub fn failure(err: OciError) -> anyhow::Error {
    match err {
        OciError::Plugin { .. }
        | OciError::NotAPlugin { .. }
        | OciError::DigestMismatch { .. }
        | OciError::Rejected { .. } => exit::load(err),
        other => other.into(),
    }
}
