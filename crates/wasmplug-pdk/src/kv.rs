//! The plugin's key-value store (`wasmplug.kv_*`): persistent across calls, instances and
//! host restarts, private to the plugin (the host decides whether plugins share a
//! namespace). Keys and values are bytes; the host enforces quotas on key size, value size
//! and total bytes, reported as errors.
//!
//! ```no_run
//! use wasmplug_pdk::{FnResult, kv};
//!
//! fn count_visit(page: &str) -> FnResult<u64> {
//!     let key = format!("visits/{page}");
//!     let n: u64 = kv::get_json(&key)?.unwrap_or(0) + 1;
//!     kv::set_json(&key, &n)?;
//!     Ok(n)
//! }
//! ```
//!
//! Outside wasm (native unit tests of a plugin) the store is an in-memory map per thread.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// The value of `key`, or `None`.
///
/// # Errors
/// The host's error value (key too large, store unavailable).
pub fn get(key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, Error> {
    imp::get(key.as_ref())
}

/// The value of `key` as UTF-8 text.
///
/// # Errors
/// As [`get`], or the value is not UTF-8.
pub fn get_string(key: impl AsRef<[u8]>) -> Result<Option<String>, Error> {
    get(key)?
        .map(String::from_utf8)
        .transpose()
        .map_err(Error::from)
}

/// The value of `key` parsed as JSON.
///
/// # Errors
/// As [`get`], or the value is not JSON of type `T`.
pub fn get_json<T: DeserializeOwned>(key: impl AsRef<[u8]>) -> Result<Option<T>, Error> {
    get(key)?
        .map(|v| serde_json::from_slice(&v))
        .transpose()
        .map_err(Error::from)
}

/// Sets `key` to `value` (replacing any previous value).
///
/// # Errors
/// The host's error value: key or value too large, namespace quota exceeded, store
/// unavailable. Nothing is stored then.
pub fn set(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), Error> {
    imp::set(key.as_ref(), value.as_ref())
}

/// Sets `key` to `value` serialised as JSON.
///
/// # Errors
/// As [`set`], or serialisation fails.
pub fn set_json<T: Serialize + ?Sized>(key: impl AsRef<[u8]>, value: &T) -> Result<(), Error> {
    set(key, serde_json::to_vec(value)?)
}

/// Deletes `key`; returns whether it existed.
///
/// # Errors
/// The host's error value.
pub fn delete(key: impl AsRef<[u8]>) -> Result<bool, Error> {
    imp::delete(key.as_ref())
}

/// The keys starting with `prefix` (all keys for an empty prefix), in byte order; at most
/// the host's list limit (by default 1000).
///
/// # Errors
/// The host's error value.
pub fn list(prefix: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>, Error> {
    imp::list(prefix.as_ref())
}

/// Decodes a `kv_list` result: for each key, a `u32` LE length then the key.
fn decode_list(mut buf: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut keys = Vec::new();
    while !buf.is_empty() {
        let Some((len, rest)) = buf.split_first_chunk::<4>() else {
            return Err(Error::new("malformed kv_list result"));
        };
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(Error::new("malformed kv_list result"));
        }
        keys.push(rest[..len].to_vec());
        buf = &rest[len..];
    }
    Ok(keys)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use crate::host;
    use crate::hostcall::take_reply;

    pub(super) fn get(key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let mut slot = 0u64;
        // SAFETY: live slices the host only reads; `slot` is a live 8-byte result slot.
        let status = unsafe { host::kv_get(key.as_ptr(), key.len(), &mut slot) };
        // SAFETY: the host wrote `slot` for this call.
        unsafe { take_reply(status, slot) }
    }

    pub(super) fn set(key: &[u8], value: &[u8]) -> Result<(), Error> {
        let mut slot = 0u64;
        // SAFETY: as in `get`.
        let status = unsafe {
            host::kv_set(
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
                &mut slot,
            )
        };
        // SAFETY: the host wrote `slot` for this call.
        unsafe { take_reply(status, slot) }.map(drop)
    }

    pub(super) fn delete(key: &[u8]) -> Result<bool, Error> {
        let mut slot = 0u64;
        // SAFETY: as in `get`.
        let status = unsafe { host::kv_delete(key.as_ptr(), key.len(), &mut slot) };
        // SAFETY: the host wrote `slot` for this call.
        unsafe { take_reply(status, slot) }.map(|found| found.is_some())
    }

    pub(super) fn list(prefix: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let mut slot = 0u64;
        // SAFETY: as in `get`.
        let status = unsafe { host::kv_list(prefix.as_ptr(), prefix.len(), &mut slot) };
        // SAFETY: the host wrote `slot` for this call.
        let buf = unsafe { take_reply(status, slot) }?.unwrap_or_default();
        decode_list(&buf)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    std::thread_local! {
        static STORE: RefCell<BTreeMap<Vec<u8>, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
    }

    pub(super) fn get(key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Ok(STORE.with(|s| s.borrow().get(key).cloned()))
    }

    pub(super) fn set(key: &[u8], value: &[u8]) -> Result<(), Error> {
        if key.is_empty() {
            return Err(Error::new("kv keys must not be empty"));
        }
        STORE.with(|s| s.borrow_mut().insert(key.to_vec(), value.to_vec()));
        Ok(())
    }

    pub(super) fn delete(key: &[u8]) -> Result<bool, Error> {
        Ok(STORE.with(|s| s.borrow_mut().remove(key).is_some()))
    }

    pub(super) fn list(prefix: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let keys: Vec<Vec<u8>> = STORE.with(|s| {
            s.borrow()
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect()
        });
        // Round-trip through the wire format so native tests cover the decoder.
        let mut buf = Vec::new();
        for k in &keys {
            buf.extend_from_slice(&(k.len() as u32).to_le_bytes());
            buf.extend_from_slice(k);
        }
        decode_list(&buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_store_behaves_like_the_host() {
        assert_eq!(get("a").unwrap(), None);
        set("a/1", "one").unwrap();
        set("a/2", b"two").unwrap();
        set("b", "x").unwrap();
        assert_eq!(get_string("a/1").unwrap().as_deref(), Some("one"));
        assert_eq!(list("a/").unwrap(), vec![b"a/1".to_vec(), b"a/2".to_vec()]);
        assert!(delete("a/1").unwrap());
        assert!(!delete("a/1").unwrap());
        set_json("n", &41u32).unwrap();
        assert_eq!(get_json::<u32>("n").unwrap(), Some(41));
        assert!(set("", "v").is_err());
    }

    #[test]
    fn malformed_lists_are_errors() {
        assert_eq!(decode_list(&[]).unwrap(), Vec::<Vec<u8>>::new());
        assert!(decode_list(&[1, 0]).is_err());
        assert!(decode_list(&[5, 0, 0, 0, b'a']).is_err());
    }
}
