//! The router without a socket (`oneshot`): every status mapping, the envelope mode, the
//! admin API and its authentication, the operations endpoints. Plugins are the WAT fixtures
//! of `tests/guests/wat/`, written into a temporary plugin directory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Value, json};
use tower::ServiceExt;
use wasmplug::{ByteSize, Registry, RegistryConfig};
use wasmplug_gateway::{AdminToken, AppState, GatewayConfig, router};

const TOKEN: &str = "s3cret-token";

fn wat(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/guests/wat")
        .join(format!("{name}.wat"))
}

/// The process-wide recorder, installed before any registry of this test binary.
fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| wasmplug_gateway::install_metrics().unwrap())
        .clone()
}

/// Writes `<dir>/<name>/plugin.toml` next to `module` (written as `<file>`).
fn write_plugin(dir: &Path, name: &str, version: &str, file: &str, module: &str, extra: &str) {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(file), module).unwrap();
    std::fs::write(
        folder.join("plugin.toml"),
        format!("name = \"{name}\"\nversion = \"{version}\"\nwasm = \"{file}\"\n{extra}"),
    )
    .unwrap();
}

/// A plugin answering `respond` with `output`, whatever the input.
fn responder(output: &str) -> String {
    let escaped = output.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        r#"(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 2048))
  (func (export "allocate") (param $len i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "deallocate") (param i32 i32))
  (func (export "respond") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {len})))
  (data (i32.const 16) "{escaped}")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"responder\",\"version\":\"1.0.0\"}}")
  (@custom "wasmplug.functions" "respond\n"))"#,
        len = output.len()
    )
}

struct Fixture {
    dir: tempfile::TempDir,
    state: AppState,
    app: Router,
}

impl Fixture {
    fn plugins(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }
}

fn fixture_with(edit: impl FnOnce(&mut GatewayConfig)) -> Fixture {
    let handle = metrics();
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let echo = std::fs::read_to_string(wat("echo")).unwrap();
    write_plugin(
        &plugins,
        "wat-echo",
        "1.0.0",
        "echo.wat",
        &echo,
        "[limits]\nmax_input = \"2KiB\"\n",
    );
    write_plugin(
        &plugins,
        "misbehave",
        "0.1.0",
        "misbehave.wat",
        &std::fs::read_to_string(wat("misbehave")).unwrap(),
        "[limits]\ntimeout = \"300ms\"\n[instances]\nmax = 1\nacquire_timeout = \"10ms\"\n[breaker]\nfailure_threshold = 3\nreset_timeout = \"30s\"\n",
    );
    let reply = json!({"http_response": {"status": 201, "headers": {"x-plugin": "yes"}, "body": {"created": true}}});
    write_plugin(
        &plugins,
        "responder",
        "1.0.0",
        "responder.wat",
        &responder(&reply.to_string()),
        "",
    );
    let mut config = GatewayConfig::default();
    config.plugin_dir = plugins.clone();
    edit(&mut config);
    let registry = Registry::new(RegistryConfig::default());
    for (manifest, result) in registry.load_dir(&plugins).unwrap() {
        result.unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    }
    let state = AppState::new(registry, config)
        .with_metrics(handle)
        .with_admin_token(Some(AdminToken::new(TOKEN)));
    state.set_ready(true);
    let app = router(state.clone());
    Fixture { dir, state, app }
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn class(&self) -> String {
        self.json()["error"]["class"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri).body(body.into()).unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// Asserts status and error class, and that no host internals leak.
fn assert_error(a: &Answer, status: u16, class: &str) {
    assert_eq!(a.status, status, "{}", a.text());
    assert_eq!(a.class(), class, "{}", a.text());
    assert!(
        !a.text().contains("wasm backtrace") && !a.text().contains("panicked"),
        "{}",
        a.text()
    );
    assert!(a.header("content-type").starts_with("application/json"));
}

#[tokio::test]
async fn raw_call_passes_bytes_and_names_the_version() {
    let f = fixture();
    let a = send(&f.app, post("/v1/plugins/wat-echo/greet", "world")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.text(), "Hello, world!");
    assert_eq!(a.header("x-wasmplug-version"), "1.0.0");
    assert_eq!(a.header("content-type"), "text/plain; charset=utf-8");
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo", r#"{"a":1}"#)).await;
    assert_eq!(a.json(), json!({"a": 1}));
    assert_eq!(a.header("content-type"), "application/json");
    // GET: no input.
    let a = send(&f.app, get("/v1/plugins/wat-echo/greet")).await;
    assert_eq!(a.text(), "Hello, !");
}

#[tokio::test]
async fn request_id_is_kept_or_generated() {
    let f = fixture();
    let request = Request::post("/v1/plugins/wat-echo/echo")
        .header("x-request-id", "req-42")
        .body(Body::from("x"))
        .unwrap();
    assert_eq!(send(&f.app, request).await.header("x-request-id"), "req-42");
    let generated = send(&f.app, post("/v1/plugins/wat-echo/echo", "x")).await;
    assert_eq!(generated.header("x-request-id").len(), 16);
    // Also on errors.
    assert_eq!(
        send(&f.app, get("/nope"))
            .await
            .header("x-request-id")
            .len(),
        16
    );
}

#[tokio::test]
async fn unknown_plugin_function_or_version_is_404() {
    let f = fixture();
    assert_error(
        &send(&f.app, post("/v1/plugins/nope/echo", "")).await,
        404,
        "plugin_not_found",
    );
    assert_error(
        &send(&f.app, post("/v1/plugins/wat-echo/nope", "")).await,
        404,
        "function_not_found",
    );
    let pinned = Request::post("/v1/plugins/wat-echo/echo")
        .header("x-wasmplug-version", "9.9.9")
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&f.app, pinned).await, 404, "version_not_found");
    assert_error(
        &send(&f.app, post("/v1/plugins/wat-echo/echo?version=9.9.9", "")).await,
        404,
        "version_not_found",
    );
    assert_error(&send(&f.app, get("/v1/nothing")).await, 404, "not_found");
}

#[tokio::test]
async fn version_pin_by_query_or_header() {
    let f = fixture();
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo?version=1.0.0", "x")).await;
    assert_eq!(
        (a.status.as_u16(), a.header("x-wasmplug-version")),
        (200, "1.0.0")
    );
    assert_error(
        &send(&f.app, post("/v1/plugins/wat-echo/echo?version=one", "")).await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn input_too_large_is_413() {
    // The plugin's `max_input` (2 KiB)...
    let f = fixture();
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo", vec![b'x'; 4096])).await;
    assert_error(&a, 413, "input_too_large");
    // ...and the gateway's `body_limit`.
    let f = fixture_with(|c| c.body_limit = ByteSize(100));
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo", vec![b'x'; 101])).await;
    assert_error(&a, 413, "input_too_large");
    assert_eq!(
        send(&f.app, post("/v1/plugins/wat-echo/echo", vec![b'x'; 100]))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn guest_error_is_422() {
    let f = fixture();
    let a = send(&f.app, post("/v1/plugins/wat-echo/fail", "")).await;
    assert_error(&a, 422, "guest");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid input")
    );
}

#[tokio::test]
async fn traps_and_abi_violations_are_500_without_backtraces() {
    let f = fixture();
    assert_error(
        &send(&f.app, post("/v1/plugins/misbehave/nested_trap", "")).await,
        500,
        "trap",
    );
    assert_error(
        &send(&f.app, post("/v1/plugins/misbehave/oob_ptr", "")).await,
        500,
        "memory_out_of_bounds",
    );
}

#[tokio::test]
async fn timeout_is_504() {
    let f = fixture();
    assert_error(
        &send(&f.app, post("/v1/plugins/misbehave/spin", "")).await,
        504,
        "timeout",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_is_503_with_retry_after() {
    let f = fixture();
    let app = f.app.clone();
    let spin =
        tokio::spawn(async move { send(&app, post("/v1/plugins/misbehave/spin", "")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = send(&f.app, post("/v1/plugins/misbehave/count", "")).await;
    assert_error(&a, 503, "busy");
    assert_eq!(a.header("retry-after"), "1");
    assert_eq!(spin.await.unwrap().status, 504);
}

#[tokio::test]
async fn open_circuit_is_503_with_retry_after() {
    let f = fixture();
    for _ in 0..3 {
        assert_eq!(
            send(&f.app, post("/v1/plugins/misbehave/trap", ""))
                .await
                .status,
            500
        );
    }
    let a = send(&f.app, post("/v1/plugins/misbehave/count", "")).await;
    assert_error(&a, 503, "circuit_open");
    let after: u64 = a.header("retry-after").parse().unwrap();
    assert!((1..=30).contains(&after), "{after}");
}

#[tokio::test]
async fn no_route_is_503() {
    let f = fixture();
    f.state
        .registry()
        .set_weights("wat-echo", &[(semver::Version::new(1, 0, 0), 0)])
        .unwrap();
    assert_error(
        &send(&f.app, post("/v1/plugins/wat-echo/echo", "")).await,
        503,
        "no_route",
    );
}

#[tokio::test]
async fn envelope_carries_the_request_context() {
    let f = fixture();
    let request = Request::post("/v1/plugins/wat-echo/echo?a=1&b=q")
        .header("x-wasmplug-envelope", "1")
        .header("x-request-id", "req-7")
        .header("x-custom", "v")
        .body(Body::from(r#"{"b":"body","n":2}"#))
        .unwrap();
    let a = send(&f.app, request).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(v["request_id"], "req-7");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/v1/plugins/wat-echo/echo");
    assert_eq!(v["headers"]["x-custom"], "v");
    assert_eq!(v["query"], json!({"a": "1", "b": "q"}));
    assert_eq!(v["parameters"], json!({"a": "1", "b": "body", "n": 2}));
    assert_eq!(v["body"], r#"{"b":"body","n":2}"#);
}

#[tokio::test]
async fn envelope_per_plugin_config_and_header_override() {
    let f = fixture_with(|c| {
        c.plugins = wasmplug_gateway::GatewayConfig::parse("[plugins.wat-echo]\nenvelope = true\n")
            .unwrap()
            .plugins;
    });
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo", "hi")).await;
    assert_eq!(a.json()["body"], "hi");
    let raw = Request::post("/v1/plugins/wat-echo/echo")
        .header("x-wasmplug-envelope", "0")
        .body(Body::from("hi"))
        .unwrap();
    assert_eq!(send(&f.app, raw).await.text(), "hi");
}

#[tokio::test]
async fn envelope_http_response_sets_status_and_headers() {
    let f = fixture();
    let request = Request::post("/v1/plugins/responder/respond")
        .header("x-wasmplug-envelope", "true")
        .body(Body::empty())
        .unwrap();
    let a = send(&f.app, request).await;
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.header("x-plugin"), "yes");
    assert_eq!(a.json(), json!({"created": true}));
    // In raw mode the same output is just the body.
    let a = send(&f.app, post("/v1/plugins/responder/respond", "")).await;
    assert_eq!(a.status, 200);
    assert!(a.json().get("http_response").is_some());
}

fn admin(method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    match body {
        Some(b) => r
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => r.body(Body::empty()).unwrap(),
    }
}

#[tokio::test]
async fn admin_requires_the_token() {
    let f = fixture();
    let a = send(&f.app, admin("GET", "/v1/admin/plugins", None, None)).await;
    assert_error(&a, 401, "unauthorized");
    assert!(a.header("www-authenticate").starts_with("Bearer"));
    assert_error(
        &send(
            &f.app,
            admin("GET", "/v1/admin/plugins", Some("wrong"), None),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &send(
            &f.app,
            admin(
                "DELETE",
                "/v1/admin/plugins/wat-echo",
                Some("s3cret-token-"),
                None,
            ),
        )
        .await,
        403,
        "forbidden",
    );
    let a = send(&f.app, admin("GET", "/v1/admin/plugins", Some(TOKEN), None)).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let plugins = a.json()["plugins"].as_array().unwrap().clone();
    let echo = plugins.iter().find(|p| p["name"] == "wat-echo").unwrap();
    assert_eq!(echo["current"], "1.0.0");
    assert_eq!(echo["versions"][0]["weight"], 100);
    assert_eq!(echo["versions"][0]["breaker"], "closed");
}

#[tokio::test]
async fn admin_is_absent_without_a_token() {
    let f = fixture();
    let app = router(AppState::new(
        f.state.registry().clone(),
        GatewayConfig::default(),
    ));
    assert_error(
        &send(&app, admin("GET", "/v1/admin/plugins", Some(TOKEN), None)).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn admin_upload_rollback_weights_unload() {
    let f = fixture();
    let v2 = std::fs::read_to_string(wat("echo"))
        .unwrap()
        .replace(r#"\"version\":\"1.0.0\""#, r#"\"version\":\"1.1.0\""#);
    let upload = |version: &str, module: &str| {
        json!({
            "manifest": format!("name = \"wat-echo\"\nversion = \"{version}\"\nwasm = \"echo.wat\"\n"),
            "wasm_base64": base64::engine::general_purpose::STANDARD.encode(module),
        })
    };
    let call = || send(&f.app, post("/v1/plugins/wat-echo/echo", "x"));

    // A refused upload names the class and leaves the files and the running version.
    let before = std::fs::read(f.plugins().join("wat-echo/plugin.toml")).unwrap();
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo",
            Some(TOKEN),
            Some(upload("2.0.0", &v2)),
        ),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.text());
    assert!(!a.class().is_empty());
    assert_eq!(
        std::fs::read(f.plugins().join("wat-echo/plugin.toml")).unwrap(),
        before
    );
    assert_eq!(call().await.header("x-wasmplug-version"), "1.0.0");
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo",
            Some(TOKEN),
            Some(json!({"manifest": "name = 1", "wasm_base64": ""})),
        ),
    )
    .await;
    assert_error(&a, 422, "manifest");

    // Upload 1.1.0: it serves.
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo",
            Some(TOKEN),
            Some(upload("1.1.0", &v2)),
        ),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.json()["version"], "1.1.0");
    assert_eq!(call().await.header("x-wasmplug-version"), "1.1.0");
    // Side by side with 1.0.0, which stays on disk.
    assert!(
        std::fs::read_to_string(f.plugins().join("wat-echo/1.1.0/plugin.toml"))
            .unwrap()
            .contains("1.1.0")
    );
    assert!(
        std::fs::read_to_string(f.plugins().join("wat-echo/plugin.toml"))
            .unwrap()
            .contains("1.0.0")
    );

    // Rollback.
    let a = send(
        &f.app,
        admin(
            "POST",
            "/v1/admin/plugins/wat-echo/rollback",
            Some(TOKEN),
            None,
        ),
    )
    .await;
    assert_eq!(a.json()["version"], "1.0.0", "{}", a.text());
    assert_eq!(call().await.header("x-wasmplug-version"), "1.0.0");

    // Weights: all to 1.1.0; unknown versions are 404.
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo/weights",
            Some(TOKEN),
            Some(json!({"weights": {"1.0.0": 0, "1.1.0": 100}})),
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["current"], "1.1.0");
    assert_eq!(call().await.header("x-wasmplug-version"), "1.1.0");
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo/weights",
            Some(TOKEN),
            Some(json!({"weights": {"3.0.0": 1}})),
        ),
    )
    .await;
    assert_error(&a, 404, "version_not_found");

    // Reload, show, unload.
    let a = send(
        &f.app,
        admin(
            "POST",
            "/v1/admin/plugins/wat-echo/reload",
            Some(TOKEN),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = send(
        &f.app,
        admin("GET", "/v1/admin/plugins/wat-echo", Some(TOKEN), None),
    )
    .await;
    assert_eq!(a.json()["versions"].as_array().unwrap().len(), 2);
    let a = send(
        &f.app,
        admin("DELETE", "/v1/admin/plugins/wat-echo", Some(TOKEN), None),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_error(&call().await, 404, "plugin_not_found");
    assert_error(
        &send(
            &f.app,
            admin("GET", "/v1/admin/plugins/wat-echo", Some(TOKEN), None),
        )
        .await,
        404,
        "plugin_not_found",
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let f = fixture();
    assert_eq!(send(&f.app, get("/healthz")).await.status, 200);
    assert_eq!(send(&f.app, get("/readyz")).await.status, 200);
    f.state.set_ready(false);
    assert_error(&send(&f.app, get("/readyz")).await, 503, "not_ready");
    send(&f.app, post("/v1/plugins/wat-echo/greet", "m")).await;
    let a = send(&f.app, get("/metrics")).await;
    assert_eq!(a.status, 200);
    let text = a.text();
    assert!(
        text.contains(
            "wasmplug_calls_total{plugin=\"wat-echo\",version=\"1.0.0\",function=\"greet\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("wasmplug_http_requests_total{status=\"2xx\"}"),
        "{text}"
    );
}
mod connections;
mod console;
mod issue11;
mod rollout;
mod wasi_http;
