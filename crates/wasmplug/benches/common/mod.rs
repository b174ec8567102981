//! Shared by the benches: the guests, the raw-wasmtime baseline driver, criterion settings
//! and the `ours vs raw` ratio lines.
//!
//! The raw driver is what a user of bare wasmtime would write for the same guest: one
//! `Linker` with WASI preview 1 (an empty context) and stubs for the `wasmplug` imports, an
//! `InstancePre`, typed functions looked up once per instance, and the ABI v1 steps done by
//! hand (allocate, write the input, call, read the output, deallocate). No epoch deadline,
//! no memory limiter, no stdio capture, no pool: that is the floor wasmplug is measured
//! against. `wasmplug-cli` has a second copy of this driver for `wasmplug bench --baseline`
//! (benches cannot depend on the CLI crate).

#![allow(dead_code)] // each bench uses part of this module

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use wasmtime::{Caller, Engine, InstancePre, Linker, Memory, Module, Store, TypedFunc};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

/// The input of every json-transformer case (the seed of `examples/plugins/json-transformer`).
pub const JSON_INPUT: &[u8] =
    br#"{"request_id":"req-001","headers":{},"parameters":{"action":"transform"}}"#;

/// Input of the compute-heavy case: rounds of pdk-probe's `work` function.
pub const WORK_ROUNDS: &[u8] = b"20000";

// ---------------------------------------------------------------------------------------
// Guests

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Builds the Rust guests once per bench binary (like the tests) and returns the repo root.
pub fn guests_built() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = root();
            let status = Command::new("bash")
                .arg(root.join("scripts/build-guests.sh"))
                .status()
                .expect("run scripts/build-guests.sh");
            assert!(status.success(), "scripts/build-guests.sh failed");
            root
        })
        .clone()
}

/// `examples/plugins/<name>/plugin.toml`, built.
pub fn example_manifest(name: &str) -> PathBuf {
    guests_built().join(format!("examples/plugins/{name}/plugin.toml"))
}

/// `examples/plugins/<name>/<name>.wasm`, built.
pub fn example_wasm(name: &str) -> PathBuf {
    guests_built().join(format!("examples/plugins/{name}/{name}.wasm"))
}

/// `target/guests/wasm/pdk-probe.wasm`, built.
pub fn probe_wasm() -> PathBuf {
    guests_built().join("target/guests/wasm/pdk-probe.wasm")
}

// ---------------------------------------------------------------------------------------
// Raw wasmtime driver

/// Store data of a raw instance.
pub struct RawState {
    wasi: WasiP1Ctx,
    /// Set by the `wasmplug.set_error` stub during a call.
    guest_error: bool,
}

/// A bare engine: wasmtime's defaults, or its default pooling allocator.
pub fn raw_engine(pooling: bool) -> Engine {
    let mut config = wasmtime::Config::new();
    if pooling {
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(
            wasmtime::PoolingAllocationConfig::default(),
        ));
    }
    Engine::new(&config).expect("raw engine")
}

type PluginFn = TypedFunc<(u32, u32), i64>;

/// A guest compiled and linked by bare wasmtime.
pub struct RawPlugin {
    pre: InstancePre<RawState>,
    has_initialize: bool,
    has_init: bool,
}

impl RawPlugin {
    /// Compiles `wasm` on `engine` and pre-links it.
    pub fn new(engine: &Engine, wasm: &Path) -> RawPlugin {
        Self::from_module(engine, &Module::from_file(engine, wasm).expect("compile"))
    }

    /// Pre-links an already compiled module.
    pub fn from_module(engine: &Engine, module: &Module) -> RawPlugin {
        let mut linker: Linker<RawState> = Linker::new(engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut RawState| &mut s.wasi)
            .expect("link wasi");
        linker
            .func_wrap(
                "wasmplug",
                "set_error",
                |mut caller: Caller<'_, RawState>, _ptr: u32, _len: u32, _code: i32| {
                    caller.data_mut().guest_error = true;
                },
            )
            .expect("link set_error");
        linker
            .func_wrap(
                "wasmplug",
                "panic",
                |_: Caller<'_, RawState>, _ptr: u32, _len: u32| -> wasmtime::Result<()> {
                    Err(wasmtime::format_err!("guest panicked"))
                },
            )
            .expect("link panic");
        // Other host functions (config, kv, http, log) trap if called: the baseline measures
        // the guest's own work, and the benchmarked functions do not call them.
        linker
            .define_unknown_imports_as_traps(module)
            .expect("stub the other imports");
        let has = |name: &str| module.get_export(name).is_some();
        RawPlugin {
            has_initialize: has("_initialize"),
            has_init: has("init"),
            pre: linker.instantiate_pre(module).expect("instantiate_pre"),
        }
    }

    /// A fresh instance, after `_initialize` and `init("{}")` (what wasmplug does).
    pub fn instantiate(&self) -> RawInstance {
        let wasi = WasiCtxBuilder::new().build_p1();
        let mut store = Store::new(
            self.pre.module().engine(),
            RawState {
                wasi,
                guest_error: false,
            },
        );
        let instance = self.pre.instantiate(&mut store).expect("instantiate");
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("memory export");
        let allocate = instance
            .get_typed_func(&mut store, "allocate")
            .expect("allocate export");
        let deallocate = instance
            .get_typed_func(&mut store, "deallocate")
            .expect("deallocate export");
        let mut raw = RawInstance {
            store,
            instance,
            memory,
            allocate,
            deallocate,
        };
        if self.has_initialize {
            let f: TypedFunc<(), ()> = instance
                .get_typed_func(&mut raw.store, "_initialize")
                .unwrap();
            f.call(&mut raw.store, ()).expect("_initialize");
        }
        if self.has_init {
            let init = raw.func("init");
            raw.call(&init, b"{}").expect("init");
        }
        raw
    }
}

/// One raw instance and its ABI functions.
pub struct RawInstance {
    store: Store<RawState>,
    instance: wasmtime::Instance,
    memory: Memory,
    allocate: TypedFunc<u32, u32>,
    deallocate: TypedFunc<(u32, u32), ()>,
}

impl RawInstance {
    /// The typed plugin function `name` (exported as `name` or `wasmplug:name`).
    pub fn func(&mut self, name: &str) -> PluginFn {
        self.instance
            .get_typed_func(&mut self.store, name)
            .or_else(|_| {
                self.instance
                    .get_typed_func(&mut self.store, &format!("wasmplug:{name}"))
            })
            .unwrap_or_else(|e| panic!("function {name}: {e}"))
    }

    /// The ABI v1 call protocol by hand.
    pub fn call(&mut self, func: &PluginFn, input: &[u8]) -> wasmtime::Result<Vec<u8>> {
        let len = input.len() as u32;
        let ptr = if len == 0 {
            0
        } else {
            let ptr = self.allocate.call(&mut self.store, len)?;
            self.memory
                .write(&mut self.store, ptr as usize, input)
                .map_err(|e| wasmtime::format_err!("{e}"))?;
            ptr
        };
        let packed = func.call(&mut self.store, (ptr, len))?;
        if std::mem::take(&mut self.store.data_mut().guest_error) {
            return Err(wasmtime::format_err!("guest error"));
        }
        let (out_ptr, out_len) = ((packed as u64 >> 32) as u32, packed as u32);
        if out_len == 0 {
            return Ok(Vec::new());
        }
        let mut out = vec![0; out_len as usize];
        self.memory
            .read(&self.store, out_ptr as usize, &mut out)
            .map_err(|e| wasmtime::format_err!("{e}"))?;
        self.deallocate.call(&mut self.store, (out_ptr, out_len))?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Criterion settings and ratio lines

/// When this bench binary started measuring: estimates older than this are from another run.
fn started() -> SystemTime {
    static STARTED: OnceLock<SystemTime> = OnceLock::new();
    *STARTED.get_or_init(SystemTime::now)
}

/// Criterion with the defaults of these benches (command-line flags such as
/// `--measurement-time` still override them). No plots.
pub fn criterion() -> Criterion {
    started();
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .without_plots()
        .configure_from_args()
}

/// Where criterion writes its results (the same rule as criterion's: `$CRITERION_HOME`,
/// else `<cargo target dir>/criterion`).
fn criterion_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(home) = std::env::var_os("CRITERION_HOME") {
            return PathBuf::from(home);
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                let out = Command::new(std::env::var_os("CARGO")?)
                    .args(["metadata", "--format-version", "1", "--no-deps"])
                    .output()
                    .ok()?;
                let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
                meta["target_directory"].as_str().map(PathBuf::from)
            })
            .unwrap_or_else(|| root().join("target"));
        target.join("criterion")
    })
    .clone()
}

/// The median time per iteration, in ns, that criterion measured in this run for
/// `group/case/variant` (None when that case did not run now, e.g. filtered out or
/// `--test` mode).
pub fn median_ns(group: &str, case: &str, variant: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(case)
        .join(variant)
        .join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < started() {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// `1.23 µs`-style rendering of nanoseconds.
pub fn fmt_ns(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

/// A target of issue 5, checked on the ratio line.
#[derive(Clone, Copy)]
pub enum Target {
    /// No target for this case.
    None,
    /// Our time per call at most this many ns.
    MaxNs(f64),
    /// Our time at most this multiple of raw.
    MaxRatio(f64),
}

static SUMMARY: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records and prints a line (also repeated by [`print_summary`]).
pub fn line(text: String) {
    println!("\n>> {text}\n");
    SUMMARY.lock().unwrap().push(text);
}

/// Prints `case: wasmplug X vs raw Y = R x` for `group/case/{wasmplug,raw}` from this run's
/// criterion medians, with the target verdict.
pub fn ratio(group: &str, case: &str, target: Target) {
    variant_ratio(group, case, "wasmplug", target);
}

/// Like [`ratio`] for the `lease` variant (issue 13's `noop` target: at most 1.3x raw).
pub fn lease_ratio(group: &str, case: &str) {
    let target = match case {
        "noop" => Target::MaxRatio(1.3),
        _ => Target::None,
    };
    variant_ratio(group, case, "lease", target);
}

fn variant_ratio(group: &str, case: &str, variant: &str, target: Target) {
    let (Some(ours), Some(raw)) = (
        median_ns(group, case, variant),
        median_ns(group, case, "raw"),
    ) else {
        return;
    };
    let ratio = ours / raw;
    let verdict = match target {
        Target::None => String::new(),
        Target::MaxNs(max) => format!(
            "; target <= {}: {}",
            fmt_ns(max),
            if ours <= max { "met" } else { "MISSED" }
        ),
        Target::MaxRatio(max) => format!(
            "; target <= {max}x raw: {}",
            if ratio <= max { "met" } else { "MISSED" }
        ),
    };
    line(format!(
        "{group}/{case}: {variant} {} vs raw {} = {ratio:.2}x (medians){verdict}",
        fmt_ns(ours),
        fmt_ns(raw)
    ));
}

/// Prints every recorded line again, after criterion's output.
pub fn print_summary() {
    let lines = SUMMARY.lock().unwrap();
    if lines.is_empty() {
        return;
    }
    println!("\nwasmplug vs raw wasmtime (criterion medians of this run):");
    for l in lines.iter() {
        println!("  {l}");
    }
}
