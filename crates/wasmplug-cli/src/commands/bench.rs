//! `wasmplug bench <plugin> <function> [--input TEXT | --input-file PATH] [--isolation ..]
//! [--concurrency N] [--duration D] [--warmup D] [--baseline] [--json]`

mod raw;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use wasmplug::{InstancePolicy, Isolation, Manifest, Plugin};

use super::input::InputArgs;
use super::progress::with_spinner;
use super::sandbox::{SandboxArgs, is_manifest};
use crate::exit;
use raw::RawPlugin;

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
        let label = format!("loading {}", self.plugin.display());
        let plugin = with_spinner(&label, || self.load())
            .with_context(|| format!("cannot load plugin `{}`", self.plugin.display()))
            .map_err(exit::load)?;
        let input = self
            .input
            .read(false, plugin.compiled().limits().max_input.bytes())?;
        let started = std::time::Instant::now();
        drop(self.load().map_err(exit::load)?);
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
            warmup_s: self.warmup.as_secs_f64(),
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

    /// The plugin with the sandbox flags, `--isolation`, and a pool of at least
    /// `--concurrency` instances.
    fn load(&self) -> wasmplug::Result<Plugin> {
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
        self.sandbox
            .builder(&self.plugin)?
            .instances(policy)
            .load(&self.plugin)
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
                        sample(
                            &mut call,
                            t0 + self.warmup,
                            t0 + self.warmup + self.duration,
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("bench thread panicked"))
                .collect()
        });
        let measure_start = *start.get().expect("threads ran") + self.warmup;
        let mut total = Sample::default();
        for s in per_thread {
            total.merge(s);
        }
        let elapsed = total
            .finished
            .map_or(Duration::ZERO, |f| {
                f.saturating_duration_since(measure_start)
            })
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

/// What one thread measured.
#[derive(Default)]
struct Sample {
    hist: Histogram,
    errors: HashMap<&'static str, u64>,
    /// When the last measured call ended.
    finished: Option<Instant>,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.hist.merge(&other.hist);
        for (class, n) in other.errors {
            *self.errors.entry(class).or_default() += n;
        }
        self.finished = self.finished.max(other.finished);
    }
}

/// Calls `call` until `end`, timing (and counting) the calls that start at or after
/// `measure_from`. One clock read per call: a call's end is the next one's start.
fn sample(
    call: &mut impl FnMut() -> Result<(), &'static str>,
    measure_from: Instant,
    end: Instant,
) -> Sample {
    let mut out = Sample::default();
    let mut now = Instant::now();
    while now < end {
        let result = call();
        let after = Instant::now();
        if now >= measure_from {
            out.hist
                .record((after - now).as_nanos().try_into().unwrap_or(u64::MAX));
            if let Err(class) = result {
                *out.errors.entry(class).or_default() += 1;
            }
            out.finished = Some(after);
        }
        now = after;
    }
    out
}

/// A log-linear latency histogram in nanoseconds: exact below 128 ns, then 64 buckets per
/// power of two (under 1.6 % relative error), like HdrHistogram with 2 significant digits.
struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    max: u64,
}

/// Sub-buckets per power of two above the exact range.
const SUB_BUCKETS: u64 = 64;
const EXACT: u64 = 2 * SUB_BUCKETS;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; Self::index(u64::MAX) + 1],
            count: 0,
            sum: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn index(v: u64) -> usize {
        if v < EXACT {
            return v as usize;
        }
        let shift = 63 - v.leading_zeros() as u64 - 6; // >= 1
        let mantissa = v >> shift; // in 64..128
        (EXACT + (shift - 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS)) as usize
    }

    /// The highest value that falls in bucket `index`.
    fn highest(index: usize) -> u64 {
        let index = index as u64;
        if index < EXACT {
            return index;
        }
        let shift = (index - EXACT) / SUB_BUCKETS + 1;
        let mantissa = (index - EXACT) % SUB_BUCKETS + SUB_BUCKETS;
        let next = u128::from(mantissa + 1) << shift;
        u64::try_from(next - 1).unwrap_or(u64::MAX)
    }

    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.count += 1;
        self.sum += u128::from(ns);
        self.max = self.max.max(ns);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0..=1), at most `max`.
    fn percentile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::highest(i).min(self.max);
            }
        }
        self.max
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
        "{} `{}`: isolation {}, concurrency {}, {:.2} s measured after {:.2} s warmup (loaded in {:.2} ms)",
        r.plugin,
        r.function,
        r.isolation,
        r.concurrency,
        r.measured.duration_s,
        r.warmup_s,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_round_trip_within_precision() {
        for v in [0, 1, 127, 128, 129, 1000, 65_535, 1 << 40, u64::MAX] {
            let i = Histogram::index(v);
            assert!(Histogram::highest(i) >= v, "{v}");
            if i > 0 {
                assert!(Histogram::highest(i - 1) < v, "{v}");
            }
        }
        let mut h = Histogram::default();
        for v in 1..=1000 {
            h.record(v * 100);
        }
        let p50 = h.percentile(0.5) as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.02, "{p50}");
        assert_eq!(h.percentile(1.0), 100_000);
        assert_eq!(h.max, 100_000);
    }
}
