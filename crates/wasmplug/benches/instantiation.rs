//! What a fresh instance and a fresh load cost.
//!
//! - `per-call/*`: `Isolation::PerCall` (default limits) instantiates the plugin for every
//!   call: `Plugin::call` against a raw pooling-allocator engine that instantiates from an
//!   `InstancePre`, runs `_initialize` and `init("{}")`, looks up the functions and calls,
//!   every iteration.
//! - `load/*`: loading the json-transformer from a warm compiled-module cache
//!   (`PluginBuilder::compile` on an engine with `cache_dir`: manifest, module read, sha256,
//!   ABI checks, cache entry checksum, deserialisation) against raw wasmtime's
//!   `Module::deserialize_file` of the same module.
//!
//! `cargo bench -p wasmplug --bench instantiation`

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{RawPlugin, Target};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use wasmplug::{CacheOutcome, Engine, EngineConfig, Isolation, Plugin};

fn per_call(c: &mut Criterion) {
    let raw_engine = common::raw_engine(true);
    let cases: [(&str, &str, &str, &[u8], Target); 2] = [
        (
            "json-execute",
            "json-transformer",
            "execute",
            common::JSON_INPUT,
            Target::MaxNs(10_000.0),
        ),
        ("echo-noop", "echo", "noop", b"", Target::None),
    ];
    for (name, example, function, input, target) in cases {
        let plugin = Plugin::builder()
            .isolation(Isolation::PerCall)
            .load(common::example_manifest(example))
            .expect("load plugin");
        let raw = RawPlugin::new(&raw_engine, &common::example_wasm(example));
        let raw_call = || {
            let mut instance = raw.instantiate();
            let func = instance.func(function);
            instance.call(&func, black_box(input)).unwrap()
        };
        assert_eq!(plugin.call(function, input).unwrap(), raw_call());

        let mut group = c.benchmark_group("per-call");
        group.bench_function(BenchmarkId::new(name, "wasmplug"), |b| {
            b.iter(|| plugin.call(function, black_box(input)).unwrap())
        });
        group.bench_function(BenchmarkId::new(name, "raw"), |b| b.iter(raw_call));
        group.finish();
        common::ratio("per-call", name, target);
    }
}

fn load(c: &mut Criterion) {
    let manifest = common::example_manifest("json-transformer");
    let wasm = common::example_wasm("json-transformer");
    let dir = tempfile::tempdir().expect("temp dir");

    let engine = Engine::new(EngineConfig {
        cache_dir: Some(dir.path().join("wasmplug")),
        ..EngineConfig::default()
    })
    .expect("engine");
    let compile = || {
        Plugin::builder()
            .engine(&engine)
            .compile(&manifest)
            .expect("compile")
    };
    compile(); // fills the cache
    assert_eq!(compile().cache_outcome(), CacheOutcome::Hit);

    let raw_engine = common::raw_engine(false);
    let serialized = dir.path().join("raw.cwasm");
    let module = wasmtime::Module::from_file(&raw_engine, &wasm).expect("compile");
    std::fs::write(&serialized, module.serialize().expect("serialize")).unwrap();

    let mut group = c.benchmark_group("load");
    group.sample_size(20).sampling_mode(SamplingMode::Flat);
    group.bench_function(
        BenchmarkId::new("json-transformer-cached", "wasmplug"),
        |b| b.iter(compile),
    );
    group.bench_function(BenchmarkId::new("json-transformer-cached", "raw"), |b| {
        // SAFETY: the file was written just above by `Module::serialize` on this engine.
        b.iter(|| unsafe { wasmtime::Module::deserialize_file(&raw_engine, &serialized) }.unwrap())
    });
    group.finish();
    common::ratio(
        "load",
        "json-transformer-cached",
        Target::MaxNs(Duration::from_millis(2).as_nanos() as f64),
    );
}

fn main() {
    let mut c = common::criterion();
    per_call(&mut c);
    load(&mut c);
    c.final_summary();
    common::print_summary();
}
