//! The two ways into guest code: a synchronous call from a plain thread gets an instance
//! of the sync flavour (wasmtime's plain `call`, host functions that block the thread); an
//! async call, and a synchronous one made inside a tokio runtime, gets one of the async
//! flavour (`call_async` on a fiber). Both run the same protocol and host functions.

use std::time::Duration;

use serde_json::{Value, json};
use wasmplug::{Error, InstancePolicy, Isolation, KvStore, Limits, Plugin};

use crate::support::{guest, wat};

fn reuse(max: usize) -> InstancePolicy {
    InstancePolicy {
        isolation: Isolation::Reuse,
        max,
        ..InstancePolicy::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_plain_thread_gets_sync_instances_and_a_runtime_async_ones() {
    let plugin = Plugin::builder()
        .instances(reuse(2))
        .load(wat("echo"))
        .unwrap();
    // The warm instance made at load is an async one.
    assert_eq!(plugin.idle_by_flavour(), (1, 0));
    assert_eq!(plugin.call("echo", b"plain").unwrap(), b"plain");
    assert_eq!(
        plugin.idle_by_flavour(),
        (0, 1),
        "a plain thread's call swaps the idle async instance for a sync one"
    );
    let rt = runtime();
    let out = rt.block_on(plugin.call_async("echo", b"async".to_vec()));
    assert_eq!(out.unwrap(), b"async");
    assert_eq!(plugin.idle_by_flavour(), (1, 0));
    {
        // A synchronous call inside a runtime's context is driven on a fiber.
        let _context = rt.enter();
        assert_eq!(plugin.call("echo", b"entered").unwrap(), b"entered");
    }
    assert_eq!(plugin.idle_by_flavour(), (1, 0));
    let p = plugin.clone();
    let out = rt.block_on(rt.spawn_blocking(move || p.call("echo", b"blocking")));
    assert_eq!(out.unwrap().unwrap(), b"blocking");
    assert_eq!(plugin.idle_by_flavour(), (1, 0));
    assert_eq!(plugin.call("echo", b"plain").unwrap(), b"plain");
    assert_eq!(plugin.idle_by_flavour(), (0, 1));
}

#[test]
fn callers_of_both_flavours_share_the_instance_limit() {
    let plugin = Plugin::builder()
        .instances(reuse(2))
        .load(wat("echo"))
        .unwrap();
    let rt = runtime();
    for i in 0..50 {
        let input = format!("{i}").into_bytes();
        let out = if i % 3 == 0 {
            rt.block_on(plugin.call_async("echo", input.clone()))
        } else {
            plugin.call("echo", &input)
        };
        assert_eq!(out.unwrap(), input);
        let (live, idle) = plugin.instance_counts();
        assert!(live <= 2 && idle <= live, "{live} live, {idle} idle");
    }
}

#[test]
fn host_functions_answer_alike_in_both_flavours() {
    let store = KvStore::in_memory();
    let plugin = Plugin::builder()
        .kv_store(store)
        .config("greeting", "Hej")
        .instances(reuse(2))
        .load(guest("host-probe"))
        .unwrap();
    let rt = runtime();
    let sync = |args: Value| -> Value { plugin.call_json("kv", &args).unwrap() };
    let async_ = |args: Value| -> Value {
        let out = rt.block_on(plugin.call_async("kv", serde_json::to_vec(&args).unwrap()));
        serde_json::from_slice(&out.unwrap()).unwrap()
    };
    let set = |key: &str, value: &str| json!({"op": "set", "key": key, "value": value});
    let get = |key: &str| json!({"op": "get", "key": key});
    assert_eq!(
        sync(set("k/sync", "from a plain thread")),
        json!({"ok": null})
    );
    assert_eq!(async_(set("k/async", "from a task")), json!({"ok": null}));
    // Each flavour reads what the other wrote (one namespace, one store).
    assert_eq!(async_(get("k/sync")), json!({"ok": "from a plain thread"}));
    assert_eq!(sync(get("k/async")), json!({"ok": "from a task"}));
    let list = json!({"op": "list", "key": "k/"});
    assert_eq!(sync(list.clone()), async_(list));
    let config_sync = plugin.call("config_value", b"greeting").unwrap();
    let config_async = rt.block_on(plugin.call_async("config_value", b"greeting".to_vec()));
    assert_eq!(config_sync, br#""Hej""#);
    assert_eq!(config_async.unwrap(), config_sync);
}

#[test]
fn the_sync_flavour_keeps_the_deadline_of_a_spinning_guest() {
    let spinner = Plugin::builder()
        .limits(Limits {
            timeout: Some(Duration::from_millis(200)),
            ..Limits::default()
        })
        .load(wat("misbehave"))
        .unwrap();
    let started = std::time::Instant::now();
    match spinner.call("spin", b"") {
        Err(Error::Timeout { limit, .. }) => assert_eq!(limit, Duration::from_millis(200)),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The instance was discarded; the next call gets a fresh sync one and times out too.
    assert!(matches!(
        spinner.call("spin", b""),
        Err(Error::Timeout { .. })
    ));
    assert_eq!(
        spinner.idle_by_flavour().1,
        0,
        "a timed-out instance is never kept"
    );
}
