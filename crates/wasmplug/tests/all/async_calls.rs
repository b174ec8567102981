//! Calls on async workers (issue 13) and bounded waiting (issue 11, item 6): spinning
//! guests never stall the runtime's workers, every spinner ends at its own deadline, a
//! cancelled call frees its instance, and the queue of waiting calls is bounded.
//!
//! Timing assertions are deliberately generous (this suite shares 2 cores with others):
//! they separate "a worker stayed free" from "a worker was stuck for a deadline".

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmplug::{
    BreakerConfig, CallOptions, Error, InstancePolicy, Isolation, Limits, Plugin, Registry,
    RegistryConfig,
};

use crate::support::wat;

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

fn spinner(timeout: Duration, policy: InstancePolicy) -> Plugin {
    Plugin::builder()
        .limits(Limits {
            timeout: Some(timeout),
            ..Limits::default()
        })
        .instances(policy)
        .load(wat("misbehave"))
        .unwrap()
}

/// Latencies of `n` sequential async `echo` calls, sorted.
async fn echo_latencies(echo: &Plugin, n: usize) -> Vec<Duration> {
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let input = format!("ping {i}").into_bytes();
        let t = Instant::now();
        let out = echo.call_async("echo", input.clone()).await.unwrap();
        all.push(t.elapsed());
        assert_eq!(out, input);
    }
    all.sort();
    all
}

fn p99(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]
}

#[test]
fn sixty_four_spinners_on_two_workers_leave_a_fast_plugin_answering() {
    let rt = runtime(2);
    let policy = InstancePolicy {
        max: 32,
        max_waiting: 0,
        ..InstancePolicy::default()
    };
    // Two deadlines, so "its own deadline" is visible: 32 spinners of each.
    let short = spinner(Duration::from_millis(300), policy.clone());
    let long = spinner(Duration::from_millis(900), policy);
    let echo = Plugin::load(wat("echo")).unwrap();
    rt.block_on(async {
        let unloaded = echo_latencies(&echo, 200).await;
        let started = Instant::now();
        let spinners: Vec<_> = (0..64)
            .map(|i| {
                let plugin = if i % 2 == 0 {
                    short.clone()
                } else {
                    long.clone()
                };
                tokio::spawn(async move {
                    let t = Instant::now();
                    (plugin.call_async("spin", Vec::new()).await, t.elapsed())
                })
            })
            .collect();
        // The fast plugin keeps answering while all 64 spin.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let loaded = echo_latencies(&echo, 200).await;
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "200 echo calls finished while the spinners still ran: {:?}",
            started.elapsed()
        );
        for (i, task) in spinners.into_iter().enumerate() {
            let (result, elapsed) = task.await.unwrap();
            let limit = if i % 2 == 0 { 300 } else { 900 };
            match result {
                Err(Error::Timeout { limit: l, .. }) => {
                    assert_eq!(l, Duration::from_millis(limit))
                }
                other => panic!("spinner {i}: expected Timeout, got {other:?}"),
            }
            assert!(
                elapsed >= Duration::from_millis(limit),
                "spinner {i} stopped early: {elapsed:?}"
            );
            assert!(
                elapsed < Duration::from_millis(limit + 1500),
                "spinner {i} ran far past its own deadline of {limit} ms: {elapsed:?}"
            );
        }
        let (unloaded, loaded) = (p99(&unloaded), p99(&loaded));
        assert!(
            loaded < (unloaded * 20).max(Duration::from_millis(25)),
            "echo p99 {loaded:?} with 64 spinners vs {unloaded:?} alone"
        );
    });
    assert_eq!(short.instance_counts(), (0, 0));
    assert_eq!(long.instance_counts(), (0, 0));
}

#[test]
fn a_cancelled_call_frees_its_instance_slot() {
    let rt = runtime(2);
    let policy = InstancePolicy {
        max: 1,
        acquire_timeout: Duration::from_millis(100),
        ..InstancePolicy::default()
    };
    let plugin = spinner(Duration::from_secs(30), policy);
    rt.block_on(async {
        let call = plugin.call_async("spin", Vec::new());
        let cancelled = tokio::time::timeout(Duration::from_millis(100), call).await;
        assert!(cancelled.is_err(), "the spinner was still running");
        // The slot comes back within a tick or two, not after the 30 s deadline.
        let start = Instant::now();
        while plugin.instance_counts().0 != 0 {
            assert!(start.elapsed() < Duration::from_secs(5), "slot never freed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // With `max = 1`, a new call gets the slot (no `Busy`).
        let out = plugin.call_async("count", Vec::new()).await.unwrap();
        assert_eq!(out, 1u32.to_le_bytes());
    });
}

#[test]
fn waiting_calls_are_bounded_obeyed_and_violated() {
    let rt = runtime(2);
    let policy = InstancePolicy {
        max: 1,
        max_waiting: 2,
        acquire_timeout: Duration::from_secs(10),
        isolation: Isolation::PerCall,
        ..InstancePolicy::default()
    };
    let plugin = spinner(Duration::from_millis(200), policy);
    rt.block_on(async {
        let call = |p: &Plugin| {
            let p = p.clone();
            tokio::spawn(async move { p.call_async("spin", Vec::new()).await })
        };
        let running = call(&plugin);
        tokio::time::sleep(Duration::from_millis(30)).await;
        // Obeyed: two may wait; they get the instance in turn and spin to their deadline.
        let waiters = [call(&plugin), call(&plugin)];
        tokio::time::sleep(Duration::from_millis(30)).await;
        // Violated: a third waiter is turned away at once.
        let t = Instant::now();
        match plugin.call_async("spin", Vec::new()).await {
            Err(e @ Error::Busy { waiting: 2, .. }) => {
                assert!(e.to_string().contains("max_waiting"), "{e}");
            }
            other => panic!("expected Busy with 2 waiting, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_millis(150), "not queued");
        assert!(matches!(running.await.unwrap(), Err(Error::Timeout { .. })));
        for w in waiters {
            assert!(matches!(w.await.unwrap(), Err(Error::Timeout { .. })));
        }
    });
}

/// Regression (issue 11, item 6): 600 callers on a spinning plugin (breaker off) must not
/// starve a neighbouring plugin: its p99 stays within a small factor of its own unloaded
/// p99, measured in this test.
#[test]
fn issue_11_6_a_spinning_plugins_backlog_does_not_starve_its_neighbour() {
    let rt = runtime(2);
    let registry = Registry::new(RegistryConfig {
        breaker: BreakerConfig {
            failure_threshold: u32::MAX,
            ..BreakerConfig::default()
        },
        ..RegistryConfig::default()
    });
    registry
        .insert(spinner(
            Duration::from_millis(400),
            InstancePolicy::default(),
        ))
        .unwrap();
    registry.insert(Plugin::load(wat("echo")).unwrap()).unwrap();
    let echo_name = registry
        .plugins()
        .into_iter()
        .map(|p| p.name)
        .find(|n| n != "misbehave")
        .unwrap();
    let registry = Arc::new(registry);
    rt.block_on(async {
        let neighbour = |n: usize| {
            let (registry, name) = (registry.clone(), echo_name.clone());
            async move {
                let mut all = Vec::with_capacity(n);
                for _ in 0..n {
                    let t = Instant::now();
                    let out = registry
                        .call_async(&name, "echo", b"hi".to_vec(), CallOptions::default())
                        .await
                        .unwrap();
                    all.push(t.elapsed());
                    assert_eq!(out.output.output, b"hi");
                }
                all.sort();
                all
            }
        };
        let unloaded = p99(&neighbour(300).await);
        let callers: Vec<_> = (0..600)
            .map(|_| {
                let registry = registry.clone();
                tokio::spawn(async move {
                    registry
                        .call_async("misbehave", "spin", Vec::new(), CallOptions::default())
                        .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let loaded = p99(&neighbour(300).await);
        let (mut timeouts, mut busy) = (0, 0);
        for c in callers {
            match c.await.unwrap() {
                Err(Error::Timeout { .. }) => timeouts += 1,
                Err(Error::Busy { .. }) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(timeouts >= 16, "the pool's 16 instances spun: {timeouts}");
        assert!(busy >= 600 - 16 - 64, "the rest was turned away: {busy}");
        assert!(
            loaded < (unloaded * 10).max(Duration::from_millis(25)),
            "neighbour p99 {loaded:?} under the backlog vs {unloaded:?} unloaded"
        );
    });
}

/// Regression (issue 11, item 11): a timeout of centuries used to overflow the epoch
/// deadline (debug: a panic inside wasmtime; release: no deadline at all).
#[test]
fn issue_11_11_a_huge_timeout_is_refused_with_a_clear_error() {
    let huge = wasmplug::parse_duration("500000000000y").unwrap();
    let err = Plugin::builder()
        .limits(Limits {
            timeout: Some(huge),
            ..Limits::default()
        })
        .load(wat("echo"))
        .unwrap_err();
    assert_eq!(err.class(), "invalid_limit");
    assert!(err.to_string().contains("`timeout`"), "{err}");
    assert!(err.to_string().contains("at most 1day"), "{err}");
    // The largest accepted value loads and calls normally.
    let plugin = Plugin::builder()
        .limits(Limits {
            timeout: Some(wasmplug::MAX_TIMEOUT),
            ..Limits::default()
        })
        .load(wat("echo"))
        .unwrap();
    assert_eq!(plugin.call("echo", b"x").unwrap(), b"x");
}
