//! Crash safety of the local kv store (issue 11's operator check): `kill -9` of
//! `wasmplug serve` while plugins write loses no acknowledged write, and the store opens
//! again on restart.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmplug_testkit::{Gateway, http};

mod common;

/// Writers, each on its own counter (the counter example's `increment` reads, adds one and
/// writes: concurrent writers of one counter would race each other, not the crash).
const WRITERS: usize = 4;
/// Acknowledged increments every writer makes before the crash.
const BEFORE_CRASH: u64 = 25;

fn start(plugins: &Path, data: &Path, cache: &Path) -> Gateway {
    Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_wasmplug")),
        &[
            "--plugins",
            plugins.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--no-watch",
        ],
        &[("WASMPLUG_CACHE_DIR", cache.to_str().unwrap())],
    )
}

#[test]
fn issue11_kill_9_during_kv_writes_loses_no_acknowledged_write() {
    let root = common::built();
    let plugins = tempfile::tempdir().unwrap();
    let counter = plugins.path().join("counter");
    std::fs::create_dir(&counter).unwrap();
    for file in ["plugin.toml", "counter.wasm"] {
        std::fs::copy(
            root.join("examples/plugins/counter").join(file),
            counter.join(file),
        )
        .unwrap();
    }
    let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut gateway = start(plugins.path(), data.path(), cache.path());
    let addr = gateway.addr();

    let acked: Vec<Arc<AtomicU64>> = (0..WRITERS).map(|_| Arc::default()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = acked
        .iter()
        .enumerate()
        .map(|(i, acked)| {
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let name = format!("crash-{i}");
                // Bounded: the gateway is killed within seconds; a dead one refuses at once.
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let path = "/v1/plugins/counter/increment";
                    let Some(response) = http(addr, "POST", path, &[], name.as_bytes()) else {
                        return Ok(()); // the crash: no answer, so not acknowledged
                    };
                    if response.status != 200 {
                        return Err(format!("{name}: {} {}", response.status, response.text()));
                    }
                    let value: u64 = response.text().parse().map_err(|e| format!("{e}"))?;
                    let before = acked.swap(value, Ordering::Relaxed);
                    if value != before + 1 {
                        return Err(format!("{name}: {before} then {value}"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked
        .iter()
        .any(|a| a.load(Ordering::Relaxed) < BEFORE_CRASH)
    {
        assert!(
            Instant::now() < deadline,
            "writers too slow: {acked:?}\n{}",
            gateway.output()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Mid-stream: every writer has a request in flight or about to be sent.
    gateway.process().kill();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap().unwrap();
    }

    let gateway = start(plugins.path(), data.path(), cache.path());
    for (i, acked) in acked.iter().enumerate() {
        let acked = acked.load(Ordering::Relaxed);
        let name = format!("crash-{i}");
        let response = gateway.call("POST", "/v1/plugins/counter/get", &[], name.as_bytes());
        assert_eq!(response.status, 200, "{}", response.text());
        let stored: u64 = response.text().parse().unwrap();
        // The write in flight at the crash may or may not have committed; none acknowledged
        // may be lost.
        assert!(
            stored == acked || stored == acked + 1,
            "{name}: {acked} acknowledged, {stored} stored after the crash"
        );
    }
}
