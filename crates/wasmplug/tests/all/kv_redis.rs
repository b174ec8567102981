//! Plugins on the Redis kv backend (a real `redis-server`): two registries sharing one
//! server see one store, and a Redis outage is an error value for kv calls only — plugins
//! that do not touch kv keep serving, and kv works again once Redis is back, without any
//! restart of the host.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmplug::{CallOptions, HostConfig, KvStore, Plugin, RedisOptions, Registry, RegistryConfig};
use wasmplug_testkit::RedisServer;

use crate::support::{example, guest};

fn registry_on(store: &KvStore) -> Registry {
    let registry = Registry::new(RegistryConfig {
        host: HostConfig {
            kv: Some(store.clone()),
            ..HostConfig::default()
        },
        ..RegistryConfig::default()
    });
    let probe = Plugin::builder()
        .kv_store(store.clone())
        .load(guest("host-probe"))
        .unwrap();
    // `insert` returns the version here and a `Result` on main: a failure shows below.
    let _ = registry.insert(probe);
    registry.load(&example("greet")).unwrap();
    registry
}

fn kv(registry: &Registry, args: Value) -> Value {
    let out = registry
        .call(
            "host-probe",
            "kv",
            args.to_string().as_bytes(),
            &CallOptions::default(),
        )
        .unwrap();
    serde_json::from_slice(&out.output.output).unwrap()
}

fn greet(registry: &Registry) -> Vec<u8> {
    registry
        .call("greet", "greet", b"redis", &CallOptions::default())
        .unwrap()
        .output
        .output
}

#[test]
fn two_hosts_share_one_redis_store() {
    let server = RedisServer::start();
    let a = registry_on(&KvStore::redis(&server.url(), RedisOptions::default()).unwrap());
    let b = registry_on(&KvStore::redis(&server.url(), RedisOptions::default()).unwrap());
    assert_eq!(
        kv(&a, json!({"op": "incr", "key": "hits"})),
        json!({"ok": 1})
    );
    assert_eq!(
        kv(&b, json!({"op": "incr", "key": "hits"})),
        json!({"ok": 2})
    );
    assert_eq!(
        kv(&a, json!({"op": "get", "key": "hits"})),
        json!({"ok": "2"})
    );
    assert_eq!(
        kv(&b, json!({"op": "list", "key": ""})),
        json!({"ok": ["hits"]})
    );
}

#[test]
fn redis_outage_is_an_error_value_and_the_host_recovers_by_itself() {
    let mut server = RedisServer::start();
    let timeout = Duration::from_millis(500);
    let store = KvStore::redis(&server.url(), RedisOptions::default().timeout(timeout)).unwrap();
    let registry = registry_on(&store);
    assert_eq!(
        kv(&registry, json!({"op": "set", "key": "k", "value": "v"})),
        json!({"ok": null})
    );

    server.stop();
    let started = Instant::now();
    let down = kv(&registry, json!({"op": "get", "key": "k"}));
    let took = started.elapsed();
    let message = down["err"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error value: {down}"));
    assert!(
        message.contains("unreachable") && message.contains("retry later"),
        "{message}"
    );
    assert!(
        !message.contains("127.0.0.1"),
        "host details reach the guest: {message}"
    );
    // Well within the plugin's 5 s call timeout: the store's timeout plus a margin.
    assert!(
        took < timeout + Duration::from_millis(700),
        "the kv call took {took:?}"
    );
    // A plugin that does not use kv is served normally meanwhile, and quickly.
    let started = Instant::now();
    assert_eq!(greet(&registry), b"Hello, redis!");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "greet slowed down"
    );

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(5);
    let back = loop {
        let reply = kv(
            &registry,
            json!({"op": "set", "key": "k", "value": "again"}),
        );
        if reply.get("ok").is_some() || Instant::now() > deadline {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(back, json!({"ok": null}), "kv did not come back within 5 s");
    assert_eq!(
        kv(&registry, json!({"op": "get", "key": "k"})),
        json!({"ok": "again"})
    );
}
