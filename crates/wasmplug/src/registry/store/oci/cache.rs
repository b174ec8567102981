//! The local cache of pulled plugins, one folder per image-manifest digest:
//!
//! ```text
//! <root>/sha256/<hex>/oci-manifest.json   the image manifest, as pulled (hashes to <hex>)
//!                     plugin.toml         the manifest layer
//!                     <module>.wasm       the module layer, under the name plugin.toml gives
//! ```
//!
//! Invariants: a folder appears only complete and verified (it is written under a temporary
//! name and renamed into place), and it is verified again every time it is used — the image
//! manifest against the folder's digest, each file against its layer digest — so a cache
//! altered on disk is detected, never served.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use oci_client::manifest::OciImageManifest;

use super::artifact::{self, digest_of};
use super::{OciError, OciReference};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// File name of the image manifest in a cache folder.
pub(super) const IMAGE_MANIFEST_FILE: &str = "oci-manifest.json";

/// A verified cache folder.
pub(super) struct Cached {
    pub(super) folder: PathBuf,
    pub(super) manifest: Manifest,
}

pub(super) struct Cache<'a> {
    pub(super) root: &'a Path,
    pub(super) max_module: u64,
}

impl Cache<'_> {
    fn folder(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("sha256").join(hex)
    }

    /// The verified folder of `digest`, `None` when absent. A folder that fails verification
    /// is an error ([`OciError::DigestMismatch`] or [`OciError::NotAPlugin`]).
    pub(super) fn lookup(
        &self,
        reference: &OciReference,
        digest: &str,
    ) -> Result<Option<Cached>, OciError> {
        let folder = self.folder(digest);
        let image_path = folder.join(IMAGE_MANIFEST_FILE);
        let image = match std::fs::read(&image_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(OciError::cache(image_path)(e)),
        };
        let mismatch = |what: &str, expected: &str, actual: String| OciError::DigestMismatch {
            reference: reference.to_string(),
            what: format!("cached {what}"),
            expected: expected.to_owned(),
            actual,
        };
        let actual = digest_of(&image);
        if actual != digest {
            return Err(mismatch(IMAGE_MANIFEST_FILE, digest, actual));
        }
        let not_a_plugin = |reason: String| OciError::NotAPlugin {
            reference: reference.to_string(),
            reason,
        };
        let parsed: OciImageManifest = serde_json::from_slice(&image)
            .map_err(|e| not_a_plugin(format!("cached image manifest: {e}")))?;
        let layers = artifact::validate(&parsed, self.max_module).map_err(not_a_plugin)?;
        let toml_path = folder.join(MANIFEST_FILE);
        let toml = std::fs::read(&toml_path).map_err(OciError::cache(&toml_path))?;
        let actual = digest_of(&toml);
        if actual != layers.manifest.digest {
            return Err(mismatch(MANIFEST_FILE, &layers.manifest.digest, actual));
        }
        let manifest = artifact::parse_manifest(&toml).map_err(not_a_plugin)?;
        let wasm_path = folder.join(&manifest.wasm);
        let wasm = std::fs::read(&wasm_path).map_err(OciError::cache(&wasm_path))?;
        let actual = digest_of(&wasm);
        if actual != layers.wasm.digest {
            let name = manifest.wasm.to_string_lossy().into_owned();
            return Err(mismatch(&name, &layers.wasm.digest, actual));
        }
        Ok(Some(Cached { folder, manifest }))
    }

    /// Writes a verified artifact into the folder of `digest`, atomically.
    pub(super) fn store(
        &self,
        digest: &str,
        image: &[u8],
        toml: &[u8],
        manifest: Manifest,
        wasm: &[u8],
    ) -> Result<Cached, OciError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let folder = self.folder(digest);
        let parent = folder.parent().expect("the folder has a parent");
        std::fs::create_dir_all(parent).map_err(OciError::cache(parent))?;
        let temp = parent.join(format!(
            ".partial-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let write = |name: &Path, data: &[u8]| {
            let path = temp.join(name);
            std::fs::write(&path, data).map_err(OciError::cache(path))
        };
        std::fs::create_dir_all(&temp).map_err(OciError::cache(&temp))?;
        let written = write(Path::new(IMAGE_MANIFEST_FILE), image)
            .and_then(|()| write(Path::new(MANIFEST_FILE), toml))
            .and_then(|()| write(&manifest.wasm, wasm));
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&temp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&temp, &folder) {
            let _ = std::fs::remove_dir_all(&temp);
            // Another pull of the same digest won the race: its folder is as good.
            if !folder.join(IMAGE_MANIFEST_FILE).is_file() {
                return Err(OciError::cache(&folder)(e));
            }
        }
        Ok(Cached { folder, manifest })
    }

    /// Removes the folder of `digest` (after a failed verification).
    pub(super) fn evict(&self, digest: &str) -> Result<(), OciError> {
        let folder = self.folder(digest);
        match std::fs::remove_dir_all(&folder) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(OciError::cache(folder)(e)),
        }
    }
}
