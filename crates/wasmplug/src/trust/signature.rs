//! Embedded module signatures: the WebAssembly tool-conventions *Signatures* format, as
//! implemented by the `wasmsign2` crate.
//!
//! A signed module starts with a custom section named `signature` holding, per signer, an
//! Ed25519 signature over the SHA-256 hash of **every byte after that section**: code, data,
//! imports, exports and all custom sections, the `wasmplug.*` metadata included. Several
//! signers may sign the same module; [`sign`] adds one signature and keeps the others.
//!
//! [`check`] tells apart the cases a trust policy must name: no signature at all, contents
//! that no longer match the signed hash (tampered), and signatures whose keys are (or are
//! not) among the given ones. It reads only section boundaries, never guest code.

use std::io::Cursor;

use sha2::{Digest, Sha256};
use wasmparser::{Parser, Payload};

use super::keys::{PublicKey, SigningKey};
use crate::error::{Error, Result};

/// Name of the custom section that carries the signatures (it must be the first section).
pub const SIGNATURE_SECTION: &str = "signature";

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureCheck {
    /// The module has no `signature` section.
    Unsigned,
    /// The module was changed after it was signed: the hash of its contents is not one that
    /// was signed.
    Tampered,
    /// The `signature` section cannot be decoded.
    Malformed {
        /// What is wrong.
        message: String,
    },
    /// The contents match the signed hash; `trusted` lists the indices (into the `keys`
    /// given to [`check`]) of the keys with a valid signature, possibly none.
    Signed {
        /// Indices of the keys whose signature verifies.
        trusted: Vec<usize>,
        /// Key ids named in the signatures (hex), whoever made them; signers may omit them.
        key_ids: Vec<String>,
    },
}

/// Signs `module` (a binary wasm module) with `key`, embedding the signature and the key's
/// id. Signatures already present are kept, so several publishers can sign one module.
///
/// # Errors
/// [`Error::InvalidWasm`] when `module` is not a binary module, [`Error::InvalidPlugin`]
/// when it already carries this key's signature or an incompatible signature section.
pub fn sign(module: &[u8], key: &SigningKey) -> Result<Vec<u8>> {
    let parsed = wasmsign2::Module::deserialize(&mut Cursor::new(module)).map_err(|e| {
        Error::InvalidWasm {
            section: None,
            offset: None,
            message: format!("cannot read the module's sections to sign them: {e}"),
        }
    })?;
    let key_id = key.public_key().key_id_bytes();
    let (signed, _) = key
        .inner()
        .sign_multi(parsed, Some(&key_id), false, false)
        .map_err(|e| match e {
            wasmsign2::WSError::DuplicateSignature => Error::invalid_plugin(format!(
                "the module is already signed with key {}",
                hex::encode(&key_id)
            )),
            other => Error::invalid_plugin(format!("cannot sign the module: {other}")),
        })?;
    let mut out = Vec::with_capacity(module.len() + 128);
    signed
        .serialize(&mut out)
        .map_err(|e| Error::invalid_plugin(format!("cannot write the signed module: {e}")))?;
    Ok(out)
}

/// Checks the embedded signatures of `module` against `keys` (see [`SignatureCheck`]).
pub fn check(module: &[u8], keys: &[PublicKey]) -> SignatureCheck {
    let Some((payload, rest)) = signature_section(module) else {
        return SignatureCheck::Unsigned;
    };
    let data = match wasmsign2::SignatureData::deserialize(payload) {
        Ok(data) => data,
        Err(e) => {
            return SignatureCheck::Malformed {
                message: e.to_string(),
            };
        }
    };
    let content: [u8; 32] = Sha256::digest(&module[rest..]).into();
    let signed = data
        .signed_hashes_set
        .iter()
        .any(|set| set.hashes.iter().any(|h| h[..] == content[..]));
    if !signed {
        return SignatureCheck::Tampered;
    }
    let mut key_ids: Vec<String> = data
        .signed_hashes_set
        .iter()
        .flat_map(|set| &set.signatures)
        .filter_map(|s| s.key_id.as_deref().map(hex::encode))
        .collect();
    key_ids.sort();
    key_ids.dedup();
    // One pass over the module for all keys (the set verifies each key's signature over
    // the signed hashes, then hashes the module once).
    let set = wasmsign2::PublicKeySet::new(keys.iter().map(|k| k.inner().clone()).collect());
    let valid = set
        .verify(&mut Cursor::new(module), None)
        .unwrap_or_default();
    let trusted = keys
        .iter()
        .enumerate()
        .filter(|(_, key)| valid.contains(key.inner()))
        .map(|(i, _)| i)
        .collect();
    SignatureCheck::Signed { trusted, key_ids }
}

/// The payload of a leading `signature` section and the offset where the signed contents
/// start, if the module begins with one.
fn signature_section(module: &[u8]) -> Option<(&[u8], usize)> {
    for payload in Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::Version { .. } => continue,
            Payload::CustomSection(reader) if reader.name() == SIGNATURE_SECTION => {
                return Some((reader.data(), reader.range().end));
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> Vec<u8> {
        wat::parse_str(
            r#"(module (func (export "f") (result i32) (i32.const 7))
                 (data (memory 0) (i32.const 0) "payload") (memory 1)
                 (@custom "wasmplug.meta" "{\"name\":\"m\",\"version\":\"1.0.0\"}"))"#,
        )
        .unwrap()
    }

    #[test]
    fn unsigned_signed_and_tampered_are_told_apart() {
        let (a, b) = (SigningKey::generate(), SigningKey::generate());
        let keys = [a.public_key(), b.public_key()];
        assert_eq!(check(&module(), &keys), SignatureCheck::Unsigned);
        let signed = sign(&module(), &a).unwrap();
        assert_eq!(
            check(&signed, &keys),
            SignatureCheck::Signed {
                trusted: vec![0],
                key_ids: vec![a.public_key().key_id()]
            }
        );
        let mut tampered = signed.clone();
        let at = tampered.len() - 3;
        tampered[at] ^= 1;
        assert_eq!(check(&tampered, &keys), SignatureCheck::Tampered);
    }

    #[test]
    fn several_signers_each_verify_and_a_duplicate_is_refused() {
        let (a, b) = (SigningKey::generate(), SigningKey::generate());
        let twice = sign(&sign(&module(), &a).unwrap(), &b).unwrap();
        let check_with = |k: &SigningKey| check(&twice, &[k.public_key()]);
        for key in [&a, &b] {
            assert!(
                matches!(check_with(key), SignatureCheck::Signed { trusted, .. } if trusted == [0])
            );
        }
        let stranger = SigningKey::generate();
        assert!(
            matches!(check_with(&stranger), SignatureCheck::Signed { trusted, key_ids } if trusted.is_empty() && key_ids.len() == 2)
        );
        let err = sign(&twice, &a).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidPlugin { reason } if reason.contains("already signed")),
            "{err:?}"
        );
    }

    #[test]
    fn a_garbled_signature_section_is_malformed_and_text_cannot_be_signed() {
        let key = SigningKey::generate();
        let mut signed = sign(&module(), &key).unwrap();
        // The first payload byte after the section name is the specification version.
        let name_at = signed
            .windows(SIGNATURE_SECTION.len())
            .position(|w| w == SIGNATURE_SECTION.as_bytes())
            .unwrap();
        signed[name_at + SIGNATURE_SECTION.len()] = 0x7f;
        assert!(matches!(
            check(&signed, &[key.public_key()]),
            SignatureCheck::Malformed { .. }
        ));
        let err = sign(b"(module)", &key).unwrap_err();
        assert!(matches!(err, Error::InvalidWasm { .. }), "{err:?}");
    }
}
