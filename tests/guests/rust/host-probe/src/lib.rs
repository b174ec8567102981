//! Built by `scripts/build-guests.sh` as `target/guests/wasm/host-probe.wasm`.
//!
//! A test guest that calls every built-in host function (docs/abi.md section 5) through the
//! PDK and reports what it got back as JSON, so that the host's tests can check success
//! paths and error values alike.

use serde_json::{Value, json};
use wasmplug_pdk::{Error, FnResult, Json, config, http, kv, log, plugin_fn, plugin_meta};

plugin_meta! {
    name: "host-probe",
    version: "0.1.0",
    description: "Calls every built-in wasmplug host function for the host's integration tests",
    author: "wasmplug",
}

/// Logs `count` lines at `level` (0..4) and returns how many calls were made.
#[plugin_fn]
fn log_lines(Json(args): Json<Value>) -> FnResult<Json<u64>> {
    let count = args["count"].as_u64().unwrap_or(1);
    let level = match args["level"].as_u64().unwrap_or(2) {
        0 => log::Level::Trace,
        1 => log::Level::Debug,
        2 => log::Level::Info,
        3 => log::Level::Warn,
        _ => log::Level::Error,
    };
    for i in 0..count {
        log::log(level, format!("line {i}"));
    }
    Ok(Json(count))
}

/// The config value of the key given as input, or `null`.
#[plugin_fn]
fn config_value(key: String) -> FnResult<Json<Option<String>>> {
    Ok(Json(config(&key)))
}

/// Runs one kv operation: `{"op": "get"|"set"|"delete"|"list", "key": .., "value": ..}`.
/// Returns `{"ok": result}` or `{"err": message}`: the host's error values are data here.
#[plugin_fn]
fn kv(Json(args): Json<Value>) -> FnResult<Json<Value>> {
    let key = args["key"].as_str().unwrap_or_default();
    let result: Result<Value, Error> = match args["op"].as_str().unwrap_or_default() {
        "get" => kv::get_string(key).map(|v| json!(v)),
        "set" => {
            let value = args["value"].as_str().unwrap_or_default();
            let repeat = args["repeat"].as_u64().unwrap_or(1) as usize;
            kv::set(key, value.repeat(repeat)).map(|()| json!(null))
        }
        "delete" => kv::delete(key).map(|existed| json!(existed)),
        "list" => kv::list(key).map(|keys| {
            json!(
                keys.iter()
                    .map(|k| String::from_utf8_lossy(k))
                    .collect::<Vec<_>>()
            )
        }),
        "incr" => {
            let n = kv::get_json::<u64>(key).and_then(|n| {
                let n = n.unwrap_or(0) + 1;
                kv::set_json(key, &n).map(|()| n)
            });
            n.map(|n| json!(n))
        }
        other => return Err(Error::new(format!("unknown op `{other}`"))),
    };
    Ok(Json(match result {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "err": e.message() }),
    }))
}

/// Makes a request `{"method", "url", "headers": [[n, v]], "body": "text"}` and returns
/// `{"status", "headers", "body"}` or `{"err": message}`.
#[plugin_fn]
fn fetch(Json(args): Json<Value>) -> FnResult<Json<Value>> {
    let mut request = http::Request::new(
        args["method"].as_str().unwrap_or("GET"),
        args["url"].as_str().unwrap_or_default(),
    );
    if let Some(headers) = args["headers"].as_array() {
        for pair in headers {
            request = request.header(
                pair[0].as_str().unwrap_or_default(),
                pair[1].as_str().unwrap_or_default(),
            );
        }
    }
    if let Some(body) = args["body"].as_str() {
        request = request.body(body);
    }
    Ok(Json(match request.send() {
        Ok(r) => json!({
            "status": r.status,
            "headers": r.headers,
            "body": String::from_utf8_lossy(&r.body),
        }),
        Err(e) => json!({ "err": e.message() }),
    }))
}
