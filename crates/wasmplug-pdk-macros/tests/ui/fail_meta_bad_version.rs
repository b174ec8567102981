wasmplug_pdk::plugin_meta! {
    name: "probe",
    version: "1.0",
}

fn main() {}
