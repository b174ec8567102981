//! `Plugin::lease`: one instance slot held by one caller. Its calls keep the guest's state
//! in `reuse` and start fresh in `per-call`, a poisoned instance is replaced, the slot
//! counts towards `instances.max` while held, and dropping the lease gives it back.

use std::time::Duration;

use wasmplug::{Error, InstancePolicy, Isolation, Lease, Limits, Plugin};

use crate::support::wat;

fn count(lease: &mut Lease) -> u32 {
    u32::from_le_bytes(lease.call("count", b"").unwrap().try_into().unwrap())
}

fn misbehave(isolation: Isolation, max: usize) -> Plugin {
    Plugin::builder()
        .limits(Limits {
            timeout: Some(Duration::from_millis(200)),
            ..Limits::default()
        })
        .instances(InstancePolicy {
            max,
            acquire_timeout: Duration::from_millis(50),
            isolation,
            ..InstancePolicy::default()
        })
        .load(wat("misbehave"))
        .unwrap()
}

#[test]
fn reuse_lease_keeps_state_replaces_a_poisoned_instance_and_gives_it_back() {
    let plugin = misbehave(Isolation::Reuse, 4);
    let mut lease = plugin.lease().unwrap();
    assert_eq!(count(&mut lease), 1);
    assert_eq!(
        count(&mut lease),
        2,
        "the same instance, its globals persist"
    );
    assert!(
        matches!(lease.call("trap", b""), Err(Error::Trap { .. })),
        "a trap is a typed error"
    );
    assert_eq!(count(&mut lease), 1, "a fresh instance after the trap");
    let spun = lease.call("spin", b"").unwrap_err();
    assert!(matches!(spun, Error::Timeout { .. }), "{spun:?}");
    assert_eq!(count(&mut lease), 1, "a fresh instance after the timeout");
    assert_eq!(count(&mut lease), 2);
    assert!(matches!(
        lease.call("nope", b""),
        Err(Error::FunctionNotFound { .. })
    ));
    assert_eq!(plugin.instance_counts(), (1, 0), "leased: live, not idle");
    drop(lease);
    assert_eq!(plugin.instance_counts(), (1, 1), "given back to the pool");
    let next = u32::from_le_bytes(plugin.call("count", b"").unwrap().try_into().unwrap());
    assert_eq!(
        next, 3,
        "the pool serves the lease's instance, state and all"
    );
}

#[test]
fn per_call_lease_starts_every_call_fresh() {
    let plugin = misbehave(Isolation::PerCall, 4);
    let mut lease = plugin.lease().unwrap();
    for _ in 0..4 {
        assert_eq!(
            count(&mut lease),
            1,
            "every call starts from a fresh instance"
        );
    }
    assert_eq!(
        plugin.instance_counts(),
        (0, 0),
        "nothing kept between calls"
    );
    drop(lease);
    assert_eq!(plugin.instance_counts(), (0, 0));
    let mut again = plugin.lease().unwrap();
    assert_eq!(count(&mut again), 1);
}

#[test]
fn a_held_lease_takes_a_slot_until_dropped() {
    let plugin = misbehave(Isolation::Reuse, 1);
    let mut lease = plugin.lease().unwrap();
    assert_eq!(count(&mut lease), 1);
    let busy = plugin.call("count", b"").unwrap_err();
    assert!(
        matches!(busy, Error::Busy { max_instances: 1, waited, .. } if waited == Duration::from_millis(50)),
        "{busy:?}"
    );
    assert!(matches!(plugin.lease(), Err(Error::Busy { .. })));
    drop(lease);
    assert!(plugin.call("count", b"").is_ok(), "the slot is free again");
    assert!(plugin.lease().is_ok());
}

#[test]
fn a_lease_moved_into_a_runtime_starts_an_instance_of_the_flavour_it_needs() {
    let plugin = misbehave(Isolation::Reuse, 2);
    let mut lease = plugin.lease().unwrap();
    assert_eq!((count(&mut lease), count(&mut lease)), (1, 2));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inside = runtime.block_on(async { (count(&mut lease), count(&mut lease)) });
    assert_eq!(inside, (1, 2), "a new (async) instance inside the runtime");
    assert_eq!(
        count(&mut lease),
        1,
        "and a new (sync) one back on the plain thread"
    );
    assert!(plugin.instance_counts().0 <= 2);
}

#[test]
fn a_lease_works_inside_a_tokio_runtime() {
    let plugin = misbehave(Isolation::Reuse, 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let counts = runtime.block_on(async {
        let mut lease = plugin.lease().unwrap();
        let first = count(&mut lease);
        let second = count(&mut lease);
        let spun = lease.call("spin", b"").unwrap_err();
        assert!(matches!(spun, Error::Timeout { .. }), "{spun:?}");
        (first, second, count(&mut lease))
    });
    assert_eq!(counts, (1, 2, 1));
}
