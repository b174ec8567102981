wasmplug_pdk::plugin_meta! {
    name: "probe",
    name: "again",
}

fn main() {}
