use wasmplug_pdk::plugin_fn;

#[plugin_fn]
fn nothing(input: String) {
    let _ = input;
}

fn main() {}
