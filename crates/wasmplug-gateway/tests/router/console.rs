//! Issue 17 at the router: the console's page, assets and API (token, CSP, no CORS, the
//! same-origin rule for state-changing requests), its overview, samples and event history.
//! The browser half is `crates/wasmplug-cli/tests/console/`.

use super::*;

fn with_headers(mut request: Request<Body>, headers: &[(&str, &str)]) -> Request<Body> {
    for (name, value) in headers {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    request
}

fn assert_hardened(a: &Answer) {
    let csp = a.header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    assert_eq!(a.header("access-control-allow-origin"), "", "no CORS");
}

#[tokio::test]
async fn the_page_and_assets_are_embedded_and_hardened() {
    let f = fixture();
    let page = send(&f.app, get("/console")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.text().contains("/console/assets/js/app.js"));
    assert_hardened(&page);
    for (path, kind) in [
        ("js/app.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
        (
            "vendor/uplot/uPlot.esm.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let a = send(&f.app, get(&format!("/console/assets/{path}"))).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.header("content-type"), kind);
        assert_hardened(&a);
    }
    assert_error(
        &send(&f.app, get("/console/assets/../Cargo.toml")).await,
        404,
        "not_found",
    );
    assert_error(
        &send(&f.app, get("/console/assets/js/nope.js")).await,
        404,
        "not_found",
    );
    // No script in the page runs inline, and no JS module uses innerHTML.
    let app = send(&f.app, get("/console/assets/js/plugins.js")).await;
    assert!(!app.text().contains("innerHTML"));
}

#[tokio::test]
async fn without_a_token_the_console_explains_how_to_enable_it() {
    let f = fixture();
    let app = router(AppState::new(
        f.state.registry().clone(),
        GatewayConfig::default(),
    ));
    let page = send(&app, get("/console")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("WASMPLUG_ADMIN_TOKEN"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("--admin-token-file"));
    assert!(!page.text().contains("app.js"), "the app is not offered");
    assert_hardened(&page);
    assert_error(
        &send(
            &app,
            admin("GET", "/console/api/overview", Some(TOKEN), None),
        )
        .await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn the_api_needs_the_bearer_token_and_is_never_cached() {
    let f = fixture();
    assert_error(
        &send(&f.app, get("/console/api/overview")).await,
        401,
        "unauthorized",
    );
    assert_error(
        &send(&f.app, get(&format!("/console/api/overview?token={TOKEN}"))).await,
        401,
        "unauthorized",
    );
    assert_error(
        &send(
            &f.app,
            admin("GET", "/console/api/stream", Some("wrong"), None),
        )
        .await,
        403,
        "forbidden",
    );
    let a = send(
        &f.app,
        admin("GET", "/console/api/overview", Some(TOKEN), None),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("cache-control"), "no-store");
    assert_hardened(&a);
    let plugins = a.json()["plugins"].as_array().unwrap().clone();
    let names: Vec<&str> = plugins
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["misbehave", "responder", "wat-echo"]);
    let echo = &plugins[2]["versions"][0];
    assert_eq!(echo["version"], "1.0.0");
    assert_eq!(echo["live"]["weight"], 100);
    assert_eq!(echo["limits"]["max_input"], "2.0 KiB");
    assert!(
        echo["functions"]
            .as_array()
            .unwrap()
            .contains(&json!("echo"))
    );
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused_same_origin_ones_pass() {
    let f = fixture();
    let body = json!({"weights": {"1.0.0": 0}});
    let weights = || {
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo/weights",
            Some(TOKEN),
            Some(body.clone()),
        )
    };
    for headers in [
        &[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("origin", "null"), ("host", "127.0.0.1:8080")][..],
    ] {
        let a = send(&f.app, with_headers(weights(), headers)).await;
        assert_error(&a, 403, "cross_origin");
        assert_eq!(a.header("access-control-allow-origin"), "");
    }
    // Nothing changed.
    let plugins = f.state.registry().plugins();
    let echo = plugins.iter().find(|p| p.name == "wat-echo").unwrap();
    assert_eq!(echo.versions[0].weight, 100);
    // The console's own requests (same origin) and non-browser clients pass.
    let same = with_headers(
        weights(),
        &[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(send(&f.app, same).await.status, 200);
    let plugins = f.state.registry().plugins();
    let echo = plugins.iter().find(|p| p.name == "wat-echo").unwrap();
    assert_eq!(echo.versions[0].weight, 0);
    // Reads are not state changes: a cross-site GET still needs the token, and gets no CORS.
    let read = with_headers(
        admin("GET", "/v1/admin/plugins", Some(TOKEN), None),
        &[
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    );
    let a = send(&f.app, read).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("access-control-allow-origin"), "");
}

#[tokio::test]
async fn history_keeps_rejections_with_reasons_and_filters_by_plugin() {
    let f = fixture();
    let broken = json!({
        "manifest": "name = \"wat-echo\"\nversion = \"1.2.0\"\nwasm = \"echo.wasm\"\n",
        "wasm_base64": base64::engine::general_purpose::STANDARD.encode(b"\0asm garbage"),
    });
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo",
            Some(TOKEN),
            Some(broken),
        ),
    )
    .await;
    assert_error(&a, 422, "invalid_wasm");
    send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/responder/weights",
            Some(TOKEN),
            Some(json!({"weights": {"1.0.0": 100}})),
        ),
    )
    .await;
    let events = |query: &str| {
        let app = f.app.clone();
        let uri = format!("/console/api/events{query}");
        async move {
            let a = send(&app, admin("GET", &uri, Some(TOKEN), None)).await;
            assert_eq!(a.status, 200, "{}", a.text());
            a.json()["events"].as_array().unwrap().clone()
        }
    };
    // Events are recorded by the console's thread: wait (bounded) for both.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let all = loop {
        let all = events("").await;
        let has = |name: &str| all.iter().any(|e| e["event"] == name);
        if (has("rejected") && has("weights_changed")) || std::time::Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let rejected = all
        .iter()
        .find(|e| e["event"] == "rejected")
        .unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(rejected["plugin"], "wat-echo");
    assert_eq!(rejected["class"], "invalid_wasm");
    assert!(!rejected["reason"].as_str().unwrap().is_empty());
    assert!(rejected["seq"].as_u64().unwrap() >= 1 && rejected["at"].as_u64().unwrap() > 0);
    let echo = events("?plugin=wat-echo").await;
    assert!(!echo.is_empty() && echo.iter().all(|e| e["plugin"] == "wat-echo"));
    let responder = events("?plugin=responder").await;
    assert!(responder.iter().any(|e| e["event"] == "weights_changed"));
    let last = all.last().unwrap()["seq"].as_u64().unwrap();
    assert!(events(&format!("?after={last}")).await.is_empty());
    assert_error(
        &send(
            &f.app,
            admin("GET", "/console/api/events?bogus=1", Some(TOKEN), None),
        )
        .await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn samples_follow_calls_and_the_stream_sends_them() {
    let f = fixture();
    for _ in 0..5 {
        send(&f.app, post("/v1/plugins/wat-echo/echo", "x")).await;
    }
    // The sampler takes one sample a second; wait (bounded) for two samples after the calls.
    let series = || {
        let app = f.app.clone();
        async move {
            let uri = "/console/api/plugins/wat-echo/series";
            let a = send(&app, admin("GET", uri, Some(TOKEN), None)).await;
            assert_eq!(a.status, 200, "{}", a.text());
            a.json()
        }
    };
    let before = series().await["t"].as_array().unwrap().len();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let series = loop {
        let s = series().await;
        if s["t"].as_array().unwrap().len() >= before + 2 || std::time::Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(series["every_ms"], 1000);
    let t = series["t"].as_array().unwrap();
    assert!(t.len() >= 2, "{series}");
    let calls = series["versions"]["1.0.0"]["calls_per_s"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), t.len());
    assert_error(
        &send(
            &f.app,
            admin("GET", "/console/api/plugins/nope/series", Some(TOKEN), None),
        )
        .await,
        404,
        "plugin_not_found",
    );
    // The stream starts with the latest sample.
    let response = f
        .app
        .clone()
        .oneshot(admin("GET", "/console/api/stream", Some(TOKEN), None))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = response.into_body().into_data_stream();
    let first = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::StreamExt::next(&mut body),
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let text = String::from_utf8_lossy(&first).into_owned();
    assert!(text.starts_with("event: tick\ndata: {"), "{text}");
    let data: Value =
        serde_json::from_str(text.lines().nth(1).unwrap().trim_start_matches("data: ")).unwrap();
    let echo = data["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["plugin"] == "wat-echo")
        .unwrap()
        .clone();
    assert_eq!(echo["calls"], 5, "{echo}");
    // Not ready (shutting down): the stream is refused, and an open one ends.
    f.state.set_ready(false);
    assert_error(
        &send(
            &f.app,
            admin("GET", "/console/api/stream", Some(TOKEN), None),
        )
        .await,
        503,
        "not_ready",
    );
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while futures_util::StreamExt::next(&mut body).await.is_some() {}
    })
    .await;
    assert!(end.is_ok(), "the open stream ended within a tick");
}
