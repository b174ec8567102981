//! The on-disk cache of compiled modules.
//!
//! An entry is keyed by the sha256 of the module bytes, this crate's version and the
//! engine's compatibility hash (wasmtime's digest of every compiler and runtime setting that
//! affects machine code). Its file holds a header (magic, payload length, sha256 of the
//! payload) and the payload, `Module::serialize` output. On load the header and the
//! payload's sha256 are checked before wasmtime sees a byte, and wasmtime then checks its
//! own version and settings: a truncated, corrupt or foreign entry is recompiled and
//! rewritten, never trusted. Entries are written to a temporary file and renamed, so a
//! concurrent reader never sees half an entry.
//!
//! This is the one place outside the ABI memory module that uses `unsafe`
//! (`Module::deserialize` must be given bytes that `Module::serialize` produced); the
//! checksum written next to those bytes is what makes it sound.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// First bytes of every cache entry.
const MAGIC: &[u8; 8] = b"WPLGC\x00\x00\x01";
/// Magic, payload length (u64 LE), payload sha256.
const HEADER_LEN: usize = 8 + 8 + 32;

/// Where a compiled module came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// No cache is configured: compiled.
    Disabled,
    /// Found in the cache and loaded without compiling.
    Hit,
    /// Not in the cache (or the entry was unusable): compiled and stored.
    Miss,
}

/// Feeds a `Hash` value into a sha256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The cache file for `module_sha256` compiled by `engine`.
/// Whether `dir` holds an entry for this module and engine (not yet verified).
pub(crate) fn has_entry(dir: &Path, engine: &wasmtime::Engine, module_sha256: &[u8; 32]) -> bool {
    entry_path(dir, engine, module_sha256).is_file()
}

fn entry_path(dir: &Path, engine: &wasmtime::Engine, module_sha256: &[u8; 32]) -> PathBuf {
    let mut h = ShaHasher(Sha256::new());
    h.0.update(module_sha256);
    h.0.update(env!("CARGO_PKG_VERSION").as_bytes());
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{}.cwasm", hex::encode(h.0.finalize())))
}

/// Loads the module from the cache in `dir`, or compiles it and stores it there.
pub(crate) fn compile(
    engine: &wasmtime::Engine,
    dir: Option<&Path>,
    bytes: &[u8],
    module_sha256: &[u8; 32],
) -> wasmtime::Result<(wasmtime::Module, CacheOutcome)> {
    let Some(dir) = dir else {
        return Ok((
            wasmtime::Module::new(engine, bytes)?,
            CacheOutcome::Disabled,
        ));
    };
    let path = entry_path(dir, engine, module_sha256);
    if let Some(module) = load(engine, &path) {
        return Ok((module, CacheOutcome::Hit));
    }
    let module = wasmtime::Module::new(engine, bytes)?;
    if let Err(e) = store(dir, &path, &module) {
        tracing::warn!(path = %path.display(), "cannot write compiled-module cache entry: {e:#}");
    }
    Ok((module, CacheOutcome::Miss))
}

fn load(engine: &wasmtime::Engine, path: &Path) -> Option<wasmtime::Module> {
    let data = std::fs::read(path).ok()?;
    let payload = verified_payload(&data);
    if payload.is_none() {
        tracing::warn!(path = %path.display(), "corrupt compiled-module cache entry; recompiling");
        return None;
    }
    // SAFETY: `payload` is byte-for-byte what `Module::serialize` wrote in `store` (its
    // length and sha256 match the header written with it), and wasmtime checks that it was
    // produced by this wasmtime version with compatible settings before using it.
    match unsafe { wasmtime::Module::deserialize(engine, payload?) } {
        Ok(module) => Some(module),
        Err(e) => {
            tracing::warn!(path = %path.display(), "unusable compiled-module cache entry ({e:#}); recompiling");
            None
        }
    }
}

/// The payload of a cache file if its header and checksum are intact.
fn verified_payload(data: &[u8]) -> Option<&[u8]> {
    let header = data.get(..HEADER_LEN)?;
    if &header[..8] != MAGIC {
        return None;
    }
    let len = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let payload = &data[HEADER_LEN..];
    if payload.len() as u64 != len || Sha256::digest(payload)[..] != header[16..48] {
        return None;
    }
    Some(payload)
}

fn store(dir: &Path, path: &Path, module: &wasmtime::Module) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let payload = module
        .serialize()
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    let mut tmp = tempfile_in(dir)?;
    tmp.1.write_all(MAGIC)?;
    tmp.1.write_all(&(payload.len() as u64).to_le_bytes())?;
    tmp.1.write_all(&Sha256::digest(&payload))?;
    tmp.1.write_all(&payload)?;
    tmp.1.sync_all()?;
    std::fs::rename(&tmp.0, path)?;
    Ok(())
}

/// A uniquely named temporary file in `dir`.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_verified_before_use() {
        let payload = b"compiled code";
        let mut data = MAGIC.to_vec();
        data.extend((payload.len() as u64).to_le_bytes());
        data.extend(Sha256::digest(payload));
        data.extend(payload);
        assert_eq!(verified_payload(&data), Some(&payload[..]));
        let mut flipped = data.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(verified_payload(&flipped), None, "flipped bit");
        assert_eq!(verified_payload(&data[..data.len() - 1]), None, "truncated");
        let mut foreign = data.clone();
        foreign[0] = b'X';
        assert_eq!(verified_payload(&foreign), None, "wrong magic");
        assert_eq!(verified_payload(b"short"), None);
    }
}
