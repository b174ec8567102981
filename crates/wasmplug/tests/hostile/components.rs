//! Hostile components (issue 11 item 15, issue 14): the same attacks as on core modules,
//! through the component instance kind and the `wasi:http` handler. Each runs while the
//! neighbour plugin answers ([`fails_twice`] / [`with_neighbour`]) and asserts the exact
//! error; limits are shown obeyed under the same settings.

use std::time::{Duration, Instant};

use wasmplug::{ByteSize, Error, Limits, Plugin, TrapKind};

use crate::neighbour::with_neighbour;
use crate::support::{fails_twice, hostile, root};

const MIB: u64 = 1024 * 1024;

/// The hand-written component of the component tests (`echo`, `spin`, `grow`, `big`,
/// `xlen`, `fail`).
fn probe(limits: Limits) -> Plugin {
    Plugin::builder()
        .limits(limits)
        .load(root().join("tests/guests/wat/component-probe.wat"))
        .unwrap()
}

#[test]
fn spinning_component_is_stopped_by_its_deadline() {
    let timeout = Duration::from_millis(150);
    let plugin = probe(Limits {
        timeout: Some(timeout),
        ..Limits::default()
    });
    fails_twice(&plugin, "spin", b"", |err| match err {
        Error::Timeout {
            function,
            limit,
            elapsed,
        } => {
            assert_eq!((function.as_str(), limit), ("spin", timeout));
            assert!(elapsed >= timeout, "{elapsed:?}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    });
    assert_eq!(plugin.call("echo", b"ok").unwrap(), b"ok");
}

#[test]
fn component_memory_bomb_hits_the_memory_limit() {
    let limit = 4 * MIB;
    let plugin = probe(Limits {
        memory: ByteSize(limit),
        ..Limits::default()
    });
    fails_twice(&plugin, "grow", b"", |err| match err {
        Error::MemoryLimit {
            function, limit: l, ..
        } => assert_eq!((function.as_str(), l), ("grow", limit)),
        other => panic!("expected MemoryLimit, got {other:?}"),
    });
    // Obeyed: an instance under the same limit serves calls.
    assert_eq!(plugin.call("echo", b"ok").unwrap(), b"ok");
}

#[test]
fn component_output_over_max_output_and_past_its_memory_are_refused() {
    let plugin = probe(Limits {
        max_output: ByteSize(1024),
        ..Limits::default()
    });
    fails_twice(&plugin, "big", b"", |err| match err {
        Error::OutputTooLarge { limit, size, .. } => assert_eq!((limit, size), (1024, 65536)),
        other => panic!("expected OutputTooLarge, got {other:?}"),
    });
    fails_twice(&plugin, "xlen", b"", |err| match err {
        Error::Trap { kind, message, .. } => {
            assert_eq!(kind, TrapKind::HostFunction, "{message}");
            assert!(message.contains("out of bounds"), "{message}");
        }
        other => panic!("expected a trap, got {other:?}"),
    });
    // Obeyed: an output under the limit.
    assert_eq!(plugin.call("echo", &[7; 1024]).unwrap(), [7; 1024]);
}

/// Asserts a trap whose message contains `text`, quickly (no deadline was needed).
fn bounded_trap(plugin: &Plugin, text: &str) {
    let started = Instant::now();
    fails_twice(plugin, "run", b"", |err| match err {
        Error::Trap { message, .. } => assert!(message.contains(text), "{message}"),
        other => panic!("expected a trap ({text}), got {other:?}"),
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped by a bound, not the deadline: {:?}",
        started.elapsed()
    );
}

#[test]
fn handle_flood_is_bounded_by_the_store() {
    let plugin = Plugin::builder()
        .limits(Limits {
            timeout: Some(Duration::from_secs(30)),
            ..Limits::default()
        })
        .load(hostile("component-handle-flood"))
        .unwrap();
    bounded_trap(&plugin, "handle limit exceeded");
}

#[test]
fn host_resource_table_exhaustion_is_bounded() {
    let plugin = Plugin::builder()
        .limits(Limits {
            timeout: Some(Duration::from_secs(30)),
            ..Limits::default()
        })
        .load(hostile("component-resource-flood"))
        .unwrap();
    bounded_trap(&plugin, "resource table has no free keys");
}

/// The third-party `wasi:http` handler, built by `scripts/build-guests.sh --all`.
fn handler(timeout: Duration, max_input: u64) -> Plugin {
    let dir = tempfile::tempdir().unwrap();
    let wasm = root().join("tests/guests/rust/http-handler/http-handler.wasm");
    assert!(
        wasm.is_file(),
        "{} is missing: run `bash scripts/build-guests.sh --all`",
        wasm.display()
    );
    std::fs::copy(&wasm, dir.path().join("h.wasm")).unwrap();
    let manifest = dir.path().join("plugin.toml");
    std::fs::write(
        &manifest,
        format!(
            "name = \"http-handler\"\nversion = \"1.0.0\"\nwasm = \"h.wasm\"\nkind = \"wasi-http\"\n[limits]\ntimeout = \"{}ms\"\nmax_input = \"{max_input}B\"\n",
            timeout.as_millis()
        ),
    )
    .unwrap();
    Plugin::load(&manifest).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn request(path: &str) -> http::request::Builder {
    http::Request::builder()
        .uri(path)
        .header("host", "localhost")
}

type Full = http_body_util::Full<bytes::Bytes>;

async fn answer(plugin: &Plugin, request: http::Request<Full>) -> wasmplug::Result<(u16, Vec<u8>)> {
    use http_body_util::BodyExt;
    let response = plugin.handle_http(request).await?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec());
    Ok((status, body.unwrap_or_default()))
}

#[test]
fn wasi_http_spinner_ends_at_its_deadline_while_requests_flow() {
    let plugin = handler(Duration::from_millis(300), MIB);
    let rt = runtime();
    with_neighbour(|| {
        rt.block_on(async {
            let spin = {
                let plugin = plugin.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let r = answer(&plugin, request("/spin").body(Full::default()).unwrap()).await;
                    (r, started.elapsed())
                })
            };
            for _ in 0..20 {
                let r = answer(&plugin, request("/hello").body(Full::default()).unwrap()).await;
                assert_eq!(r.unwrap(), (200, b"hello from wasi:http".to_vec()));
            }
            let (r, elapsed) = spin.await.unwrap();
            assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
            assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        });
    });
}

#[test]
fn wasi_http_huge_headers_and_bodies_are_bounded() {
    let plugin = handler(Duration::from_secs(5), MIB);
    let rt = runtime();
    with_neighbour(|| {
        rt.block_on(async {
            // 1 MiB of headers: refused before an instance is made.
            let mut huge = request("/headers");
            for i in 0..256 {
                huge = huge.header(format!("x-h{i}"), "v".repeat(4096));
            }
            let r = answer(&plugin, huge.body(Full::default()).unwrap()).await;
            match r {
                Err(Error::InputTooLarge { limit, size }) => {
                    assert_eq!(limit, wasmplug::component::http::MAX_REQUEST_HEADER_BYTES);
                    assert!(size > 1024 * 1024, "{size}");
                }
                Err(other) => panic!("expected InputTooLarge, got {other:?}"),
                Ok((status, body)) => panic!(
                    "expected InputTooLarge, got {status} ({} bytes)",
                    body.len()
                ),
            }
            // A body over max_input, streamed: cut at the limit (the handler sees the
            // stream end with an error; the response never carries more than the limit).
            let body =
                http_body_util::Limited::new(Full::from(vec![1u8; 2 * MIB as usize]), MIB as usize);
            let r = plugin
                .handle_http(request("/echo").method("POST").body(body).unwrap())
                .await;
            if let Ok(response) = r {
                use http_body_util::BodyExt;
                let got = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes().len());
                assert!(got.as_ref().map_or(true, |n| *n as u64 <= MIB), "{got:?}");
            }
            // Obeyed: a normal request after both.
            let r = answer(&plugin, request("/hello").body(Full::default()).unwrap()).await;
            assert_eq!(r.unwrap().0, 200);
        });
    });
}

#[test]
fn wasi_http_response_nobody_reads_does_not_hold_the_instance() {
    // One instance at most; the first request's response body is never read, so its
    // handler blocks in a host write (not in guest code, where the epoch would stop it).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/guests/rust/http-handler/http-handler.wasm"),
        dir.path().join("h.wasm"),
    )
    .unwrap();
    let manifest = dir.path().join("plugin.toml");
    std::fs::write(
        &manifest,
        "name = \"http-handler\"\nversion = \"1.0.0\"\nwasm = \"h.wasm\"\nkind = \"wasi-http\"\n[limits]\ntimeout = \"300ms\"\nmax_input = \"16MiB\"\n[instances]\nmax = 1\nacquire_timeout = \"5s\"\n",
    )
    .unwrap();
    let plugin = Plugin::load(&manifest).unwrap();
    let rt = runtime();
    with_neighbour(|| {
        rt.block_on(async {
            let body = Full::from(vec![1u8; 8 * MIB as usize]);
            let stalled = plugin
                .handle_http(request("/echo").method("POST").body(body).unwrap())
                .await
                .unwrap();
            let started = Instant::now();
            let r = answer(&plugin, request("/hello").body(Full::default()).unwrap()).await;
            assert_eq!(r.unwrap().0, 200);
            // Served once the stalled handler's deadline (300 ms + 100 ms grace) freed it.
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{:?}",
                started.elapsed()
            );
            drop(stalled);
        });
    });
}
