//! `kind = "wasi-http"` plugins under `/v1/http/{name}/{path...}` (issue 14, item 4): a
//! third-party `wasi:http/proxy` handler (tests/guests/rust/http-handler, the plain `wasip2`
//! crate, componentized with the proxy adapter by `wasmplug build`; built by
//! `scripts/build-guests.sh --all`).

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// The built handler component.
fn handler_wasm() -> PathBuf {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/guests/rust/http-handler/http-handler.wasm");
    assert!(
        wasm.is_file(),
        "{} is missing: run `bash scripts/build-guests.sh --all`",
        wasm.display()
    );
    wasm
}

/// A gateway whose plugin dir also holds the handler as `http-handler` (with `extra`
/// manifest lines) next to the usual fixture plugins.
fn with_handler(extra: &str) -> Fixture {
    let f = fixture();
    let dir = f.plugins().join("http-handler");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(handler_wasm(), dir.join("http-handler.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"http-handler\"\nversion = \"1.0.0\"\nwasm = \"http-handler.wasm\"\nkind = \"wasi-http\"\n{extra}"
        ),
    )
    .unwrap();
    f.state
        .registry()
        .load(&dir.join("plugin.toml"))
        .unwrap_or_else(|e| panic!("the handler must load: {e}"));
    f
}

const LIMITS: &str = "[limits]\ntimeout = \"500ms\"\nmax_input = \"16MiB\"\n";

#[tokio::test]
async fn get_post_echo_headers_and_the_path_it_sees() {
    let f = with_handler(LIMITS);
    let a = send(&f.app, get("/v1/http/http-handler/hello")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.text(), "hello from wasi:http");
    assert_eq!(a.header("x-handler"), "plain-wasi");
    assert_eq!(a.header("x-wasmplug-version"), "1.0.0");
    let request = Request::post("/v1/http/http-handler/echo")
        .header("content-type", "text/x-test")
        .body(Body::from("abc123"))
        .unwrap();
    let a = send(&f.app, request).await;
    assert_eq!((a.status.as_u16(), a.text().as_str()), (200, "abc123"));
    assert_eq!(a.header("content-type"), "text/x-test");
    let request = Request::get("/v1/http/http-handler/headers")
        .header("x-test", "one")
        .body(Body::empty())
        .unwrap();
    let a = send(&f.app, request).await;
    assert!(a.text().contains("x-test: one"), "{}", a.text());
    // The component sees the path after the mount, with the query.
    let a = send(&f.app, get("/v1/http/http-handler/some/path?q=1&r=2")).await;
    assert_eq!(a.text(), "/some/path?q=1&r=2");
    let a = send(&f.app, get("/v1/http/http-handler")).await;
    assert_eq!(a.text(), "/");
    // A plugin that is not there, and a plugin that is not a wasi:http component.
    assert_error(
        &send(&f.app, get("/v1/http/nope/x")).await,
        404,
        "plugin_not_found",
    );
    let a = send(&f.app, get("/v1/http/wat-echo/x")).await;
    assert_eq!(a.status, 404, "{}", a.text());
}

#[tokio::test]
async fn an_8_mib_body_streams_through_and_the_limit_holds() {
    // A deadline that a loaded 2-core machine meets for 8 MiB each way.
    let f = with_handler("[limits]\ntimeout = \"10s\"\nmax_input = \"16MiB\"\n");
    let body: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let a = tokio::time::timeout(
        Duration::from_secs(60),
        send(&f.app, post("/v1/http/http-handler/echo", body.clone())),
    )
    .await
    .expect("the 8 MiB echo finishes");
    assert_eq!(a.status, 200);
    assert!(a.body == body, "8 MiB echoed: got {} bytes", a.body.len());
    // Over max_input (16 MiB) announced: 413 before the component runs.
    let request = Request::post("/v1/http/http-handler/echo")
        .header("content-length", (17 * 1024 * 1024).to_string())
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&f.app, request).await, 413, "input_too_large");
}

#[tokio::test]
async fn a_spinning_handler_gets_504_within_its_deadline_while_a_neighbour_answers() {
    let f = with_handler(LIMITS);
    let app = f.app.clone();
    let started = Instant::now();
    let spinner = tokio::spawn(async move { send(&app, get("/v1/http/http-handler/spin")).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..20 {
        let a = send(&f.app, get("/v1/http/http-handler/hello")).await;
        assert_eq!(a.status, 200, "{}", a.text());
        let a = send(&f.app, post("/v1/plugins/wat-echo/echo", "x")).await;
        assert_eq!(a.status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the neighbours answered while the handler spun: {:?}",
        started.elapsed()
    );
    let a = spinner.await.unwrap();
    assert_error(&a, 504, "timeout");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

/// A one-shot HTTP server on loopback answering `200 upstream-ok`.
async fn upstream() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\nupstream-ok")
                .await;
        }
    });
    addr
}

#[tokio::test]
async fn outgoing_requests_go_through_the_allow_list() {
    let addr = upstream().await;
    let url = format!("http://{addr}/x");
    // Not granted: refused before anything is sent (the guest sees HTTP-request-denied).
    let f = with_handler(LIMITS);
    let a = send(
        &f.app,
        get(&format!("/v1/http/http-handler/fetch?url={url}")),
    )
    .await;
    assert_eq!(a.status, 502, "{}", a.text());
    assert!(a.text().contains("HttpRequestDenied"), "{}", a.text());
    // Granted by name: the same request gets through.
    let granted = with_handler(&format!(
        "{LIMITS}[capabilities]\nnet = [\"http://{addr}\"]\n"
    ));
    let a = send(
        &granted.app,
        get(&format!("/v1/http/http-handler/fetch?url={url}")),
    )
    .await;
    assert_eq!((a.status.as_u16(), a.text().as_str()), (200, "upstream-ok"));
}
