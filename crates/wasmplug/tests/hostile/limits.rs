//! Resource bombs: endless loops, memory and table growth, deep recursion, huge outputs and
//! modules. Each is stopped by a limit with a typed error; limit pairs show a call under
//! the same limit succeeding.

use std::time::Duration;

use wasmplug::{ByteSize, Error, Limits, Plugin, TrapKind};

use crate::neighbour::with_neighbour;
use crate::support::{echo, fails_twice, le, load, load_with};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
const PAGE: u64 = 64 * KIB;

#[test]
fn infinite_loop_is_stopped_by_its_deadline() {
    let timeout = Duration::from_millis(150);
    let plugin = load_with(
        "infinite-loop",
        Limits {
            timeout: Some(timeout),
            ..Limits::default()
        },
    );
    fails_twice(&plugin, "run", b"", |err| match err {
        Error::Timeout {
            function,
            limit,
            elapsed,
        } => {
            assert_eq!(function, "run");
            assert_eq!(limit, timeout);
            assert!(elapsed >= timeout, "{elapsed:?}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    });
    // Obeyed: a loop that ends is not interrupted under the same limit.
    assert_eq!(plugin.call("bounded", &le(10_000)).unwrap(), b"");
}

fn memory_limit(err: Error, limit: u64, attempted: u64) {
    match err {
        Error::MemoryLimit {
            function,
            limit: l,
            attempted: a,
        } => {
            assert_eq!(function, "run");
            assert_eq!((l, a), (limit, attempted), "(limit, attempted)");
        }
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
}

#[test]
fn memory_grow_loop_hits_the_memory_limit() {
    let limit = 4 * MIB;
    let limits = Limits {
        memory: ByteSize(limit),
        ..Limits::default()
    };
    let plugin = load_with("memory-grow-loop", limits.clone());
    // The first refused growth is one page past the limit.
    fails_twice(&plugin, "run", b"", |err| {
        memory_limit(err, limit, limit + PAGE)
    });

    // Obeyed: growing to exactly the limit (1 + 63 pages = 4 MiB) succeeds; one page more
    // is refused. Each check loads its own plugin so that it starts from a one-page memory
    // whether or not instances are reused between calls.
    let fresh = || load_with("memory-grow-loop", limits.clone());
    assert_eq!(fresh().call("grow", &le(63)).unwrap(), le(64));
    match fresh().call("grow", &le(64)).unwrap_err() {
        Error::MemoryLimit {
            function,
            attempted,
            ..
        } => assert_eq!((function.as_str(), attempted), ("grow", limit + PAGE)),
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
}

#[test]
fn four_gib_allocation_is_refused() {
    let plugin = load("alloc-4gib");
    // The limiter sees the request (4 GiB on top of the initial page) before wasmtime
    // compares it with the wasm32 maximum, so the root cause is reported.
    fails_twice(&plugin, "run", b"", |err| {
        memory_limit(err, 64 * MIB, 4 * 1024 * MIB + PAGE)
    });
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    let plugin = load("recursion");
    fails_twice(&plugin, "run", b"", |err| match err {
        Error::Trap { function, kind, .. } => {
            assert_eq!(function, "run");
            assert_eq!(kind, TrapKind::StackOverflow);
        }
        other => panic!("expected Trap, got {other:?}"),
    });
    // Obeyed: bounded recursion under the same stack.
    assert_eq!(
        plugin.call("bounded", &le(1000)).unwrap(),
        1000u64.to_le_bytes()
    );
}

#[test]
fn table_grow_bomb_counts_against_the_memory_limit() {
    let limit = 4 * MIB;
    let limits = Limits {
        memory: ByteSize(limit),
        ..Limits::default()
    };
    let plugin = load_with("table-grow-bomb", limits.clone());
    // 10 million elements at 8 bytes each, next to the 64 KiB memory.
    fails_twice(&plugin, "run", b"", |err| {
        memory_limit(err, limit, PAGE + 80_000_000)
    });
    // The default 64 MiB limit stops it too.
    fails_twice(&load("table-grow-bomb"), "run", b"", |err| {
        memory_limit(err, 64 * MIB, PAGE + 80_000_000)
    });

    // Obeyed: the table may fill exactly what the memory leaves of the limit, and not one
    // element more (each check on its own plugin, as above).
    let fits = ((limit - PAGE) / 8) as u32;
    let fresh = || load_with("table-grow-bomb", limits.clone());
    assert_eq!(fresh().call("grow", &le(fits)).unwrap(), le(fits));
    match fresh().call("grow", &le(fits + 1)).unwrap_err() {
        Error::MemoryLimit {
            function,
            attempted,
            ..
        } => assert_eq!((function.as_str(), attempted), ("grow", limit + 8)),
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
}

#[test]
fn output_over_max_output_is_refused() {
    let max_output = MIB;
    let plugin = load_with(
        "big-output",
        Limits {
            max_output: ByteSize(max_output),
            ..Limits::default()
        },
    );
    fails_twice(
        &plugin,
        "run",
        &le(max_output as u32 + 1),
        |err| match err {
            Error::OutputTooLarge {
                function,
                size,
                limit,
            } => {
                assert_eq!(function, "run");
                assert_eq!((size, limit), (max_output + 1, max_output));
            }
            other => panic!("expected OutputTooLarge, got {other:?}"),
        },
    );
    // Obeyed: exactly `max_output` bytes come back whole.
    let out = plugin.call("run", &le(max_output as u32)).unwrap();
    assert_eq!(out.len() as u64, max_output);
    assert!(out.iter().all(|&b| b == b'B'));
}

/// `echo.wat` padded with a custom section of `padding` bytes: still a valid plugin.
fn padded_module(padding: usize) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"hostile.padding";
    let mut payload = Vec::with_capacity(padding + 32);
    leb128(name.len(), &mut payload);
    payload.extend_from_slice(name);
    payload.resize(payload.len() + padding, 0xAB);
    let mut module = wat::parse_file(echo()).unwrap();
    module.push(0); // custom section id
    leb128(payload.len(), &mut module);
    module.extend_from_slice(&payload);
    module
}

#[test]
fn module_over_max_module_size_is_refused() {
    let module = padded_module(2 * MIB as usize);
    let size = module.len() as u64;
    let limits = |max: u64| Limits {
        max_module_size: ByteSize(max),
        ..Limits::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-module.wasm");
    std::fs::write(&path, &module).unwrap();
    let check = |err: Error| match err {
        Error::ModuleTooLarge { size: s, limit } => assert_eq!((s, limit), (size, MIB)),
        other => panic!("expected ModuleTooLarge, got {other:?}"),
    };
    with_neighbour(|| {
        for _ in 0..2 {
            check(
                Plugin::builder()
                    .limits(limits(MIB))
                    .from_bytes(&module)
                    .unwrap_err(),
            );
            check(
                Plugin::builder()
                    .limits(limits(MIB))
                    .load(&path)
                    .unwrap_err(),
            );
        }
    });
    // Obeyed: the same module under a larger limit is a working plugin.
    let plugin = Plugin::builder()
        .limits(limits(4 * MIB))
        .load(&path)
        .unwrap();
    assert_eq!(plugin.call("echo", b"padded").unwrap(), b"padded");
}
