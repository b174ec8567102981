//! One call on a warm instance (`Isolation::Reuse`, default limits: 5 s deadline and 64 MiB
//! memory limit active), through `Plugin::call` (the shared pool), through a
//! [`wasmplug::Lease`] (one slot held by the caller) and through bare wasmtime, same guest,
//! same input: noop, echo 1 KiB, echo 64 KiB, json-transformer `execute`, and pdk-probe's
//! compute-heavy `work`. `call-async/json-execute` compares `Plugin::call_async` (awaited
//! on a current-thread tokio runtime) with the sync `Plugin::call` of the same instance.
//!
//! `cargo bench -p wasmplug --bench call`

mod common;

use std::hint::black_box;
use std::path::Path;

use common::{RawPlugin, Target};
use criterion::{BenchmarkId, Criterion, Throughput};
use wasmplug::{Isolation, Plugin};

struct Case {
    name: &'static str,
    /// `plugin.toml` (or `.wasm`) loaded by wasmplug, and the module the raw driver runs.
    plugin: std::path::PathBuf,
    wasm: std::path::PathBuf,
    function: &'static str,
    input: Vec<u8>,
    target: Target,
}

fn cases() -> Vec<Case> {
    let echo = || {
        (
            common::example_manifest("echo"),
            common::example_wasm("echo"),
        )
    };
    let case = |name, (plugin, wasm), function, input: &[u8], target| Case {
        name,
        plugin,
        wasm,
        function,
        input: input.to_vec(),
        target,
    };
    vec![
        case("noop", echo(), "noop", b"", Target::MaxNs(100.0)),
        case(
            "echo-1k",
            echo(),
            "echo",
            &[b'x'; 1024],
            Target::MaxNs(300.0),
        ),
        case("echo-64k", echo(), "echo", &[b'x'; 64 * 1024], Target::None),
        case(
            "json-execute",
            (
                common::example_manifest("json-transformer"),
                common::example_wasm("json-transformer"),
            ),
            "execute",
            common::JSON_INPUT,
            Target::MaxRatio(1.25),
        ),
        case(
            "work-20k",
            (common::probe_wasm(), common::probe_wasm()),
            "work",
            common::WORK_ROUNDS,
            Target::None,
        ),
    ]
}

fn load(plugin: &Path) -> Plugin {
    Plugin::builder()
        .isolation(Isolation::Reuse)
        .load(plugin)
        .expect("load plugin")
}

fn call(c: &mut Criterion) {
    let raw_engine = common::raw_engine(false);
    for case in cases() {
        let plugin = load(&case.plugin);
        let raw = RawPlugin::new(&raw_engine, &case.wasm);
        let mut instance = raw.instantiate();
        let func = instance.func(case.function);
        // Both sides must agree before anything is timed.
        let expected = plugin.call(case.function, &case.input).unwrap();
        assert_eq!(instance.call(&func, &case.input).unwrap(), expected);

        let mut group = c.benchmark_group("call");
        if case.input.len() >= 1024 {
            group.throughput(Throughput::Bytes(case.input.len() as u64));
        }
        group.bench_function(BenchmarkId::new(case.name, "wasmplug"), |b| {
            b.iter(|| plugin.call(case.function, black_box(&case.input)).unwrap())
        });
        let mut lease = plugin.lease().expect("lease");
        group.bench_function(BenchmarkId::new(case.name, "lease"), |b| {
            b.iter(|| lease.call(case.function, black_box(&case.input)).unwrap())
        });
        drop(lease);
        group.bench_function(BenchmarkId::new(case.name, "raw"), |b| {
            b.iter(|| instance.call(&func, black_box(&case.input)).unwrap())
        });
        group.finish();
        common::ratio("call", case.name, case.target);
        common::lease_ratio("call", case.name);
    }
}

/// What `call_async` costs over the sync call (the same async call path, driven by tokio
/// instead of the calling thread).
fn call_async(c: &mut Criterion) {
    let plugin = load(&common::example_manifest("json-transformer"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let input = common::JSON_INPUT;
    let via_async = || rt.block_on(plugin.call_async("execute", input.to_vec()));
    assert_eq!(via_async().unwrap(), plugin.call("execute", input).unwrap());
    let mut group = c.benchmark_group("call-async");
    group.bench_function(BenchmarkId::new("json-execute", "sync"), |b| {
        b.iter(|| plugin.call("execute", black_box(input)).unwrap())
    });
    group.bench_function(BenchmarkId::new("json-execute", "async"), |b| {
        b.iter(|| via_async().unwrap())
    });
    group.finish();
    if let (Some(sync), Some(asynk)) = (
        common::median_ns("call-async", "json-execute", "sync"),
        common::median_ns("call-async", "json-execute", "async"),
    ) {
        common::line(format!(
            "call-async/json-execute: call_async {} vs call {} = {:.2}x (+{}) (medians)",
            common::fmt_ns(asynk),
            common::fmt_ns(sync),
            asynk / sync,
            common::fmt_ns(asynk - sync)
        ));
    }
}

fn main() {
    let mut c = common::criterion();
    call(&mut c);
    call_async(&mut c);
    c.final_summary();
    common::print_summary();
}
