//! The `counter` example as a component of the `wasmplug:plugin` world (wit/plugin):
//! counters in the host's key-value store through `host.kv-*`, as `examples/plugins/counter`.

wit_bindgen::generate!({ world: "plugin", path: "../../../wit/plugin" });

use wasmplug::plugin::host;

/// Error code when the store fails.
const STORE_FAILED: i32 = 2;
/// Error code when a counter's value is not a number.
const NOT_A_NUMBER: i32 = 3;

struct Counter;

fn key(name: &str) -> String {
    format!("counter/{}", if name.is_empty() { "count" } else { name })
}

fn error(message: String, code: i32) -> PluginError {
    PluginError {
        message,
        code: Some(code),
    }
}

fn parse(key: &str, value: &[u8]) -> Result<u64, PluginError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            error(
                format!(
                    "`{key}` holds {:?}, not a number",
                    String::from_utf8_lossy(value)
                ),
                NOT_A_NUMBER,
            )
        })
}

fn read(key: &str) -> Result<u64, PluginError> {
    match host::kv_get(key.as_bytes()).map_err(|e| error(e, STORE_FAILED))? {
        None => Ok(0),
        Some(value) => parse(key, &value),
    }
}

impl Guest for Counter {
    fn init(_config: Vec<(String, String)>) -> Result<(), PluginError> {
        Ok(())
    }

    fn call(function: String, input: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        let name = String::from_utf8(input).map_err(|_| PluginError {
            message: "input is not valid UTF-8".into(),
            code: None,
        })?;
        let key = key(&name);
        match function.as_str() {
            "increment" => {
                let value = (read(&key)? + 1).to_string();
                host::kv_set(key.as_bytes(), value.as_bytes())
                    .map_err(|e| error(e, STORE_FAILED))?;
                Ok(value.into_bytes())
            }
            "get" => Ok(read(&key)?.to_string().into_bytes()),
            "reset" => {
                host::kv_delete(key.as_bytes()).map_err(|e| error(e, STORE_FAILED))?;
                Ok(Vec::new())
            }
            other => Err(PluginError {
                message: format!("no function `{other}`"),
                code: None,
            }),
        }
    }
}

export!(Counter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        assert_eq!(key(""), "counter/count");
        assert_eq!(parse("k", b"41").unwrap(), 41);
        assert_eq!(parse("k", b"x").unwrap_err().code, Some(NOT_A_NUMBER));
    }
}
