//! Plugins written with the Rust PDK: the bundled examples and the `pdk-probe` test guest.

use std::time::Duration;

use serde_json::{Value, json};
use wasmplug::{ByteSize, Error, Limits, Plugin, TrapKind};

use crate::support::{example, probe};

#[test]
fn json_transformer_executes_the_seed_request() {
    let plugin = Plugin::load(example("json-transformer")).unwrap();
    assert_eq!(plugin.meta().name.as_str(), "json-transformer");
    let out: Value = plugin
        .call_json(
            "execute",
            &json!({"request_id": "req-001", "headers": {}, "parameters": {"action": "transform"}}),
        )
        .unwrap();
    assert_eq!(out["success"], true);
    assert_eq!(out["data"]["action"], "transform");
    assert_eq!(out["data"]["_request_id"], "req-001");
    assert_eq!(out["data"]["_processed"], true);
}

#[test]
fn json_transformer_reports_invalid_json_as_a_result() {
    let plugin = Plugin::load(example("json-transformer")).unwrap();
    let out: Value =
        serde_json::from_slice(&plugin.call("execute", b"{not json").unwrap()).unwrap();
    assert_eq!(out["success"], false);
    assert!(out["error"].as_str().unwrap().contains("line 1"), "{out}");
}

#[test]
fn greet_uses_default_and_configured_greeting() {
    let plugin = Plugin::load(example("greet")).unwrap();
    assert_eq!(plugin.call("greet", b"world").unwrap(), b"Hello, world!");
    let howdy = Plugin::builder()
        .config("greeting", "Howdy")
        .load(example("greet"))
        .unwrap();
    assert_eq!(howdy.call("greet", b"Ada").unwrap(), b"Howdy, Ada!");
}

#[test]
fn greet_reports_empty_name_as_guest_error() {
    let plugin = Plugin::load(example("greet")).unwrap();
    match plugin.call("greet", b"  ").unwrap_err() {
        Error::Guest { message, code, .. } => {
            assert_eq!(message, "name must not be empty");
            assert_eq!(code, Some(1));
        }
        other => panic!("expected Guest, got {other:?}"),
    }
}

#[test]
fn echo_round_trips_bytes_of_every_size() {
    let plugin = Plugin::load(example("echo")).unwrap();
    for len in [0usize, 1, 1024, 65 * 1024, 1 << 20] {
        let input: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        assert_eq!(plugin.call("echo", &input).unwrap(), input, "len {len}");
    }
    assert_eq!(plugin.call("noop", b"").unwrap(), b"");
    assert_eq!(plugin.call("len", b"12345").unwrap(), b"5");
}

#[test]
fn panic_surfaces_as_a_trap_with_the_panic_text() {
    let plugin = Plugin::load(probe()).unwrap();
    match plugin.call("panic", b"kaput").unwrap_err() {
        Error::Trap {
            function,
            kind,
            message,
            ..
        } => {
            assert_eq!(function, "panic");
            assert_eq!(kind, TrapKind::Panic);
            assert!(message.contains("boom: kaput"), "{message}");
        }
        other => panic!("expected Trap, got {other:?}"),
    }
    assert_eq!(plugin.call("text", b"still alive").unwrap(), b"still alive");
}

#[test]
fn error_values_carry_message_and_optional_code() {
    let plugin = Plugin::load(probe()).unwrap();
    assert!(matches!(
        plugin.call("fail", b"").unwrap_err(),
        Error::Guest { message, code: Some(7), .. } if message == "probe failure"
    ));
    assert!(matches!(
        plugin.call("fail_nocode", b"").unwrap_err(),
        Error::Guest { code: None, .. }
    ));
    assert!(matches!(
        plugin.call("text", &[0xff, 0xfe]).unwrap_err(),
        Error::Guest { message, .. } if message.contains("utf-8") || message.contains("UTF-8")
    ));
}

#[test]
fn config_is_readable_from_the_guest() {
    let plugin = Plugin::builder()
        .config("region", "eu-west")
        .load(probe())
        .unwrap();
    assert_eq!(plugin.call("config", b"region").unwrap(), b"eu-west");
    assert!(matches!(
        plugin.call("config", b"absent").unwrap_err(),
        Error::Guest {
            code: Some(404),
            ..
        }
    ));
}

#[test]
fn json_functions_round_trip_typed_values() {
    let plugin = Plugin::load(probe()).unwrap();
    let sum: i64 = plugin.call_json("sum", &[1i64, 2, 39]).unwrap();
    assert_eq!(sum, 42);
    assert!(matches!(
        plugin.call("sum", b"[1, \"x\"]").unwrap_err(),
        Error::Guest { .. }
    ));
    assert!(matches!(
        plugin.call_json::<_, String>("sum", &[1]).unwrap_err(),
        Error::Json {
            direction: "output",
            ..
        }
    ));
}

#[test]
fn deep_recursion_is_a_stack_overflow_trap() {
    let plugin = Plugin::load(probe()).unwrap();
    assert_eq!(
        plugin.call("recurse", b"100").unwrap(),
        b"100",
        "shallow recursion obeyed"
    );
    match plugin.call("recurse", b"100000000").unwrap_err() {
        Error::Trap { kind, .. } => assert_eq!(kind, TrapKind::StackOverflow),
        other => panic!("expected stack overflow, got {other:?}"),
    }
}

#[test]
fn memory_limit_obeyed_and_violated() {
    let limits = Limits {
        memory: ByteSize::mib(16),
        ..Limits::default()
    };
    let plugin = Plugin::builder().limits(limits).load(probe()).unwrap();
    assert_eq!(plugin.call("alloc", b"1000000").unwrap(), b"1000000");
    match plugin.call("alloc", b"64000000").unwrap_err() {
        Error::MemoryLimit {
            limit, attempted, ..
        } => {
            assert_eq!(limit, 16 * 1024 * 1024);
            assert!(attempted > limit, "{attempted}");
        }
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
    assert_eq!(
        plugin.call("alloc", b"1000").unwrap(),
        b"1000",
        "fresh instance afterwards"
    );
}

#[test]
fn failed_growth_can_be_handled_inside_the_guest() {
    let limits = Limits {
        memory: ByteSize::mib(16),
        ..Limits::default()
    };
    let plugin = Plugin::builder().limits(limits).load(probe()).unwrap();
    match plugin.call("try_alloc", b"64000000").unwrap_err() {
        Error::Guest { message, code, .. } => {
            assert_eq!(message, "allocation of 64000000 bytes failed");
            assert_eq!(code, Some(12));
        }
        other => panic!("expected the guest's own error value, got {other:?}"),
    }
    assert_eq!(plugin.call("try_alloc", b"1000").unwrap(), b"1000");
}

#[test]
fn spinning_guest_times_out() {
    let limits = Limits {
        timeout: Some(Duration::from_millis(50)),
        ..Limits::default()
    };
    let plugin = Plugin::builder().limits(limits).load(probe()).unwrap();
    assert!(matches!(
        plugin.call("spin", b"").unwrap_err(),
        Error::Timeout { .. }
    ));
    assert_eq!(plugin.call("text", b"ok").unwrap(), b"ok");
}

#[test]
fn stack_limit_obeyed_and_violated() {
    let small = Limits {
        stack: ByteSize::kib(64),
        ..Limits::default()
    };
    let plugin = Plugin::builder().limits(small).load(probe()).unwrap();
    assert_eq!(
        plugin.call("recurse", b"100").unwrap(),
        b"100",
        "shallow recursion fits 64 KiB"
    );
    // 5 000 levels fit the default 512 KiB stack but not 64 KiB.
    let default = Plugin::load(probe()).unwrap();
    assert_eq!(default.call("recurse", b"5000").unwrap(), b"5000");
    match plugin.call("recurse", b"5000").unwrap_err() {
        Error::Trap { kind, .. } => assert_eq!(kind, TrapKind::StackOverflow),
        other => panic!("expected stack overflow, got {other:?}"),
    }
}
