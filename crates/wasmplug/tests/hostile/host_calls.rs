//! Attacks through the host functions and the plugin lifecycle: bad pointers handed to the
//! host, floods of logs, errors and kv writes, a request to a host-local service, and
//! start-up code that spins, bombs memory or re-enters the host.

use std::time::Duration;

use wasmplug::{Error, Limits, Plugin, TrapKind};

use crate::neighbour::with_neighbour;
use crate::support::{fails_twice, hostile, load};

#[test]
fn key_pointer_outside_memory_is_refused_before_the_host_reads() {
    fails_twice(&load("hostcall-oob-pointer"), "run", b"", |err| match err {
        Error::MemoryOutOfBounds { what, ptr, len, .. } => {
            assert_eq!((what, ptr, len), ("kv key", 0x7fff_0000, 16));
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    });
}

#[test]
fn result_slot_past_the_end_of_memory_is_refused() {
    fails_twice(&load("hostcall-oob-slot"), "run", b"", |err| match err {
        Error::MemoryOutOfBounds { what, ptr, len, .. } => {
            assert_eq!((what, ptr, len), ("result slot", 65532, 8));
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    });
}

#[test]
fn a_million_log_lines_are_rate_limited_and_the_call_finishes() {
    let plugin = load("log-flood");
    with_neighbour(|| {
        for _ in 0..2 {
            assert_eq!(plugin.call("run", b"").unwrap(), b"flooding the log....");
        }
    });
}

#[test]
fn a_16_mib_error_message_is_cut_to_64_kib() {
    fails_twice(&load("huge-error-message"), "run", b"", |err| match err {
        Error::Guest { message, code, .. } => {
            assert_eq!(code, Some(7));
            assert!(
                message.len() <= wasmplug::abi::MAX_ERROR_MESSAGE_LEN + 64,
                "{}",
                message.len()
            );
            assert!(message.starts_with("AAAA"));
        }
        other => panic!("expected Guest, got {other:?}"),
    });
}

#[test]
fn a_16_mib_panic_message_is_cut_to_64_kib() {
    fails_twice(&load("huge-panic-message"), "run", b"", |err| match err {
        Error::Trap { kind, message, .. } => {
            assert_eq!(kind, TrapKind::Panic);
            assert!(
                message.len() <= wasmplug::abi::MAX_ERROR_MESSAGE_LEN + 64,
                "{}",
                message.len()
            );
        }
        other => panic!("expected a panic trap, got {other:?}"),
    });
}

#[test]
fn a_request_to_a_host_local_service_is_refused_without_a_grant() {
    fails_twice(&load("http-loopback"), "run", b"", |err| match err {
        Error::Guest { message, code, .. } => {
            assert_eq!(code, Some(99));
            assert!(message.contains("127.0.0.1"), "{message}");
        }
        other => panic!("expected the host's refusal as a guest error, got {other:?}"),
    });
}

#[test]
fn writes_past_the_kv_quota_are_refused() {
    let limits = Limits {
        max_kv_total: wasmplug::ByteSize::mib(4),
        ..Limits::default()
    };
    let plugin = Plugin::builder()
        .limits(limits)
        .host(wasmplug::HostConfig {
            kv: Some(wasmplug::KvStore::in_memory()),
            ..wasmplug::HostConfig::default()
        })
        .load(hostile("kv-quota-flood"))
        .unwrap();
    with_neighbour(|| match plugin.call("run", b"") {
        Err(Error::Guest { message, code, .. }) => {
            // Three 1 MiB values (plus keys) fit in 4 MiB, the fourth does not.
            assert_eq!(code, Some(3), "{message}");
            assert!(message.contains("is full"), "{message}");
        }
        other => panic!("expected the quota refusal, got {other:?}"),
    });
}

fn load_fails(case: &str, timeout_ms: u64) -> Error {
    let limits = Limits {
        timeout: Some(Duration::from_millis(timeout_ms)),
        ..Limits::default()
    };
    let mut err = None;
    with_neighbour(|| {
        err = Some(
            Plugin::builder()
                .limits(limits)
                .load(hostile(case))
                .expect_err("must not load"),
        );
    });
    err.unwrap()
}

#[test]
fn a_spinning_start_function_fails_the_load_at_the_deadline() {
    match load_fails("start-spins", 300) {
        Error::Timeout { limit, .. } => assert_eq!(limit, Duration::from_millis(300)),
        Error::Instantiate { message, .. } => assert!(message.contains("interrupt"), "{message}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn a_spinning_init_fails_the_load_at_the_deadline() {
    match load_fails("init-spins", 300) {
        Error::Timeout {
            function, limit, ..
        } => {
            assert_eq!(
                (function.as_str(), limit),
                ("init", Duration::from_millis(300))
            );
        }
        other => panic!("expected a timeout in init, got {other:?}"),
    }
}

#[test]
fn an_init_memory_bomb_fails_the_load_at_the_memory_limit() {
    match load_fails("init-memory-bomb", 5000) {
        Error::MemoryLimit {
            function, limit, ..
        } => {
            assert_eq!((function.as_str(), limit), ("init", 64 << 20));
        }
        other => panic!("expected MemoryLimit in init, got {other:?}"),
    }
}

#[test]
fn a_trapping_deallocate_fails_the_call_and_discards_the_instance() {
    fails_twice(&load("deallocate-traps"), "run", b"abc", |err| match err {
        Error::Trap { function, kind, .. } => {
            assert_eq!(
                (function.as_str(), kind),
                ("deallocate", TrapKind::Unreachable)
            );
        }
        other => panic!("expected a trap in deallocate, got {other:?}"),
    });
}

#[test]
fn allocate_reentering_the_host_does_not_deadlock() {
    let plugin = Plugin::builder()
        .config("greeting", "hello")
        .load(hostile("reentrant-allocate"))
        .unwrap();
    with_neighbour(|| {
        for _ in 0..2 {
            assert_eq!(plugin.call("run", b"").unwrap(), b"hello");
        }
    });
}
