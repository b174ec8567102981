//! Classification of every change kind, and the registry gate's mapping to errors.

use super::gate::{Allowed, check};
use super::*;
use crate::error::Error;

fn base() -> Contract {
    Contract {
        format: CONTRACT_FORMAT,
        name: "svc".into(),
        version: "1.0.0".into(),
        abi_version: 1,
        functions: vec!["echo".into(), "version".into()],
        imports: vec![Import {
            module: "shop".into(),
            name: "rate".into(),
            signature: "func (i32, i32) -> i32".into(),
        }],
        capabilities: Grants {
            fs: vec![Mount {
                host: "data".into(),
                guest: "/data".into(),
                writable: false,
            }],
            env: vec!["TZ".into()],
            net: vec![],
        },
        limits: LimitSet::new(&Limits::default()),
        requires: toml::from_str("wasmplug = \"^0.2\"\n[host]\nshop = \"^1\"\n").unwrap(),
    }
}

/// The kinds and breaking flags of the diff from `base()` to `edit(base())`.
fn kinds(edit: impl FnOnce(&mut Contract)) -> Vec<(ChangeKind, bool, String)> {
    let mut new = base();
    edit(&mut new);
    Diff::between(&base(), &new)
        .changes
        .into_iter()
        .map(|c| (c.kind, c.breaking, c.to_string()))
        .collect()
}

#[test]
fn identical_contracts_have_no_changes() {
    assert!(kinds(|_| {}).is_empty());
}

#[test]
fn functions_added_are_compatible_and_removed_are_breaking() {
    let added = kinds(|c| c.functions.push("health".into()));
    assert_eq!(
        added,
        [(
            ChangeKind::FunctionAdded,
            false,
            "function `health` added".into()
        )]
    );
    let removed = kinds(|c| c.functions.retain(|f| f != "version"));
    assert_eq!(
        removed,
        [(
            ChangeKind::FunctionRemoved,
            true,
            "function `version` removed".into()
        )]
    );
}

#[test]
fn import_signature_change_is_breaking_and_added_or_removed_is_not() {
    let changed = kinds(|c| c.imports[0].signature = "func (i64) -> i32".into());
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0].0, changed[0].1),
        (ChangeKind::ImportChanged, true)
    );
    assert!(
        changed[0]
            .2
            .contains("`func (i32, i32) -> i32` to `func (i64) -> i32`")
    );
    let gone = kinds(|c| c.imports.clear());
    assert_eq!((gone[0].0, gone[0].1), (ChangeKind::ImportRemoved, false));
    let more = kinds(|c| {
        c.imports.push(Import {
            module: "wasmplug".into(),
            name: "log".into(),
            signature: "func (i32, i32, i32)".into(),
        })
    });
    assert_eq!((more[0].0, more[0].1), (ChangeKind::ImportAdded, false));
}

#[test]
fn capability_escalation_is_breaking_and_a_narrower_grant_is_not() {
    let more = kinds(|c| {
        c.capabilities.env.push("SECRET".into());
        c.capabilities.net.push("https://example.com:443".into());
    });
    assert_eq!(
        more.iter().map(|k| (k.0, k.1)).collect::<Vec<_>>(),
        [
            (ChangeKind::CapabilityAdded, true),
            (ChangeKind::CapabilityAdded, true)
        ]
    );
    assert_eq!(more[0].2, "capability `env SECRET` added");
    let writable = kinds(|c| c.capabilities.fs[0].writable = true);
    assert_eq!(
        writable
            .iter()
            .map(|k| (k.0, k.1, k.2.as_str()))
            .collect::<Vec<_>>(),
        [(
            ChangeKind::CapabilityAdded,
            true,
            "capability `fs data:/data:rw` added"
        )],
        "a writable mount covers the read-only one it replaces"
    );
    let narrowed = Diff::between(
        &{
            let mut c = base();
            c.capabilities.fs[0].writable = true;
            c
        },
        &base(),
    );
    assert_eq!(
        narrowed
            .changes
            .iter()
            .map(|c| (c.kind, c.breaking))
            .collect::<Vec<_>>(),
        [(ChangeKind::CapabilityRemoved, false)]
    );
    let fewer = kinds(|c| c.capabilities.env.clear());
    assert_eq!(
        (fewer[0].0, fewer[0].1),
        (ChangeKind::CapabilityRemoved, false)
    );
}

#[test]
fn limits_lowered_are_compatible_and_raised_are_breaking() {
    let lower = kinds(|c| c.limits.memory /= 2);
    assert_eq!(
        lower,
        [(
            ChangeKind::LimitLowered,
            false,
            "limit `memory` lowered from 64.0 MiB to 32.0 MiB".into()
        )]
    );
    let raise = kinds(|c| c.limits.timeout_ms = None);
    assert_eq!(
        raise,
        [(
            ChangeKind::LimitRaised,
            true,
            "limit `timeout` raised from 5s to unlimited".into()
        )]
    );
    let metered = kinds(|c| c.limits.fuel = Some(1_000));
    assert_eq!(
        (metered[0].0, metered[0].1),
        (ChangeKind::LimitLowered, false)
    );
}

#[test]
fn requirements_added_or_raised_are_breaking_relaxed_or_removed_are_not() {
    let set = |c: &mut Contract, text: &str| c.requires = toml::from_str(text).unwrap();
    let raised = kinds(|c| set(c, "wasmplug = \"^0.3\"\n[host]\nshop = \"^1\"\n"));
    assert_eq!(
        raised,
        [(
            ChangeKind::RequirementRaised,
            true,
            "requirement `wasmplug` raised from `^0.2` to `^0.3`".into()
        )]
    );
    let added = kinds(|c| {
        set(
            c,
            "wasmplug = \"^0.2\"\n[host]\nshop = \"^1\"\ncart = \"^2\"\n",
        )
    });
    assert_eq!(
        (added[0].0, added[0].1),
        (ChangeKind::RequirementAdded, true)
    );
    let relaxed = kinds(|c| set(c, "wasmplug = \">=0.2\"\n[host]\nshop = \"^1\"\n"));
    assert_eq!(
        (relaxed[0].0, relaxed[0].1),
        (ChangeKind::RequirementRelaxed, false)
    );
    let removed = kinds(|c| set(c, "wasmplug = \"^0.2\"\n"));
    assert_eq!(
        removed,
        [(
            ChangeKind::RequirementRemoved,
            false,
            "requirement `host shop` `^1` removed".into()
        )]
    );
}

#[test]
fn name_and_abi_changes_are_breaking() {
    let k = kinds(|c| {
        c.name = "other".into();
        c.abi_version = 2;
    });
    assert_eq!(
        k.iter().map(|k| (k.0, k.1)).collect::<Vec<_>>(),
        [
            (ChangeKind::NameChanged, true),
            (ChangeKind::AbiChanged, true)
        ]
    );
}

#[test]
fn contract_json_round_trips() {
    let c = base();
    let back: Contract = serde_json::from_str(&c.to_json()).unwrap();
    assert_eq!(back, c);
    assert!(
        c.to_json()
            .starts_with("{\n  \"format\": 1,\n  \"name\": \"svc\"")
    );
}

const STRICT: Allowed = Allowed {
    escalation: false,
    breaking: false,
    grants_only: false,
};

#[test]
fn gate_maps_breaking_changes_to_typed_errors() {
    let mut new = base();
    new.imports[0].signature = "func (i64) -> i32".into();
    match check(&base(), &new, STRICT).unwrap_err() {
        Error::BreakingContract { plugin, changes } => {
            assert_eq!(plugin, "svc");
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].kind, ChangeKind::ImportChanged);
        }
        other => panic!("expected BreakingContract, got {other:?}"),
    }
    let mut greedy = base();
    greedy.capabilities.env.push("SECRET".into());
    assert!(matches!(
        check(&base(), &greedy, STRICT).unwrap_err(),
        Error::CapabilityEscalation { added, .. } if added == ["env SECRET"]
    ));
    let lenient = Allowed {
        escalation: true,
        ..STRICT
    };
    check(&base(), &greedy, lenient).unwrap();
    let mut lacking = base();
    lacking.functions.retain(|f| f != "version");
    let err = check(&base(), &lacking, STRICT).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("`version`") && reason.contains("function `version` removed")),
        "{err:?}"
    );
    let anything = Allowed {
        breaking: true,
        ..STRICT
    };
    check(&base(), &lacking, anything).unwrap();
    check(&base(), &new, anything).unwrap();
}

#[test]
fn gate_leaves_host_checked_requirements_and_raised_limits_alone() {
    let mut new = base();
    new.requires = toml::from_str("wasmplug = \"^0.3\"\n[host]\nshop = \"^2\"\n").unwrap();
    new.limits.memory *= 2;
    new.functions.push("health".into());
    assert!(Diff::between(&base(), &new).is_breaking());
    check(&base(), &new, STRICT).unwrap();
}

#[test]
fn after_an_unload_only_escalations_count() {
    let since_unload = Allowed {
        grants_only: true,
        ..STRICT
    };
    let mut other = base();
    other.functions = vec!["brand-new".into()];
    other.imports.clear();
    check(&base(), &other, since_unload).unwrap();
    other
        .capabilities
        .net
        .push("https://example.com:443".into());
    assert!(matches!(
        check(&base(), &other, since_unload).unwrap_err(),
        Error::CapabilityEscalation { added, .. } if added == ["net https://example.com:443"]
    ));
}
