use wasmplug_pdk::{FnResult, plugin_fn};

struct Plugin;

impl Plugin {
    #[plugin_fn]
    fn method(&self, input: String) -> FnResult<String> {
        Ok(input)
    }
}

fn main() {}
