//! Signed plugins under a trust policy: tampering anywhere, unknown and disallowed keys,
//! optional signatures, the audit log, and reloads that keep the running version.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmparser::{Parser, Payload};
use wasmplug::trust::{AuditLog, SigningKey, UntrustedReason, Verdict, sign};
use wasmplug::{
    CallOptions, Error, PluginBuilder, Registry, RegistryConfig, RegistryEvent, TrustPolicy,
};

use crate::versioned::Spec;

/// The byte range of section `which` (`code`, `data` or a custom section's name).
fn section(module: &[u8], which: &str) -> Range<usize> {
    for payload in Parser::new(0).parse_all(module) {
        match payload.unwrap() {
            Payload::CodeSectionStart { range, .. } if which == "code" => return range,
            Payload::DataSection(r) if which == "data" => return r.range(),
            Payload::CustomSection(r) if r.name() == which => {
                return r.data_offset()..r.data_offset() + r.data().len();
            }
            _ => {}
        }
    }
    panic!("no {which} section");
}

fn flip_in(module: &[u8], which: &str) -> Vec<u8> {
    let r = section(module, which);
    let mut out = module.to_vec();
    out[r.start + r.len() / 2] ^= 0x01;
    out
}

fn untrusted(err: Error) -> (String, UntrustedReason) {
    match err {
        Error::Untrusted { plugin, reason, .. } => (plugin, reason),
        other => panic!("expected Untrusted, got {other:?}"),
    }
}

fn strict(key: &SigningKey, names: &[&str]) -> TrustPolicy {
    TrustPolicy::new()
        .require_signatures(true)
        .publisher("acme", key.public_key(), names)
        .unwrap()
}

fn load(policy: &TrustPolicy, manifest: &Path) -> wasmplug::Result<wasmplug::Plugin> {
    PluginBuilder::new().trust(policy.clone()).load(manifest)
}

#[test]
fn one_changed_byte_in_code_data_or_metadata_is_refused_as_tampered_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let audit = dir.path().join("log/trust.jsonl");
    let policy = strict(&key, &["svc"]).audit_log(AuditLog::open(&audit).unwrap());
    let spec = Spec::new("svc", "1.0.0");
    let signed = sign(&spec.wasm(), &key).unwrap();
    let plugin = load(&policy, &spec.write_bytes(dir.path(), &signed)).unwrap();
    assert_eq!(plugin.call("version", b"").unwrap(), b"1.0.0");
    let signer = plugin.compiled().signer().unwrap();
    assert_eq!(
        (signer.publisher.as_str(), signer.key_id.clone()),
        ("acme", key.public_key().key_id())
    );
    let mut tampered_hashes = Vec::new();
    for which in ["code", "data", "wasmplug.meta", "wasmplug.functions"] {
        let tampered = flip_in(&signed, which);
        tampered_hashes.push(hex::encode(Sha256::digest(&tampered)));
        let err = load(&policy, &spec.write_bytes(dir.path(), &tampered)).unwrap_err();
        assert_eq!(err.class(), "untrusted");
        assert!(err.to_string().contains("tampered"), "{which}: {err}");
        assert_eq!(
            untrusted(err),
            ("svc".to_string(), UntrustedReason::Tampered),
            "{which}"
        );
    }
    let records = AuditLog::read(&audit).unwrap();
    assert_eq!(records.len(), 5, "{records:?}");
    assert_eq!(records[0].verdict, Verdict::Accepted);
    assert_eq!(records[0].reason, "signed");
    assert_eq!(records[0].sha256, hex::encode(Sha256::digest(&signed)));
    assert_eq!(records[0].key_id, Some(key.public_key().key_id()));
    for (record, sha) in records[1..].iter().zip(&tampered_hashes) {
        assert_eq!(
            (
                record.verdict,
                record.reason.as_str(),
                record.plugin.as_str(),
                record.version.as_str()
            ),
            (Verdict::Refused, "tampered", "svc", "1.0.0")
        );
        assert_eq!(&record.sha256, sha);
        assert!(!record.time.is_empty() && record.detail.contains("modified after it was signed"));
    }
}

#[test]
fn only_trusted_publishers_of_a_name_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (acme, stranger) = (SigningKey::generate(), SigningKey::generate());
    let policy = strict(&acme, &["acme-*"]);
    let svc = Spec::new("svc", "1.0.0");
    let by = |spec: &Spec, key: &SigningKey| {
        spec.write_bytes(dir.path(), &sign(&spec.wasm(), key).unwrap())
    };

    let (_, reason) = untrusted(load(&policy, &svc.write(dir.path())).unwrap_err());
    assert_eq!(reason, UntrustedReason::Unsigned);
    let (_, reason) = untrusted(load(&policy, &by(&svc, &acme)).unwrap_err());
    assert_eq!(
        reason,
        UntrustedReason::KeyNotAllowed {
            publishers: vec!["acme".into()]
        }
    );
    let (_, reason) = untrusted(load(&policy, &by(&svc, &stranger)).unwrap_err());
    assert_eq!(
        reason,
        UntrustedReason::UnknownKey {
            key_ids: vec![stranger.public_key().key_id()]
        }
    );

    let ours = Spec::new("acme-svc", "1.0.0");
    load(&policy, &by(&ours, &acme)).unwrap();
    // Two signers: the trusted one is enough.
    let both = sign(&sign(&ours.wasm(), &stranger).unwrap(), &acme).unwrap();
    let plugin = load(&policy, &ours.write_bytes(dir.path(), &both)).unwrap();
    assert_eq!(plugin.compiled().signer().unwrap().publisher, "acme");
    let (_, reason) = untrusted(load(&policy, &by(&ours, &stranger)).unwrap_err());
    assert!(
        matches!(reason, UntrustedReason::UnknownKey { .. }),
        "{reason:?}"
    );
}

#[test]
fn optional_signatures_accept_unsigned_but_never_tampered_or_disallowed() {
    let dir = tempfile::tempdir().unwrap();
    let (acme, stranger) = (SigningKey::generate(), SigningKey::generate());
    let audit = dir.path().join("audit.jsonl");
    let policy = strict(&acme, &["acme-*"])
        .require_signatures(false)
        .audit_log(AuditLog::open(&audit).unwrap());
    let svc = Spec::new("svc", "1.0.0");
    let plugin = load(&policy, &svc.write(dir.path())).unwrap();
    assert!(plugin.compiled().signer().is_none());
    load(
        &policy,
        &svc.write_bytes(dir.path(), &sign(&svc.wasm(), &stranger).unwrap()),
    )
    .unwrap();
    let by_acme = sign(&svc.wasm(), &acme).unwrap();
    let (_, reason) = untrusted(load(&policy, &svc.write_bytes(dir.path(), &by_acme)).unwrap_err());
    assert!(
        matches!(reason, UntrustedReason::KeyNotAllowed { .. }),
        "{reason:?}"
    );
    let tampered = flip_in(&sign(&svc.wasm(), &stranger).unwrap(), "data");
    let (_, reason) =
        untrusted(load(&policy, &svc.write_bytes(dir.path(), &tampered)).unwrap_err());
    assert_eq!(reason, UntrustedReason::Tampered);
    let reasons: Vec<_> = AuditLog::read(&audit)
        .unwrap()
        .into_iter()
        .map(|r| (r.verdict, r.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (Verdict::Accepted, "unverified".to_string()),
            (Verdict::Accepted, "unverified".to_string()),
            (Verdict::Refused, "key_not_allowed".to_string()),
            (Verdict::Refused, "tampered".to_string()),
        ]
    );
    // No policy at all: everything that is a valid plugin loads, nothing is checked.
    PluginBuilder::new().from_bytes(&tampered).unwrap();
}

fn version_of(registry: &Registry) -> String {
    let out = registry
        .call("svc", "version", b"", &CallOptions::default())
        .unwrap();
    String::from_utf8(out.output.output).unwrap()
}

fn wait_for(
    events: &std::sync::mpsc::Receiver<RegistryEvent>,
    what: impl Fn(&RegistryEvent) -> bool,
) {
    assert!(
        crate::support::wait_for(events, Duration::from_secs(10), what).is_some(),
        "the expected registry event did not come within 10 s"
    );
}

#[test]
fn reload_and_hot_reload_refuse_untrusted_candidates_and_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let key = SigningKey::generate();
    let registry = Registry::new(RegistryConfig {
        trust: strict(&key, &["svc"]),
        debounce: Duration::from_millis(20),
        ..RegistryConfig::default()
    });
    let events = registry.subscribe();
    let signed = |spec: &Spec| sign(&spec.wasm(), &key).unwrap();
    let v1 = Spec::new("svc", "1.0.0");
    registry.load(&v1.write_bytes(&root, &signed(&v1))).unwrap();

    let v2 = Spec::new("svc", "1.1.0");
    let err = registry
        .load(&v2.write_bytes(&root, &flip_in(&signed(&v2), "code")))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Untrusted {
                reason: UntrustedReason::Tampered,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        version_of(&registry),
        "1.0.0",
        "the running version keeps serving"
    );
    wait_for(
        &events,
        |e| matches!(e, RegistryEvent::Rejected { class, .. } if class == "untrusted"),
    );

    let _watcher = registry.watch(&root).unwrap();
    Spec::new("svc", "1.2.0").write(&root);
    wait_for(
        &events,
        |e| matches!(e, RegistryEvent::Rejected { class, reason, .. } if class == "untrusted" && reason.contains("unsigned")),
    );
    assert_eq!(version_of(&registry), "1.0.0");
    let v3 = Spec::new("svc", "1.3.0");
    v3.write_bytes(&root, &signed(&v3));
    wait_for(
        &events,
        |e| matches!(e, RegistryEvent::Loaded { version, .. } if version == "1.3.0"),
    );
    assert_eq!(version_of(&registry), "1.3.0");
}

#[test]
fn a_garbled_signature_section_is_refused_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let spec = Spec::new("svc", "1.0.0");
    let mut garbled = sign(&spec.wasm(), &key).unwrap();
    let payload = section(&garbled, wasmplug::trust::SIGNATURE_SECTION);
    garbled[payload.start] = 0x7f; // the specification version
    let manifest = spec.write_bytes(dir.path(), &garbled);
    for required in [true, false] {
        let policy = strict(&key, &["*"]).require_signatures(required);
        let (_, reason) = untrusted(load(&policy, &manifest).unwrap_err());
        assert!(
            matches!(reason, UntrustedReason::MalformedSignature { .. }),
            "{reason:?}"
        );
    }
}

#[test]
fn bad_policies_are_refused_with_the_reason() {
    let key = SigningKey::generate().public_key();
    let err = |r: wasmplug::Result<TrustPolicy>| match r.unwrap_err() {
        Error::TrustPolicy { reason } => reason,
        other => panic!("expected TrustPolicy, got {other:?}"),
    };
    assert!(err(TrustPolicy::new().publisher("a", key.clone(), &[])).contains("empty `plugins`"));
    assert!(
        err(TrustPolicy::new().publisher("a", key.clone(), &["[a-"]))
            .contains("bad plugin-name glob `[a-`")
    );
    let one = TrustPolicy::new()
        .publisher("a", key.clone(), &["*"])
        .unwrap();
    assert!(err(one.clone().publisher("b", key.clone(), &["*"])).contains("repeats"));
    assert!(
        err(one.publisher("a", SigningKey::generate().public_key(), &["*"])).contains("repeats")
    );
    assert!(!TrustPolicy::new().is_active());
}
