//! Contract snapshots of real plugins (stable across folders) and the registry's contract
//! gate on reloads.

use std::path::Path;

use wasmplug::{CallOptions, Contract, Error, Registry, RegistryConfig, RegistryEvent};

use crate::versioned::Spec;

fn with_mount(version: &str) -> Spec {
    let mut spec = Spec::new("svc", version);
    spec.manifest_extra = "[capabilities]\nfs = [\"data:/data\"]\nenv = [\"TZ\"]\n".into();
    spec
}

#[test]
fn the_snapshot_is_the_same_from_any_folder_and_lists_the_interface() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = Contract::from_path(with_mount("1.0.0").write(a.path())).unwrap();
    let two = Contract::from_path(with_mount("1.0.0").write(b.path())).unwrap();
    assert_eq!(one.to_json(), two.to_json());
    assert_eq!(one.functions, ["echo", "fail", "slow", "version"]);
    assert_eq!(one.capabilities.fs[0].host, "data");
    assert_eq!(one.capabilities.env, ["TZ"]);
    assert_eq!(one.imports.len(), 1);
    assert_eq!(
        (
            one.imports[0].name.as_str(),
            one.imports[0].signature.as_str()
        ),
        ("set_error", "func (i32, i32, i32)")
    );
    // A module alone: no grants, default limits.
    let bare = Contract::from_path(a.path().join("svc/plugin.wasm")).unwrap();
    assert!(bare.capabilities.env.is_empty());
    assert_eq!(bare.functions, one.functions);
}

#[test]
fn the_compiled_contract_equals_the_static_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("svc/data")).unwrap();
    let manifest = with_mount("1.0.0").write(dir.path());
    let plugin = wasmplug::Plugin::load(&manifest).unwrap();
    assert_eq!(
        Contract::of(plugin.compiled()),
        Contract::from_path(&manifest).unwrap()
    );
}

fn rejected_reason(events: &std::sync::mpsc::Receiver<RegistryEvent>) -> String {
    events
        .try_iter()
        .find_map(|e| match e {
            RegistryEvent::Rejected { reason, .. } => Some(reason),
            _ => None,
        })
        .expect("a Rejected event")
}

fn load(registry: &Registry, dir: &Path, spec: &Spec) -> wasmplug::Result<semver::Version> {
    registry.load(&spec.write(dir))
}

#[test]
fn reload_gate_accepts_additions_and_names_removals_unless_breaking_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::default();
    let events = registry.subscribe();
    let mut lean = Spec::new("svc", "1.0.0");
    lean.with_version_fn = false;
    load(&registry, dir.path(), &lean).unwrap();
    // Adding a function and raising a limit pass the gate.
    let mut more = Spec::new("svc", "1.1.0");
    more.manifest_extra = "[limits]\nmemory = \"128MiB\"\n".into();
    load(&registry, dir.path(), &more).unwrap();
    // Removing it again is refused, and the event names the change.
    let mut fewer = lean.clone();
    fewer.version = "1.2.0".into();
    let err = load(&registry, dir.path(), &fewer).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("`version`")),
        "{err:?}"
    );
    assert!(rejected_reason(&events).contains("function `version` removed"));
    let out = registry
        .call("svc", "version", b"", &CallOptions::default())
        .unwrap();
    assert_eq!(out.output.output, b"1.1.0");

    let lenient = Registry::new(RegistryConfig {
        allow_breaking: true,
        ..RegistryConfig::default()
    });
    load(&lenient, dir.path(), &more).unwrap();
    assert_eq!(
        load(&lenient, dir.path(), &fewer).unwrap().to_string(),
        "1.2.0"
    );
    let mut greedy = Spec::new("svc", "1.3.0");
    greedy.manifest_extra = "[capabilities]\nenv = [\"SECRET\"]\n".into();
    load(&lenient, dir.path(), &greedy).unwrap();
}

/// A component's imports are compared by their structure, not by the type indices of its
/// binary: two builds of the same interface whose types are numbered differently have one
/// contract (before, the gate saw `instance(0)` vs `instance(1)` and refused a reload).
#[test]
fn component_imports_are_compared_by_structure_not_by_type_index() {
    let probe = std::fs::read_to_string(crate::support::wat("component-probe")).unwrap();
    let import = r#"(import "wasmplug:plugin/host@1.0.0" (instance (export "config-get" (func (param "key" string) (result (option string))))))"#;
    let build = |prefix: &str| {
        let text = probe.replacen("(component", &format!("(component {prefix} {import}"), 1);
        wasmplug::Plugin::builder()
            .from_bytes(text.as_bytes())
            .unwrap()
    };
    let plain = build("");
    // One more type first: every later type index moves by one.
    let shifted = build(r#"(type (record (field "unused" u8)))"#);
    let (a, b) = (
        Contract::of(plain.compiled()),
        Contract::of(shifted.compiled()),
    );
    assert_eq!(a.imports, b.imports);
    let host = a
        .imports
        .iter()
        .find(|i| i.name == "wasmplug:plugin/host@1.0.0")
        .expect("the host import");
    assert!(
        host.signature
            .contains("config-get: func(key: string) -> option<string>"),
        "{}",
        host.signature
    );
    assert!(!wasmplug::contract::Diff::between(&a, &b).is_breaking());
}
