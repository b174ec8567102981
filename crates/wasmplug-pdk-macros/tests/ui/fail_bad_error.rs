use wasmplug_pdk::plugin_fn;

struct MyError;

#[plugin_fn]
fn custom(input: String) -> Result<String, MyError> {
    Ok(input)
}

fn main() {}
