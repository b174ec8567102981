wasmplug_pdk::plugin_meta! {
    name: "My Plugin",
}

fn main() {}
