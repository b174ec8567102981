//! Run with: wasmplug run examples/plugins/echo/plugin.toml echo --input 'hello'
//!
//! The smallest useful plugin: `echo` returns its input bytes unchanged, `noop` does
//! nothing (to measure call overhead), `len` returns the input length in decimal, and
//! `panic` panics with its input as the message (the host sees a trap carrying that text;
//! the same four functions exist in every language's echo example).

use wasmplug_pdk::{FnResult, plugin_fn, plugin_meta};

plugin_meta! {
    name: "echo",
    version: "1.0.0",
    description: "Returns its input unchanged; also a no-op, a length function and a panic",
    author: "wasmplug",
}

/// Returns the input unchanged. The input buffer is handed back as the output, no copy.
#[plugin_fn]
fn echo(input: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(input)
}

/// Ignores the input and returns nothing: measures the cost of a call.
#[plugin_fn]
fn noop() -> FnResult<()> {
    Ok(())
}

/// Returns the input length in bytes, as decimal text.
#[plugin_fn]
fn len(input: Vec<u8>) -> FnResult<String> {
    Ok(input.len().to_string())
}

/// Panics with the input as the message.
#[plugin_fn]
fn panic(message: String) -> FnResult<()> {
    panic!("{message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions() {
        assert_eq!(echo(b"hi\0".to_vec()).unwrap(), b"hi\0");
        noop().unwrap();
        assert_eq!(len(vec![0; 5]).unwrap(), "5");
        let caught = std::panic::catch_unwind(|| panic("boom".into())).unwrap_err();
        assert_eq!(caught.downcast_ref::<String>().unwrap(), "boom");
    }
}
