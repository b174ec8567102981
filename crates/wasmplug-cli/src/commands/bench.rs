//! `wasmplug bench <plugin> <function> [--input TEXT | --input-file PATH] [--isolation ..]
//! [--concurrency N] [--duration D] [--warmup D | --calls N [--warmup-calls N]] [--pool SLOTS]
//! [--baseline] [--json]`

mod raw;
mod sample;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use wasmplug::{Engine, EngineConfig, InstancePolicy, Isolation, Manifest, Plugin, PoolingConfig};

use super::input::InputArgs;
use super::progress::with_spinner;
use super::sandbox::{SandboxArgs, is_manifest};
use crate::exit;
use raw::RawPlugin;
use sample::{Sample, Span, sample};

/// Measure calls/s and latency of a plugin function.
///
/// `--concurrency` threads call the function in a loop for `--duration`, after `--warmup`;
/// every call is timed. Failed calls are counted by error class, not fatal. With
/// `--baseline` the same workload (same module, input, concurrency and isolation) also runs
/// on bare wasmtime in this process, and the ratio is reported. The instance pool is grown
/// to at least `--concurrency`; the rest of the manifest's `[instances]` policy is kept.
#[derive(Debug, clap::Args)]
pub struct Bench {
    /// The plugin: a `plugin.toml`, a `.wasm` module or a `.wat` file.
    plugin: PathBuf,
    /// The plugin function to call.
    function: String,
    #[command(flatten)]
    input: InputArgs,
    /// Isolation mode [default: the manifest's, else per-call].
    #[arg(long, value_enum)]
    isolation: Option<IsolationArg>,
    /// Concurrent callers (threads).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// How long to measure, e.g. 3s or 500ms.
    #[arg(long, default_value = "3s", value_parser = wasmplug::parse_duration)]
    duration: Duration,
    /// How long to call before measuring.
    #[arg(long, default_value = "500ms", value_parser = wasmplug::parse_duration)]
    warmup: Duration,
    /// Make exactly N measured calls per caller instead of calling for `--duration`: a
    /// workload that repeats exactly, e.g. for instruction counts under valgrind
    /// (`scripts/callgrind-call.sh`).
    #[arg(long, value_name = "N", conflicts_with_all = ["duration", "warmup"])]
    calls: Option<u64>,
    /// With `--calls`: calls each caller makes before measuring.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "calls")]
    warmup_calls: u64,
    /// Instance slots of the engine's pool, and of the baseline's (wasmtime's pooling
    /// allocator: each slot reserves about 4 GiB of address space) [default: 512 for
    /// wasmplug, wasmtime's default for the baseline]. Under valgrind, which maps far less
    /// address space than Linux, use 16 or fewer.
    #[arg(long, value_name = "SLOTS", value_parser = clap::value_parser!(u32).range(1..))]
    pool: Option<u32>,
    /// Also run the workload on bare wasmtime and report the ratio.
    #[arg(long)]
    baseline: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IsolationArg {
    Reuse,
    PerCall,
}

/// The measurements of one side (wasmplug or raw wasmtime).
#[derive(Debug, Serialize)]
struct Measured {
    /// Wall-clock seconds of the measured phase.
    duration_s: f64,
    /// Calls completed in the measured phase, failed ones included.
    calls: u64,
    /// Failed calls by error class.
    errors: BTreeMap<&'static str, u64>,
    calls_per_sec: f64,
    latency_ns: Latency,
}

#[derive(Debug, Serialize)]
struct Latency {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
    mean: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    plugin: String,
    function: String,
    isolation: &'static str,
    concurrency: u32,
    warmup_s: f64,
    /// With `--calls`: the calls each caller made before measuring (`warmup_s` is then 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    warmup_calls: Option<u64>,
    /// Milliseconds a second load of the plugin took in this process (engine up, compiled
    /// module in the cache since the first load): what a reload costs, the first instances'
    /// `_initialize` and `init` included.
    load_ms: f64,
    #[serde(flatten)]
    measured: Measured,
    baseline: Option<Measured>,
    /// wasmplug p50 / raw p50.
    ratio_p50: Option<f64>,
    /// wasmplug mean / raw mean.
    ratio_mean: Option<f64>,
}

impl Bench {
    /// Loads the plugin, runs the workload (and the baseline), prints the report.
    pub fn execute(self) -> anyhow::Result<()> {
        let engine = self.engine().map_err(exit::load)?;
        let label = format!("loading {}", self.plugin.display());
        let plugin = with_spinner(&label, || self.load(engine.as_ref()))
            .with_context(|| format!("cannot load plugin `{}`", self.plugin.display()))
            .map_err(exit::load)?;
        let input = self
            .input
            .read(false, plugin.compiled().limits().max_input.bytes())?;
        let started = std::time::Instant::now();
        drop(self.load(engine.as_ref()).map_err(exit::load)?);
        let load_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        // A function that does not exist is a usage error, not a workload error.
        if let Err(e @ wasmplug::Error::FunctionNotFound { .. }) =
            plugin.call(&self.function, &input)
        {
            return Err(exit::call(e));
        }
        let isolation = plugin.compiled().policy().isolation;
        let baseline = if self.baseline {
            let config = serde_json::to_vec(plugin.compiled().config())?;
            let raw = with_spinner("compiling the baseline", || {
                RawPlugin::load(
                    &self.module_path()?,
                    isolation == Isolation::PerCall,
                    self.pool,
                    config,
                )
            })
            .map_err(exit::load)?;
            Some(raw)
        } else {
            None
        };

        let function = self.function.as_str();
        let input = input.as_slice();
        let measured = self.run(|| {
            let plugin = plugin.clone();
            move || {
                plugin
                    .call(function, input)
                    .map(drop)
                    .map_err(|e| e.class())
            }
        });
        let baseline = baseline.as_ref().map(|raw| match isolation {
            Isolation::PerCall => self.run(|| {
                || {
                    raw.instantiate(function)?.call(input)?;
                    Ok(())
                }
            }),
            _ => self.run(|| {
                // One instance per thread, replaced after a trap (as wasmplug does).
                let mut instance = None;
                move || {
                    let current = match &mut instance {
                        Some(i) => i,
                        None => instance.insert(raw.instantiate(function)?),
                    };
                    match current.call(input) {
                        Ok(_) => Ok(()),
                        Err(e) => {
                            if e != "guest" {
                                instance = None;
                            }
                            Err(e)
                        }
                    }
                }
            }),
        });
        let ratio = |f: fn(&Measured) -> f64| {
            baseline
                .as_ref()
                .map(|b| f(&measured) / f(b).max(1.0))
                .map(|r| (r * 1000.0).round() / 1000.0)
        };
        let report = Report {
            plugin: self.plugin.display().to_string(),
            function: self.function.clone(),
            isolation: match isolation {
                Isolation::Reuse => "reuse",
                _ => "per-call",
            },
            concurrency: self.concurrency,
            warmup_s: match self.span() {
                Span::Time { warmup, .. } => warmup.as_secs_f64(),
                Span::Calls { .. } => 0.0,
            },
            warmup_calls: self.calls.map(|_| self.warmup_calls),
            load_ms,
            ratio_p50: ratio(|m| m.latency_ns.p50 as f64),
            ratio_mean: ratio(|m| m.latency_ns.mean as f64),
            measured,
            baseline,
        };
        if self.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print_table(&report);
        }
        Ok(())
    }

    /// How long each caller calls.
    fn span(&self) -> Span {
        match self.calls {
            Some(measure) => Span::Calls {
                warmup: self.warmup_calls,
                measure,
            },
            None => Span::Time {
                warmup: self.warmup,
                measure: self.duration,
            },
        }
    }

    /// With `--pool`: the engine the plugin runs on (otherwise the shared engine its limits
    /// need).
    fn engine(&self) -> wasmplug::Result<Option<Engine>> {
        let Some(slots) = self.pool else {
            return Ok(None);
        };
        let config = EngineConfig {
            pooling: Some(PoolingConfig {
                total_instances: slots,
                ..PoolingConfig::default()
            }),
            ..self.sandbox.engine_config(&self.plugin)?
        };
        Engine::shared_for(&config).map(Some)
    }

    /// The plugin with the sandbox flags, `--isolation`, and a pool of at least
    /// `--concurrency` instances (on `engine` when given).
    fn load(&self, engine: Option<&Engine>) -> wasmplug::Result<Plugin> {
        let mut policy = if is_manifest(&self.plugin) {
            Manifest::from_file(&self.plugin)?.instances
        } else {
            InstancePolicy::default()
        };
        policy.max = policy.max.max(self.concurrency as usize);
        if let Some(isolation) = self.isolation {
            policy.isolation = match isolation {
                IsolationArg::Reuse => Isolation::Reuse,
                IsolationArg::PerCall => Isolation::PerCall,
            };
        }
        let mut builder = self.sandbox.builder(&self.plugin)?.instances(policy);
        if let Some(engine) = engine {
            builder = builder.engine(engine);
        }
        builder.load(&self.plugin)
    }

    /// The module file the baseline compiles.
    fn module_path(&self) -> anyhow::Result<PathBuf> {
        Ok(if is_manifest(&self.plugin) {
            Manifest::from_file(&self.plugin)?.wasm
        } else {
            self.plugin.clone()
        })
    }

    /// Runs the workload: `--concurrency` threads, each calling the closure `setup` made
    /// for it until the warmup and the measured phase are over.
    fn run<S, F>(&self, setup: S) -> Measured
    where
        S: Fn() -> F + Sync,
        F: FnMut() -> Result<(), &'static str>,
    {
        let threads = self.concurrency as usize;
        let barrier = Barrier::new(threads);
        let start = OnceLock::new();
        let per_thread: Vec<Sample> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut call = setup();
                        barrier.wait();
                        let t0 = *start.get_or_init(Instant::now);
                        sample(&mut call, t0, self.span())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("bench thread panicked"))
                .collect()
        });
        let mut total = Sample::default();
        for s in per_thread {
            total.merge(s);
        }
        let elapsed = match (total.started, total.finished) {
            (Some(s), Some(f)) => f.saturating_duration_since(s),
            _ => Duration::ZERO,
        }
        .max(Duration::from_nanos(1));
        let calls = total.hist.count;
        Measured {
            duration_s: elapsed.as_secs_f64(),
            calls,
            errors: total.errors.into_iter().collect(),
            calls_per_sec: calls as f64 / elapsed.as_secs_f64(),
            latency_ns: Latency {
                p50: total.hist.percentile(0.50),
                p90: total.hist.percentile(0.90),
                p99: total.hist.percentile(0.99),
                max: total.hist.max,
                mean: total.hist.sum.checked_div(calls.into()).unwrap_or(0) as u64,
            },
        }
    }
}

fn fmt_ns(ns: u64) -> String {
    let ns = ns as f64;
    match ns {
        n if n < 1e3 => format!("{n:.0} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

fn print_table(r: &Report) {
    println!(
        "{} `{}`: isolation {}, concurrency {}, {:.2} s measured after {} (loaded in {:.2} ms)",
        r.plugin,
        r.function,
        r.isolation,
        r.concurrency,
        r.measured.duration_s,
        match r.warmup_calls {
            Some(n) => format!("{n} warmup calls per caller"),
            None => format!("{:.2} s warmup", r.warmup_s),
        },
        r.load_ms
    );
    println!(
        "\n{:<9}{:>11}{:>8}{:>13}{:>11}{:>11}{:>11}{:>11}{:>11}",
        "", "calls", "errors", "calls/s", "p50", "p90", "p99", "max", "mean"
    );
    let row = |name: &str, m: &Measured| {
        let l = &m.latency_ns;
        println!(
            "{name:<9}{:>11}{:>8}{:>13.0}{:>11}{:>11}{:>11}{:>11}{:>11}",
            m.calls,
            m.errors.values().sum::<u64>(),
            m.calls_per_sec,
            fmt_ns(l.p50),
            fmt_ns(l.p90),
            fmt_ns(l.p99),
            fmt_ns(l.max),
            fmt_ns(l.mean),
        );
    };
    row("wasmplug", &r.measured);
    if let Some(b) = &r.baseline {
        row("raw", b);
    }
    if let (Some(p50), Some(mean), Some(b)) = (r.ratio_p50, r.ratio_mean, &r.baseline) {
        println!(
            "\nwasmplug / raw: p50 {p50:.2}x, mean {mean:.2}x, throughput {:.2}x",
            r.measured.calls_per_sec / b.calls_per_sec.max(f64::MIN_POSITIVE)
        );
    }
    for (name, m) in
        std::iter::once(("wasmplug", &r.measured)).chain(r.baseline.iter().map(|b| ("raw", b)))
    {
        if !m.errors.is_empty() {
            let list: Vec<String> = m.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("{name} errors: {}", list.join(", "));
        }
    }
}
