use wasmplug_pdk::plugin_fn;

#[plugin_fn]
struct NotAFunction;

fn main() {}
