//! Issue 15 items 4 and 5: versions side by side on disk with fallback, rollout rules, and
//! routing that survives a restart.

use std::collections::BTreeMap;
use std::time::Duration;

use wasmplug::{
    Bucket, CallOptions, DefaultRoute, Equals, Error, Registry, RegistryConfig, RegistryEvent,
    Route, RoutingRules, Rule,
};

use crate::versioned::Spec;

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).unwrap()
}

fn config(state: Option<&std::path::Path>) -> RegistryConfig {
    RegistryConfig {
        keep_previous: 5,
        state_dir: state.map(|p| p.to_path_buf()),
        debounce: Duration::from_millis(30),
        ..RegistryConfig::default()
    }
}

fn call(registry: &Registry, opts: &CallOptions) -> (String, Route) {
    let out = registry.call("svc", "version", b"", opts).unwrap();
    (String::from_utf8(out.output.output).unwrap(), out.route)
}

fn user(id: &str) -> CallOptions {
    CallOptions {
        headers: vec![("x-user-id".into(), id.into())],
        ..CallOptions::default()
    }
}

fn rules() -> RoutingRules {
    RoutingRules {
        rules: vec![
            Rule {
                name: Some("experiment-b".into()),
                header: Some(Equals {
                    name: "X-Experiment".into(),
                    equals: "B".into(),
                }),
                query: None,
                label: None,
                bucket: None,
                to: "=1.3.0-beta".parse().unwrap(),
            },
            Rule {
                name: Some("canary".into()),
                header: None,
                query: None,
                label: None,
                bucket: Some(Bucket {
                    header: Some("X-User-Id".into()),
                    query: None,
                    label: None,
                    below: 5,
                }),
                to: "1.2.x".parse().unwrap(),
            },
        ],
        default: Some(DefaultRoute::Weights(BTreeMap::from([(v("1.0.0"), 100)]))),
    }
}

fn three_versions(dir: &std::path::Path) {
    for version in ["1.0.0", "1.2.0", "1.3.0-beta"] {
        Spec::new("svc", version).write_version(dir);
    }
}

#[test]
fn rules_route_by_header_and_by_a_stable_user_bucket() {
    let dir = tempfile::tempdir().unwrap();
    three_versions(dir.path());
    let registry = Registry::new(config(None));
    registry.load_dir(dir.path()).unwrap();
    registry.set_rules("svc", Some(rules())).unwrap();
    let beta = CallOptions {
        headers: vec![("X-EXPERIMENT".into(), "B".into())],
        ..CallOptions::default()
    };
    let (version, route) = call(&registry, &beta);
    assert_eq!(version, "1.3.0-beta");
    assert_eq!(route.to_string(), "rule:experiment-b");
    let mut canary = 0;
    for i in 0..10_000 {
        let (version, route) = call(&registry, &user(&format!("user-{i}")));
        if version == "1.2.0" {
            canary += 1;
            assert_eq!(route.to_string(), "rule:canary");
        } else {
            assert_eq!((version.as_str(), route), ("1.0.0", Route::Default));
        }
    }
    assert!(
        (400..=600).contains(&canary),
        "{canary} of 10,000 went to the canary"
    );
    let first = call(&registry, &user("user-42")).0;
    for _ in 0..20 {
        assert_eq!(
            call(&registry, &user("user-42")).0,
            first,
            "same user, same version"
        );
    }
}

#[test]
fn invalid_rules_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    three_versions(dir.path());
    let registry = Registry::new(config(None));
    registry.load_dir(dir.path()).unwrap();
    let mut unknown = rules();
    unknown.rules[1].to = "2.x".parse().unwrap();
    let err = registry.set_rules("svc", Some(unknown)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRouting { reason, .. } if reason.contains("rule:canary") && reason.contains("2.*")),
        "{err}"
    );
    let mut empty = rules();
    empty.default = Some(DefaultRoute::Weights(BTreeMap::new()));
    let err = registry.set_rules("svc", Some(empty)).unwrap_err();
    assert!(err.to_string().contains("default"), "{err}");
    let mut no_condition = rules();
    no_condition.rules[0].header = None;
    let err = registry.set_rules("svc", Some(no_condition)).unwrap_err();
    assert!(err.to_string().contains("no condition"), "{err}");
    assert!(registry.rules("svc").is_none(), "nothing was applied");
}

#[test]
fn a_split_and_a_rule_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    three_versions(dir.path());
    let before = {
        let registry = Registry::new(config(Some(state.path())));
        registry.load_dir(dir.path()).unwrap();
        let mut r = rules();
        r.default = None;
        r.rules.truncate(1);
        registry.set_rules("svc", Some(r)).unwrap();
        registry
            .set_weights(
                "svc",
                &[(v("1.0.0"), 90), (v("1.2.0"), 10), (v("1.3.0-beta"), 0)],
            )
            .unwrap();
        registry.plugins()
    };
    let registry = Registry::new(config(Some(state.path())));
    registry.load_dir(dir.path()).unwrap();
    let after = registry.plugins();
    let weights = |p: &[wasmplug::PluginStatus]| -> Vec<(String, u32)> {
        p[0].versions
            .iter()
            .map(|v| (v.version.clone(), v.weight))
            .collect()
    };
    assert_eq!(weights(&after), weights(&before));
    assert_eq!(
        weights(&after),
        vec![
            ("1.0.0".into(), 90),
            ("1.2.0".into(), 10),
            ("1.3.0-beta".into(), 0)
        ]
    );
    assert_eq!(registry.rules("svc").unwrap().rules.len(), 1);
}

#[test]
fn a_broken_newest_version_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write_version(dir.path());
    Spec::new("svc", "1.1.0").write_version(dir.path());
    let mut broken = Spec::new("svc", "1.2.0");
    broken.init_fails = true;
    broken.write_version(dir.path());
    let registry = Registry::new(RegistryConfig::default());
    let events = registry.subscribe();
    let results = registry.load_dir(dir.path()).unwrap();
    assert_eq!(results.iter().filter(|(_, r)| r.is_err()).count(), 1);
    assert_eq!(call(&registry, &CallOptions::default()).0, "1.1.0");
    let degraded = events.try_iter().find_map(|e| match e {
        RegistryEvent::Degraded {
            failed, serving, ..
        } => Some((failed, serving)),
        _ => None,
    });
    assert_eq!(degraded, Some(("1.2.0".into(), "1.1.0".into())));
    let status = &registry.plugins()[0];
    assert_eq!(status.degraded.as_ref().unwrap().failed, "1.2.0");
    assert_eq!(registry.degraded().len(), 1);
    // A good 1.2.0 clears it.
    let manifest = Spec::new("svc", "1.2.0").write_version(dir.path());
    registry.load(&manifest).unwrap();
    assert!(registry.degraded().is_empty());
}

#[test]
fn deploy_adds_a_version_and_remove_version_deletes_it() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write(dir.path());
    let registry = Registry::new(config(None));
    registry.load_dir(dir.path()).unwrap();
    let spec = Spec::new("svc", "1.1.0");
    let version = registry
        .deploy(dir.path(), &spec.manifest(), "plugin.wasm", &spec.wasm())
        .unwrap();
    assert_eq!(version, v("1.1.0"));
    assert!(dir.path().join("svc/1.1.0/plugin.toml").is_file());
    assert!(dir.path().join("svc/plugin.toml").is_file(), "1.0.0 stays");
    // A version with traffic is not removed; a held one is, files and all.
    let err = registry.remove_version("svc", &v("1.1.0")).unwrap_err();
    assert!(matches!(err, Error::InvalidRouting { .. }), "{err}");
    registry.remove_version("svc", &v("1.0.0")).unwrap();
    assert!(!dir.path().join("svc/plugin.toml").exists());
    assert_eq!(registry.plugins()[0].versions.len(), 1);
    // After a restart both layouts load side by side.
    let registry = Registry::new(config(None));
    registry.load_dir(dir.path()).unwrap();
    assert_eq!(call(&registry, &CallOptions::default()).0, "1.1.0");
    // A refused deploy puts nothing on disk.
    let mut broken = Spec::new("svc", "1.2.0");
    broken.init_fails = true;
    assert!(
        registry
            .deploy(
                dir.path(),
                &broken.manifest(),
                "plugin.wasm",
                &broken.wasm()
            )
            .is_err()
    );
    assert!(!dir.path().join("svc/1.2.0").exists());
}

#[test]
fn hot_reload_adds_and_removes_versions_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    Spec::new("svc", "1.0.0").write_version(dir.path());
    let registry = Registry::new(config(None));
    registry.load_dir(dir.path()).unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    Spec::new("svc", "1.1.0").write_version(dir.path());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while call(&registry, &CallOptions::default()).0 != "1.1.0" {
        assert!(std::time::Instant::now() < deadline, "1.1.0 never served");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(registry.rollback("svc").unwrap(), v("1.0.0"));
    std::fs::remove_dir_all(dir.path().join("svc/1.1.0")).unwrap();
    let removed = (0..500).find_map(|_| match events.recv_timeout(Duration::from_millis(20)) {
        Ok(RegistryEvent::VersionRemoved { version, .. }) => Some(version),
        _ => None,
    });
    assert_eq!(removed.as_deref(), Some("1.1.0"));
    assert_eq!(registry.plugins()[0].versions.len(), 1);
}
