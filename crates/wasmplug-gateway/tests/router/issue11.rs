//! Regression tests for issue 11 (reliability) at the router: every error has a JSON body
//! with a class, bodies are bounded before they are read, admin mistakes are clear, and
//! `/metrics` is aggregatable.

use std::collections::BTreeMap;

use super::*;

/// Every route × method: unsupported methods answer a JSON 405 naming the allowed ones.
#[tokio::test]
async fn issue11_every_route_and_method_answers_json() {
    let f = fixture();
    let routes: &[(&str, &[&str])] = &[
        ("/v1/plugins/wat-echo/echo", &["GET", "HEAD", "POST"]),
        ("/healthz", &["GET", "HEAD"]),
        ("/readyz", &["GET", "HEAD"]),
        ("/metrics", &["GET", "HEAD"]),
        ("/v1/admin/plugins", &["GET", "HEAD"]),
        (
            "/v1/admin/plugins/wat-echo",
            &["GET", "HEAD", "PUT", "DELETE"],
        ),
        ("/v1/admin/plugins/wat-echo/reload", &["POST"]),
        ("/v1/admin/plugins/wat-echo/rollback", &["POST"]),
        ("/v1/admin/plugins/wat-echo/weights", &["PUT"]),
    ];
    let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    for (path, allowed) in routes {
        for method in methods {
            if allowed.contains(&method) {
                continue;
            }
            let a = send(&f.app, admin(method, path, Some(TOKEN), None)).await;
            if method == "HEAD" {
                // A HEAD answer has no body, by definition.
                assert_eq!(a.status, 405, "{method} {path}");
            } else {
                assert_error(&a, 405, "method_not_allowed");
            }
            assert_eq!(a.header("allow"), allowed.join(", "), "{method} {path}");
        }
    }
    let a = send(&f.app, get("/nope")).await;
    assert_error(&a, 404, "not_found");
}

#[tokio::test]
async fn issue11_path_that_is_not_utf8_is_a_json_400() {
    let f = fixture();
    let a = send(&f.app, post("/v1/plugins/%FF%FE/echo", "x")).await;
    assert_error(&a, 400, "bad_request");
    let a = send(
        &f.app,
        admin("GET", "/v1/admin/plugins/%FF", Some(TOKEN), None),
    )
    .await;
    assert_error(&a, 400, "bad_request");
}

#[tokio::test]
async fn issue11_bearer_scheme_is_case_insensitive() {
    let f = fixture();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = Request::get("/v1/admin/plugins")
            .header("authorization", format!("{scheme} {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&f.app, r).await.status, 200, "{scheme}");
    }
}

#[tokio::test]
async fn issue11_rollback_of_a_single_version_is_a_409() {
    let f = fixture();
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
    assert_error(&a, 409, "no_previous_version");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1.0.0")
    );
}

#[tokio::test]
async fn issue11_unknown_manifest_key_is_named_in_the_answer() {
    let f = fixture();
    let manifest = "name = \"wat-echo\"\nversion = \"1.1.0\"\nwasm = \"echo.wat\"\nx = 1\n";
    let body = json!({"manifest": manifest, "wasm_base64": ""});
    let a = send(
        &f.app,
        admin("PUT", "/v1/admin/plugins/wat-echo", Some(TOKEN), Some(body)),
    )
    .await;
    assert_error(&a, 422, "manifest");
    let message = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("unknown field `x`") && message.contains("line 4"),
        "{message}"
    );
}

#[tokio::test]
async fn issue11_oversized_upload_is_refused_before_it_touches_the_disk() {
    let f = fixture();
    let manifest = "name = \"big\"\nversion = \"1.0.0\"\nwasm = \"big.wasm\"\n[limits]\nmax_module_size = \"1KiB\"\n";
    let module = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 4096]);
    let body = json!({"manifest": manifest, "wasm_base64": module});
    let a = send(
        &f.app,
        admin("PUT", "/v1/admin/plugins/big", Some(TOKEN), Some(body)),
    )
    .await;
    assert_error(&a, 422, "module_too_large");
    assert!(!f.plugins().join("big").exists(), "nothing was written");
}

/// A body announced over the limit is refused from its `Content-Length`, without reading it:
/// the body here never ends, so reading it would hang the test.
#[tokio::test]
async fn issue11_announced_oversized_body_is_413_up_front() {
    let f = fixture();
    let endless = || Body::from_stream(futures_pending());
    let r = Request::put("/v1/admin/plugins/wat-echo")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-length", (300u64 << 20).to_string())
        .body(endless())
        .unwrap();
    assert_error(&send(&f.app, r).await, 413, "input_too_large");
    let r = Request::post("/v1/plugins/wat-echo/echo")
        .header("content-length", (5u64 << 20).to_string())
        .body(endless())
        .unwrap();
    assert_error(&send(&f.app, r).await, 413, "input_too_large");
}

#[tokio::test]
async fn issue11_body_that_never_arrives_is_408() {
    let f = fixture_with(|c| c.body_timeout = Duration::from_millis(200));
    let r = Request::post("/v1/plugins/wat-echo/echo")
        .body(Body::from_stream(futures_pending()))
        .unwrap();
    assert_error(&send(&f.app, r).await, 408, "request_timeout");
}

/// A stream that never yields.
fn futures_pending() -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
    struct Pending;
    impl futures_core::Stream for Pending {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Pending
        }
    }
    Pending
}

/// `/metrics` parses as Prometheus text: latency families are histograms, every family has
/// a `# HELP`, routing failures are counted, and an unloaded plugin's series are gone.
#[tokio::test]
async fn issue11_metrics_are_histograms_with_help_and_forget_unloaded_plugins() {
    let f = fixture();
    send(&f.app, post("/v1/plugins/wat-echo/echo", "x")).await;
    send(&f.app, post("/v1/plugins/responder/respond", "x")).await;
    send(&f.app, post("/v1/plugins/no-such-plugin/f", "x")).await;
    let r = Request::post("/v1/plugins/wat-echo/echo?version=9.9.9")
        .body(Body::empty())
        .unwrap();
    send(&f.app, r).await;
    let scrape = |text: String| {
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
    };
    let text = send(&f.app, get("/metrics")).await.text();
    let parsed = scrape(text.clone());
    for family in [
        "wasmplug_call_duration_seconds",
        "wasmplug_http_request_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} histogram")),
            "{family} is a histogram:\n{text}"
        );
        assert!(
            text.contains(&format!("{family}_bucket{{")) && text.contains("le=\"0.0001\""),
            "{family} has µs buckets"
        );
    }
    let families: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(families.len() >= 8, "{families:?}");
    for family in &families {
        assert!(parsed.docs.contains_key(family), "no # HELP for {family}");
    }
    let errors: BTreeMap<String, f64> = parsed
        .samples
        .iter()
        .filter(|s| s.metric == "wasmplug_call_errors_total")
        .map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            };
            (s.labels.get("class").unwrap_or_default().to_string(), value)
        })
        .collect();
    assert!(
        errors.get("plugin_not_found").is_some_and(|v| *v >= 1.0),
        "{errors:?}"
    );
    assert!(
        errors.get("version_not_found").is_some_and(|v| *v >= 1.0),
        "{errors:?}"
    );
    assert!(text.contains("plugin=\"responder\""));

    f.state.registry().unload("responder").unwrap();
    let text = send(&f.app, get("/metrics")).await.text();
    scrape(text.clone());
    assert!(!text.contains("plugin=\"responder\""), "{text}");
    assert!(text.contains("plugin=\"wat-echo\""));
}
