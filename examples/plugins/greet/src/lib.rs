//! Run with: wasmplug run examples/plugins/greet/plugin.toml greet --input 'world'
//!
//! `greet` turns a name into `"<greeting>, <name>!"`. The greeting is the `greeting` key of
//! the plugin configuration (the `[config]` table of `plugin.toml`), `"Hello"` by default.
//! An empty name is an error value with code 1.

use wasmplug_pdk::{Error, FnResult, config, plugin_fn, plugin_meta};

plugin_meta! {
    name: "greet",
    version: "1.0.0",
    description: "Greets people, with a configurable greeting",
    author: "wasmplug",
}

/// Error code for an empty name.
const EMPTY_NAME: i32 = 1;

/// Greets `name` (surrounding whitespace is ignored).
#[plugin_fn]
fn greet(name: String) -> FnResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::new("name must not be empty").with_code(EMPTY_NAME));
    }
    let greeting = config("greeting").unwrap_or_else(|| "Hello".to_string());
    Ok(format!("{greeting}, {name}!"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets() {
        assert_eq!(greet("  world \n".into()).unwrap(), "Hello, world!");
        let e = greet(" ".into()).unwrap_err();
        assert_eq!((e.message(), e.code()), ("name must not be empty", 1));
    }
}
