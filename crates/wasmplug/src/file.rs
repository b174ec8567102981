//! Bounded reads of plugin files (manifests, modules, inputs).
//!
//! A path handed to the host may name anything: a FIFO (opening it blocks until a writer
//! appears), a device (`/dev/zero` reports size 0 and never ends), a directory, or a file far
//! larger than any limit. Every read of a plugin file goes through [`read_regular`]: it
//! refuses what is not a regular file before opening it for reading (and again on the open
//! handle, so a swap between the two checks is caught), checks the size the file reports,
//! and then reads through `take(limit + 1)`, so a file that grows, or lies about its size,
//! never makes the host hold more than `limit + 1` bytes.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Largest `plugin.toml` accepted (a manifest is a few hundred bytes; 1 MiB is generous).
pub const MAX_MANIFEST_SIZE: u64 = 1024 * 1024;

/// What a read is for: decides the error for an oversized file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A `plugin.toml`.
    Manifest,
    /// A wasm module (binary or text).
    Module,
}

/// Opens `path` for reading if it is a regular file whose reported size is at most `limit`.
/// Returns the handle and the size.
pub(crate) fn open_regular(path: &Path, kind: Kind, limit: u64) -> Result<(File, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    check_regular(path, &meta)?;
    check_size(path, kind, meta.len(), limit)?;
    let file = open_nonblocking(path)?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    check_regular(path, &meta)?;
    Ok((file, meta.len()))
}

/// Reads the regular file `path`, refusing it when it is not a regular file or holds more
/// than `limit` bytes (see the module docs).
///
/// # Errors
/// [`Error::FileNotFound`], [`Error::Io`], [`Error::NotAFile`], and for an oversized file
/// [`Error::ModuleTooLarge`] (modules) or [`Error::Manifest`] (manifests).
pub(crate) fn read_regular(path: &Path, kind: Kind, limit: u64) -> Result<Vec<u8>> {
    let (file, size) = open_regular(path, kind, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    check_size(path, kind, bytes.len() as u64, limit)?;
    Ok(bytes)
}

/// Reads a module file the way the host does before loading it: a regular file of at most
/// `max_module_size` bytes (what [`crate::Limits::max_module_size`] allows).
///
/// # Errors
/// [`Error::FileNotFound`], [`Error::Io`], [`Error::NotAFile`] or
/// [`Error::ModuleTooLarge`], before reading more than `max_module_size + 1` bytes.
pub fn read_module_file(path: &Path, max_module_size: u64) -> Result<Vec<u8>> {
    read_regular(path, Kind::Module, max_module_size)
}

/// Streams the regular file `path` into `hasher` (at most `limit` bytes, as
/// [`read_regular`]) and returns how many bytes it held.
pub(crate) fn hash_regular(
    path: &Path,
    kind: Kind,
    limit: u64,
    hasher: &mut Sha256,
) -> Result<u64> {
    let (file, _) = open_regular(path, kind, limit)?;
    let mut reader = file.take(limit.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        if n == 0 {
            break;
        }
        total += n as u64;
        check_size(path, kind, total, limit)?;
        hasher.update(&buf[..n]);
    }
    Ok(total)
}

fn check_regular(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    Err(Error::NotAFile {
        path: path.to_path_buf(),
        kind: file_kind(meta),
    })
}

fn check_size(path: &Path, kind: Kind, size: u64, limit: u64) -> Result<()> {
    if size <= limit {
        return Ok(());
    }
    Err(match kind {
        Kind::Module => Error::ModuleTooLarge { size, limit },
        Kind::Manifest => Error::Manifest {
            path: path.to_path_buf(),
            message: format!(
                "the file is over {limit} bytes; a manifest is a small TOML file (is this the right file?)"
            ),
        },
    })
}

/// Opens without blocking on a FIFO that has no writer (the type checks refuse it next).
fn open_nonblocking(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    options.open(path).map_err(|e| Error::io(path, e))
}

/// A word for what `meta` describes, for error messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_file_within_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wasm");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(
            read_regular(&path, Kind::Module, 10).unwrap(),
            b"0123456789"
        );
        let err = read_regular(&path, Kind::Module, 9).unwrap_err();
        assert!(
            matches!(err, Error::ModuleTooLarge { size: 10, limit: 9 }),
            "{err:?}"
        );
    }

    #[test]
    fn directory_is_refused_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_regular(dir.path(), Kind::Manifest, MAX_MANIFEST_SIZE).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn device_is_refused_without_reading() {
        let err = read_regular(Path::new("/dev/zero"), Kind::Module, 1024).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read_regular(&fifo, Kind::Manifest, MAX_MANIFEST_SIZE).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }

    #[test]
    fn oversized_manifest_is_a_manifest_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin.toml");
        std::fs::write(&path, vec![b'#'; 100]).unwrap();
        let err = read_regular(&path, Kind::Manifest, 99).unwrap_err();
        assert!(matches!(err, Error::Manifest { .. }), "{err:?}");
    }

    #[test]
    fn hash_streams_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wasm");
        std::fs::write(&path, vec![7u8; 200_000]).unwrap();
        let mut h = Sha256::new();
        assert_eq!(
            hash_regular(&path, Kind::Module, 200_000, &mut h).unwrap(),
            200_000
        );
        assert_eq!(
            h.finalize().as_slice(),
            Sha256::digest(vec![7u8; 200_000]).as_slice()
        );
        let mut h = Sha256::new();
        assert!(hash_regular(&path, Kind::Module, 199_999, &mut h).is_err());
    }
}
