//! Run with: wasmplug run examples/plugins/json-transformer/plugin.toml execute --input '{"request_id":"r1","parameters":{"a":1}}'
//!
//! The `execute` function of the original Go + wazero design (`docs/abi.md`, section 6):
//! input is a `PluginContext`, output a `PluginResult`. The parameters are returned with
//! `_request_id` and `_processed` added. Invalid input is reported in the result
//! (`"success": false`), not as an error value, as the Go plugin did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasmplug_pdk::{FnResult, Json, plugin_fn, plugin_meta};

plugin_meta! {
    name: "json-transformer",
    version: "1.0.0",
    description: "Port of the Go plugin example: tags request parameters with the request id",
    author: "wasmplug",
}

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

/// Returns the request's parameters plus `_request_id` and `_processed: true`.
#[plugin_fn]
fn execute(input: Vec<u8>) -> FnResult<Json<PluginResult>> {
    let result = match serde_json::from_slice::<PluginContext>(&input) {
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
    };
    Ok(Json(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> String {
        serde_json::to_string(&execute(input.as_bytes().to_vec()).unwrap().0).unwrap()
    }

    #[test]
    fn transforms() {
        assert_eq!(
            run(r#"{"request_id":"r1","headers":{"x":"y"},"parameters":{"b":1,"a":[true]}}"#),
            r#"{"success":true,"data":{"b":1,"a":[true],"_request_id":"r1","_processed":true}}"#
        );
        assert_eq!(
            run(r#"{"request_id":"r2"}"#),
            r#"{"success":true,"data":{"_request_id":"r2","_processed":true}}"#
        );
    }

    #[test]
    fn invalid_input() {
        assert_eq!(
            run("{"),
            r#"{"success":false,"data":null,"error":"EOF while parsing an object at line 1 column 1"}"#
        );
    }
}
