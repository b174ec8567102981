//! The registry: routing between versions, in-flight calls, breakers, canary rollback,
//! escalation and interface checks.

use std::collections::HashMap;
use std::time::Duration;

use wasmplug::{
    BreakerConfig, BreakerState, CallOptions, CanaryConfig, Error, Registry, RegistryConfig,
    RegistryEvent,
};

use crate::support::{quick_registry, wait_for};
use crate::versioned::Spec;

fn v(s: &str) -> semver::Version {
    s.parse().unwrap()
}

fn version_of(registry: &Registry, opts: &CallOptions) -> String {
    let out = registry.call("svc", "version", b"", opts).unwrap();
    let text = String::from_utf8(out.output.output).unwrap();
    assert_eq!(
        text,
        out.version.to_string(),
        "the answer comes from the version reported"
    );
    text
}

/// A registry with `svc` 1.0.0 and 2.0.0 loaded (2.0.0 serving).
fn two_versions(config: RegistryConfig) -> (Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(config);
    assert_eq!(
        registry
            .load(&Spec::new("svc", "1.0.0").write(dir.path()))
            .unwrap(),
        v("1.0.0")
    );
    assert_eq!(
        registry
            .load(&Spec::new("svc", "2.0.0").write(dir.path()))
            .unwrap(),
        v("2.0.0")
    );
    (registry, dir)
}

#[test]
fn new_version_takes_all_traffic_and_previous_is_kept_for_rollback() {
    let (registry, _dir) = two_versions(RegistryConfig::default());
    assert_eq!(version_of(&registry, &CallOptions::default()), "2.0.0");
    let status = &registry.plugins()[0];
    let weights: Vec<_> = status
        .versions
        .iter()
        .map(|v| (v.version.as_str(), v.weight))
        .collect();
    assert_eq!(weights, [("1.0.0", 0), ("2.0.0", 100)]);
    assert_eq!(registry.rollback("svc").unwrap(), v("1.0.0"));
    assert_eq!(version_of(&registry, &CallOptions::default()), "1.0.0");
}

#[test]
fn weights_split_traffic_and_sticky_keys_stay_put() {
    let (registry, _dir) = two_versions(RegistryConfig::default());
    registry
        .set_weights("svc", &[(v("1.0.0"), 90), (v("2.0.0"), 10)])
        .unwrap();
    let mut counts: HashMap<String, u32> = HashMap::new();
    for _ in 0..2000 {
        *counts
            .entry(version_of(&registry, &CallOptions::default()))
            .or_default() += 1;
    }
    let canary = counts["2.0.0"];
    assert!(
        (120..=280).contains(&canary),
        "about 10% of 2000 to the canary: {counts:?}"
    );
    for user in ["alice", "bob", "carol", "dave"] {
        let opts = CallOptions {
            sticky_key: Some(user.into()),
            ..CallOptions::default()
        };
        let first = version_of(&registry, &opts);
        for _ in 0..20 {
            assert_eq!(
                version_of(&registry, &opts),
                first,
                "{user} stays on one version"
            );
        }
    }
}

#[test]
fn pinned_version_and_routing_errors() {
    let (registry, _dir) = two_versions(RegistryConfig::default());
    let pinned = CallOptions {
        version: Some(v("1.0.0")),
        ..CallOptions::default()
    };
    assert_eq!(
        version_of(&registry, &pinned),
        "1.0.0",
        "pinning ignores weights"
    );
    let missing = CallOptions {
        version: Some(v("3.0.0")),
        ..CallOptions::default()
    };
    assert!(matches!(
        registry.call("svc", "version", b"", &missing).unwrap_err(),
        Error::VersionNotFound { loaded, .. } if loaded == ["1.0.0", "2.0.0"]
    ));
    assert!(matches!(
        registry
            .call("nope", "version", b"", &CallOptions::default())
            .unwrap_err(),
        Error::PluginNotFound { .. }
    ));
    registry
        .set_weights("svc", &[(v("1.0.0"), 0), (v("2.0.0"), 0)])
        .unwrap();
    assert!(matches!(
        registry
            .call("svc", "version", b"", &CallOptions::default())
            .unwrap_err(),
        Error::NoRoute { .. }
    ));
    assert!(registry.set_weights("svc", &[(v("9.9.9"), 1)]).is_err());
}

#[test]
fn call_started_on_a_version_finishes_there_and_frees_it_after() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(RegistryConfig {
        keep_previous: 0,
        ..RegistryConfig::default()
    });
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let old = registry.get("svc").unwrap();
    assert_eq!(old.instance_counts(), (1, 1), "one warm instance, idle");
    let slow = {
        let registry = registry.clone();
        std::thread::spawn(move || {
            let out = registry
                .call(
                    "svc",
                    "slow",
                    &300_000_000u32.to_le_bytes(),
                    &CallOptions::default(),
                )
                .unwrap();
            (
                out.version.to_string(),
                String::from_utf8(out.output.output).unwrap(),
            )
        })
    };
    // Wait until the slow call has taken the instance, then swap in 2.0.0.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while old.instance_counts() != (1, 0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow call never started"
        );
        std::thread::yield_now();
    }
    registry
        .load(&Spec::new("svc", "2.0.0").write(dir.path()))
        .unwrap();
    assert_eq!(
        version_of(&registry, &CallOptions::default()),
        "2.0.0",
        "new calls go to 2.0.0"
    );
    assert!(
        old.handles() > 1,
        "the in-flight call's version still holds 1.0.0"
    );
    assert_eq!(
        slow.join().unwrap(),
        ("1.0.0".to_string(), "1.0.0".to_string()),
        "finished on 1.0.0"
    );
    assert_eq!(
        registry.plugins()[0].versions.len(),
        1,
        "keep_previous = 0 dropped 1.0.0"
    );
    assert_eq!(
        old.handles(),
        1,
        "only this test's handle is left: 1.0.0 is freed with it"
    );
}

#[test]
fn breaker_opens_on_consecutive_faults_and_a_probe_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig {
        breaker: BreakerConfig {
            failure_threshold: 3,
            reset_timeout: Duration::from_millis(100),
        },
        ..RegistryConfig::default()
    };
    let registry = Registry::new(config);
    let events = registry.subscribe();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let opts = CallOptions::default();
    for _ in 0..3 {
        assert!(matches!(
            registry.call("svc", "fail", b"", &opts).unwrap_err(),
            Error::Trap { .. }
        ));
    }
    assert!(matches!(
        registry.call("svc", "version", b"", &opts).unwrap_err(),
        Error::CircuitOpen { .. }
    ));
    assert_eq!(
        registry.plugins()[0].versions[0].breaker,
        BreakerState::Open
    );
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        version_of(&registry, &opts),
        "1.0.0",
        "the half-open probe succeeds"
    );
    assert_eq!(
        registry.plugins()[0].versions[0].breaker,
        BreakerState::Closed
    );
    let states: Vec<_> = events
        .try_iter()
        .filter_map(|e| match e {
            RegistryEvent::Breaker { state, .. } => Some(state),
            _ => None,
        })
        .collect();
    assert_eq!(states, [BreakerState::Open, BreakerState::Closed]);
}

#[test]
fn guest_error_values_do_not_open_the_breaker() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(RegistryConfig {
        breaker: BreakerConfig {
            failure_threshold: 2,
            reset_timeout: Duration::from_secs(60),
        },
        ..RegistryConfig::default()
    });
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    for _ in 0..5 {
        assert!(matches!(
            registry
                .call("svc", "nope", b"", &CallOptions::default())
                .unwrap_err(),
            Error::FunctionNotFound { .. }
        ));
    }
    assert_eq!(
        registry.plugins()[0].versions[0].breaker,
        BreakerState::Closed
    );
}

#[test]
fn failing_canary_is_rolled_back_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig {
        canary: CanaryConfig {
            window: 20,
            min_calls: 10,
            max_error_rate: 0.5,
        },
        breaker: BreakerConfig {
            failure_threshold: 1000,
            ..BreakerConfig::default()
        },
        ..RegistryConfig::default()
    };
    let registry = Registry::new(config);
    let events = registry.subscribe();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    // The canary's `echo` traps: same interface, broken behaviour.
    let broken = Spec::new("svc", "1.1.0");
    let wat = broken.wat().replace(
        "(func (export \"echo\") (param i32 i32) (result i64)\n    (i64.or",
        "(func (export \"echo\") (param i32 i32) (result i64)\n    (unreachable) (i64.or",
    );
    broken.write_bytes(dir.path(), &wat::parse_str(wat).unwrap());
    registry.load(&dir.path().join("svc/plugin.toml")).unwrap();
    registry
        .set_weights("svc", &[(v("1.0.0"), 90), (v("1.1.0"), 10)])
        .unwrap();
    let mut failures = 0;
    for _ in 0..1000 {
        if registry
            .call("svc", "echo", b"x", &CallOptions::default())
            .is_err()
        {
            failures += 1;
        }
    }
    let weights: Vec<_> = registry.plugins()[0]
        .versions
        .iter()
        .map(|v| (v.version.clone(), v.weight))
        .collect();
    assert_eq!(
        weights,
        [("1.0.0".to_string(), 90), ("1.1.0".to_string(), 0)]
    );
    assert!(
        (10..=40).contains(&failures),
        "the canary failed about min_calls times before rollback: {failures}"
    );
    let rolled: Vec<_> = events
        .try_iter()
        .filter_map(|e| match e {
            RegistryEvent::RolledBack {
                from, to, reason, ..
            } => Some((from, to, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(rolled.len(), 1, "{rolled:?}");
    assert_eq!(
        (rolled[0].0.as_str(), rolled[0].1.as_str()),
        ("1.1.0", "1.0.0")
    );
    assert!(rolled[0].2.contains("failure rate 100%"), "{}", rolled[0].2);
}

#[test]
fn capability_escalation_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::default();
    let events = registry.subscribe();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let mut greedy = Spec::new("svc", "1.1.0");
    greedy.manifest_extra =
        "[capabilities]\nenv = [\"SECRET\"]\nnet = [\"https://example.com\"]\n".into();
    let err = registry.load(&greedy.write(dir.path())).unwrap_err();
    match &err {
        Error::CapabilityEscalation { added, .. } => {
            assert_eq!(added, &["env SECRET", "net https://example.com:443"]);
        }
        other => panic!("expected CapabilityEscalation, got {other:?}"),
    }
    assert_eq!(
        version_of(&registry, &CallOptions::default()),
        "1.0.0",
        "the old version keeps serving"
    );
    assert!(events.try_iter().any(
        |e| matches!(e, RegistryEvent::Rejected { class, .. } if class == "capability_escalation")
    ));
    let lenient = Registry::new(RegistryConfig {
        allow_escalation: true,
        ..RegistryConfig::default()
    });
    lenient
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    lenient.load(&greedy.write(dir.path())).unwrap();
}

#[test]
fn candidate_that_drops_a_function_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::default();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let mut lacking = Spec::new("svc", "1.1.0");
    lacking.with_version_fn = false;
    let err = registry.load(&lacking.write(dir.path())).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("`version`")),
        "{err:?}"
    );
    assert_eq!(version_of(&registry, &CallOptions::default()), "1.0.0");
}

#[test]
fn unload_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::default();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    Spec::new("svc", "1.0.1").write(dir.path());
    assert_eq!(registry.reload("svc").unwrap(), v("1.0.1"));
    let same = registry.reload("svc").unwrap();
    assert_eq!(same, v("1.0.1"), "identical files are a no-op");
    registry.unload("svc").unwrap();
    assert!(matches!(
        registry.unload("svc").unwrap_err(),
        Error::PluginNotFound { .. }
    ));
    assert!(registry.plugins().is_empty());
}

#[test]
fn version_status_counts_latency_errors_by_class_and_the_last_error() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(RegistryConfig::default());
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let before = registry.plugins()[0].versions[0].stats.clone();
    assert!(before.errors.is_empty() && before.last_error.is_none());
    assert_eq!(before.latency.iter().sum::<u64>(), 0);
    for _ in 0..3 {
        registry
            .call("svc", "echo", b"hi", &CallOptions::default())
            .unwrap();
    }
    let trap = registry
        .call("svc", "fail", b"", &CallOptions::default())
        .unwrap_err();
    let stats = registry.plugins()[0].versions[0].stats.clone();
    assert_eq!(stats.latency.len(), wasmplug::LATENCY_BUCKETS.len() + 1);
    assert_eq!(stats.latency.iter().sum::<u64>(), 4, "every call is timed");
    assert_eq!(stats.errors.get(trap.class()), Some(&1));
    assert_eq!(stats.errors.values().sum::<u64>(), 1);
    let last = stats.last_error.expect("the trap is the last error");
    assert_eq!(last.class, trap.class());
    assert!(!last.message.contains('\n'), "one line: {}", last.message);
    assert_eq!(stats.in_flight, 0);
    assert!(stats.memory_high_water > 0);
    assert!(
        wasmplug::latency_quantile(&stats.latency, 0.5).is_some(),
        "a median exists once calls were made"
    );
    let plugin = registry.version("svc", &v("1.0.0")).unwrap();
    assert_eq!(plugin.meta().version, v("1.0.0"));
    assert!(registry.version("svc", &v("9.0.0")).is_none());
}

/// Two folders of a plugin directory claiming one name (a copy that kept its `name`): the
/// first folder (name order) serves, the second is refused with a clear error and a
/// `Rejected` event instead of silently replacing the first one's versions.
#[test]
fn a_second_folder_with_the_same_plugin_name_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    // The copy: same name and version, different module, in folder `svc-copy`.
    let copy = dir.path().join("svc-copy");
    std::fs::create_dir_all(&copy).unwrap();
    let spec = Spec::new("svc", "1.0.0");
    let original = dir.path().join("svc/plugin.toml");
    let padded = Spec { pad: 64, ..spec };
    std::fs::write(copy.join("plugin.wasm"), padded.wasm()).unwrap();
    std::fs::write(copy.join("plugin.toml"), padded.manifest()).unwrap();
    let registry = Registry::new(RegistryConfig::default());
    let events = registry.subscribe();
    let results = registry.load_dir(dir.path()).unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    let (ok, refused): (Vec<_>, Vec<_>) = results.iter().partition(|(_, r)| r.is_ok());
    assert_eq!(ok.len(), 1, "{results:?}");
    assert!(ok[0].0.ends_with("svc/plugin.toml"), "{results:?}");
    let (path, err) = &refused[0];
    assert!(path.ends_with("svc-copy/plugin.toml"), "{path:?}");
    match err.as_ref().unwrap_err() {
        Error::Manifest { message, .. } => assert!(
            message.contains("plugin `svc` is already served from") && message.contains("svc-copy"),
            "{message}"
        ),
        other => panic!("expected a manifest error, got {other:?}"),
    }
    // The original's module serves (its sha256), and the refusal was an event.
    let served = registry.plugins();
    assert_eq!(served.len(), 1);
    let sha = wasmplug::Plugin::load(&original)
        .unwrap()
        .compiled()
        .sha256()
        .to_string();
    assert_eq!(served[0].versions[0].sha256, sha);
    assert_eq!(version_of(&registry, &CallOptions::default()), "1.0.0");
    let rejected = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| matches!(e, RegistryEvent::Rejected { plugin, .. } if plugin == "svc"))
        .count();
    assert_eq!(rejected, 1);
    // A second scan of the same directory changes nothing.
    let again = registry.load_dir(dir.path()).unwrap();
    assert_eq!(again.iter().filter(|(_, r)| r.is_err()).count(), 1);
    assert_eq!(registry.plugins()[0].versions.len(), 1);
}

/// The watcher applies the same rule to a folder that appears later: a copy of a served
/// plugin's folder (same name, new module) is refused with a `Rejected` event and the
/// original keeps serving; a new version written into the original folder still loads.
#[test]
fn the_watcher_refuses_a_copied_plugin_folder() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    let registry = quick_registry();
    registry.load_dir(dir.path()).unwrap();
    let sha = registry.plugins()[0].versions[0].sha256.clone();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    let copy = Spec {
        pad: 64,
        ..Spec::new("svc", "1.0.0")
    };
    let folder = dir.path().join("svc-copy");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("plugin.wasm"), copy.wasm()).unwrap();
    std::fs::write(folder.join("plugin.toml"), copy.manifest()).unwrap();
    match wait_for(&events, Duration::from_secs(10), |e| {
        matches!(e, RegistryEvent::Rejected { .. })
    }) {
        Some(RegistryEvent::Rejected { plugin, reason, .. }) => {
            assert_eq!(plugin, "svc");
            assert!(reason.contains("already served from"), "{reason}");
        }
        other => panic!("the copy was not refused: {other:?}"),
    }
    let status = &registry.plugins()[0];
    assert_eq!(status.versions.len(), 1);
    assert_eq!(
        status.versions[0].sha256, sha,
        "the copy replaced the original"
    );
    // The original folder still hot-reloads.
    Spec::new("svc", "1.1.0").write(dir.path());
    assert!(
        wait_for(&events, Duration::from_secs(10), |e| {
            matches!(e, RegistryEvent::Loaded { version, .. } if version == "1.1.0")
        })
        .is_some(),
        "the original folder's new version did not load"
    );
    assert_eq!(version_of(&registry, &CallOptions::default()), "1.1.0");
}

/// A renamed plugin folder is not a second folder claiming the name: the plugin keeps
/// serving, with no unload in between (whichever of the two folder events the watcher
/// handles first), and the folder keeps hot-reloading under its new name.
/// Replaces the plain-layout `svc` 1.0.0 in `folder` by 1.1.0 (module first, then the
/// manifest, as a deploy would) and waits until the watcher loaded it.
fn reload_in_place(folder: &std::path::Path, events: &std::sync::mpsc::Receiver<RegistryEvent>) {
    let next = Spec::new("svc", "1.1.0");
    std::fs::write(folder.join("plugin.wasm.tmp"), next.wasm()).unwrap();
    std::fs::rename(folder.join("plugin.wasm.tmp"), folder.join("plugin.wasm")).unwrap();
    std::fs::write(folder.join("plugin.toml"), next.manifest()).unwrap();
    assert!(
        wait_for(events, Duration::from_secs(10), |e| {
            matches!(e, RegistryEvent::Loaded { version, .. } if version == "1.1.0")
        })
        .is_some(),
        "1.1.0 did not load from {}",
        folder.display()
    );
}

#[test]
fn a_renamed_plugin_folder_keeps_serving_and_reloading() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    let registry = quick_registry();
    registry.load_dir(dir.path()).unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    std::fs::rename(dir.path().join("svc"), dir.path().join("svc-moved")).unwrap();
    // Give the watcher time to handle both folders.
    std::thread::sleep(Duration::from_millis(1500));
    let quiet: Vec<RegistryEvent> = events.try_iter().collect();
    assert!(
        !quiet.iter().any(|e| matches!(
            e,
            RegistryEvent::Rejected { .. } | RegistryEvent::Unloaded { .. }
        )),
        "{quiet:?}"
    );
    assert_eq!(version_of(&registry, &CallOptions::default()), "1.0.0");
    reload_in_place(&dir.path().join("svc-moved"), &events);
    assert_eq!(version_of(&registry, &CallOptions::default()), "1.1.0");
}

#[test]
fn deleting_a_folder_removes_every_version_loaded_from_it() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    let registry = quick_registry();
    registry.load_dir(dir.path()).unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    // A hot reload in place: 1.1.0 serves, 1.0.0 stays loaded beside it (rollback target),
    // both from the same plugin.toml.
    let folder = dir.path().join("svc");
    reload_in_place(&folder, &events);
    assert!(registry.version("svc", &v("1.0.0")).is_some());
    assert!(registry.version("svc", &v("1.1.0")).is_some());
    std::fs::remove_dir_all(&folder).unwrap();
    assert!(
        wait_for(&events, Duration::from_secs(10), |e| {
            matches!(e, RegistryEvent::Unloaded { plugin } if plugin == "svc")
        })
        .is_some(),
        "the plugin was not unloaded"
    );
    assert!(registry.get("svc").is_none());
    assert!(registry.version("svc", &v("1.0.0")).is_none());
    assert!(registry.version("svc", &v("1.1.0")).is_none());
}
