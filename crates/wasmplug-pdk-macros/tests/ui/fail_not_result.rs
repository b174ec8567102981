use wasmplug_pdk::plugin_fn;

#[plugin_fn]
fn plain(input: String) -> String {
    input
}

fn main() {}
