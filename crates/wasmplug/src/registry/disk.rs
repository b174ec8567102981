//! What the registry knows about plugin files on disk: the digest of a manifest and its
//! module, and the last verdict on each digest.
//!
//! The hot-reload watcher consults the verdicts so that files it has already judged are not
//! judged again until they change: a candidate that was rejected stays rejected (one
//! `Rejected` event, not one per file event), and a plugin an operator unloaded stays
//! unloaded while its folder is untouched. Explicit loads (start-up, admin upload, reload)
//! always run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::file::{Kind, MAX_MANIFEST_SIZE, hash_regular, read_regular};
use crate::manifest::Manifest;

/// The last verdict on a manifest's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The files loaded (they may or may not serve now).
    Loaded,
    /// The files were refused.
    Rejected,
    /// The plugin was unloaded on purpose while these files were on disk.
    Unloaded,
}

/// Verdicts by canonical manifest path.
#[derive(Debug, Default)]
pub(crate) struct Verdicts {
    seen: Mutex<HashMap<PathBuf, (String, Verdict)>>,
}

impl Verdicts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (String, Verdict)>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn record(&self, manifest: &Path, digest: String, verdict: Verdict) {
        self.lock()
            .insert(manifest.to_path_buf(), (digest, verdict));
    }

    /// The verdict on `digest` of `manifest`, if these exact files were judged.
    pub(crate) fn get(&self, manifest: &Path, digest: &str) -> Option<Verdict> {
        self.lock()
            .get(manifest)
            .filter(|(d, _)| d == digest)
            .map(|(_, v)| *v)
    }

    pub(crate) fn forget(&self, manifest: &Path) {
        self.lock().remove(manifest);
    }
}

/// sha256 over a manifest's text and the module it names, with the parsed manifest. The
/// manifest is read through [`MAX_MANIFEST_SIZE`], the module streamed through the
/// manifest's `max_module_size`: an oversized or non-regular file is refused before it is
/// read.
pub(crate) fn digest(manifest: &Path) -> Result<(String, Manifest)> {
    let text = read_regular(manifest, Kind::Manifest, MAX_MANIFEST_SIZE)?;
    let parsed = Manifest::from_bytes(manifest, &text)?;
    let mut h = Sha256::new();
    h.update((text.len() as u64).to_le_bytes());
    h.update(&text);
    hash_regular(
        &parsed.wasm,
        Kind::Module,
        parsed.limits.max_module_size.bytes(),
        &mut h,
    )?;
    Ok((hex::encode(h.finalize()), parsed))
}

/// A cheap fingerprint of the files (sizes and modification times), to tell whether a
/// writer is still busy without reading them.
pub(crate) fn fingerprint(manifest: &Path) -> Option<Vec<(u64, std::time::SystemTime)>> {
    let stat = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.len(), m.modified().unwrap_or(std::time::UNIX_EPOCH)))
    };
    let mut out = vec![stat(manifest)?];
    if let Ok(parsed) = Manifest::from_file(manifest) {
        out.push(stat(&parsed.wasm)?);
    }
    Some(out)
}
