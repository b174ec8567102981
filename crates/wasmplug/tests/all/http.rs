//! `http_request` end to end: the `host-probe` guest calls a real HTTP server on loopback
//! started by the test; grants, redirects, private addresses and size caps decide.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};
use wasmplug::{ByteSize, HostConfig, HttpClient, HttpConfig, KvStore, Limits, NetPattern, Plugin};

use crate::loopback::{LoopbackServer, Request, Response};
use crate::support::guest;

/// `/hello`, `/echo` (body and `x-test` back), `/redirect?to=URL` (302), `/big` (1 MiB).
fn routes(req: &Request) -> Response {
    match req.target.split_once('?') {
        Some(("/redirect", q)) => (302, format!("location: {}\r\n", &q[3..]), Vec::new()),
        _ => match req.target.as_str() {
            "/hello" => (200, String::new(), b"hello from loopback".to_vec()),
            "/echo" => {
                let x_test = req.headers.get("x-test").cloned().unwrap_or_default();
                (201, format!("x-test: {x_test}\r\n"), req.body.clone())
            }
            "/big" => (200, String::new(), vec![b'x'; 1 << 20]),
            _ => (404, String::new(), Vec::new()),
        },
    }
}

fn plugin(grants: &[String], host: HostConfig, limits: Limits) -> Plugin {
    let mut builder = Plugin::builder()
        .host(HostConfig {
            kv: Some(KvStore::in_memory()),
            ..host
        })
        .limits(limits);
    for g in grants {
        builder = builder.allow_net(g.parse::<NetPattern>().unwrap());
    }
    builder.load(guest("host-probe")).unwrap()
}

fn fetch(plugin: &Plugin, request: Value) -> Value {
    plugin.call_json("fetch", &request).unwrap()
}

fn granted(server: &LoopbackServer) -> Vec<String> {
    vec![server.grant()]
}

#[test]
fn a_granted_plugin_fetches_from_a_local_server() {
    let server = LoopbackServer::start(routes);
    let p = plugin(&granted(&server), HostConfig::default(), Limits::default());
    let r = fetch(&p, json!({"url": server.url("/hello")}));
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["body"], "hello from loopback");
    let r = fetch(
        &p,
        json!({"method": "POST", "url": server.url("/echo"), "headers": [["x-test", "42"]], "body": "ping"}),
    );
    assert_eq!(
        (r["status"].clone(), r["body"].clone()),
        (json!(201), json!("ping")),
        "{r}"
    );
    let headers = r["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-test", "42"])), "{r}");
}

#[test]
fn without_the_grant_the_request_is_an_error_value_and_nothing_connects() {
    let server = LoopbackServer::start(routes);
    let other = vec!["http://127.0.0.1:1".to_string()];
    let p = plugin(&other, HostConfig::default(), Limits::default());
    let r = fetch(&p, json!({"url": server.url("/hello")}));
    let err = r["err"].as_str().expect("an error value");
    assert!(err.contains("is not in the plugin's net grants"), "{err}");
    assert_eq!(server.connections(), 0);
    // No grants at all: the same.
    let p = plugin(&[], HostConfig::default(), Limits::default());
    assert!(fetch(&p, json!({"url": server.url("/hello")}))["err"].is_string());
}

#[test]
fn a_redirect_to_an_ungranted_destination_is_refused() {
    let (a, b) = (LoopbackServer::start(routes), LoopbackServer::start(routes));
    let p = plugin(&granted(&a), HostConfig::default(), Limits::default());
    let r = fetch(
        &p,
        json!({"url": a.url(&format!("/redirect?to={}", b.url("/hello")))}),
    );
    let err = r["err"].as_str().expect("an error value");
    assert!(err.contains(&b.url("/hello")), "{err}");
    assert_eq!(b.connections(), 0, "the refused hop never connected");
    // Both granted: the redirect is followed.
    let both = [granted(&a), granted(&b)].concat();
    let p = plugin(&both, HostConfig::default(), Limits::default());
    let r = fetch(
        &p,
        json!({"url": a.url(&format!("/redirect?to={}", b.url("/hello")))}),
    );
    assert_eq!(r["body"], "hello from loopback", "{r}");
}

#[test]
fn loopback_through_a_dns_name_is_refused_unless_named() {
    let server = LoopbackServer::start(routes);
    let http = HttpClient::new(HttpConfig {
        resolve_overrides: HashMap::from([(
            "evil.test".to_string(),
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        )]),
        ..HttpConfig::default()
    })
    .unwrap();
    let host = HostConfig {
        http: Some(http),
        ..HostConfig::default()
    };
    let grant = vec![format!("http://evil.test:{}", server.port)];
    let p = plugin(&grant, host, Limits::default());
    let r = fetch(
        &p,
        json!({"url": format!("http://evil.test:{}/hello", server.port)}),
    );
    let err = r["err"].as_str().expect("an error value");
    assert!(err.contains("resolves to 127.0.0.1"), "{err}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn responses_over_max_http_response_are_refused() {
    let server = LoopbackServer::start(routes);
    let limits = |bytes| Limits {
        max_http_response: ByteSize(bytes),
        ..Limits::default()
    };
    // Obeyed: exactly 1 MiB allowed.
    let p = plugin(&granted(&server), HostConfig::default(), limits(1 << 20));
    let r = fetch(&p, json!({"url": server.url("/big")}));
    assert_eq!(
        r["body"].as_str().map(str::len),
        Some(1 << 20),
        "{}",
        r["err"]
    );
    // Violated: one byte less.
    let p = plugin(
        &granted(&server),
        HostConfig::default(),
        limits((1 << 20) - 1),
    );
    let r = fetch(&p, json!({"url": server.url("/big")}));
    let err = r["err"].as_str().expect("an error value");
    assert!(err.contains(&((1 << 20) - 1).to_string()), "{err}");
}
