//! Whole modules from wasm-smith, shaped like plugins, loaded and called with tiny limits
//! (1 MiB of memory, 50 ms, optional fuel): no crash, no panic, no hang, every failure a
//! typed `wasmplug::Error` of the right phase.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wasmplug::{HostConfig, Isolation, KvStore, Plugin};
use wasmplug_fuzz::smith;

fn run(data: &[u8]) -> arbitrary::Result<()> {
    let mut u = Unstructured::new(data);
    let fuel = u.ratio(1, 2)?;
    let reuse = u.arbitrary()?;
    let terminate = u.ratio(3, 4)?;
    let input: Vec<u8> = u.arbitrary()?;
    let module = smith::plugin(&mut u, terminate)?;
    let limits = wasmplug_fuzz::tiny_limits(fuel.then_some(200_000));
    let loaded = Plugin::builder()
        .engine(wasmplug_fuzz::engine(fuel))
        .limits(limits)
        .isolation(if reuse {
            Isolation::Reuse
        } else {
            Isolation::PerCall
        })
        .host(HostConfig {
            kv: Some(KvStore::in_memory()),
            ..HostConfig::default()
        })
        .from_bytes(&module);
    let plugin = match loaded {
        Ok(plugin) => plugin,
        Err(e) => {
            wasmplug_fuzz::check_load_error(&e);
            return Ok(());
        }
    };
    for _ in 0..2 {
        if let Err(e) = plugin.call("run", &input) {
            wasmplug_fuzz::check_call_error(&e);
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
