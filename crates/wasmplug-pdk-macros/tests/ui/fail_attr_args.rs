use wasmplug_pdk::{FnResult, plugin_fn};

#[plugin_fn(name = "other")]
fn echo(input: String) -> FnResult<String> {
    Ok(input)
}

fn main() {}
