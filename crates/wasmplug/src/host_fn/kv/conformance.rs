//! Behaviour every backend must show, run by each backend's tests on a fresh [`KvStore`].
//!
//! A backend's test module calls `conformance::behaviour_tests!(expr)`, which defines one
//! `#[test]` per function below; `&expr` must coerce to `&KvStore` (`KvStore` or a fixture
//! that derefs to one), and is evaluated afresh for every test.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use super::{KvError, KvQuota, KvStore};

macro_rules! behaviour_tests {
    ($make:expr) => {
        super::super::conformance::behaviour_tests!(
            @each $make;
            get_set_replace_delete,
            list_order_prefix_limit,
            namespace_isolation,
            key_limits,
            value_limits,
            total_quota,
            replace_and_delete_adjust_usage,
            concurrent_writers_respect_quota
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let store = $make;
                super::super::conformance::$name(&store);
            }
        )*
    };
}
pub(super) use behaviour_tests;

fn quota(max_key: u64, max_value: u64, max_total: u64, max_list: usize) -> KvQuota {
    KvQuota {
        max_key_bytes: max_key,
        max_value_bytes: max_value,
        max_total_bytes: max_total,
        max_list_keys: max_list,
    }
}

fn keys(list: &[&[u8]]) -> Vec<Vec<u8>> {
    list.iter().map(|key| key.to_vec()).collect()
}

pub(super) fn get_set_replace_delete(store: &KvStore) {
    let ns = store.namespace("plugin", KvQuota::default());
    assert_eq!(ns.get(b"k").unwrap(), None);
    ns.set(b"k", b"one").unwrap();
    assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b"one"[..]));
    ns.set(b"k", b"").unwrap();
    assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b""[..]));
    ns.set(b"k", b"three").unwrap();
    assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b"three"[..]));
    assert!(ns.delete(b"k").unwrap());
    assert!(!ns.delete(b"k").unwrap());
    assert_eq!(ns.get(b"k").unwrap(), None);
    assert_eq!(ns.used_bytes().unwrap(), 0);
    // A clone of the store sees the same data.
    store
        .clone()
        .namespace("plugin", KvQuota::default())
        .set(b"x", b"y")
        .unwrap();
    assert_eq!(ns.get(b"x").unwrap().as_deref(), Some(&b"y"[..]));
}

pub(super) fn list_order_prefix_limit(store: &KvStore) {
    let ns = store.namespace("plugin", KvQuota::default());
    for key in [&b"b"[..], b"a\xff", b"ab", b"a", b"c", b"\x00", b"aa\x00"] {
        ns.set(key, b"v").unwrap();
    }
    let all = keys(&[b"\x00", b"a", b"aa\x00", b"ab", b"a\xff", b"b", b"c"]);
    assert_eq!(ns.list(b"").unwrap(), all);
    assert_eq!(
        ns.list(b"a").unwrap(),
        keys(&[b"a", b"aa\x00", b"ab", b"a\xff"])
    );
    assert_eq!(ns.list(b"aa").unwrap(), keys(&[b"aa\x00"]));
    assert_eq!(ns.list(b"a\xff\xff").unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(ns.list(b"d").unwrap(), Vec::<Vec<u8>>::new());
    let two = store.namespace("plugin", quota(1024, 1024, 1 << 20, 2));
    assert_eq!(two.list(b"").unwrap(), keys(&[b"\x00", b"a"]));
    assert_eq!(two.list(b"b").unwrap(), keys(&[b"b"]));
    let zero = store.namespace("plugin", quota(1024, 1024, 1 << 20, 0));
    assert!(zero.list(b"").unwrap().is_empty());
    assert!(
        store
            .namespace("empty", KvQuota::default())
            .list(b"")
            .unwrap()
            .is_empty()
    );
}

pub(super) fn namespace_isolation(store: &KvStore) {
    let a = store.namespace("a", KvQuota::default());
    let ab = store.namespace("a/b", KvQuota::default());
    let unnamed = store.namespace("", KvQuota::default());
    a.set(b"b/x", b"from a").unwrap();
    ab.set(b"x", b"from a/b").unwrap();
    // A key spelling another namespace's encoded prefix (length 1, then "a").
    unnamed
        .set(b"\0\0\0\0\0\0\0\x01ab/x", b"from unnamed")
        .unwrap();
    unnamed.set(b"a", b"1").unwrap();

    assert_eq!(a.list(b"").unwrap(), keys(&[b"b/x"]));
    assert_eq!(ab.list(b"").unwrap(), keys(&[b"x"]));
    assert_eq!(unnamed.list(b"").unwrap().len(), 2);
    assert_eq!(a.get(b"x").unwrap(), None);
    assert_eq!(ab.get(b"b/x").unwrap(), None);
    assert_eq!(a.get(b"b/x").unwrap().as_deref(), Some(&b"from a"[..]));
    assert_eq!(ab.get(b"x").unwrap().as_deref(), Some(&b"from a/b"[..]));
    assert_eq!(
        store
            .namespace("ab", KvQuota::default())
            .list(b"")
            .unwrap()
            .len(),
        0
    );
    assert_eq!(a.used_bytes().unwrap(), 3 + 6);
    assert_eq!(ab.used_bytes().unwrap(), 1 + 8);
    assert!(!ab.delete(b"b/x").unwrap());
    assert!(a.delete(b"b/x").unwrap());
    assert_eq!(ab.get(b"x").unwrap().as_deref(), Some(&b"from a/b"[..]));
    assert_eq!(ab.used_bytes().unwrap(), 9);
    assert_eq!(a.used_bytes().unwrap(), 0);
}

pub(super) fn key_limits(store: &KvStore) {
    let ns = store.namespace("keys", quota(4, 100, 1000, 100));
    ns.set(b"abcd", b"v").unwrap();
    assert_eq!(ns.get(b"abcd").unwrap().as_deref(), Some(&b"v"[..]));
    let too_large = |err| matches!(err, KvError::KeyTooLarge { size: 5, limit: 4 });
    assert!(too_large(ns.set(b"abcde", b"v").unwrap_err()));
    assert!(too_large(ns.get(b"abcde").unwrap_err()));
    assert!(too_large(ns.delete(b"abcde").unwrap_err()));
    assert!(matches!(ns.set(b"", b"v").unwrap_err(), KvError::EmptyKey));
    assert!(matches!(ns.get(b"").unwrap_err(), KvError::EmptyKey));
    assert!(matches!(ns.delete(b"").unwrap_err(), KvError::EmptyKey));
    assert_eq!(ns.list(b"").unwrap(), keys(&[b"abcd"]));
    assert_eq!(ns.used_bytes().unwrap(), 5);
}

pub(super) fn value_limits(store: &KvStore) {
    let ns = store.namespace("values", quota(100, 4, 1000, 100));
    ns.set(b"k", b"1234").unwrap();
    ns.set(b"e", b"").unwrap();
    let err = ns.set(b"k", b"12345").unwrap_err();
    assert!(
        matches!(err, KvError::ValueTooLarge { size: 5, limit: 4 }),
        "{err}"
    );
    assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b"1234"[..]));
    assert_eq!(ns.used_bytes().unwrap(), 5 + 1);
}

pub(super) fn total_quota(store: &KvStore) {
    let ns = store.namespace("total", quota(100, 100, 10, 100));
    ns.set(b"k", b"123456789").unwrap(); // exactly 10 bytes
    assert_eq!(ns.used_bytes().unwrap(), 10);
    let err = ns.set(b"x", b"").unwrap_err(); // one byte over
    match &err {
        KvError::QuotaExceeded {
            namespace,
            used,
            needed,
            limit,
        } => {
            assert_eq!(
                (namespace.as_str(), *used, *needed, *limit),
                ("total", 10, 1, 10)
            );
        }
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    assert_eq!(ns.get(b"x").unwrap(), None);
    assert_eq!(ns.list(b"").unwrap(), keys(&[b"k"]));
    assert_eq!(ns.used_bytes().unwrap(), 10);
    // Another namespace has its own quota.
    store
        .namespace("other", quota(100, 100, 10, 100))
        .set(b"k", b"123456789")
        .unwrap();
    // A single entry over the total limit is refused in an empty namespace too.
    let fresh = store.namespace("fresh", quota(100, 100, 10, 100));
    assert!(matches!(
        fresh.set(b"kk", b"123456789"),
        Err(KvError::QuotaExceeded { .. })
    ));
    assert_eq!(fresh.used_bytes().unwrap(), 0);
}

pub(super) fn replace_and_delete_adjust_usage(store: &KvStore) {
    let ns = store.namespace("usage", quota(100, 100, 20, 100));
    ns.set(b"k", b"0123456789").unwrap();
    assert_eq!(ns.used_bytes().unwrap(), 11);
    ns.set(b"k", b"012").unwrap();
    assert_eq!(ns.used_bytes().unwrap(), 4);
    ns.set(b"other", b"0123456789").unwrap();
    assert_eq!(ns.used_bytes().unwrap(), 19);
    ns.set(b"k", b"0123").unwrap(); // grows by one, to exactly the limit
    assert_eq!(ns.used_bytes().unwrap(), 20);
    assert!(matches!(
        ns.set(b"k", b"01234"),
        Err(KvError::QuotaExceeded { needed: 1, .. })
    ));
    assert_eq!(ns.get(b"k").unwrap().as_deref(), Some(&b"0123"[..]));
    // Under a lowered quota, writes that do not grow usage still succeed.
    let lowered = store.namespace("usage", quota(100, 100, 5, 100));
    lowered.set(b"k", b"0123").unwrap();
    lowered.set(b"k", b"0").unwrap();
    assert!(matches!(
        lowered.set(b"k", b"01"),
        Err(KvError::QuotaExceeded { .. })
    ));
    assert_eq!(ns.used_bytes().unwrap(), 17);
    assert!(ns.delete(b"other").unwrap());
    assert_eq!(ns.used_bytes().unwrap(), 2);
    assert!(ns.delete(b"k").unwrap());
    assert_eq!(ns.used_bytes().unwrap(), 0);
    ns.set(b"big", b"0123456789012345").unwrap(); // freed bytes are reusable
    assert_eq!(ns.used_bytes().unwrap(), 19);
}

pub(super) fn concurrent_writers_respect_quota(store: &KvStore) {
    const LIMIT: u64 = 2000;
    let ns = store.namespace("shared", quota(100, 1000, LIMIT, 10_000));
    let quota_errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|t: usize| {
            let ns = ns.clone();
            let quota_errors = Arc::clone(&quota_errors);
            thread::spawn(move || {
                for i in 0..40usize {
                    // Half the keys are shared between threads, so replaces race too.
                    let key = if i % 2 == 0 {
                        format!("t{t}-{i}")
                    } else {
                        format!("s{}", i % 6)
                    };
                    let value = vec![b'v'; 10 + (t * 37 + i * 13) % 120];
                    match ns.set(key.as_bytes(), &value) {
                        Ok(()) => {}
                        Err(KvError::QuotaExceeded { .. }) => {
                            quota_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                    if i % 7 == 0 {
                        ns.delete(format!("t{t}-{}", i / 2).as_bytes()).unwrap();
                    }
                }
            })
        })
        .collect();
    for handle in threads {
        handle.join().unwrap();
    }
    let used = ns.used_bytes().unwrap();
    let listed = ns.list(b"").unwrap();
    let stored: u64 = listed
        .iter()
        .map(|key| (key.len() + ns.get(key).unwrap().unwrap().len()) as u64)
        .sum();
    assert!(used <= LIMIT, "used {used} > limit {LIMIT}");
    assert_eq!(used, stored);
    assert!(used > 0);
    assert_eq!(listed.iter().collect::<BTreeSet<_>>().len(), listed.len());
    assert!(
        quota_errors.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "quota never hit"
    );
}
