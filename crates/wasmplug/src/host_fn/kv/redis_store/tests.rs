//! The kv conformance suite against a real `redis-server` (one per test, on a free loopback
//! port), and what only a networked store must do: share data and quotas between separate
//! stores (replicas), fail fast while the server is down, and recover by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use wasmplug_testkit::RedisServer;

use super::super::{KvError, KvQuota, KvStore, conformance};
use super::RedisOptions;

/// A store on its own server; the server stops when the fixture is dropped.
struct RedisFixture {
    store: KvStore,
    server: RedisServer,
}

impl std::ops::Deref for RedisFixture {
    type Target = KvStore;
    fn deref(&self) -> &KvStore {
        &self.store
    }
}

fn redis_store() -> RedisFixture {
    let server = RedisServer::start();
    let store = KvStore::redis(&server.url(), RedisOptions::default()).unwrap();
    RedisFixture { store, server }
}

conformance::behaviour_tests!(redis_store());

fn quota(max_total: u64) -> KvQuota {
    KvQuota {
        max_total_bytes: max_total,
        ..KvQuota::default()
    }
}

#[test]
fn redis_replicas_share_entries_and_usage() {
    let RedisFixture { store: a, server } = redis_store();
    let b = KvStore::redis(&server.url(), RedisOptions::default()).unwrap();
    assert!(format!("{b:?}").contains("redis at 127.0.0.1:"), "{b:?}");
    a.namespace("p", quota(100)).set(b"k", b"from a").unwrap();
    let on_b = b.namespace("p", quota(100));
    assert_eq!(on_b.get(b"k").unwrap().as_deref(), Some(&b"from a"[..]));
    assert_eq!(on_b.used_bytes().unwrap(), 7);
    assert!(on_b.delete(b"k").unwrap());
    assert_eq!(a.namespace("p", quota(100)).get(b"k").unwrap(), None);
    // Another key prefix is another store on the same server.
    let other = KvStore::redis(&server.url(), RedisOptions::default().key_prefix("other:"))
        .unwrap()
        .namespace("p", quota(100));
    a.namespace("p", quota(100)).set(b"x", b"1").unwrap();
    assert_eq!(other.get(b"x").unwrap(), None);
}

#[test]
fn redis_quota_is_exact_across_replicas() {
    const LIMIT: u64 = 600;
    let RedisFixture { store, server } = redis_store();
    let replicas: Vec<KvStore> = (0..3)
        .map(|_| KvStore::redis(&server.url(), RedisOptions::default()).unwrap())
        .chain([store])
        .collect();
    let refused = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = replicas
        .into_iter()
        .enumerate()
        .map(|(r, replica)| {
            let refused = Arc::clone(&refused);
            thread::spawn(move || {
                let ns = replica.namespace("shared", quota(LIMIT));
                for i in 0..60usize {
                    // Keys shared between replicas race on replace as well as on insert.
                    let key = format!("k{}", (i * 7 + r) % 25);
                    let value = vec![b'v'; 5 + (r * 31 + i * 17) % 60];
                    match ns.set(key.as_bytes(), &value) {
                        Ok(()) => {}
                        Err(KvError::QuotaExceeded { .. }) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                    if i % 5 == 0 {
                        ns.delete(format!("k{}", (i + r) % 25).as_bytes()).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let ns = KvStore::redis(&server.url(), RedisOptions::default())
        .unwrap()
        .namespace("shared", quota(LIMIT));
    let stored: u64 = ns
        .list(b"")
        .unwrap()
        .iter()
        .map(|k| (k.len() + ns.get(k).unwrap().unwrap().len()) as u64)
        .sum();
    let used = ns.used_bytes().unwrap();
    assert_eq!(used, stored, "the usage counter drifted from the entries");
    assert!(used <= LIMIT, "used {used} > {LIMIT}");
    assert!(refused.load(Ordering::Relaxed) > 0, "quota never hit");
}

/// A stopped server makes every operation fail with `Unavailable` within the timeout; a
/// server restarted on the same port is used again without touching the store.
#[test]
fn redis_outage_fails_fast_and_recovers_by_itself() {
    let timeout = Duration::from_millis(300);
    let mut server = RedisServer::start();
    let store = KvStore::redis(&server.url(), RedisOptions::default().timeout(timeout)).unwrap();
    let ns = store.namespace("p", KvQuota::default());
    ns.set(b"before", b"1").unwrap();

    server.stop();
    for attempt in 0..3 {
        let started = Instant::now();
        let err = ns.set(b"during", b"2").unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(&err, KvError::Unavailable { store, .. } if store.starts_with("redis at 127.0.0.1:")),
            "attempt {attempt}: {err:?}"
        );
        assert!(err.to_string().contains("retry later"), "{err}");
        // The store's timeout plus the adapter's 250 ms backstop bound every call.
        assert!(
            took < timeout + Duration::from_millis(400),
            "attempt {attempt} took {took:?}"
        );
        assert!(matches!(
            ns.get(b"before"),
            Err(KvError::Unavailable { .. })
        ));
    }

    server.restart();
    // Reconnecting is the manager's job; allow it a few retries (bounded: 5 s).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ns.set(b"after", b"3") {
            Ok(()) => break,
            Err(KvError::Unavailable { .. }) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(50));
            }
            Err(other) => panic!("not recovered: {other}"),
        }
    }
    // The restarted server has no persistence: only the new write is there.
    assert_eq!(ns.get(b"after").unwrap().as_deref(), Some(&b"3"[..]));
    assert_eq!(ns.get(b"before").unwrap(), None);
    assert_eq!(ns.used_bytes().unwrap(), 6);
}

/// A frozen server (SIGSTOP: connections are accepted, nothing answers) is the response
/// timeout's case; it answers again after SIGCONT.
#[test]
fn redis_frozen_server_times_out_and_thaws() {
    let timeout = Duration::from_millis(300);
    let mut server = RedisServer::start();
    let store = KvStore::redis(&server.url(), RedisOptions::default().timeout(timeout)).unwrap();
    let ns = store.namespace("p", KvQuota::default());
    ns.set(b"k", b"v").unwrap();
    server.process().unwrap().signal("STOP");
    let started = Instant::now();
    let err = ns.get(b"k").unwrap_err();
    let took = started.elapsed();
    server.process().unwrap().signal("CONT");
    assert!(matches!(err, KvError::Unavailable { .. }), "{err:?}");
    assert!(
        took >= timeout && took < timeout + Duration::from_millis(400),
        "took {took:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let value = loop {
        match ns.get(b"k") {
            Ok(value) => break value,
            Err(KvError::Unavailable { .. }) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(50));
            }
            Err(other) => panic!("not recovered: {other}"),
        }
    };
    assert_eq!(value.as_deref(), Some(&b"v"[..]));
}

#[test]
fn redis_store_starts_while_the_server_is_down() {
    let mut server = RedisServer::start();
    server.stop();
    let options = RedisOptions::default().timeout(Duration::from_millis(200));
    let store = KvStore::redis(&server.url(), options).unwrap();
    let ns = store.namespace("p", KvQuota::default());
    assert!(matches!(ns.get(b"k"), Err(KvError::Unavailable { .. })));
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(5);
    while ns.set(b"k", b"v").is_err() {
        assert!(Instant::now() < deadline, "never connected");
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn redis_bad_urls_are_backend_errors_without_secrets() {
    for url in [
        "http://127.0.0.1:6379",
        "redis://",
        "not a url",
        "rediss://h:1/",
    ] {
        let err = KvStore::redis(url, RedisOptions::default()).unwrap_err();
        assert!(
            matches!(&err, KvError::Backend(m) if m.contains("invalid Redis URL")),
            "{url}: {err:?}"
        );
    }
    let store =
        KvStore::redis("redis://user:s3cret@127.0.0.1:1/2", RedisOptions::default()).unwrap();
    let described = format!("{store:?}");
    assert!(
        described.contains("127.0.0.1:1") && !described.contains("s3cret"),
        "{described}"
    );
    let err = store
        .namespace("p", KvQuota::default())
        .get(b"k")
        .unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
}
