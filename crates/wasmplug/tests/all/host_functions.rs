//! The built-in host functions through a real guest: `config_get`, `log` (with its rate
//! limit), the kv store (persistence, isolation, quotas) and bad pointers.

use serde_json::{Value, json};
use wasmplug::{ByteSize, Error, HostConfig, KvStore, Limits, Plugin};

use crate::support::{capture_logs, guest, wat};

fn probe_with(store: &KvStore, limits: Limits) -> Plugin {
    Plugin::builder()
        .kv_store(store.clone())
        .limits(limits)
        .config("greeting", "Hej")
        .load(guest("host-probe"))
        .unwrap()
}

fn probe(store: &KvStore) -> Plugin {
    probe_with(store, Limits::default())
}

fn kv(plugin: &Plugin, args: Value) -> Value {
    plugin.call_json("kv", &args).unwrap()
}

#[test]
fn config_get_returns_values_and_none_for_missing_keys() {
    let plugin = probe(&KvStore::in_memory());
    assert_eq!(
        plugin.call("config_value", b"greeting").unwrap(),
        br#""Hej""#
    );
    let missing = plugin.call("config_value", b"missing").unwrap();
    assert_eq!(missing, b"null", "a missing key is a value, not a trap");
}

#[test]
fn kv_round_trip_list_and_delete_across_calls() {
    let store = KvStore::in_memory();
    let plugin = probe(&store);
    assert_eq!(
        kv(&plugin, json!({"op": "get", "key": "a"})),
        json!({"ok": null})
    );
    for (key, value) in [("user/2", "bo"), ("user/1", "al"), ("other", "x")] {
        let r = kv(&plugin, json!({"op": "set", "key": key, "value": value}));
        assert_eq!(r, json!({"ok": null}));
    }
    // Written in earlier calls (fresh instances: per-call isolation), read now.
    assert_eq!(
        kv(&plugin, json!({"op": "get", "key": "user/1"})),
        json!({"ok": "al"})
    );
    assert_eq!(
        kv(&plugin, json!({"op": "list", "key": "user/"})),
        json!({"ok": ["user/1", "user/2"]})
    );
    assert_eq!(
        kv(&plugin, json!({"op": "delete", "key": "user/1"})),
        json!({"ok": true})
    );
    assert_eq!(
        kv(&plugin, json!({"op": "delete", "key": "user/1"})),
        json!({"ok": false})
    );
    assert_eq!(
        kv(&plugin, json!({"op": "list", "key": ""})),
        json!({"ok": ["other", "user/2"]})
    );
    // The host sees the same data under the plugin's namespace.
    let ns = store.namespace("host-probe", Default::default());
    assert_eq!(ns.get(b"user/2").unwrap().as_deref(), Some(&b"bo"[..]));
}

#[test]
fn kv_state_survives_a_host_restart_with_the_persistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/kv.redb");
    {
        let store = KvStore::open(&path).unwrap();
        let plugin = probe(&store);
        assert_eq!(
            kv(&plugin, json!({"op": "incr", "key": "hits"})),
            json!({"ok": 1})
        );
        assert_eq!(
            kv(&plugin, json!({"op": "incr", "key": "hits"})),
            json!({"ok": 2})
        );
    } // plugin and store dropped: the file is closed, as when the host exits
    let store = KvStore::open(&path).unwrap();
    let plugin = probe(&store);
    assert_eq!(
        kv(&plugin, json!({"op": "incr", "key": "hits"})),
        json!({"ok": 3})
    );
}

fn peer(host: HostConfig) -> Plugin {
    Plugin::builder().host(host).load(wat("kv-peer")).unwrap()
}

#[test]
fn kv_namespaces_are_private_unless_the_host_shares_one() {
    let store = KvStore::in_memory();
    let probe = probe(&store);
    kv(
        &probe,
        json!({"op": "set", "key": "secret", "value": "probe's"}),
    );
    let host = HostConfig {
        kv: Some(store.clone()),
        ..HostConfig::default()
    };
    let isolated = peer(host.clone());
    assert_eq!(isolated.call("get", b"secret").unwrap(), b"none");
    assert_eq!(isolated.call("set", b"mine").unwrap(), b"0");
    assert_eq!(
        kv(&probe, json!({"op": "list", "key": ""})),
        json!({"ok": ["secret"]}),
        "the peer's key is not visible to the probe"
    );
    // The host maps both plugins to one namespace: now they share keys.
    let mut shared = host;
    for plugin in ["host-probe", "kv-peer"] {
        shared.kv_namespaces.insert(plugin.into(), "team".into());
    }
    let a = Plugin::builder()
        .host(shared.clone())
        .load(guest("host-probe"))
        .unwrap();
    let b = peer(shared);
    assert_eq!(b.call("set", b"from-peer").unwrap(), b"0");
    assert_eq!(
        kv(&a, json!({"op": "get", "key": "from-peer"})),
        json!({"ok": "peer"})
    );
}

#[test]
fn kv_quotas_are_error_values_in_obeyed_and_violated_pairs() {
    let limits = Limits {
        max_kv_key: ByteSize(8),
        max_kv_value: ByteSize(16),
        max_kv_total: ByteSize(40),
        ..Limits::default()
    };
    let plugin = probe_with(&KvStore::in_memory(), limits);
    let set =
        |key: &str, value: &str| kv(&plugin, json!({"op": "set", "key": key, "value": value}));
    let err = |v: Value| v["err"].as_str().unwrap_or_default().to_string();
    // Key size: 8 obeyed, 9 violated.
    assert_eq!(set("12345678", "v"), json!({"ok": null}));
    assert!(err(set("123456789", "v")).contains("over the kv key limit of 8 bytes"));
    // Value size: 16 obeyed, 17 violated.
    assert_eq!(set("k", &"v".repeat(16)), json!({"ok": null}));
    assert!(err(set("k2", &"v".repeat(17))).contains("over the kv value limit of 16 bytes"));
    // Total: used 9 + 17 = 26 bytes; 14 more fit exactly (40), one more does not.
    assert_eq!(set("t", &"x".repeat(13)), json!({"ok": null}));
    let full = err(set("u", "y"));
    assert!(full.contains("is full"), "{full}");
    // Nothing was stored by the refused writes.
    assert_eq!(
        kv(&plugin, json!({"op": "get", "key": "u"})),
        json!({"ok": null})
    );
    assert_eq!(
        kv(&plugin, json!({"op": "get", "key": "k2"})),
        json!({"ok": null})
    );
}

#[test]
fn log_lines_carry_plugin_version_function_and_request_id() {
    let plugin = probe(&KvStore::in_memory());
    let (out, logs) = capture_logs(|| {
        plugin.call_with_request_id("log_lines", br#"{"count": 1, "level": 3}"#, Some("req-42"))
    });
    out.unwrap();
    let line = logs.lines().find(|l| l.contains("line 0")).expect(&logs);
    assert!(line.contains("WARN"), "{line}");
    for field in [
        "wasmplug::plugin",
        "host-probe",
        "0.1.0",
        "log_lines",
        "req-42",
    ] {
        assert!(line.contains(field), "missing {field}: {line}");
    }
}

#[test]
fn log_flood_is_rate_limited_and_the_drop_is_reported() {
    let limits = Limits {
        log_lines_per_second: 20,
        ..Limits::default()
    };
    let plugin = probe_with(&KvStore::in_memory(), limits);
    let count = |logs: &str| logs.lines().filter(|l| l.contains(" line ")).count();
    // Obeyed: a burst of exactly the rate passes whole.
    let (_, logs) = capture_logs(|| plugin.call("log_lines", br#"{"count": 20}"#).unwrap());
    assert_eq!(count(&logs), 20, "{logs}");
    // Violated: 10,000 lines in one call; about one second's worth gets through.
    let (_, logs) = capture_logs(|| plugin.call("log_lines", br#"{"count": 10000}"#).unwrap());
    let passed = count(&logs);
    assert!(passed < 200, "{passed} lines passed a 20/s limit");
    // The next line that passes says how many were dropped.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (_, logs) = capture_logs(|| plugin.call("log_lines", br#"{"count": 1}"#).unwrap());
    assert!(
        logs.contains("log lines of plugin `host-probe` dropped by the rate limit"),
        "{logs}"
    );
}

fn oob(function: &str) -> Error {
    let plugin = Plugin::builder()
        .kv_store(KvStore::in_memory())
        .load(wat("kv-peer"))
        .unwrap();
    plugin.call(function, b"").unwrap_err()
}

#[test]
fn bad_pointers_to_host_functions_are_typed_errors() {
    for (function, what) in [
        ("oob_key", "kv key"),
        ("oob_slot", "result slot"),
        ("oob_log", "log message"),
        ("no_slot_space", "result slot"),
    ] {
        match oob(function) {
            Error::MemoryOutOfBounds {
                what: w,
                function: f,
                ..
            } => {
                assert_eq!((w, f.as_str()), (what, function));
            }
            other => panic!("{function}: {other:?}"),
        }
    }
}

#[test]
fn wrong_host_function_signatures_and_unknown_imports_fail_to_load() {
    let module = |import: &str| {
        format!(
            r#"(module {import}
                (memory (export "memory") 1)
                (func (export "allocate") (param i32) (result i32) i32.const 0)
                (func (export "deallocate") (param i32 i32))
                (func (export "f") (param i32 i32) (result i64) i64.const 0)
                (@custom "wasmplug.abi" "\01\00\00\00")
                (@custom "wasmplug.meta" "{{\"name\":\"imp\",\"version\":\"0.1.0\"}}")
                (@custom "wasmplug.functions" "f\n"))"#
        )
    };
    let load = |import: &str| Plugin::builder().from_bytes(module(import).as_bytes());
    let e =
        load(r#"(import "wasmplug" "kv_get" (func (param i32 i32) (result i32)))"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("has type `func (i32, i32) -> i32`, expected `func (i32, i32, i32) -> i32`"),
        "{e}"
    );
    let e = load(r#"(import "wasmplug" "kv_frobnicate" (func))"#).unwrap_err();
    assert!(e.to_string().contains("no such host function"), "{e}");
    let e =
        load(r#"(import "myapp" "lookup" (func (param i32 i32 i32) (result i32)))"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("the host registers no such function"),
        "{e}"
    );
    assert!(
        load(r#"(import "wasmplug" "kv_get" (func (param i32 i32 i32) (result i32)))"#).is_ok()
    );
}
