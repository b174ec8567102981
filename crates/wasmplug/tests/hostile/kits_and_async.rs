//! Attacks from guests written with the Go and AssemblyScript kits (`tests/hostile/<case>/`,
//! built by `scripts/build-guests.sh --all`), instantiation traps, corrupted function
//! pointers, and an async call cancelled while its guest spins in host calls.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wasmplug::{Error, InstancePolicy, Limits, Plugin, PluginBuilder, TrapKind};

use crate::neighbour::with_neighbour;
use crate::support::{fails_twice, hostile, le, load, root};

/// A kit guest's manifest; its module must have been built.
fn kit_guest(case: &str) -> PathBuf {
    let manifest = root().join("tests/hostile").join(case).join("plugin.toml");
    let module = manifest.with_file_name(format!("{case}.wasm"));
    assert!(
        module.is_file(),
        "{} is not built: run scripts/build-guests.sh --all",
        module.display()
    );
    manifest
}

#[test]
fn go_goroutines_spinning_in_the_scheduler_are_stopped_by_the_deadline() {
    let plugin = Plugin::load(kit_guest("go-scheduler-spin")).unwrap();
    fails_twice(&plugin, "run", b"", |err| match err {
        Error::Timeout {
            function, limit, ..
        } => {
            assert_eq!(function, "run");
            assert_eq!(limit, Duration::from_millis(300));
        }
        other => panic!("expected Timeout, got {other:?}"),
    });
    // Obeyed: the same plugin (a fresh Go runtime) answers under the same limit.
    assert_eq!(plugin.call("ok", b"still here").unwrap(), b"still here");
}

#[test]
fn assemblyscript_throw_with_a_huge_message_is_a_capped_panic() {
    let plugin = Plugin::load(kit_guest("as-abort")).unwrap();
    fails_twice(&plugin, "run", b"x", |err| match err {
        Error::Trap {
            function,
            kind: TrapKind::Panic,
            message,
            ..
        } => {
            assert_eq!(function, "run");
            assert!(
                message.starts_with("AAAA"),
                "{:?}",
                &message[..40.min(message.len())]
            );
            assert!(
                message.len() <= 64 * 1024 + 64,
                "the 1 MiB message is cut to the 64 KiB cap, got {} bytes",
                message.len()
            );
        }
        other => panic!("expected a Panic trap, got {other:?}"),
    });
    assert_eq!(plugin.call("ok", b"fine").unwrap(), b"fine");
}

#[test]
fn a_data_segment_past_the_end_of_memory_fails_the_load() {
    with_neighbour(|| {
        for _ in 0..2 {
            match Plugin::load(hostile("data-segment-oob")).unwrap_err() {
                Error::Instantiate { plugin, message } => {
                    assert_eq!(plugin, "hostile-data-segment-oob");
                    assert!(message.contains("out of bounds"), "{message}");
                }
                other => panic!("expected Instantiate, got {other:?}"),
            }
        }
    });
}

#[test]
fn call_indirect_through_null_or_past_the_table_traps() {
    let plugin = load("null-indirect-call");
    fails_twice(&plugin, "run", &le(2), |err| match err {
        Error::Trap { function, kind, .. } => {
            assert_eq!(function, "run");
            assert_eq!(kind, TrapKind::BadIndirectCall);
        }
        other => panic!("expected Trap, got {other:?}"),
    });
    fails_twice(&plugin, "run", &le(4), |err| match err {
        Error::Trap { kind, .. } => assert_eq!(kind, TrapKind::TableOutOfBounds),
        other => panic!("expected Trap, got {other:?}"),
    });
    // Obeyed: the filled slot calls through.
    assert_eq!(plugin.call("run", &le(0)).unwrap(), b"");
}

#[test]
fn an_async_call_spinning_in_host_calls_is_cancelled_by_dropping_it() {
    let plugin = PluginBuilder::new()
        .limits(Limits {
            timeout: Some(Duration::from_secs(30)),
            ..Limits::default()
        })
        .instances(InstancePolicy {
            max: 1,
            acquire_timeout: Duration::from_millis(200),
            ..InstancePolicy::default()
        })
        .load(hostile("hostcall-spin"))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    with_neighbour(|| {
        rt.block_on(async {
            for _ in 0..2 {
                let call = plugin.call_async("run", Vec::new());
                let outcome = tokio::time::timeout(Duration::from_millis(100), call).await;
                assert!(outcome.is_err(), "the spinning call returned: {outcome:?}");
                // The only slot comes back within a tick or two, not at the 30 s deadline.
                let start = Instant::now();
                while plugin.instance_counts().0 != 0 {
                    assert!(start.elapsed() < Duration::from_secs(5), "slot never freed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                // Obeyed: with `max = 1`, the next call gets the slot.
                assert_eq!(plugin.call_async("ok", Vec::new()).await.unwrap(), b"");
            }
        });
    });
}
