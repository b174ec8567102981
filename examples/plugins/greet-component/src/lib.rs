//! The `greet` example as a component of the `wasmplug:plugin` world (wit/plugin): the same
//! behaviour as `examples/plugins/greet`, written against the WIT bindings instead of the
//! core-module kit. Build: `wasmplug build examples/plugins/greet-component`; run:
//! `wasmplug run examples/plugins/greet-component/plugin.toml greet --input world`.

wit_bindgen::generate!({ world: "plugin", path: "../../../wit/plugin" });

use wasmplug::plugin::host;

/// Error code for an empty name.
const EMPTY_NAME: i32 = 1;

struct Greet;

impl Guest for Greet {
    fn init(_config: Vec<(String, String)>) -> Result<(), PluginError> {
        Ok(())
    }

    fn call(function: String, input: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        match function.as_str() {
            "greet" => {
                let name = String::from_utf8(input)
                    .map_err(|_| error("input is not valid UTF-8", None))?;
                let greeting = host::config_get("greeting").unwrap_or_else(|| "Hello".into());
                greet(&greeting, &name).map(String::into_bytes)
            }
            other => Err(error(&format!("no function `{other}`"), None)),
        }
    }
}

/// `"<greeting>, <name>!"`; an empty name is error value 1.
fn greet(greeting: &str, name: &str) -> Result<String, PluginError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(error("name must not be empty", Some(EMPTY_NAME)));
    }
    Ok(format!("{greeting}, {name}!"))
}

fn error(message: &str, code: Option<i32>) -> PluginError {
    PluginError {
        message: message.into(),
        code,
    }
}

export!(Greet);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets() {
        assert_eq!(greet("Hello", "  world \n").unwrap(), "Hello, world!");
        let e = greet("Hello", " ").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.code),
            ("name must not be empty", Some(1))
        );
    }
}
