//! Run with: wasmplug run examples/plugins/echo/plugin.toml echo --input 'hello'
//!
//! The smallest useful plugin: `echo` returns its input bytes unchanged, `noop` does
//! nothing (to measure call overhead), `len` returns the input length in decimal.

use wasmplug_pdk::{FnResult, plugin_fn, plugin_meta};

plugin_meta! {
    name: "echo",
    version: "1.0.0",
    description: "Returns its input unchanged; also a no-op and a length function",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions() {
        assert_eq!(echo(b"hi\0".to_vec()).unwrap(), b"hi\0");
        noop().unwrap();
        assert_eq!(len(vec![0; 5]).unwrap(), "5");
    }
}
