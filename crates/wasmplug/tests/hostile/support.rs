//! Fixture paths and small helpers shared by the hostile cases.

use std::path::{Path, PathBuf};

use wasmplug::{Error, Limits, Plugin};

use crate::neighbour::with_neighbour;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A hostile guest from `tests/hostile/`.
pub fn hostile(case: &str) -> PathBuf {
    root().join("tests/hostile").join(format!("{case}.wat"))
}

/// The well-behaved WAT plugin of docs/abi.md.
pub fn echo() -> PathBuf {
    root().join("tests/guests/wat/echo.wat")
}

/// Loads a hostile guest with default limits and no capabilities.
pub fn load(case: &str) -> Plugin {
    Plugin::load(hostile(case)).unwrap_or_else(|e| panic!("{case} must load: {e}"))
}

/// Loads a hostile guest with `limits`.
pub fn load_with(case: &str, limits: Limits) -> Plugin {
    Plugin::builder()
        .limits(limits)
        .load(hostile(case))
        .unwrap_or_else(|e| panic!("{case} must load: {e}"))
}

/// A `u32` input, little-endian.
pub fn le(n: u32) -> [u8; 4] {
    n.to_le_bytes()
}

/// Calls `function` twice while the neighbour runs: both calls must fail and pass `check`
/// (the second call gets a fresh instance if the first one poisoned its instance).
pub fn fails_twice(plugin: &Plugin, function: &str, input: &[u8], check: impl Fn(Error)) {
    with_neighbour(|| {
        for attempt in ["first", "second"] {
            match plugin.call(function, input) {
                Ok(out) => panic!(
                    "{attempt} call of `{function}` must fail, it returned {} bytes: {:?}",
                    out.len(),
                    String::from_utf8_lossy(&out[..out.len().min(200)])
                ),
                Err(err) => check(err),
            }
        }
    });
}

/// Asserts `err` is a guest error value from `function` carrying a nonzero WASI errno, with
/// message `message`; returns the errno.
#[track_caller]
pub fn assert_errno(err: Error, function: &str, message: &str) -> i32 {
    match err {
        Error::Guest {
            function: f,
            message: m,
            code: Some(code),
        } if f == function && m == message && code != 0 => code,
        other => panic!(
            "expected Error::Guest {{ {function}, {message:?}, nonzero errno }}, got {other:?}"
        ),
    }
}
