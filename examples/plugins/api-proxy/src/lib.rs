//! Run with: wasmplug run examples/plugins/api-proxy/plugin.toml get --input '{"client":"alice","path":"/status"}'
//!
//! A rate-limited API proxy built from the host's services:
//!
//! - **config**: `upstream` (base URL) and `limit_per_minute` (default 60);
//! - **kv**: `rate/<client>/<unix minute>` counts a client's calls in the current minute,
//!   `last/<client>` holds the status of its last upstream response;
//! - **http**: `GET upstream + path`, allowed only to the manifest's `[capabilities] net`;
//! - **log**: one line per proxied call.
//!
//! `get` refuses a client over its limit with an error value (code 429). The count is a
//! read-then-write in kv, so concurrent calls of one client may overshoot the limit slightly.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use wasmplug_pdk::{Error, FnResult, Json, config, http, kv, log, plugin_fn, plugin_meta};

plugin_meta! {
    name: "api-proxy",
    version: "1.0.0",
    description: "A rate-limited API proxy: config, kv, http and log host functions together",
    author: "wasmplug",
}

/// Calls per client and minute when `limit_per_minute` is not configured.
const DEFAULT_LIMIT: u32 = 60;
/// Error code of a refused call (as HTTP's "Too Many Requests").
const RATE_LIMITED: i32 = 429;
/// Error code of invalid input or configuration.
const BAD_REQUEST: i32 = 400;
/// Error code of a failed upstream request.
const BAD_GATEWAY: i32 = 502;
/// Longest client name accepted.
const MAX_CLIENT_LEN: usize = 64;

/// The input of `get`.
#[derive(Debug, Deserialize)]
struct ProxyRequest {
    client: String,
    path: String,
}

/// The output of `get`.
#[derive(Debug, Serialize)]
struct ProxyResponse {
    status: u16,
    body: String,
    /// Calls the client has left in the current minute.
    remaining: u32,
}

/// The output of `stats`.
#[derive(Debug, Serialize, PartialEq)]
struct Stats {
    client: String,
    calls_this_minute: u32,
    last_status: Option<u16>,
}

/// Forwards `GET path` to the upstream for `client`, within the client's rate limit.
#[plugin_fn]
fn get(Json(request): Json<ProxyRequest>) -> FnResult<Json<ProxyResponse>> {
    let client = checked_client(&request.client)?;
    if !request.path.starts_with('/') {
        return Err(Error::new("`path` must start with `/`").with_code(BAD_REQUEST));
    }
    let upstream = config("upstream")
        .ok_or_else(|| Error::new("config key `upstream` is not set").with_code(BAD_REQUEST))?;
    let remaining = admit(client, limit()?, current_minute())?;

    let url = format!("{}{}", upstream.trim_end_matches('/'), request.path);
    let response = http::Request::get(&url)
        .send()
        .map_err(|e| Error::new(format!("upstream request failed: {e}")).with_code(BAD_GATEWAY))?;
    log::info(format!(
        "{client} GET {} -> {} ({remaining} calls left this minute)",
        request.path, response.status
    ));
    kv::set_json(last_key(client), &response.status)?;
    Ok(Json(ProxyResponse {
        status: response.status,
        body: String::from_utf8_lossy(&response.body).into_owned(),
        remaining,
    }))
}

/// The client's calls in the current minute and its last upstream status.
#[plugin_fn]
fn stats(client: String) -> FnResult<Json<Stats>> {
    let client = checked_client(&client)?;
    Ok(Json(stats_at(client, current_minute())?))
}

/// The configured limit per client and minute.
fn limit() -> Result<u32, Error> {
    match config("limit_per_minute") {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text.trim().parse().map_err(|e| {
            Error::new(format!("config `limit_per_minute` = {text:?}: {e}")).with_code(BAD_REQUEST)
        }),
    }
}

/// The current minute since the Unix epoch (WASI gives plugins the host's clock).
fn current_minute() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH);
    now.map_or(0, |d| d.as_secs() / 60)
}

/// A trimmed client name usable in kv keys.
fn checked_client(client: &str) -> Result<&str, Error> {
    let client = client.trim();
    if client.is_empty() || client.len() > MAX_CLIENT_LEN || client.contains('/') {
        return Err(Error::new(format!(
            "`client` must be 1 to {MAX_CLIENT_LEN} bytes without `/`"
        ))
        .with_code(BAD_REQUEST));
    }
    Ok(client)
}

fn rate_key(client: &str, minute: u64) -> String {
    format!("rate/{client}/{minute}")
}

fn last_key(client: &str) -> String {
    format!("last/{client}")
}

/// Counts one call of `client` in `minute` and returns how many it has left, or refuses the
/// call (without counting it) when the client has used up `limit`. Counters of earlier
/// minutes are deleted.
fn admit(client: &str, limit: u32, minute: u64) -> Result<u32, Error> {
    let key = rate_key(client, minute);
    let calls: u32 = kv::get_json(&key)?.unwrap_or(0);
    if calls >= limit {
        return Err(Error::new(format!(
            "rate limit exceeded: client `{client}` made {calls} calls this minute (limit {limit})"
        ))
        .with_code(RATE_LIMITED));
    }
    kv::set_json(&key, &(calls + 1))?;
    for old in kv::list(format!("rate/{client}/"))? {
        if old != key.as_bytes() {
            kv::delete(old)?;
        }
    }
    Ok(limit - calls - 1)
}

fn stats_at(client: &str, minute: u64) -> Result<Stats, Error> {
    Ok(Stats {
        client: client.to_string(),
        calls_this_minute: kv::get_json(rate_key(client, minute))?.unwrap_or(0),
        last_status: kv::get_json(last_key(client))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Natively the PDK's kv is an in-memory map per thread, so every test starts empty.

    #[test]
    fn the_limit_is_obeyed_then_enforced_per_client_and_minute() {
        assert_eq!(admit("alice", 2, 7).unwrap(), 1);
        assert_eq!(admit("alice", 2, 7).unwrap(), 0);
        let refused = admit("alice", 2, 7).unwrap_err();
        assert_eq!(refused.code(), RATE_LIMITED);
        assert!(refused.message().contains("limit 2"), "{refused}");
        // Refused calls are not counted; other clients have their own budget.
        assert_eq!(stats_at("alice", 7).unwrap().calls_this_minute, 2);
        assert_eq!(admit("bob", 2, 7).unwrap(), 1);
        // A new minute starts a new count and drops the old counter.
        assert_eq!(admit("alice", 2, 8).unwrap(), 1);
        assert_eq!(
            kv::list("rate/alice/").unwrap(),
            vec![b"rate/alice/8".to_vec()]
        );
    }

    #[test]
    fn stats_report_calls_and_the_last_status() {
        let empty = Stats {
            client: "carol".into(),
            calls_this_minute: 0,
            last_status: None,
        };
        assert_eq!(stats_at("carol", 1).unwrap(), empty);
        admit("carol", 10, 1).unwrap();
        kv::set_json(last_key("carol"), &503u16).unwrap();
        let stats = stats_at("carol", 1).unwrap();
        assert_eq!((stats.calls_this_minute, stats.last_status), (1, Some(503)));
    }

    #[test]
    fn bad_input_is_refused_before_any_host_call() {
        for bad in ["", "  ", "a/b", &"x".repeat(MAX_CLIENT_LEN + 1)] {
            assert_eq!(
                checked_client(bad).unwrap_err().code(),
                BAD_REQUEST,
                "{bad:?}"
            );
        }
        assert_eq!(checked_client(" dave ").unwrap(), "dave");
        let e = get(Json(ProxyRequest {
            client: "dave".into(),
            path: "status".into(),
        }))
        .unwrap_err();
        assert!(e.message().contains("must start with `/`"), "{e}");
        // No configuration natively: `upstream` is missing, and nothing was counted.
        let e = get(Json(ProxyRequest {
            client: "dave".into(),
            path: "/status".into(),
        }))
        .unwrap_err();
        assert!(e.message().contains("`upstream` is not set"), "{e}");
        assert!(kv::list("rate/").unwrap().is_empty());
        assert_eq!(limit().unwrap(), DEFAULT_LIMIT);
    }
}
