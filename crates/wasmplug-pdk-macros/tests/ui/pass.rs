use std::collections::BTreeMap;

use wasmplug_pdk::{Error, FnResult, Json, plugin_fn, plugin_meta};

plugin_meta! {
    name: "pass",
    version: "1.2.3-rc.1+build.5",
    description: "every accepted shape",
    author: "wasmplug",
}

#[plugin_fn]
fn bytes(input: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(input)
}

#[plugin_fn]
fn text(input: String) -> Result<String, Error> {
    Ok(input)
}

#[plugin_fn]
fn json(Json(map): Json<BTreeMap<String, i64>>) -> FnResult<Json<i64>> {
    Ok(Json(map.values().sum()))
}

#[plugin_fn]
fn nothing() -> FnResult<()> {
    Ok(())
}

#[plugin_fn]
fn unit_input(_: ()) -> FnResult<&'static str> {
    Ok("static")
}

#[plugin_fn]
pub fn std_error(input: String) -> Result<String, std::num::ParseIntError> {
    Ok(input.parse::<u64>()?.to_string())
}

#[plugin_fn]
fn r#match(input: String) -> FnResult<String> {
    Ok(input)
}

// Names that the generated wrapper uses internally.
#[plugin_fn]
fn len(input: Vec<u8>) -> FnResult<String> {
    Ok(input.len().to_string())
}

#[plugin_fn]
fn ptr() -> FnResult<()> {
    Ok(())
}

mod nested {
    use wasmplug_pdk::{FnResult, plugin_fn};

    #[plugin_fn]
    pub(crate) fn in_module() -> FnResult<String> {
        Ok("nested".into())
    }
}

fn main() {
    assert_eq!(bytes(vec![1]).unwrap(), vec![1]);
    assert_eq!(nested::in_module().unwrap(), "nested");
    assert_eq!(r#match("x".into()).unwrap(), "x");
    // The export wrappers exist on every target (only exported on wasm32).
    // SAFETY: empty input involves no buffer.
    assert_eq!(unsafe { __wasmplug_export_nothing(0, 0) }, 0);
    // SAFETY: as above. (The output pointer is only meaningful on wasm32.)
    let _ = unsafe { nested::__wasmplug_export_in_module(0, 0) };
}
