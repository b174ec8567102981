use wasmplug_pdk::{FnResult, plugin_fn};

#[plugin_fn]
fn number(input: u32) -> FnResult<String> {
    Ok(input.to_string())
}

fn main() {}
