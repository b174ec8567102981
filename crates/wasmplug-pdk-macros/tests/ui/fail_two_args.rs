use wasmplug_pdk::{FnResult, plugin_fn};

#[plugin_fn]
fn add(a: String, b: String) -> FnResult<String> {
    Ok(a + &b)
}

fn main() {}
