//! Host-function argument decoding: a guest calls the built-in and application host
//! functions with fuzzer-chosen pointers, lengths and scalars; the call must end as the
//! model in `wasmplug_fuzz::hostcalls` says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmplug::{ByteSize, Error, HostConfig, KvStore, Plugin, TrapKind};
use wasmplug_fuzz::hostcalls::{self, Expected, MEMORY_SIZE, Plan};

fuzz_target!(|plan: Plan| {
    let mut limits = wasmplug_fuzz::tiny_limits(None);
    // Host functions are not interrupted: a generous deadline, and any result fits.
    limits.timeout = Some(std::time::Duration::from_secs(2));
    limits.max_output = ByteSize(MEMORY_SIZE);
    let mut builder = Plugin::builder()
        .engine(wasmplug_fuzz::engine(false))
        .limits(limits)
        .host(HostConfig {
            functions: hostcalls::functions(),
            kv: Some(KvStore::in_memory()),
            ..HostConfig::default()
        });
    for (k, v) in plan.config.iter().take(8) {
        builder = builder.config(k.clone(), v.clone());
    }
    let plugin = builder
        .from_bytes(plan.wat().as_bytes())
        .expect("the host-args module loads");
    let result = plugin.call("run", &[]);
    if let Err(e) = &result {
        wasmplug_fuzz::check_call_error(e);
    }
    let alloc_failed = matches!(
        &result,
        Err(Error::Trap { kind: TrapKind::HostFunction, message, .. }) if message.contains("returned 0")
    );
    if alloc_failed {
        return; // the guest's 64 KiB heap ran out first
    }
    let ok = match (plan.expected(), &result) {
        (Expected::Unknown, _) => true,
        (Expected::Ok(None), Ok(_)) => true,
        (Expected::Ok(Some(bytes)), Ok(out)) => &bytes == out,
        (Expected::Guest, Err(Error::Guest { .. })) => true,
        (Expected::OutOfBounds, Err(Error::MemoryOutOfBounds { .. })) => true,
        (
            Expected::Panic,
            Err(Error::Trap {
                kind: TrapKind::Panic,
                ..
            }),
        ) => true,
        (Expected::Abort, Err(Error::HostFunction { .. })) => true,
        _ => false,
    };
    assert!(
        ok,
        "expected {:?}, got {result:?} for {plan:?}",
        plan.expected()
    );
});
