wasmplug_pdk::plugin_meta! {
    version: 1,
}

fn main() {}
