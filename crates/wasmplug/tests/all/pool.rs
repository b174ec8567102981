//! Instance pool and isolation modes: reuse vs per-call, backpressure with `Busy`, and
//! concurrent callers from threads and tokio tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasmplug::{Error, InstancePolicy, Isolation, Limits, Plugin};

use crate::support::wat;

fn count(plugin: &Plugin) -> u32 {
    u32::from_le_bytes(plugin.call("count", b"").unwrap().try_into().unwrap())
}

#[test]
fn reuse_keeps_guest_state_and_replaces_broken_instances() {
    let plugin = Plugin::builder()
        .isolation(Isolation::Reuse)
        .load(wat("misbehave"))
        .unwrap();
    assert_eq!(count(&plugin), 1);
    assert_eq!(count(&plugin), 2, "same instance, globals persist");
    assert!(plugin.call("trap", b"").is_err());
    assert_eq!(count(&plugin), 1, "fresh instance after the trap");
    assert!(plugin.call("oob_ptr", b"").is_err());
    assert_eq!(count(&plugin), 1, "fresh instance after an ABI violation");
    assert_eq!(plugin.instance_counts(), (1, 1));
}

#[test]
fn per_call_is_the_default_and_carries_nothing_over() {
    let plugin = Plugin::load(wat("misbehave")).unwrap();
    assert_eq!(plugin.compiled().policy().isolation, Isolation::PerCall);
    for _ in 0..5 {
        assert_eq!(count(&plugin), 1, "every call starts from a fresh instance");
    }
    assert_eq!(
        plugin.instance_counts(),
        (0, 0),
        "nothing kept after the calls"
    );
}

#[test]
fn min_instances_are_created_at_load() {
    let policy = InstancePolicy {
        min: 3,
        isolation: Isolation::Reuse,
        ..InstancePolicy::default()
    };
    let plugin = Plugin::builder()
        .instances(policy)
        .load(wat("echo"))
        .unwrap();
    assert_eq!(plugin.instance_counts(), (3, 3));
}

#[test]
fn invalid_policy_is_refused() {
    let policy = InstancePolicy {
        min: 2,
        max: 1,
        ..InstancePolicy::default()
    };
    let err = Plugin::builder()
        .instances(policy)
        .load(wat("echo"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("larger")),
        "{err:?}"
    );
}

/// 64 tasks on a pool of 4 whose calls each take ~100 ms: every call either succeeds or
/// fails with `Busy` after the acquire timeout; none hangs, and the pool never exceeds 4.
#[test]
fn pool_exhaustion_is_backpressure_not_a_hang() {
    let limits = Limits {
        timeout: Some(Duration::from_millis(100)),
        ..Limits::default()
    };
    let policy = InstancePolicy {
        max: 4,
        acquire_timeout: Duration::from_millis(150),
        isolation: Isolation::Reuse,
        ..InstancePolicy::default()
    };
    let plugin = Plugin::builder()
        .limits(limits)
        .instances(policy)
        .load(wat("misbehave"))
        .unwrap();
    let (timeouts, busy) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let start = Instant::now();
    let handles: Vec<_> = (0..64)
        .map(|_| {
            let (plugin, timeouts, busy) = (plugin.clone(), timeouts.clone(), busy.clone());
            std::thread::spawn(move || {
                let t = Instant::now();
                match plugin.call("spin", b"") {
                    Err(Error::Timeout { .. }) => timeouts.fetch_add(1, Ordering::Relaxed),
                    Err(Error::Busy {
                        max_instances: 4,
                        waited,
                        ..
                    }) => {
                        assert_eq!(waited, Duration::from_millis(150));
                        assert!(t.elapsed() >= waited, "Busy only after the acquire timeout");
                        busy.fetch_add(1, Ordering::Relaxed)
                    }
                    other => panic!("unexpected {other:?}"),
                };
                assert!(plugin.instance_counts().0 <= 4);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (timeouts, busy) = (
        timeouts.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
    );
    assert_eq!(timeouts + busy, 64);
    assert!(timeouts >= 4, "the first four ran: {timeouts}");
    assert!(busy >= 1, "some were turned away: {busy}");
    assert!(start.elapsed() < Duration::from_secs(30), "nothing hung");
    assert!(plugin.instance_counts().0 <= 4);
}

#[test]
fn waiting_caller_gets_the_instance_released_in_time() {
    let policy = InstancePolicy {
        max: 1,
        acquire_timeout: Duration::from_secs(10),
        isolation: Isolation::Reuse,
        ..InstancePolicy::default()
    };
    let limits = Limits {
        timeout: Some(Duration::from_millis(50)),
        ..Limits::default()
    };
    let plugin = Plugin::builder()
        .limits(limits)
        .instances(policy)
        .load(wat("misbehave"))
        .unwrap();
    let busy = plugin.clone();
    let spinner = std::thread::spawn(move || busy.call("spin", b""));
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(
        count(&plugin),
        1,
        "waited for the only slot, got a fresh instance"
    );
    assert!(matches!(
        spinner.join().unwrap(),
        Err(Error::Timeout { .. })
    ));
}

#[test]
fn concurrent_tokio_tasks_all_get_their_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let plugin = Plugin::load(wat("echo")).unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let plugin = plugin.clone();
                tokio::spawn(async move {
                    let msg = format!("task {i}").into_bytes();
                    assert_eq!(plugin.call_async("echo", msg.clone()).await.unwrap(), msg);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}
