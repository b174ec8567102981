//! Admin uploads under a trust policy: unsigned and tampered uploads are refused with the
//! reason, the running version keeps serving, and every verdict is audited and counted.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use serde_json::{Value, json};
use tower::ServiceExt;
use wasmplug::trust::{AuditLog, SigningKey, Verdict, sign};
use wasmplug::{Registry, RegistryConfig, TrustPolicy};
use wasmplug_gateway::{AdminToken, AppState, GatewayConfig, router};

const TOKEN: &str = "trust-token";

/// The hand-written echo plugin at `version`, as a binary module.
fn echo(version: &str) -> Vec<u8> {
    let wat = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/guests/wat/echo.wat"),
    )
    .unwrap()
    .replace(
        r#"\"version\":\"1.0.0\""#,
        &format!(r#"\"version\":\"{version}\""#),
    );
    wat::parse_str(wat).unwrap()
}

fn manifest(version: &str) -> String {
    format!("name = \"wat-echo\"\nversion = \"{version}\"\nwasm = \"echo.wasm\"\n")
}

async fn send(app: &Router, request: Request<Body>) -> (u16, Value, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let version = response
        .headers()
        .get("x-wasmplug-version")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    (status, json, version)
}

fn upload(version: &str, module: &[u8]) -> Request<Body> {
    let body = json!({
        "manifest": manifest(version),
        "wasm_base64": base64::engine::general_purpose::STANDARD.encode(module),
    });
    Request::put("/v1/admin/plugins/wat-echo")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn call() -> Request<Body> {
    Request::post("/v1/plugins/wat-echo/echo")
        .body(Body::from("x"))
        .unwrap()
}

#[tokio::test]
async fn uploads_must_be_signed_and_refusals_keep_the_running_version() {
    let metrics = wasmplug_gateway::install_metrics().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let key = SigningKey::generate();
    let audit = dir.path().join("trust.jsonl");
    let policy = TrustPolicy::new()
        .require_signatures(true)
        .publisher("release", key.public_key(), &["wat-*"])
        .unwrap()
        .audit_log(AuditLog::open(&audit).unwrap());
    std::fs::create_dir_all(plugins.join("wat-echo")).unwrap();
    std::fs::write(
        plugins.join("wat-echo/echo.wasm"),
        sign(&echo("1.0.0"), &key).unwrap(),
    )
    .unwrap();
    std::fs::write(plugins.join("wat-echo/plugin.toml"), manifest("1.0.0")).unwrap();
    let registry = Registry::new(RegistryConfig {
        trust: policy,
        ..RegistryConfig::default()
    });
    for (m, result) in registry.load_dir(&plugins).unwrap() {
        result.unwrap_or_else(|e| panic!("{}: {e}", m.display()));
    }
    let mut config = GatewayConfig::default();
    config.plugin_dir = plugins.clone();
    let state = AppState::new(registry, config)
        .with_metrics(metrics)
        .with_admin_token(Some(AdminToken::new(TOKEN)));
    state.set_ready(true);
    let app = router(state);

    let before = std::fs::read(plugins.join("wat-echo/echo.wasm")).unwrap();
    let (status, body, _) = send(&app, upload("1.1.0", &echo("1.1.0"))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["class"], "untrusted", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unsigned"),
        "{body}"
    );
    let mut tampered = sign(&echo("1.1.0"), &key).unwrap();
    let at = tampered.len() - 2;
    tampered[at] ^= 1;
    let (status, body, _) = send(&app, upload("1.1.0", &tampered)).await;
    assert_eq!(
        (status, body["error"]["class"].as_str()),
        (422, Some("untrusted")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tampered"),
        "{body}"
    );
    assert_eq!(
        std::fs::read(plugins.join("wat-echo/echo.wasm")).unwrap(),
        before,
        "files restored"
    );
    assert_eq!(
        send(&app, call()).await.2,
        "1.0.0",
        "the running version keeps serving"
    );

    let (status, body, _) = send(&app, upload("1.1.0", &sign(&echo("1.1.0"), &key).unwrap())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(send(&app, call()).await.2, "1.1.0");

    // A signed upload that escalates its grants is refused by the contract gate.
    let greedy = json!({
        "manifest": format!("{}[capabilities]\nenv = [\"SECRET\"]\n", manifest("1.2.0")),
        "wasm_base64": base64::engine::general_purpose::STANDARD.encode(sign(&echo("1.2.0"), &key).unwrap()),
    });
    let request = Request::put("/v1/admin/plugins/wat-echo")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(greedy.to_string()))
        .unwrap();
    let (status, body, _) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["class"].as_str()),
        (409, Some("capability_escalation")),
        "{body}"
    );
    assert_eq!(send(&app, call()).await.2, "1.1.0");

    let verdicts: Vec<(Verdict, String)> = AuditLog::read(&audit)
        .unwrap()
        .into_iter()
        .map(|r| (r.verdict, r.reason))
        .collect();
    assert_eq!(
        verdicts,
        [
            (Verdict::Accepted, "signed".to_string()),
            (Verdict::Refused, "unsigned".to_string()),
            (Verdict::Refused, "tampered".to_string()),
            (Verdict::Accepted, "signed".to_string()),
            (Verdict::Accepted, "signed".to_string()),
        ]
    );
    let (_, text, _) = send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    let text = text.as_str().unwrap().to_string();
    let line = |reason: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("wasmplug_trust_verdicts_total{")
                    && l.contains(&format!("reason=\"{reason}\""))
            })
            .unwrap_or_else(|| panic!("no {reason} verdict metric in\n{text}"))
            .to_string()
    };
    assert!(line("unsigned").ends_with(" 1"), "{}", line("unsigned"));
    assert!(line("signed").ends_with(" 3"), "{}", line("signed"));
    let breaking = text
        .lines()
        .find(|l| {
            l.starts_with("wasmplug_contract_breaking_total{")
                && l.contains("change=\"capability_added\"")
        })
        .unwrap_or_else(|| panic!("no breaking-change metric in\n{text}"));
    assert!(breaking.ends_with(" 1"), "{breaking}");
}
