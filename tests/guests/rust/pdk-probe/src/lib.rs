//! Built by `scripts/build-guests.sh` as `target/guests/wasm/pdk-probe.wasm`; try it with
//! `wasmplug run target/guests/wasm/pdk-probe.wasm sum --input '[1,2,3]'`.
//!
//! A test guest for the host's integration tests: one function per PDK feature or failure
//! mode (panics, error values with and without code, configuration, JSON, UTF-8 checks,
//! stack overflow, memory limits, endless loops), and `work`, a compute-heavy function for the
//! benchmarks.

use std::hint::black_box;

use wasmplug_pdk::{Error, FnResult, Json, plugin_fn, plugin_meta};

plugin_meta! {
    name: "pdk-probe",
    version: "0.1.0",
    description: "Exercises every wasmplug-pdk feature for the host's integration tests",
    author: "wasmplug",
}

/// Panics with `boom: <input>`: a trap whose message comes through `wasmplug.panic`.
#[plugin_fn]
fn panic(input: String) -> FnResult<()> {
    panic!("boom: {input}")
}

/// Fails with the error value `probe failure`, code 7.
#[plugin_fn]
fn fail() -> FnResult<()> {
    Err(Error::new("probe failure").with_code(7))
}

/// Fails with an error value without code (0).
#[plugin_fn]
fn fail_nocode() -> FnResult<()> {
    Err(Error::new("probe failure without code"))
}

/// Returns the configuration value of the input key, or the error value
/// `missing config key <key>` with code 404.
#[plugin_fn]
fn config(key: String) -> FnResult<String> {
    wasmplug_pdk::config(&key)
        .ok_or_else(|| Error::new(format!("missing config key {key}")).with_code(404))
}

/// Sums a JSON array of integers (`[1,2,3]` -> `6`); overflow is an error value.
#[plugin_fn]
fn sum(Json(numbers): Json<Vec<i64>>) -> FnResult<Json<i64>> {
    numbers
        .iter()
        .try_fold(0i64, |acc, &n| acc.checked_add(n))
        .map(Json)
        .ok_or_else(|| Error::new("sum overflows i64"))
}

/// Returns its input; invalid UTF-8 input is an error value (from the PDK's `String` input).
#[plugin_fn]
fn text(input: String) -> FnResult<String> {
    Ok(input)
}

/// Recurses `n` levels deep (input: decimal `n`) and returns the depth reached, `n`.
/// Enough levels overflow the stack: a trap.
#[plugin_fn]
fn recurse(n: String) -> FnResult<String> {
    let n: u64 = n.trim().parse()?;
    Ok(depth(black_box(n)).to_string())
}

/// Not tail-recursive: the result of the recursive call goes through `black_box` before the
/// addition, so the optimiser cannot turn the recursion into a loop.
#[inline(never)]
fn depth(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    black_box(depth(black_box(n - 1))) + 1
}

/// Allocates `n` bytes (input: decimal `n`), writes to every 4 KiB of them and returns `n`.
/// When the allocation fails (memory limit) the guest aborts: a trap the host reports as
/// its memory-limit error.
#[plugin_fn]
fn alloc(n: String) -> FnResult<String> {
    let n: usize = n.trim().parse()?;
    let buf = touch(vec![0u8; n]);
    Ok(black_box(buf).len().to_string())
}

/// Like `alloc`, but handles a failed allocation: the result is the error value
/// `allocation of <n> bytes failed`, code 12 (ENOMEM), and the instance stays usable.
#[plugin_fn]
fn try_alloc(n: String) -> FnResult<String> {
    let n: usize = n.trim().parse()?;
    let mut buf: Vec<u8> = Vec::new();
    if buf.try_reserve_exact(n).is_err() {
        return Err(Error::new(format!("allocation of {n} bytes failed")).with_code(12));
    }
    buf.resize(n, 0);
    Ok(black_box(touch(buf)).len().to_string())
}

/// Writes to every 4 KiB page of `buf` so the memory is really used.
fn touch(mut buf: Vec<u8>) -> Vec<u8> {
    for i in (0..buf.len()).step_by(4096) {
        buf[i] = 1;
    }
    if let Some(last) = buf.last_mut() {
        *last = 1;
    }
    buf
}

/// Compute-heavy work for benchmarks: `n` rounds of a 64-bit multiply-xorshift mix (input:
/// decimal `n`); returns the final state as 16 hex digits. Each round depends on the previous
/// one, so the loop can be neither vectorised nor folded away.
#[plugin_fn]
fn work(n: String) -> FnResult<String> {
    let n: u64 = n.trim().parse()?;
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    for i in 0..n {
        x = (x ^ i).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 31;
    }
    Ok(format!("{x:016x}"))
}

/// Never returns: for timeout / interruption tests.
#[plugin_fn]
fn spin() -> FnResult<()> {
    let mut i = 0u64;
    loop {
        i = black_box(i.wrapping_add(1));
    }
}

/// Returns the value of environment variable `name`, or the error value
/// `no variable <name>` (code 404).
#[plugin_fn]
fn env(name: String) -> FnResult<String> {
    std::env::var(&name).map_err(|_| Error::new(format!("no variable {name}")).with_code(404))
}

/// Returns all environment variables as `NAME=VALUE` lines.
#[plugin_fn]
fn env_all() -> FnResult<String> {
    Ok(std::env::vars()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect())
}

/// Reads the file at guest path `path`; failure is an error value with the I/O error.
#[plugin_fn]
fn read(path: String) -> FnResult<String> {
    std::fs::read_to_string(&path).map_err(|e| Error::new(format!("{path}: {e}")))
}

/// Input `path\ncontent`: writes `content` to guest path `path`.
#[plugin_fn]
fn write(input: String) -> FnResult<()> {
    let (path, content) = input.split_once('\n').unwrap_or((&input, ""));
    std::fs::write(path, content).map_err(|e| Error::new(format!("{path}: {e}")))
}

/// Prints its input to stdout and `err: <input>` to stderr, and returns `printed`.
#[plugin_fn]
fn print(text: String) -> FnResult<String> {
    println!("{text}");
    eprintln!("err: {text}");
    Ok("printed".into())
}
