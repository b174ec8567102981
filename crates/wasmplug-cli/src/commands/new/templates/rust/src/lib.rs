//! Run with: wasmplug build . && wasmplug run plugin.toml greet --input world

use wasmplug_pdk::{Error, FnResult, config, plugin_fn, plugin_meta};

plugin_meta! {
    name: "{{name}}",
    version: "0.1.0",
    description: "A wasmplug plugin written in Rust",
}

/// Greets `name` with the configured greeting.
#[plugin_fn]
fn greet(name: String) -> FnResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::new("name must not be empty").with_code(1));
    }
    let greeting = config("greeting").unwrap_or_else(|| "Hello".to_string());
    Ok(format!("{greeting}, {name}!"))
}
