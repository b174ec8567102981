//! `wasmplug bench`: the JSON report's shape, in both isolation modes, with the baseline.
//! No timing assertions: machines are noisy.

use std::process::{Command, Stdio};

use serde_json::Value;

mod common;
use common::built;

/// Runs `wasmplug bench ... --json` for 200 ms and returns the parsed report.
fn bench(args: &[&str]) -> Value {
    bench_for(args, &["--duration", "200ms", "--warmup", "50ms"])
}

/// Runs `wasmplug bench ... --json` with `span` (`--duration` or `--calls` flags).
fn bench_for(args: &[&str], span: &[&str]) -> Value {
    let out = bench_command(args, span);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn bench_command(args: &[&str], span: &[&str]) -> std::process::Output {
    let cache = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .arg("bench")
        .args(args)
        .args(span)
        .arg("--json")
        .env("WASMPLUG_CACHE_DIR", cache.path())
        .current_dir(built())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Checks the fields of one side (wasmplug's, or the baseline's).
fn assert_measured(m: &Value) {
    assert!(m["calls"].as_u64().unwrap() > 0, "{m}");
    assert_eq!(m["errors"], serde_json::json!({}), "{m}");
    assert!(m["calls_per_sec"].as_f64().unwrap() > 0.0, "{m}");
    assert!(m["duration_s"].as_f64().unwrap() > 0.0, "{m}");
    let lat = &m["latency_ns"];
    for key in ["p50", "p90", "p99", "max", "mean"] {
        assert!(lat[key].as_u64().is_some(), "latency_ns.{key}: {m}");
    }
    let (p50, p90, p99, max) = (
        lat["p50"].as_u64().unwrap(),
        lat["p90"].as_u64().unwrap(),
        lat["p99"].as_u64().unwrap(),
        lat["max"].as_u64().unwrap(),
    );
    assert!(p50 <= p90 && p90 <= p99 && p99 <= max, "{m}");
}

#[test]
fn bench_noop_with_baseline_reports_json() {
    let r = bench(&["examples/plugins/echo/plugin.toml", "noop", "--baseline"]);
    assert_eq!(r["plugin"], "examples/plugins/echo/plugin.toml");
    assert_eq!(r["function"], "noop");
    // The echo manifest sets no isolation: the default, per-call, applies.
    assert_eq!(r["isolation"], "per-call");
    assert_eq!(r["concurrency"], 1);
    assert_measured(&r);
    assert_measured(&r["baseline"]);
    assert!(r["ratio_p50"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bench_per_call_concurrent_with_baseline_reports_json() {
    let r = bench(&[
        "examples/plugins/echo/plugin.toml",
        "echo",
        "--input",
        "hello",
        "--isolation",
        "reuse",
        "--concurrency",
        "2",
        "--baseline",
    ]);
    assert_eq!(r["isolation"], "reuse");
    assert_eq!(r["concurrency"], 2);
    assert_measured(&r);
    assert_measured(&r["baseline"]);

    let r = bench(&[
        "examples/plugins/json-transformer/plugin.toml",
        "execute",
        "--input",
        r#"{"request_id":"req-001","headers":{},"parameters":{"action":"transform"}}"#,
        "--isolation",
        "per-call",
        "--concurrency",
        "2",
        "--baseline",
    ]);
    assert_eq!(r["isolation"], "per-call");
    assert_eq!(r["concurrency"], 2);
    assert_measured(&r);
    assert_measured(&r["baseline"]);
}

#[test]
fn bench_without_baseline_has_null_baseline() {
    let r = bench(&["examples/plugins/echo/plugin.toml", "len", "--input", "abc"]);
    assert!(r["baseline"].is_null(), "{r}");
    assert!(r["ratio_p50"].is_null(), "{r}");
    assert_measured(&r);
}

#[test]
fn bench_counts_errors_instead_of_aborting() {
    // `fail` returns an error value on every call: all calls are counted as `guest` errors.
    let out = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(["bench", "target/guests/wasm/pdk-probe.wasm", "fail"])
        .args([
            "--duration",
            "100ms",
            "--warmup",
            "10ms",
            "--json",
            "--no-cache",
        ])
        .current_dir(built())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let calls = r["calls"].as_u64().unwrap();
    assert!(calls > 0);
    assert_eq!(r["errors"]["guest"].as_u64(), Some(calls), "{r}");
}

#[test]
fn bench_unknown_function_is_a_call_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(["bench", "examples/plugins/echo/plugin.toml", "nope"])
        .args(["--duration", "50ms", "--no-cache"])
        .current_dir(built())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn bench_with_a_call_count_makes_exactly_those_calls_on_a_small_pool() {
    let r = bench_for(
        &[
            "examples/plugins/echo/plugin.toml",
            "echo",
            "--input",
            "hello",
            "--isolation",
            "per-call",
            "--concurrency",
            "2",
            "--pool",
            "4",
            "--baseline",
        ],
        &["--calls", "37", "--warmup-calls", "5"],
    );
    // Every caller makes exactly the measured calls asked for, on both sides.
    assert_eq!(r["calls"], 74, "{r}");
    assert_eq!(r["baseline"]["calls"], 74, "{r}");
    assert_eq!(r["warmup_calls"], 5, "{r}");
    assert_eq!(r["warmup_s"], 0.0, "{r}");
    assert_measured(&r);
    assert_measured(&r["baseline"]);
}

#[test]
fn bench_call_count_and_pool_flags_are_checked() {
    let plugin = "examples/plugins/echo/plugin.toml";
    for (args, needle) in [
        (&["--calls", "10", "--duration", "1s"][..], "--duration"),
        (&["--warmup-calls", "10"][..], "--calls"),
        (&["--calls", "10", "--pool", "0"][..], "--pool"),
    ] {
        let out = bench_command(&[plugin, "noop"], args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
