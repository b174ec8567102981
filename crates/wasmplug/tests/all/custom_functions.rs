//! Application host functions ([`HostFunctions`]) called from a Rust guest that declares
//! them with `#[host_fn("probe")]`: typed arguments and results, per-call context, the
//! application's own state, error values, aborts and async functions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use wasmplug::{CallContext, Error, HostError, HostFunctions, Json, Limits, Plugin};

use crate::support::guest;

/// The functions `custom-probe` imports; `bumps` counts `probe::bump` calls.
fn probe_functions(bumps: Arc<AtomicU64>, lookup_delay: Duration) -> HostFunctions {
    let mut host = HostFunctions::new();
    host.func(
        "probe",
        "add",
        |_: &CallContext, a: i64, b: i64| -> Result<i64, HostError> {
            a.checked_add(b).ok_or_else(|| HostError::new("overflow"))
        },
    )
    .unwrap()
    .func(
        "probe",
        "scale",
        |_: &CallContext, x: f64, by: f32| -> Result<f64, HostError> { Ok(x * f64::from(by)) },
    )
    .unwrap()
    .func(
        "probe",
        "is_even",
        |_: &CallContext, n: u32| -> Result<bool, HostError> { Ok(n.is_multiple_of(2)) },
    )
    .unwrap()
    .func(
        "probe",
        "greet",
        |_: &CallContext, name: String| -> Result<String, HostError> {
            Ok(format!("hello, {name}"))
        },
    )
    .unwrap()
    .func(
        "probe",
        "context",
        |ctx: &CallContext| -> Result<Json<Value>, HostError> {
            Ok(Json(json!({
                "plugin": ctx.plugin(),
                "version": ctx.version(),
                "function": ctx.function(),
                "request_id": ctx.request_id(),
            })))
        },
    )
    .unwrap()
    .func(
        "probe",
        "describe",
        |_: &CallContext, Json(v): Json<Value>| -> Result<Json<Value>, HostError> {
            Ok(Json(
                json!({ "keys": v.as_object().map(|o| o.len()), "name": v["name"] }),
            ))
        },
    )
    .unwrap()
    .func(
        "probe",
        "checked_div",
        |_: &CallContext, a: i32, b: i32| -> Result<i32, HostError> {
            a.checked_div(b)
                .ok_or_else(|| HostError::new(format!("cannot divide {a} by {b}")))
        },
    )
    .unwrap()
    .func(
        "probe",
        "abort_call",
        |_: &CallContext, reason: String| -> Result<(), HostError> {
            Err(HostError::abort(format!("refused: {reason}")))
        },
    )
    .unwrap()
    .func_async(
        "probe",
        "slow_lookup",
        move |ctx: CallContext, id: u32| async move {
            tokio::time::sleep(lookup_delay).await;
            Ok::<_, HostError>(format!("record {id} for {}", ctx.plugin()))
        },
    )
    .unwrap()
    .func(
        "probe",
        "bump",
        move |_: &CallContext| -> Result<(), HostError> {
            bumps.fetch_add(1, Ordering::Relaxed);
            Ok(())
        },
    )
    .unwrap();
    host
}

fn load(functions: HostFunctions, limits: Limits) -> Plugin {
    Plugin::builder()
        .host_functions(functions)
        .limits(limits)
        .load(guest("custom-probe"))
        .unwrap()
}

fn probe() -> Plugin {
    load(
        probe_functions(Arc::default(), Duration::from_millis(1)),
        Limits::default(),
    )
}

#[test]
fn typed_scalars_strings_and_json_cross_both_ways() {
    let plugin = probe();
    let sum: i64 = plugin.call_json("sum", &(40, 2)).unwrap();
    assert_eq!(sum, 42);
    let sum: i64 = plugin.call_json("sum", &(-5_000_000_000i64, 1)).unwrap();
    assert_eq!(sum, -4_999_999_999, "i64 values keep their sign and width");
    let out = plugin
        .call_with_request_id("tour", b"ann", Some("r-7"))
        .unwrap()
        .output;
    let tour: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        tour,
        json!({
            "scaled": 6.0,
            "even": [true, false],
            "greeting": "hello, ann",
            "context": {
                "plugin": "custom-probe",
                "version": "0.1.0",
                "function": "tour",
                "request_id": "r-7",
            },
            "described": {"keys": 2, "name": "ann"},
        })
    );
}

#[test]
fn error_values_reach_the_guest_and_aborts_end_the_call() {
    let plugin = probe();
    let r: Value = plugin.call_json("divide", &(7, 2)).unwrap();
    assert_eq!(r, json!({"ok": 3}));
    let r: Value = plugin.call_json("divide", &(7, 0)).unwrap();
    assert_eq!(
        r,
        json!({"err": "cannot divide 7 by 0"}),
        "the guest got Err(message)"
    );
    // An error value returned by the guest function itself (overflow -> `?` in `sum`).
    match plugin
        .call_json::<_, i64>("sum", &(i64::MAX, 1))
        .unwrap_err()
    {
        Error::Guest { message, .. } => assert_eq!(message, "overflow"),
        other => panic!("{other:?}"),
    }
    match plugin.call("abort", b"quota").unwrap_err() {
        Error::HostFunction {
            function,
            host_function,
            message,
        } => {
            assert_eq!(function, "abort");
            assert_eq!(host_function, "probe::abort_call");
            assert_eq!(message, "refused: quota");
        }
        other => panic!("{other:?}"),
    }
    // The plugin keeps serving after an abort (the aborted instance was dropped).
    assert_eq!(plugin.call_json::<_, i64>("sum", &(1, 1)).unwrap(), 2);
}

#[test]
fn host_functions_keep_their_own_state() {
    let bumps = Arc::new(AtomicU64::new(0));
    let plugin = load(
        probe_functions(bumps.clone(), Duration::ZERO),
        Limits::default(),
    );
    plugin.call("bump_times", b"5").unwrap();
    plugin.call("bump_times", b"3").unwrap();
    assert_eq!(bumps.load(Ordering::Relaxed), 8);
}

#[test]
fn async_host_functions_run_and_are_bounded_by_the_call_deadline() {
    let plugin = probe();
    assert_eq!(
        plugin.call("lookup", b"9").unwrap(),
        b"record 9 for custom-probe"
    );
    // From a tokio blocking thread too (Plugin::call_async), with a runtime current.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = rt
        .block_on(plugin.call_async("lookup", b"10".to_vec()))
        .unwrap();
    assert_eq!(out, b"record 10 for custom-probe");
    // Obeyed / violated: a 50 ms lookup within a 2 s timeout, a 10 s one past a 300 ms one.
    let limits = |ms| Limits {
        timeout: Some(Duration::from_millis(ms)),
        ..Limits::default()
    };
    let quick = load(
        probe_functions(Arc::default(), Duration::from_millis(50)),
        limits(2000),
    );
    assert!(quick.call("lookup", b"1").is_ok());
    let slow = load(
        probe_functions(Arc::default(), Duration::from_secs(10)),
        limits(300),
    );
    let started = std::time::Instant::now();
    match slow.call("lookup", b"1").unwrap_err() {
        Error::Timeout { function, .. } => assert_eq!(function, "lookup"),
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn imports_must_match_what_the_host_registered() {
    // Nothing registered: the plugin's `probe::*` imports are refused at load, by name.
    let e = Plugin::builder().load(guest("custom-probe")).unwrap_err();
    assert!(matches!(e, Error::InvalidPlugin { .. }), "{e:?}");
    assert!(e.to_string().contains("unsupported import `probe::"), "{e}");
    // Registered with another signature: refused, showing both types.
    let mut host = HostFunctions::new();
    host.func(
        "probe",
        "add",
        |_: &CallContext, a: i32| -> Result<i32, HostError> { Ok(a) },
    )
    .unwrap();
    let module = r#"(module
        (import "probe" "add" (func (param i64 i64 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "allocate") (param i32) (result i32) i32.const 0)
        (func (export "deallocate") (param i32 i32))
        (func (export "f") (param i32 i32) (result i64) i64.const 0)
        (@custom "wasmplug.abi" "\01\00\00\00")
        (@custom "wasmplug.meta" "{\"name\":\"imp\",\"version\":\"0.1.0\"}")
        (@custom "wasmplug.functions" "f\n"))"#;
    let e = Plugin::builder()
        .host_functions(host)
        .from_bytes(module.as_bytes())
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "import `probe::add` has type `func (i64, i64, i32) -> i32` but the host defines `func (i32, i32) -> i32`"
        ),
        "{e}"
    );
}

#[test]
fn registration_refuses_reserved_modules_and_duplicates() {
    let mut host = HostFunctions::new();
    let noop = |_: &CallContext| -> Result<(), HostError> { Ok(()) };
    for module in ["wasmplug", "wasi_snapshot_preview1", ""] {
        let e = host.func(module, "f", noop).err().unwrap();
        assert!(
            matches!(e, Error::HostFunctionDefinition { .. }),
            "{module}: {e:?}"
        );
    }
    host.func("app", "f", noop).unwrap();
    let e = host.func("app", "f", noop).err().unwrap();
    assert!(e.to_string().contains("registered twice"), "{e}");
    assert_eq!(
        host.signature("app", "f").as_deref(),
        Some("func (i32) -> i32")
    );
}
