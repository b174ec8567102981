//! Issue 11 item 5 on a real loopback socket: connections are bounded (header timeout,
//! connection cap with eviction) and shutdown does not wait for connections that have no
//! request in flight.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _fixture: Fixture,
}

async fn start(edit: impl FnOnce(&mut GatewayConfig)) -> Running {
    let fixture = fixture_with(edit);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wasmplug_gateway::serve(
        listener,
        fixture.state.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    Running {
        addr,
        stop: Some(tx),
        server,
        _fixture: fixture,
    }
}

/// Reads until the peer closes (true) or `within` passes (false).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn healthz(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
        .await
        .expect("healthz answered in time")
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_silent_and_slow_connections_are_closed_after_the_header_timeout() {
    let run = start(|c| c.header_timeout = Duration::from_millis(300)).await;
    let mut silent = TcpStream::connect(run.addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(10)).await,
        "silent connection kept open"
    );
    // Slowloris: a head trickled one byte at a time never completes in time.
    let mut slow = TcpStream::connect(run.addr).await.unwrap();
    let head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut cut = false;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    assert!(
        cut || closed_within(&mut slow, Duration::from_secs(1)).await,
        "slow head kept open"
    );
    // Idle keep-alive: after one answered request, the connection closes when idle.
    let mut kept = TcpStream::connect(run.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut kept, Duration::from_secs(10)).await,
        "idle keep-alive connection kept open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_connection_cap_evicts_idle_connections_so_health_checks_pass() {
    let run = start(|c| {
        c.header_timeout = Duration::from_secs(60);
        c.max_connections = Some(8);
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(run.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = healthz(run.addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut closed = 0;
    for s in &mut silent {
        if closed_within(s, Duration::from_millis(50)).await {
            closed += 1;
        }
    }
    assert!(
        closed >= 12,
        "only {closed} of 20 idle connections were evicted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_shutdown_closes_half_sent_heads_without_waiting_for_the_grace_period() {
    let mut run = start(|c| c.grace_period = Duration::from_secs(30)).await;
    let mut half = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(run.addr).await.unwrap();
        s.write_all(b"POST /v1/plugins/wat-echo/echo HTTP/1.1\r\nHost: t\r\nX-Half:")
            .await
            .unwrap();
        half.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    run.stop.take().unwrap().send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(20), &mut run.server)
        .await
        .expect("serve returned before the grace period");
    result.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown waited {:?}",
        started.elapsed()
    );
    for s in &mut half {
        assert!(closed_within(s, Duration::from_secs(1)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_http11_request_without_host_is_a_json_400() {
    let run = start(|_| {}).await;
    let mut s = TcpStream::connect(run.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("\"bad_request\""), "{out}");
    // HTTP/1.0 may omit it.
    let mut s = TcpStream::connect(run.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.0 200"), "{out}");
}
