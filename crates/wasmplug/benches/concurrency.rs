//! Throughput with 1, 2 and 4 concurrent callers: a fixed number of json-transformer
//! `execute` calls per iteration, split evenly across threads. wasmplug: one shared
//! `Plugin` (`Isolation::Reuse`, default limits, pool max 16); raw: one wasmtime instance
//! per thread on a shared engine (no pool). Criterion reports calls/s (`elem/s`); the lines
//! after each case give the ratio to raw and the scaling over one caller.
//!
//! `cargo bench -p wasmplug --bench concurrency`

mod common;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use common::RawPlugin;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use wasmplug::{Isolation, Plugin};

/// Calls per iteration, split across the threads (divisible by every thread count).
const CALLS: u64 = 2400;
const THREADS: [u64; 3] = [1, 2, 4];

/// Runs `iters` iterations of [`CALLS`] calls on `threads` threads, each calling the closure
/// that `setup` made for it (outside the timed part), and returns the wall-clock time from
/// the moment all threads are ready until the last one finishes.
fn timed<S, F>(threads: u64, iters: u64, setup: &S) -> Duration
where
    S: Fn() -> F + Sync,
    F: FnMut(),
{
    let barrier = Barrier::new(threads as usize + 1);
    let per_thread = CALLS / threads * iters;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut call = setup();
                    barrier.wait();
                    for _ in 0..per_thread {
                        call();
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            h.join().unwrap();
        }
        start.elapsed()
    })
}

fn calls_per_sec(ns_per_iter: f64) -> f64 {
    CALLS as f64 / (ns_per_iter * 1e-9)
}

fn concurrency(c: &mut Criterion) {
    let plugin = Plugin::builder()
        .isolation(Isolation::Reuse)
        .load(common::example_manifest("json-transformer"))
        .expect("load plugin");
    let raw_engine = common::raw_engine(false);
    let raw = RawPlugin::new(&raw_engine, &common::example_wasm("json-transformer"));
    let input = common::JSON_INPUT;

    let ours_setup = || {
        let plugin = plugin.clone();
        move || {
            plugin.call("execute", input).unwrap();
        }
    };
    let raw_setup = || {
        let mut instance = raw.instantiate();
        let func = instance.func("execute");
        move || {
            instance.call(&func, input).unwrap();
        }
    };

    let mut group = c.benchmark_group("concurrency");
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(CALLS));
    for threads in THREADS {
        let case = format!("json-execute-{threads}t");
        group.bench_function(BenchmarkId::new(&case, "wasmplug"), |b| {
            b.iter_custom(|iters| timed(threads, iters, &ours_setup))
        });
        group.bench_function(BenchmarkId::new(&case, "raw"), |b| {
            b.iter_custom(|iters| timed(threads, iters, &raw_setup))
        });
    }
    group.finish();

    let median = |threads: u64, variant| {
        common::median_ns("concurrency", &format!("json-execute-{threads}t"), variant)
    };
    for threads in THREADS {
        let (Some(ours), Some(raw)) = (median(threads, "wasmplug"), median(threads, "raw")) else {
            continue;
        };
        let mut text = format!(
            "concurrency/json-execute-{threads}t: wasmplug {:.0} calls/s vs raw {:.0} calls/s = {:.2}x raw throughput",
            calls_per_sec(ours),
            calls_per_sec(raw),
            raw / ours,
        );
        if threads > 1
            && let (Some(ours1), Some(raw1)) = (median(1, "wasmplug"), median(1, "raw"))
        {
            let scaling = ours1 / ours;
            text += &format!(
                "; scaling over 1 caller: wasmplug {scaling:.2}x, raw {:.2}x",
                raw1 / raw
            );
            if threads == 2 {
                let verdict = if scaling >= 1.8 { "met" } else { "MISSED" };
                text += &format!("; target >= 1.8x: {verdict}");
            }
        }
        common::line(text);
    }
}

fn main() {
    let mut c = common::criterion();
    concurrency(&mut c);
    c.final_summary();
    common::print_summary();
}
