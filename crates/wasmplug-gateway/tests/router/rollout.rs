//! Issue 15 items 4 and 5 at the router: rollout rules through the admin API, the
//! `X-Wasmplug-Route` header, removing a version, and `/readyz` naming a degraded plugin.

use super::*;

/// wat-echo 1.1.0 next to the fixture's 1.0.0.
async fn upload_v2(f: &Fixture) {
    let v2 = std::fs::read_to_string(wat("echo"))
        .unwrap()
        .replace(r#"\"version\":\"1.0.0\""#, r#"\"version\":\"1.1.0\""#);
    let body = json!({
        "manifest": "name = \"wat-echo\"\nversion = \"1.1.0\"\nwasm = \"echo.wat\"\n",
        "wasm_base64": base64::engine::general_purpose::STANDARD.encode(v2),
    });
    let a = send(
        &f.app,
        admin("PUT", "/v1/admin/plugins/wat-echo", Some(TOKEN), Some(body)),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text());
}

#[tokio::test]
async fn rules_set_through_the_admin_api_route_and_name_themselves() {
    let f = fixture();
    upload_v2(&f).await;
    let rules = json!({
        "rules": [{"name": "beta", "header": {"name": "X-Experiment", "equals": "B"}, "to": "=1.1.0"}],
        "default": {"weights": {"1.0.0": 100}},
    });
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo/routing",
            Some(TOKEN),
            Some(rules),
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["routing"]["rules"][0]["name"], "beta");
    let r = Request::post("/v1/plugins/wat-echo/echo")
        .header("x-experiment", "B")
        .body(Body::from("x"))
        .unwrap();
    let a = send(&f.app, r).await;
    assert_eq!(a.header("x-wasmplug-version"), "1.1.0");
    assert_eq!(a.header("x-wasmplug-route"), "rule:beta");
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo", "x")).await;
    assert_eq!(a.header("x-wasmplug-version"), "1.0.0");
    assert_eq!(a.header("x-wasmplug-route"), "default");
    let a = send(&f.app, post("/v1/plugins/wat-echo/echo?version=1.1.0", "x")).await;
    assert_eq!(a.header("x-wasmplug-route"), "pin");

    // Bad rules are refused with the reason; the old ones stay.
    let bad = json!({"rules": [{"header": {"name": "a", "equals": "b"}, "to": "9.x"}]});
    let a = send(
        &f.app,
        admin(
            "PUT",
            "/v1/admin/plugins/wat-echo/routing",
            Some(TOKEN),
            Some(bad),
        ),
    )
    .await;
    assert_error(&a, 400, "invalid_routing");
    assert!(a.text().contains("9.*"), "{}", a.text());
    let a = send(
        &f.app,
        admin(
            "GET",
            "/v1/admin/plugins/wat-echo/routing",
            Some(TOKEN),
            None,
        ),
    )
    .await;
    assert_eq!(a.json()["routing"]["rules"][0]["name"], "beta");
    let a = send(
        &f.app,
        admin(
            "DELETE",
            "/v1/admin/plugins/wat-echo/routing",
            Some(TOKEN),
            None,
        ),
    )
    .await;
    assert_eq!(a.json()["routing"], Value::Null);
}

#[tokio::test]
async fn a_held_version_can_be_removed_files_and_all() {
    let f = fixture();
    upload_v2(&f).await;
    let a = send(
        &f.app,
        admin(
            "DELETE",
            "/v1/admin/plugins/wat-echo/versions/1.1.0",
            Some(TOKEN),
            None,
        ),
    )
    .await;
    assert_error(&a, 400, "invalid_routing");
    assert!(a.text().contains("traffic"), "{}", a.text());
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
    assert_eq!(a.status, 200);
    let a = send(
        &f.app,
        admin(
            "DELETE",
            "/v1/admin/plugins/wat-echo/versions/1.1.0",
            Some(TOKEN),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(!f.plugins().join("wat-echo/1.1.0").exists());
    let a = send(
        &f.app,
        admin("GET", "/v1/admin/plugins/wat-echo", Some(TOKEN), None),
    )
    .await;
    assert_eq!(a.json()["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn readyz_names_a_plugin_whose_newest_version_failed() {
    let f = fixture();
    let broken = "name = \"wat-echo\"\nversion = \"2.0.0\"\nwasm = \"missing.wasm\"\n";
    let folder = f.plugins().join("wat-echo/2.0.0");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("plugin.toml"), broken).unwrap();
    assert!(
        f.state
            .registry()
            .load(&folder.join("plugin.toml"))
            .is_err()
    );
    let a = send(&f.app, get("/readyz")).await;
    assert_eq!(a.status, 200);
    let degraded = &a.json()["degraded"];
    assert_eq!(degraded[0]["plugin"], "wat-echo", "{degraded}");
    assert_eq!(degraded[0]["failed"], "2.0.0");
}
