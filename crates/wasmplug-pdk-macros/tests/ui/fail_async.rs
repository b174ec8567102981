use wasmplug_pdk::{FnResult, plugin_fn};

#[plugin_fn]
async fn later(input: String) -> FnResult<String> {
    Ok(input)
}

fn main() {}
