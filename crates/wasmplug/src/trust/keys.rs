//! Ed25519 key pairs in the formats of the reference `wasmsign2` tool.
//!
//! Files: a secret key is `0x81 ‖ 64 bytes`, a public key `0x01 ‖ 32 bytes` (what
//! `wasmsign2 keygen` writes and `wasmsign2 sign -k` / `verify -K` read). Public keys are also
//! read in DER and PEM form. A key's id is the tool's default key identifier:
//! `HMAC-SHA256("key_id", public key)[..12]`, written as 24 hex digits; `wasmplug sign`
//! embeds it in each signature, audit records name it.

use std::fmt;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// A secret key that signs modules. Never printed (its `Debug` shows only the key id).
#[derive(Clone)]
pub struct SigningKey {
    inner: wasmsign2::SecretKey,
}

/// A public key that verifies signatures; a publisher's identity in a trust policy.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    inner: wasmsign2::PublicKey,
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> SigningKey {
        SigningKey {
            inner: wasmsign2::KeyPair::generate().sk,
        }
    }

    /// Reads a secret key file (the `wasmsign2` raw format, DER or PEM).
    ///
    /// # Errors
    /// [`Error::FileNotFound`] / [`Error::Io`], or [`Error::Key`] when it is no Ed25519
    /// secret key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<SigningKey> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        wasmsign2::SecretKey::from_any(&bytes)
            .map(|inner| SigningKey { inner })
            .map_err(|_| Error::Key {
                path: path.to_path_buf(),
                reason: "not an Ed25519 secret key (expected the file `wasmplug keygen` or `wasmsign2 keygen` wrote)".into(),
            })
    }

    /// Writes the key in the `wasmsign2` raw format, readable only by its owner (0600 on
    /// Unix). Refuses to replace an existing file.
    ///
    /// # Errors
    /// [`Error::Io`], also when `path` exists.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        write_new(path.as_ref(), &self.inner.to_bytes(), true)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: wasmsign2::PublicKey {
                pk: self.inner.sk.public_key(),
                key_id: None,
            },
        }
    }

    pub(crate) fn inner(&self) -> &wasmsign2::SecretKey {
        &self.inner
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key().key_id())
    }
}

impl PublicKey {
    /// Reads a public key file (the `wasmsign2` raw format, DER or PEM).
    ///
    /// # Errors
    /// [`Error::FileNotFound`] / [`Error::Io`], or [`Error::Key`] when it is no Ed25519
    /// public key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PublicKey> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        PublicKey::from_bytes(&bytes).map_err(|reason| Error::Key {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a public key (raw `wasmsign2` format, DER or PEM).
    ///
    /// # Errors
    /// A message when the bytes are no Ed25519 public key.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<PublicKey, String> {
        let pk = wasmsign2::PublicKey::from_bytes(bytes)
            .or_else(|_| wasmsign2::PublicKey::from_der(bytes))
            .or_else(|_| {
                let text = std::str::from_utf8(bytes).map_err(|_| wasmsign2::WSError::ParseError)?;
                wasmsign2::PublicKey::from_pem(text)
            })
            .map_err(|_| {
                "not an Ed25519 public key (expected the `.pub` file `wasmplug keygen` or `wasmsign2 keygen` wrote, or DER/PEM)".to_string()
            })?;
        Ok(PublicKey {
            inner: wasmsign2::PublicKey { key_id: None, ..pk },
        })
    }

    /// Writes the key in the `wasmsign2` raw format. Refuses to replace an existing file.
    ///
    /// # Errors
    /// [`Error::Io`], also when `path` exists.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        write_new(path.as_ref(), &self.inner.to_bytes(), false)
    }

    /// The key id: 24 lowercase hex digits (see the module docs).
    pub fn key_id(&self) -> String {
        hex::encode(self.key_id_bytes())
    }

    pub(crate) fn key_id_bytes(&self) -> Vec<u8> {
        self.inner
            .clone()
            .attach_default_key_id()
            .key_id
            .unwrap_or_default()
    }

    pub(crate) fn inner(&self) -> &wasmsign2::PublicKey {
        &self.inner
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key_id())
    }
}

/// Creates `path` (failing if it exists) and writes `bytes`; `secret` files get mode 0600.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_files_and_ids_are_stable() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate();
        key.to_file(dir.path().join("a.key")).unwrap();
        key.public_key().to_file(dir.path().join("a.pub")).unwrap();
        let read = SigningKey::from_file(dir.path().join("a.key")).unwrap();
        let public = PublicKey::from_file(dir.path().join("a.pub")).unwrap();
        assert_eq!(read.public_key(), public);
        assert_eq!(public.key_id().len(), 24);
        assert_ne!(public, SigningKey::generate().public_key());
        // The raw format of the reference tool: one type byte, then the key.
        let raw = std::fs::read(dir.path().join("a.pub")).unwrap();
        assert_eq!((raw.len(), raw[0]), (33, 0x01));
        let secret = std::fs::read(dir.path().join("a.key")).unwrap();
        assert_eq!((secret.len(), secret[0]), (65, 0x81));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("a.key"))
                .unwrap()
                .permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        let again = key.to_file(dir.path().join("a.key")).unwrap_err();
        assert!(matches!(again, Error::Io { .. }), "{again:?}");
    }

    #[test]
    fn garbage_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pub");
        std::fs::write(&path, b"hello").unwrap();
        let err = PublicKey::from_file(&path).unwrap_err();
        assert!(
            matches!(&err, Error::Key { reason, .. } if reason.contains("Ed25519")),
            "{err:?}"
        );
        let err = SigningKey::from_file(&path).unwrap_err();
        assert!(matches!(err, Error::Key { .. }), "{err:?}");
    }
}
