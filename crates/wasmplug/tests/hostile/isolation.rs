//! Plugins do not disturb each other or the host: one plugin's deadline never interrupts
//! another's call, and a memory bomb does not grow the host process past its limit.

use std::thread;
use std::time::Duration;

use wasmplug::{Error, Limits, Plugin};

use crate::neighbour::shared;
use crate::support::{echo, load_with};

#[test]
fn a_busy_plugins_timeout_never_interrupts_another_plugin() {
    let _shared = shared();
    let timeout = Duration::from_millis(300);
    let limits = Limits {
        timeout: Some(timeout),
        ..Limits::default()
    };
    let busy = load_with("infinite-loop", limits.clone());
    // Same engine, same epoch ticker and the same 300 ms timeout: deadlines are per store.
    let fast = Plugin::builder().limits(limits).load(echo()).unwrap();
    let busy_call = thread::spawn(move || busy.call("run", b""));
    let mut calls = 0u64;
    // `is_finished` is checked after each call, so at least one call overlaps the busy one.
    loop {
        let input = format!("fast call {calls}");
        match fast.call("echo", input.as_bytes()) {
            Ok(out) => assert_eq!(out, input.as_bytes(), "fast call {calls}"),
            Err(err) => panic!("fast call {calls} failed while the busy plugin spun: {err:?}"),
        }
        calls += 1;
        if busy_call.is_finished() {
            break;
        }
    }
    match busy_call.join().unwrap() {
        Err(Error::Timeout { limit, .. }) => assert_eq!(limit, timeout),
        other => panic!("expected the busy plugin to time out, got {other:?}"),
    }
    assert!(calls >= 1);
}

#[test]
fn deadlines_are_per_call_not_shared() {
    let _shared = shared();
    // Two spinning plugins with different timeouts: the short one's deadline passing does
    // not stop the long one early, and each reports its own limit.
    let spin = |ms: u64| {
        let limits = Limits {
            timeout: Some(Duration::from_millis(ms)),
            ..Limits::default()
        };
        let plugin = load_with("infinite-loop", limits);
        thread::spawn(move || plugin.call("run", b""))
    };
    let (short, long) = (spin(100), spin(600));
    for (handle, ms) in [(short, 100), (long, 600)] {
        match handle.join().unwrap() {
            Err(Error::Timeout { limit, elapsed, .. }) => {
                assert_eq!(limit, Duration::from_millis(ms));
                assert!(elapsed >= limit, "{ms} ms plugin stopped after {elapsed:?}");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
    }
}

#[cfg(target_os = "linux")]
mod rss {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::thread;
    use std::time::Duration;

    use wasmplug::{ByteSize, Error, Limits};

    use crate::neighbour::exclusive;
    use crate::support::load_with;

    const MIB: u64 = 1024 * 1024;
    /// Allowance for the allocator, wasmtime's bookkeeping and other noise.
    const SLACK: u64 = 64 * MIB;

    /// `(VmRSS, VmHWM)` of this process in bytes.
    fn rss_and_peak() -> (u64, u64) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let field = |name: &str| {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} in /proc/self/status"));
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("cannot parse `{line}`"));
            kib * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    #[test]
    fn memory_bomb_does_not_blow_up_the_host() {
        let _exclusive = exclusive();
        let limit = 16 * MIB;
        let plugin = load_with(
            "memory-grow-loop",
            Limits {
                memory: ByteSize(limit),
                ..Limits::default()
            },
        );
        let run = || match plugin.call("run", b"").unwrap_err() {
            Error::MemoryLimit {
                limit: l,
                attempted,
                ..
            } => assert_eq!((l, attempted), (limit, limit + 64 * 1024)),
            other => panic!("expected MemoryLimit, got {other:?}"),
        };
        run(); // warm-up: code paths and allocator arenas
        let (rss_before, peak_before) = rss_and_peak();
        // Sample RSS while the bombs go off (each touches every page it gets).
        let stop = Arc::new(AtomicBool::new(false));
        let max_rss = Arc::new(AtomicU64::new(rss_before));
        let sampler = {
            let (stop, max_rss) = (stop.clone(), max_rss.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    max_rss.fetch_max(rss_and_peak().0, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(1));
                }
            })
        };
        for _ in 0..8 {
            run();
        }
        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let (rss_after, peak_after) = rss_and_peak();
        let mib = |b: u64| b as f64 / MIB as f64;
        let sampled = max_rss.load(Ordering::Relaxed);
        assert!(
            sampled - rss_before < limit + SLACK,
            "RSS rose from {:.1} MiB to {:.1} MiB during the bombs",
            mib(rss_before),
            mib(sampled)
        );
        assert!(
            peak_after - rss_before >= limit / 2,
            "the bomb was resident (the test measures something): peak {:.1} MiB, before {:.1} MiB",
            mib(peak_after),
            mib(rss_before)
        );
        assert!(
            peak_after == peak_before || peak_after - rss_before < limit + SLACK,
            "peak RSS rose to {:.1} MiB from {:.1} MiB",
            mib(peak_after),
            mib(rss_before)
        );
        assert!(
            rss_after.saturating_sub(rss_before) < SLACK,
            "trapped instances' memory was not released: {:.1} MiB -> {:.1} MiB",
            mib(rss_before),
            mib(rss_after)
        );
    }
}
