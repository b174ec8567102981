//! Run with: wasmplug run examples/plugins/counter/plugin.toml increment --input visits
//!
//! Counters in the host's key-value store: `increment` adds one to the counter named by
//! the input (`count` when empty) and returns the new value, `get` returns it (`0` when
//! unset), `reset` deletes it. Values are stored as decimal text under `counter/<name>`,
//! as in every language's counter example. A store error (a quota) is passed on as an error
//! value with code 2; a stored value that is not a number has code 3.

use wasmplug_pdk::{Error, FnResult, kv, plugin_fn, plugin_meta};

plugin_meta! {
    name: "counter",
    version: "1.0.0",
    description: "Counters in the host's key-value store",
    author: "wasmplug",
}

/// Error code of a failed store operation.
const STORE_FAILED: i32 = 2;
/// Error code of a stored value that is not a number.
const NOT_A_NUMBER: i32 = 3;

fn key(name: &str) -> String {
    format!("counter/{}", if name.is_empty() { "count" } else { name })
}

fn store(e: Error) -> Error {
    Error::new(e.message()).with_code(STORE_FAILED)
}

fn read(key: &str) -> Result<u64, Error> {
    match kv::get(key).map_err(store)? {
        None => Ok(0),
        Some(value) => std::str::from_utf8(&value)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| {
                Error::new(format!(
                    "`{key}` holds {:?}, not a number",
                    String::from_utf8_lossy(&value)
                ))
                .with_code(NOT_A_NUMBER)
            }),
    }
}

/// Adds one to the counter and returns its new value.
#[plugin_fn]
fn increment(name: String) -> FnResult<String> {
    let key = key(&name);
    let value = (read(&key)? + 1).to_string();
    kv::set(&key, value.as_bytes()).map_err(store)?;
    Ok(value)
}

/// The counter's value, `0` when unset.
#[plugin_fn]
fn get(name: String) -> FnResult<String> {
    Ok(read(&key(&name))?.to_string())
}

/// Deletes the counter.
#[plugin_fn]
fn reset(name: String) -> FnResult<()> {
    kv::delete(key(&name)).map_err(store)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Natively the PDK's kv is an in-memory map per thread.

    #[test]
    fn counts_per_name_and_resets() {
        assert_eq!(increment("a".into()).unwrap(), "1");
        assert_eq!(increment("a".into()).unwrap(), "2");
        assert_eq!(increment(String::new()).unwrap(), "1");
        assert_eq!(get("a".into()).unwrap(), "2");
        reset("a".into()).unwrap();
        assert_eq!(get("a".into()).unwrap(), "0");
        kv::set("counter/bad", b"x").unwrap();
        assert_eq!(get("bad".into()).unwrap_err().code(), NOT_A_NUMBER);
    }
}
