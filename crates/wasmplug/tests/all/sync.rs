//! `[sync]` in the library: two registries sharing one real redis-server
//! (`RegistryConfig::sync`, `Registry::start_sync`). The second starts with an empty plugin
//! directory and converges (the modules travel through Redis); weights set on one reach the
//! other; an automatic canary rollback on one takes the failing version out on both.

use std::path::Path;
use std::time::{Duration, Instant};

use wasmplug::sync::SyncConfig;
use wasmplug::{BreakerConfig, CallOptions, CanaryConfig, Registry, RegistryConfig};
use wasmplug_testkit::RedisServer;

use crate::versioned::Spec;

fn v(s: &str) -> semver::Version {
    s.parse().unwrap()
}

fn replica(id: &str, redis: &str, plugins: &Path) -> Registry {
    Registry::new(RegistryConfig {
        canary: CanaryConfig {
            window: 20,
            min_calls: 10,
            max_error_rate: 0.5,
        },
        breaker: BreakerConfig {
            failure_threshold: 1000,
            ..BreakerConfig::default()
        },
        sync: Some(
            SyncConfig::new(redis, plugins)
                .id(id)
                .check_interval(Duration::from_millis(200)),
        ),
        ..RegistryConfig::default()
    })
}

/// The weights of `svc` on `registry`.
fn weights(registry: &Registry) -> Vec<(String, u32)> {
    registry
        .plugins()
        .iter()
        .filter(|p| p.name == "svc")
        .flat_map(|p| p.versions.iter().map(|v| (v.version.clone(), v.weight)))
        .collect()
}

/// Waits (at most 2 s) until `registry` has `expected`; returns how long it took.
fn converges(registry: &Registry, expected: &[(&str, u32)]) -> Duration {
    let expected: Vec<(String, u32)> = expected.iter().map(|(v, w)| (v.to_string(), *w)).collect();
    let start = Instant::now();
    while weights(registry) != expected {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?} after 2 s, expected {expected:?}",
            weights(registry)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

#[test]
fn two_registries_share_versions_weights_and_a_canary_rollback() {
    let redis = RedisServer::start();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = replica("a", &redis.url(), a_dir.path());
    a.load(&Spec::new("svc", "1.0.0").write_version(a_dir.path()))
        .unwrap();
    // 1.1.0's `echo` traps: same interface, broken behaviour.
    let broken = Spec::new("svc", "1.1.0");
    let wat = broken.wat().replace(
        "(func (export \"echo\") (param i32 i32) (result i64)\n    (i64.or",
        "(func (export \"echo\") (param i32 i32) (result i64)\n    (unreachable) (i64.or",
    );
    assert_ne!(wat, broken.wat());
    let folder = a_dir.path().join("svc/1.1.0");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("plugin.wasm"), wat::parse_str(wat).unwrap()).unwrap();
    std::fs::write(folder.join("plugin.toml"), broken.manifest()).unwrap();
    a.load(&folder.join("plugin.toml")).unwrap();
    a.set_weights("svc", &[(v("1.0.0"), 90), (v("1.1.0"), 10)])
        .unwrap();
    assert!(a.replica().is_none());
    let a_link = a.start_sync().unwrap();
    assert!(matches!(
        a.start_sync(),
        Err(wasmplug::sync::SyncError::AlreadyStarted)
    ));
    assert!(matches!(
        Registry::default().start_sync(),
        Err(wasmplug::sync::SyncError::NotConfigured)
    ));

    // b starts empty and converges: both versions, validated and written into its own dir.
    let b = replica("b", &redis.url(), b_dir.path());
    b.start_sync().unwrap();
    converges(&b, &[("1.0.0", 90), ("1.1.0", 10)]);
    assert!(b_dir.path().join("svc/1.1.0/plugin.wasm").is_file());

    // Weights set on b reach a.
    b.set_weights("svc", &[(v("1.0.0"), 50), (v("1.1.0"), 50)])
        .unwrap();
    let took = converges(&a, &[("1.0.0", 50), ("1.1.0", 50)]);
    eprintln!("weights b -> a in {took:?}");

    // The canary fails on b only (a serves nothing): b's automatic rollback reaches a.
    for _ in 0..200 {
        let _ = b.call("svc", "echo", b"x", &CallOptions::default());
    }
    assert_eq!(
        weights(&b),
        [("1.0.0".to_string(), 50), ("1.1.0".to_string(), 0)]
    );
    let took = converges(&a, &[("1.0.0", 50), ("1.1.0", 0)]);
    eprintln!("canary rollback b -> a in {took:?}");
    assert!(a_link.is_synced() && a_link.id() == "a");
}

#[test]
fn an_invalid_sync_url_is_refused_without_showing_its_password() {
    let plugins = tempfile::tempdir().unwrap();
    let registry = replica(
        "bad",
        "redis://ops:hunter2@127.0.0.1:notaport/0",
        plugins.path(),
    );
    let err = registry.start_sync().unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, wasmplug::sync::SyncError::InvalidUrl { .. }),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("redis://ops:***@127.0.0.1:notaport/0"),
        "{message}"
    );
}
