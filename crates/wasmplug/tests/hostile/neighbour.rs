//! The well-behaved neighbour: `echo.wat`, called in a loop from another thread while a
//! hostile case runs on the same shared engine.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::{Duration, Instant};

use wasmplug::Plugin;

use crate::support::echo;

/// Every case holds this shared; the RSS test holds it exclusively so that no other case
/// allocates while it measures the process.
static HOST_MEMORY: RwLock<()> = RwLock::new(());

/// Taken by every case (through [`with_neighbour`]).
pub fn shared() -> RwLockReadGuard<'static, ()> {
    HOST_MEMORY.read().unwrap_or_else(PoisonError::into_inner)
}

/// Taken by tests that measure the whole process.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    HOST_MEMORY.write().unwrap_or_else(PoisonError::into_inner)
}

/// Sets the flag when dropped, so the neighbour stops even if the case panics.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits (up to a generous bound) until `done` holds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "neighbour: timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `f` while the neighbour plugin is called in a loop on another thread. The neighbour
/// makes at least one call before `f` starts and one after it returns; every call must
/// return exactly its input.
pub fn with_neighbour<T>(f: impl FnOnce() -> T) -> T {
    let _shared = shared();
    // A fresh neighbour per case: echo.wat's bump allocator never frees, so one instance
    // shared by every case would eventually run out of memory on its own.
    let plugin = Plugin::load(echo()).expect("echo.wat loads");
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let _stop_on_drop = StopOnDrop(stop.clone());
    let worker = {
        let (stop, ok) = (stop.clone(), ok.clone());
        thread::spawn(move || {
            let mut failures = Vec::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let input = format!("neighbour call {i} {}", "x".repeat(i % 64));
                match plugin.call("echo", input.as_bytes()) {
                    Ok(out) if out == input.as_bytes() => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(out) => {
                        failures.push(format!("call {i}: wrong output of {} bytes", out.len()))
                    }
                    Err(e) => failures.push(format!("call {i}: {e:?}")),
                }
                i += 1;
            }
            failures
        })
    };
    wait_until("the neighbour's first call", || {
        ok.load(Ordering::Relaxed) >= 1 || worker.is_finished()
    });
    let result = f();
    let seen = ok.load(Ordering::Relaxed);
    wait_until("a neighbour call after the case", || {
        ok.load(Ordering::Relaxed) > seen || worker.is_finished()
    });
    stop.store(true, Ordering::Relaxed);
    let failures = worker.join().expect("the neighbour thread must not panic");
    assert!(failures.is_empty(), "neighbour calls failed: {failures:#?}");
    assert!(
        ok.load(Ordering::Relaxed) >= 2,
        "the neighbour made calls before and after the case"
    );
    result
}
