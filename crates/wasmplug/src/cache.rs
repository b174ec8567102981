//! The on-disk cache of compiled modules.
//!
//! An entry is keyed by the sha256 of the module bytes, this crate's version and the
//! engine's compatibility hash (wasmtime's digest of every compiler and runtime setting that
//! affects machine code). It is two files: `<key>.cwasm`, the `Module::serialize` output
//! as it is, and `<key>.sum`, a header (magic, payload length, xxh3-128 of the payload). A
//! hit opens the `.cwasm` once, checks its length and checksum against the `.sum` by
//! streaming through it, and hands the same open file to wasmtime
//! (`Module::deserialize_open_file`), which maps it copy-on-write instead of reading and
//! copying it. wasmtime then checks its own version and settings: a truncated, corrupt or
//! foreign entry is recompiled and rewritten, never trusted. The checksum detects
//! corruption (a torn write, a flipped block), not tampering: whoever can write the cache
//! directory could write a matching checksum of any kind, so the directory itself must be
//! trusted (docs/security.md). xxh3-128 rather than sha256 because it is ~10x faster, and a
//! cache hit mostly hashes. Both files are written to temporary files and renamed, the
//! `.sum` last, so a concurrent reader never sees half an entry.
//!
//! Components are cached the same way under a key that also says "component"; a hit reads
//! the verified bytes and deserialises them (`Component::deserialize`, a copy: wasmtime has
//! no open-file variant for components).
//!
//! This is the one place outside the ABI memory module that uses `unsafe`
//! (`Module::deserialize_open_file` must be given bytes that `Module::serialize` produced,
//! and the file must not change while the module lives); the checksum written next to
//! those bytes, and entries only ever being replaced by rename (never rewritten in place),
//! are what make it sound.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// First bytes of every cache entry (format 3: xxh3-128 checksums; entries of older formats
/// are recompiled).
const MAGIC: &[u8; 8] = b"WPLGC\x00\x00\x03";
/// Magic, payload length (u64 LE), payload xxh3-128 (u128 LE).
const HEADER_LEN: usize = 8 + 8 + 16;
/// Read size while checking an entry.
const CHUNK: usize = 256 * 1024;

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

/// An engine's part of every cache key: this crate's version and the engine's compatibility
/// hash (hashing that walks every setting, so it is done once per engine, not per load).
pub(crate) struct CacheTag([u8; 32]);

impl CacheTag {
    /// The tag of entries compiled by `engine`.
    pub(crate) fn of(engine: &wasmtime::Engine) -> CacheTag {
        let mut h = ShaHasher(Sha256::new());
        h.0.update(env!("CARGO_PKG_VERSION").as_bytes());
        engine.precompile_compatibility_hash().hash(&mut h);
        CacheTag(h.0.finalize().into())
    }
}

/// Whether `dir` holds an entry for this module and engine (not yet verified).
pub(crate) fn has_entry(dir: &Path, tag: &CacheTag, module_sha256: &[u8; 32]) -> bool {
    entry_path(dir, tag, module_sha256).is_file()
}

/// The cache file for `module_sha256` compiled by the engine of `tag`.
fn entry_path(dir: &Path, tag: &CacheTag, module_sha256: &[u8; 32]) -> PathBuf {
    keyed_path(dir, tag, b"", module_sha256)
}

/// The entry of an artefact of `kind` (empty for core modules).
fn keyed_path(dir: &Path, tag: &CacheTag, kind: &[u8], sha256: &[u8; 32]) -> PathBuf {
    let mut h = Sha256::new();
    h.update(kind);
    h.update(sha256);
    h.update(tag.0);
    dir.join(format!("{}.cwasm", hex::encode(h.finalize())))
}

/// The checksum file next to an entry.
fn sum_path(entry: &Path) -> PathBuf {
    entry.with_extension("sum")
}

/// The module cached in `dir` under `key`, if its entry is there and sound.
pub(crate) fn lookup(
    engine: &wasmtime::Engine,
    tag: &CacheTag,
    dir: &Path,
    key: &[u8; 32],
) -> Option<wasmtime::Module> {
    let path = entry_path(dir, tag, key);
    path.is_file().then(|| load(engine, &path)).flatten()
}

/// Loads the module from the cache in `dir`, or compiles it and stores it there.
pub(crate) fn compile(
    engine: &wasmtime::Engine,
    tag: &CacheTag,
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
    let path = entry_path(dir, tag, module_sha256);
    if let Some(module) = load(engine, &path) {
        return Ok((module, CacheOutcome::Hit));
    }
    let module = wasmtime::Module::new(engine, bytes)?;
    keep(dir, &path, module.serialize());
    Ok((module, CacheOutcome::Miss))
}

/// Loads the component from the cache in `dir`, or compiles it and stores it there.
pub(crate) fn compile_component(
    engine: &wasmtime::Engine,
    tag: &CacheTag,
    dir: Option<&Path>,
    bytes: &[u8],
    sha256: &[u8; 32],
) -> wasmtime::Result<(wasmtime::component::Component, CacheOutcome)> {
    use wasmtime::component::Component;
    let Some(dir) = dir else {
        return Ok((Component::new(engine, bytes)?, CacheOutcome::Disabled));
    };
    let path = keyed_path(dir, tag, b"component\0", sha256);
    if let Some(component) = load_component(engine, &path) {
        return Ok((component, CacheOutcome::Hit));
    }
    let component = Component::new(engine, bytes)?;
    keep(dir, &path, component.serialize());
    Ok((component, CacheOutcome::Miss))
}

/// Stores a serialised artefact, or says in the log why it cannot.
fn keep(dir: &Path, path: &Path, payload: wasmtime::Result<Vec<u8>>) {
    let stored = payload
        .map_err(|e| std::io::Error::other(format!("{e:#}")))
        .and_then(|payload| store(dir, path, &payload));
    if let Err(e) = stored {
        tracing::warn!(path = %path.display(), "cannot write compiled-module cache entry: {e:#}");
    }
}

fn load_component(
    engine: &wasmtime::Engine,
    path: &Path,
) -> Option<wasmtime::component::Component> {
    let header = std::fs::read(sum_path(path)).ok()?;
    let bytes = std::fs::read(path).ok()?;
    if !verified(&header, &mut std::io::Cursor::new(&bytes)) {
        tracing::warn!(path = %path.display(), "corrupt compiled-component cache entry; recompiling");
        return None;
    }
    // SAFETY: `bytes` are what `Component::serialize` wrote in `compile_component` (their
    // length and checksum match the header written with them; they are an in-memory copy, so
    // nothing can change them now), and wasmtime checks that they were produced by this
    // wasmtime version with compatible settings before using them.
    match unsafe { wasmtime::component::Component::deserialize(engine, &bytes) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %path.display(), "unusable compiled-component cache entry ({e:#}); recompiling");
            None
        }
    }
}

fn load(engine: &wasmtime::Engine, path: &Path) -> Option<wasmtime::Module> {
    let header = std::fs::read(sum_path(path)).ok()?;
    let mut file = std::fs::File::open(path).ok()?;
    if !verified(&header, &mut file) {
        tracing::warn!(path = %path.display(), "corrupt compiled-module cache entry; recompiling");
        return None;
    }
    // SAFETY: the file's bytes are what `Module::serialize` wrote in `store` (its length and
    // checksum match the header written with it), wasmtime checks that they were produced by
    // this wasmtime version with compatible settings before using them, and entries are
    // only replaced by rename, never modified in place, so the open file keeps these bytes
    // for as long as the module maps it.
    match unsafe { wasmtime::Module::deserialize_open_file(engine, file) } {
        Ok(module) => Some(module),
        Err(e) => {
            tracing::warn!(path = %path.display(), "unusable compiled-module cache entry ({e:#}); recompiling");
            None
        }
    }
}

/// The header of a payload: magic, length, checksum.
fn header(payload: &[u8]) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend((payload.len() as u64).to_le_bytes());
    h.extend(xxhash_rust::xxh3::xxh3_128(payload).to_le_bytes());
    h
}

/// Whether `file` (read from its start, then rewound) is the payload `header` describes.
fn verified(header: &[u8], file: &mut (impl std::io::Read + std::io::Seek)) -> bool {
    if header.len() != HEADER_LEN || &header[..8] != MAGIC {
        return false;
    }
    let len = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; CHUNK];
    let mut read = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                read += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    let rewound = file.seek(std::io::SeekFrom::Start(0)).is_ok();
    rewound && read == len && hasher.digest128().to_le_bytes()[..] == header[16..32]
}

fn store(dir: &Path, path: &Path, payload: &[u8]) -> std::io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        // `create_dir_all` would say "File exists (os error 17)".
        return Err(std::io::Error::other(format!(
            "the cache directory `{}` is not a directory; remove it or pick another cache directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    write_renamed(dir, path, payload)?;
    write_renamed(dir, &sum_path(path), &header(payload))
}

/// Writes `bytes` to a temporary file in `dir`, syncs it and renames it to `path`.
fn write_renamed(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile_in(dir)?;
    tmp.1.write_all(bytes)?;
    tmp.1.sync_all()?;
    std::fs::rename(&tmp.0, path)
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
        use std::io::Cursor;
        let payload = b"compiled code".to_vec();
        let good = header(&payload);
        assert!(verified(&good, &mut Cursor::new(payload.clone())));
        let mut flipped = payload.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(!verified(&good, &mut Cursor::new(flipped)), "flipped bit");
        let truncated = payload[..payload.len() - 1].to_vec();
        assert!(!verified(&good, &mut Cursor::new(truncated)), "truncated");
        let mut foreign = good.clone();
        foreign[0] = b'X';
        assert!(
            !verified(&foreign, &mut Cursor::new(payload.clone())),
            "magic"
        );
        assert!(!verified(b"short", &mut Cursor::new(payload)));
    }
}
