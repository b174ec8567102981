//! The example plugins that use host functions: `api-proxy` (config, kv, http, log) against
//! an upstream on loopback, and `price-quote` with the application's `shop::*` functions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wasmplug::{CallContext, Error, HostError, HostFunctions, KvStore, NetPattern, Plugin};

use crate::loopback::LoopbackServer;
use crate::support::{capture_logs, example};

/// An upstream on 127.0.0.1 that answers every GET with `upstream saw <path>`.
struct Upstream {
    url: String,
    server: LoopbackServer,
}

impl Upstream {
    fn start() -> Upstream {
        let server = LoopbackServer::start(|req| {
            let body = format!("upstream saw {}", req.target);
            (200, String::new(), body.into_bytes())
        });
        Upstream {
            url: server.grant(),
            server,
        }
    }

    fn requests(&self) -> usize {
        self.server.requests()
    }
}

/// `api-proxy` pointed at `upstream`, granted to reach it when `grant`, with `limit` calls
/// per minute and an in-memory kv store.
fn proxy(upstream: &Upstream, grant: bool, limit: u32) -> Plugin {
    let mut builder = Plugin::builder()
        .config("upstream", &upstream.url)
        .config("limit_per_minute", limit.to_string())
        .kv_store(KvStore::in_memory());
    if grant {
        builder = builder.allow_net(upstream.url.parse::<NetPattern>().unwrap());
    }
    builder.load(example("api-proxy")).unwrap()
}

fn get(plugin: &Plugin, client: &str, path: &str) -> wasmplug::Result<Value> {
    plugin.call_json("get", &json!({"client": client, "path": path}))
}

fn minute() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
}

#[test]
fn api_proxy_returns_the_upstream_body_and_logs_the_call() {
    let upstream = Upstream::start();
    let plugin = proxy(&upstream, true, 60);
    let (out, logs) = capture_logs(|| get(&plugin, "alice", "/status?verbose=1"));
    assert_eq!(
        out.unwrap(),
        json!({"status": 200, "body": "upstream saw /status?verbose=1", "remaining": 59})
    );
    assert!(
        logs.contains("alice GET /status?verbose=1 -> 200"),
        "{logs}"
    );
    assert_eq!(upstream.requests(), 1);
}

#[test]
fn api_proxy_allows_exactly_the_limit_per_minute() {
    const LIMIT: u32 = 3;
    let upstream = Upstream::start();
    let plugin = proxy(&upstream, true, LIMIT);
    // The window is the wall-clock minute: if one starts during the sequence, run it again
    // with a fresh client (a second boundary is a minute away).
    for attempt in 0..3 {
        let client = format!("client-{attempt}");
        let (start, served) = (minute(), upstream.requests());
        let results: Vec<_> = (0..=LIMIT).map(|_| get(&plugin, &client, "/x")).collect();
        let stats: Value =
            serde_json::from_slice(&plugin.call("stats", client.as_bytes()).unwrap()).unwrap();
        if minute() != start {
            continue;
        }
        for (i, result) in results[..LIMIT as usize].iter().enumerate() {
            let out = result.as_ref().unwrap();
            assert_eq!(out["remaining"], LIMIT - 1 - i as u32, "{out}");
        }
        match &results[LIMIT as usize] {
            Err(Error::Guest { message, code, .. }) => {
                assert_eq!(*code, Some(429));
                assert!(message.contains("rate limit exceeded"), "{message}");
                assert!(message.contains(&format!("limit {LIMIT}")), "{message}");
            }
            other => panic!("call {} was not refused: {other:?}", LIMIT + 1),
        }
        assert_eq!(
            upstream.requests() - served,
            LIMIT as usize,
            "refused calls stay local"
        );
        assert_eq!(
            stats,
            json!({"client": client, "calls_this_minute": LIMIT, "last_status": 200})
        );
        return;
    }
    panic!("three minute boundaries in three short attempts");
}

#[test]
fn api_proxy_stats_start_empty() {
    let plugin = proxy(&Upstream::start(), true, 5);
    let stats: Value = serde_json::from_slice(&plugin.call("stats", b"nobody").unwrap()).unwrap();
    assert_eq!(
        stats,
        json!({"client": "nobody", "calls_this_minute": 0, "last_status": null})
    );
}

#[test]
fn api_proxy_without_the_net_grant_fails_with_an_error_value() {
    let upstream = Upstream::start();
    // Only the manifest's grant (port 8080), not the upstream's port.
    let plugin = proxy(&upstream, false, 60);
    match get(&plugin, "alice", "/status").unwrap_err() {
        Error::Guest { message, code, .. } => {
            assert_eq!(code, Some(502));
            assert!(message.starts_with("upstream request failed"), "{message}");
            assert!(
                message.contains("is not in the plugin's net grants"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(upstream.requests(), 0, "nothing connected");
}

/// `shop::exchange_rate` (async) and `shop::audit` (sync, recording into `audit`).
fn shop(audit: Arc<Mutex<Vec<String>>>) -> HostFunctions {
    let mut host = HostFunctions::new();
    host.func_async(
        "shop",
        "exchange_rate",
        |_: CallContext, currency: String| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            match currency.as_str() {
                "USD" => Ok(1.08),
                "GBP" => Ok(0.86),
                _ => Err(HostError::new(format!("unknown currency `{currency}`"))),
            }
        },
    )
    .unwrap()
    .func(
        "shop",
        "audit",
        move |ctx: &CallContext, message: String| -> Result<(), HostError> {
            let id = ctx.request_id().unwrap_or("-");
            audit
                .lock()
                .unwrap()
                .push(format!("{} {id}: {message}", ctx.plugin()));
            Ok(())
        },
    )
    .unwrap();
    host
}

fn quote_plugin(audit: &Arc<Mutex<Vec<String>>>) -> Plugin {
    Plugin::builder()
        .host_functions(shop(audit.clone()))
        .load(price_quote())
        .unwrap()
}

#[test]
fn price_quote_converts_with_the_hosts_rate_and_audits() {
    let audit = Arc::default();
    let plugin = quote_plugin(&audit);
    let input = json!({"amount_eur": 12.5, "currency": "usd"}).to_string();
    let out = plugin
        .call_with_request_id("quote", input.as_bytes(), Some("req-1"))
        .unwrap();
    let quote: Value = serde_json::from_slice(&out.output).unwrap();
    assert_eq!(
        quote,
        json!({"amount": 13.5, "currency": "USD", "rate": 1.08})
    );
    assert_eq!(
        *audit.lock().unwrap(),
        ["price-quote req-1: quoted 12.5 EUR as 13.5 USD"]
    );
}

#[test]
fn price_quote_passes_on_the_hosts_error_value() {
    let audit = Arc::default();
    let plugin = quote_plugin(&audit);
    let err = plugin
        .call_json::<_, Value>("quote", &json!({"amount_eur": 5, "currency": "XYZ"}))
        .unwrap_err();
    match err {
        Error::Guest {
            function, message, ..
        } => assert_eq!(
            (function.as_str(), message.as_str()),
            ("quote", "unknown currency `XYZ`")
        ),
        other => panic!("{other:?}"),
    }
    assert!(audit.lock().unwrap().is_empty(), "nothing was quoted");
    // The instance is still usable.
    let ok: Value = plugin
        .call_json("quote", &json!({"amount_eur": 100, "currency": "GBP"}))
        .unwrap();
    assert_eq!(ok["amount"], 86.0);
}

#[test]
fn price_quote_does_not_load_without_the_shop_functions() {
    let err = Plugin::builder().load(price_quote()).unwrap_err();
    assert!(matches!(err, Error::InvalidPlugin { .. }), "{err:?}");
    assert!(err.to_string().contains("`shop::"), "{err}");
}

/// The `price-quote` plugin of the host example, built.
fn price_quote() -> std::path::PathBuf {
    crate::support::guests_built().join("examples/host/price-quote/plugin.toml")
}
