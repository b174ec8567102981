//! The `json-transformer` example as a component of the `wasmplug:plugin` world
//! (wit/plugin): `execute` takes a `PluginContext` and returns a `PluginResult`, exactly as
//! `examples/plugins/json-transformer` (the conformance suite checks both).

wit_bindgen::generate!({ world: "plugin", path: "../../../wit/plugin" });

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The input of `execute`.
#[derive(Debug, Deserialize)]
struct PluginContext {
    request_id: String,
    #[serde(default)]
    #[allow(dead_code)] // part of the Go interface; this plugin does not use headers
    headers: BTreeMap<String, String>,
    #[serde(default)]
    parameters: Map<String, Value>,
}

/// The output of `execute`.
#[derive(Debug, Serialize)]
struct PluginResult {
    success: bool,
    data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Returns the request's parameters plus `_request_id` and `_processed: true`; invalid
/// input is reported in the result (`"success": false`), not as an error value.
fn execute(input: &[u8]) -> PluginResult {
    match serde_json::from_slice::<PluginContext>(input) {
        Ok(ctx) => {
            let mut data = ctx.parameters;
            data.insert("_request_id".into(), Value::String(ctx.request_id));
            data.insert("_processed".into(), Value::Bool(true));
            PluginResult {
                success: true,
                data: Value::Object(data),
                error: None,
            }
        }
        Err(e) => PluginResult {
            success: false,
            data: Value::Null,
            error: Some(e.to_string()),
        },
    }
}

struct Transformer;

impl Guest for Transformer {
    fn init(_config: Vec<(String, String)>) -> Result<(), PluginError> {
        Ok(())
    }

    fn call(function: String, input: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        match function.as_str() {
            "execute" => serde_json::to_vec(&execute(&input)).map_err(|e| PluginError {
                message: e.to_string(),
                code: None,
            }),
            other => Err(PluginError {
                message: format!("no function `{other}`"),
                code: None,
            }),
        }
    }
}

export!(Transformer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms() {
        let out = serde_json::to_string(&execute(
            br#"{"request_id":"r1","parameters":{"b":1,"a":[true]}}"#,
        ))
        .unwrap();
        assert_eq!(
            out,
            r#"{"success":true,"data":{"b":1,"a":[true],"_request_id":"r1","_processed":true}}"#
        );
    }
}
