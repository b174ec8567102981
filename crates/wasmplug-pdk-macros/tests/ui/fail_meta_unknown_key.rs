wasmplug_pdk::plugin_meta! {
    name: "probe",
    license: "MIT",
}

fn main() {}
