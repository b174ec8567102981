use wasmplug_pdk::{FnResult, FromInput, plugin_fn};

#[plugin_fn]
fn generic<T: FromInput>(input: T) -> FnResult<()> {
    let _ = input;
    Ok(())
}

fn main() {}
