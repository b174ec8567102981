//! A plugin that breaks the ABI or traps gets a typed error, and its instance is replaced.

use std::time::Duration;

use wasmplug::{ByteSize, Error, Limits, Plugin, TrapKind};

use crate::support::wat;

fn misbehave() -> Plugin {
    Plugin::load(wat("misbehave")).unwrap()
}

#[test]
fn returned_pointer_outside_memory_is_out_of_bounds() {
    match misbehave().call("oob_ptr", b"").unwrap_err() {
        Error::MemoryOutOfBounds {
            function,
            what,
            ptr,
            len,
            memory_size,
        } => {
            assert_eq!(function, "oob_ptr");
            assert_eq!(what, "returned output");
            assert_eq!((ptr, len), (0x7fff0000, 0x10));
            assert_eq!(memory_size, 65536);
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    }
}

#[test]
fn pointer_plus_length_wrapping_32_bits_is_out_of_bounds() {
    match misbehave().call("wrap", b"").unwrap_err() {
        Error::MemoryOutOfBounds { ptr, len, .. } => {
            assert_eq!(
                (ptr, len),
                (0xfffffff0, 0x20),
                "no wrap-around to a small address"
            );
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    }
}

#[test]
fn allocator_returning_garbage_is_out_of_bounds() {
    let plugin = Plugin::load(wat("bad-alloc")).unwrap();
    match plugin.call("run", b"some input").unwrap_err() {
        Error::MemoryOutOfBounds { what, ptr, .. } => {
            assert_eq!(what, "input buffer from allocate");
            assert_eq!(ptr, 0xfffffff0);
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    }
    // Empty input never calls allocate.
    assert_eq!(plugin.call("run", b"").unwrap(), b"");
}

#[test]
fn allocator_returning_null_is_alloc_failed() {
    // 64 KiB is the module's initial memory: growing for a 100 KB input is refused, so the
    // WAT allocator returns 0.
    let limits = Limits {
        memory: ByteSize::kib(64),
        ..Limits::default()
    };
    let plugin = Plugin::builder().limits(limits).load(wat("echo")).unwrap();
    let err = plugin.call("echo", &vec![7u8; 100_000]).unwrap_err();
    assert!(
        matches!(&err, Error::GuestAllocFailed { len: 100_000, .. }),
        "{err:?}"
    );
    assert_eq!(
        plugin.call("echo", b"small").unwrap(),
        b"small",
        "limit obeyed"
    );
}

#[test]
fn unreachable_is_a_trap_with_a_named_backtrace() {
    match misbehave().call("nested_trap", b"").unwrap_err() {
        Error::Trap {
            function,
            kind,
            backtrace,
            ..
        } => {
            assert_eq!(function, "nested_trap");
            assert_eq!(kind, TrapKind::Unreachable);
            assert_eq!(
                backtrace[0].func_name.as_deref(),
                Some("inner"),
                "{backtrace:?}"
            );
            assert!(backtrace.len() >= 2, "{backtrace:?}");
        }
        other => panic!("expected Trap, got {other:?}"),
    }
}

#[test]
fn trap_kinds_are_classified() {
    let plugin = misbehave();
    let kind = |f: &str| match plugin.call(f, b"").unwrap_err() {
        Error::Trap { kind, .. } => kind,
        other => panic!("{f}: expected Trap, got {other:?}"),
    };
    assert_eq!(kind("div0"), TrapKind::DivisionByZero);
    assert_eq!(kind("recurse"), TrapKind::StackOverflow);
    assert_eq!(kind("guest_oob"), TrapKind::MemoryOutOfBounds);
}

#[test]
fn endless_loop_times_out_obeyed_and_violated() {
    let limits = Limits {
        timeout: Some(Duration::from_millis(100)),
        ..Limits::default()
    };
    let plugin = Plugin::builder()
        .limits(limits)
        .load(wat("misbehave"))
        .unwrap();
    match plugin.call("spin", b"").unwrap_err() {
        Error::Timeout {
            function,
            limit,
            elapsed,
        } => {
            assert_eq!(function, "spin");
            assert_eq!(limit, Duration::from_millis(100));
            assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    // A call that finishes in time under the same limit succeeds.
    assert_eq!(plugin.call("count", b"").unwrap(), 1u32.to_le_bytes());
}

#[test]
fn output_over_max_output_is_refused_before_copying() {
    let limits = Limits {
        max_output: ByteSize::mib(1),
        ..Limits::default()
    };
    let plugin = Plugin::builder()
        .limits(limits)
        .load(wat("misbehave"))
        .unwrap();
    match plugin.call("big", b"").unwrap_err() {
        Error::OutputTooLarge { size, limit, .. } => {
            assert_eq!((size, limit), (1024 * 1024 + 1, 1024 * 1024))
        }
        other => panic!("expected OutputTooLarge, got {other:?}"),
    }
}

#[test]
fn input_over_max_input_is_refused_obeyed_and_violated() {
    let limits = Limits {
        max_input: ByteSize(8),
        ..Limits::default()
    };
    let plugin = Plugin::builder().limits(limits).load(wat("echo")).unwrap();
    assert_eq!(plugin.call("echo", b"12345678").unwrap(), b"12345678");
    let err = plugin.call("echo", b"123456789").unwrap_err();
    assert!(
        matches!(err, Error::InputTooLarge { size: 9, limit: 8 }),
        "{err:?}"
    );
}

#[test]
fn unknown_function_lists_the_available_ones() {
    let err = Plugin::load(wat("echo"))
        .unwrap()
        .call("nope", b"")
        .unwrap_err();
    match &err {
        Error::FunctionNotFound {
            function,
            available,
            ..
        } => {
            assert_eq!(function, "nope");
            assert_eq!(available, &["echo", "greet", "fail"]);
        }
        other => panic!("expected FunctionNotFound, got {other:?}"),
    }
    assert!(
        err.to_string().contains("available: echo, greet, fail"),
        "{err}"
    );
}

#[test]
fn fuel_limit_obeyed_and_violated() {
    let limits = Limits {
        fuel: Some(1_000_000),
        ..Limits::default()
    };
    let plugin = Plugin::builder()
        .limits(limits)
        .load(wat("misbehave"))
        .unwrap();
    assert!(plugin.compiled().limits().fuel.is_some());
    assert_eq!(
        plugin.call("count", b"").unwrap(),
        1u32.to_le_bytes(),
        "a short call fits the budget"
    );
    match plugin.call("spin", b"").unwrap_err() {
        Error::OutOfFuel { function, consumed } => {
            assert_eq!(function, "spin");
            assert_eq!(consumed, 1_000_000);
        }
        other => panic!("expected OutOfFuel, got {other:?}"),
    }
    assert_eq!(
        plugin.call("count", b"").unwrap(),
        1u32.to_le_bytes(),
        "fresh instance, fresh budget"
    );
}

#[test]
fn engine_that_cannot_enforce_the_limits_is_refused() {
    let engine = wasmplug::Engine::new(wasmplug::EngineConfig::default()).unwrap();
    let limits = Limits {
        fuel: Some(10),
        ..Limits::default()
    };
    let err = Plugin::builder()
        .engine(&engine)
        .limits(limits)
        .load(wat("echo"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Engine { message } if message.contains("fuel")),
        "{err:?}"
    );
}
