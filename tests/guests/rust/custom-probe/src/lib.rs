//! Built by `scripts/build-guests.sh` as `target/guests/wasm/custom-probe.wasm`.
//!
//! A test guest importing host functions that the test registers with
//! `wasmplug::HostFunctions` in module `probe` (docs/abi.md section 5.3): scalars, strings,
//! JSON, error values, aborts and an async function.

use serde_json::{Value, json};
use wasmplug_pdk::{FnResult, Json, host_fn, plugin_fn, plugin_meta};

plugin_meta! {
    name: "custom-probe",
    version: "0.1.0",
    description: "Imports application host functions for the host's integration tests",
    author: "wasmplug",
}

#[host_fn("probe")]
extern "C" {
    fn add(a: i64, b: i64) -> i64;
    fn scale(x: f64, by: f32) -> f64;
    fn is_even(n: u32) -> bool;
    fn greet(name: &str) -> String;
    fn context() -> Json<Value>;
    fn describe(value: Json<Value>) -> Json<Value>;
    fn checked_div(a: i32, b: i32) -> i32;
    fn abort_call(reason: &str);
    fn slow_lookup(id: u32) -> String;
    fn bump();
}

/// Calls `probe::add` on `[a, b]`.
#[plugin_fn]
fn sum(Json((a, b)): Json<(i64, i64)>) -> FnResult<Json<i64>> {
    Ok(Json(add(a, b)?))
}

/// Exercises the scalar, string and JSON functions once and reports all results.
#[plugin_fn]
fn tour(name: String) -> FnResult<Json<Value>> {
    Ok(Json(json!({
        "scaled": scale(1.5, 4.0)?,
        "even": [is_even(4)?, is_even(7)?],
        "greeting": greet(&name)?,
        "context": context()?.0,
        "described": describe(Json(json!({"name": name, "n": 3})))?.0,
    })))
}

/// `probe::checked_div`; division by zero is the host's error value, returned here as data.
#[plugin_fn]
fn divide(Json((a, b)): Json<(i32, i32)>) -> FnResult<Json<Value>> {
    Ok(Json(match checked_div(a, b) {
        Ok(q) => json!({ "ok": q }),
        Err(e) => json!({ "err": e.message() }),
    }))
}

/// `probe::abort_call`: the host aborts the whole call, so this never returns normally.
#[plugin_fn]
fn abort(reason: String) -> FnResult<String> {
    abort_call(&reason)?;
    Ok("not aborted".into())
}

/// `probe::slow_lookup`, an async host function.
#[plugin_fn]
fn lookup(Json(id): Json<u32>) -> FnResult<String> {
    slow_lookup(id)
}

/// Calls `probe::bump` `n` times (the host counts in its own state).
#[plugin_fn]
fn bump_times(Json(n): Json<u32>) -> FnResult<()> {
    for _ in 0..n {
        bump()?;
    }
    Ok(())
}
