//! Hot reload under load: the plugin file is replaced 100 times (25 broken candidates of six
//! kinds) while four threads call it non-stop. Zero failed calls; every good candidate
//! serves promptly (the median within 200 ms of its write plus its compile time, every one
//! within 2 s: the hard bound is loose because test machines are shared and noisy); every
//! broken one is rejected with its reason; open files and memory end where they started.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use wasmplug::{CallOptions, Plugin, Registry, RegistryConfig, RegistryEvent};

use crate::versioned::Spec;

fn current(registry: &Registry) -> String {
    let out = registry
        .call("svc", "version", b"", &CallOptions::default())
        .unwrap();
    String::from_utf8(out.output.output).unwrap()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Waits for a `Rejected` event of plugin `svc` and returns its class.
fn rejection(events: &Receiver<RegistryEvent>) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(RegistryEvent::Rejected { plugin, class, .. }) =
            events.recv_timeout(Duration::from_millis(50))
            && plugin == "svc"
        {
            return class;
        }
    }
    panic!("no rejection reported within 10 s");
}

#[derive(Debug, Clone, Copy)]
enum Broken {
    Truncated,
    RandomBytes,
    WrongAbi,
    InitFails,
    MissingFunction,
    Escalation,
}

impl Broken {
    const ALL: [Broken; 6] = [
        Broken::Truncated,
        Broken::RandomBytes,
        Broken::WrongAbi,
        Broken::InitFails,
        Broken::MissingFunction,
        Broken::Escalation,
    ];

    /// Writes this broken candidate and returns the error class it must be rejected with.
    fn write(self, dir: &std::path::Path, version: &str, seed: u64) -> &'static str {
        let mut spec = Spec::new("svc", version);
        match self {
            Broken::Truncated => {
                let wasm = spec.wasm();
                spec.write_bytes(dir, &wasm[..wasm.len() * 2 / 3]);
                "invalid_wasm"
            }
            Broken::RandomBytes => {
                let mut x = seed | 1;
                let noise: Vec<u8> = (0..4096)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                spec.write_bytes(dir, &noise);
                "invalid_wasm"
            }
            Broken::WrongAbi => {
                spec.abi = 2;
                spec.write(dir);
                "abi_version_mismatch"
            }
            Broken::InitFails => {
                spec.init_fails = true;
                spec.write(dir);
                "guest"
            }
            Broken::MissingFunction => {
                spec.with_version_fn = false;
                spec.write(dir);
                "invalid_plugin"
            }
            Broken::Escalation => {
                spec.manifest_extra = "[capabilities]\nenv = [\"HOME\"]\n".into();
                spec.write(dir);
                "capability_escalation"
            }
        }
    }
}

#[test]
fn hundred_replacements_under_load_lose_no_call() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    let registry = Registry::new(RegistryConfig {
        debounce: Duration::from_millis(30),
        ..RegistryConfig::default()
    });
    let loaded = registry.load_dir(dir.path()).unwrap();
    assert!(loaded.iter().all(|(_, r)| r.is_ok()), "{loaded:?}");
    let events = registry.subscribe();
    let watcher = registry.watch(dir.path()).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let (calls, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (registry, stop, calls, failures) = (
                registry.clone(),
                stop.clone(),
                calls.clone(),
                failures.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match registry.call("svc", "version", b"", &CallOptions::default()) {
                        Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("failed call: {e}");
                            failures.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(200));
    let (fds_before, rss_before) = (open_fds(), rss_bytes());
    let mut serving = "1.0.0".to_string();
    let (mut good, mut broken) = (0, 0);
    let mut within_budget = Vec::new();
    let mut slowest = Duration::ZERO;
    for i in 1..=100u64 {
        let version = format!("1.{i}.0");
        if i % 4 == 0 {
            let kind = Broken::ALL[(i as usize / 4) % Broken::ALL.len()];
            while events.try_recv().is_ok() {}
            let expected = kind.write(dir.path(), &version, i);
            assert_eq!(rejection(&events), expected, "candidate {i} ({kind:?})");
            assert_eq!(
                current(&registry),
                serving,
                "after broken candidate {i} the old version serves"
            );
            broken += 1;
        } else {
            let spec = Spec::new("svc", &version);
            let t = Instant::now();
            Plugin::builder().compile_bytes(&spec.wasm()).unwrap();
            let compile = t.elapsed();
            spec.write(dir.path());
            let written = Instant::now();
            while current(&registry) != version {
                assert!(
                    written.elapsed() < Duration::from_secs(10),
                    "candidate {i} never served"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
            let took = written.elapsed();
            assert!(
                took <= Duration::from_secs(2),
                "candidate {i} served only after {took:?}"
            );
            within_budget.push(took <= Duration::from_millis(200) + compile);
            slowest = slowest.max(took);
            serving = version;
            good += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    let (calls, failures) = (
        calls.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    let on_time = within_budget.iter().filter(|ok| **ok).count();
    eprintln!(
        "{good} good, {broken} broken candidates; {calls} calls; {on_time}/{good} switched within 200 ms + compile, slowest {slowest:?}"
    );
    assert!(
        on_time * 2 > good,
        "most switches within 200 ms + compile time: {on_time}/{good}"
    );
    assert_eq!((good, broken), (75, 25));
    assert_eq!(failures, 0, "no call failed during {calls} calls");
    assert!(calls > 1000, "the load really ran: {calls}");
    let versions = &registry.plugins()[0].versions;
    assert!(
        versions.len() <= 2,
        "old versions are dropped: {}",
        versions.len()
    );

    // Resources back to where they were (the watcher still runs, so its descriptors count
    // in both measurements).
    std::thread::sleep(Duration::from_millis(100));
    let fds_after = open_fds();
    assert!(
        fds_after <= fds_before + 2,
        "open files: {fds_before} before, {fds_after} after"
    );
    let rss_after = rss_bytes();
    assert!(
        rss_after <= rss_before + 64 * 1024 * 1024,
        "RSS grew from {rss_before} to {rss_after}"
    );
    drop(watcher);
}

#[test]
fn removing_the_folder_unloads_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    let registry = Registry::new(RegistryConfig {
        debounce: Duration::from_millis(30),
        ..RegistryConfig::default()
    });
    registry.load_dir(dir.path()).unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    std::fs::remove_dir_all(dir.path().join("svc")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(RegistryEvent::Unloaded { plugin }) =
            events.recv_timeout(Duration::from_millis(50))
        {
            assert_eq!(plugin, "svc");
            break;
        }
        assert!(Instant::now() < deadline, "not unloaded");
    }
    assert!(registry.plugins().is_empty());
}

#[test]
fn identical_rewrite_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec::new("svc", "1.0.0");
    spec.write(dir.path());
    let registry = Registry::new(RegistryConfig {
        debounce: Duration::from_millis(30),
        ..RegistryConfig::default()
    });
    registry.load_dir(dir.path()).unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    spec.write(dir.path());
    std::thread::sleep(Duration::from_millis(400));
    let loaded: Vec<_> = events
        .try_iter()
        .filter(|e| matches!(e, RegistryEvent::Loaded { .. }))
        .collect();
    assert!(
        loaded.is_empty(),
        "same sha256: nothing reloaded ({loaded:?})"
    );
}
