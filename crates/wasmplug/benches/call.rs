//! One call on a warm instance (`Isolation::Reuse`, default limits: 5 s deadline and 64 MiB
//! memory limit active), through `Plugin::call` and through bare wasmtime, same guest, same
//! input: noop, echo 1 KiB, echo 64 KiB, json-transformer `execute`, and pdk-probe's
//! compute-heavy `work`.
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
        group.bench_function(BenchmarkId::new(case.name, "raw"), |b| {
            b.iter(|| instance.call(&func, black_box(&case.input)).unwrap())
        });
        group.finish();
        common::ratio("call", case.name, case.target);
    }
}

fn main() {
    let mut c = common::criterion();
    call(&mut c);
    c.final_summary();
    common::print_summary();
}
