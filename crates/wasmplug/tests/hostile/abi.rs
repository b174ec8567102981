//! ABI violations: bad pointers returned to the host, a broken allocator, traps and panics.

use wasmplug::{Error, TrapKind};

use crate::support::{fails_twice, load};

fn out_of_bounds(err: Error, what: &str, ptr: u64, len: u64) {
    match err {
        Error::MemoryOutOfBounds {
            function,
            what: w,
            ptr: p,
            len: l,
            memory_size,
        } => {
            assert_eq!(function, "run");
            assert_eq!(w, what);
            assert_eq!((p, l), (ptr, len), "(ptr, len)");
            assert_eq!(memory_size, 65536);
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    }
}

fn trap(err: Error, function: &str, kind: TrapKind) -> (String, Vec<wasmplug::Frame>) {
    match err {
        Error::Trap {
            function: f,
            kind: k,
            message,
            backtrace,
        } => {
            assert_eq!((f.as_str(), k), (function, kind), "(function, kind)");
            (message, backtrace)
        }
        other => panic!("expected Trap, got {other:?}"),
    }
}

#[test]
fn output_pointer_outside_memory_is_out_of_bounds() {
    fails_twice(&load("oob-return"), "run", b"x", |err| {
        out_of_bounds(err, "returned output", 0x7fff_0000, 0x10)
    });
}

#[test]
fn output_range_wrapping_2_pow_32_is_out_of_bounds() {
    fails_twice(&load("wrap-return"), "run", b"", |err| {
        out_of_bounds(err, "returned output", 0xffff_fff0, 0x20)
    });
}

#[test]
fn allocate_straddling_the_end_of_memory_is_out_of_bounds() {
    let plugin = load("garbage-alloc");
    let input = b"hostile input";
    let len = input.len() as u64;
    fails_twice(&plugin, "run", input, |err| {
        out_of_bounds(err, "input buffer from allocate", 65536 - len + 1, len)
    });
    // Empty input never calls `allocate`.
    assert_eq!(plugin.call("run", b"").unwrap(), b"");
}

#[test]
fn trap_in_allocate_names_allocate() {
    let plugin = load("alloc-trap");
    fails_twice(&plugin, "run", b"input", |err| {
        trap(err, "allocate", TrapKind::Unreachable);
    });
    assert_eq!(plugin.call("run", b"").unwrap(), b"");
}

#[test]
fn panic_carries_the_guests_message() {
    fails_twice(&load("panic-message"), "run", b"", |err| {
        let (message, _) = trap(err, "run", TrapKind::Panic);
        assert_eq!(message, "hostile plugin gave up: \u{2620} invalid state");
    });
}

#[test]
fn unreachable_is_a_trap_with_a_backtrace() {
    fails_twice(&load("unreachable"), "run", b"", |err| {
        let (_, backtrace) = trap(err, "run", TrapKind::Unreachable);
        assert_eq!(
            backtrace[0].func_name.as_deref(),
            Some("abort"),
            "{backtrace:?}"
        );
    });
}
