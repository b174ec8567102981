use wasmplug_pdk::{FnResult, plugin_fn};

#[plugin_fn]
fn init(input: String) -> FnResult<String> {
    Ok(input)
}

fn main() {}
