//! The built-in host functions' work, independent of how a guest reached them: the core
//! ABI adapter (`builtin.rs`, guest memory and result slots) and the component adapter
//! (`crate::component::host`, WIT values) both call these, so capability checks, quotas,
//! deadlines and rate limits are one implementation.
//!
//! Invariant: nothing here touches guest memory or wasmtime; inputs are owned values and
//! errors are the messages the guest sees (backend details go to the host's log only).

use std::sync::Arc;
use std::time::Instant;

use super::http::{HttpRequest, HttpResponse};
use super::kv::{KvError, KvNamespace};
use super::{CallContext, Services, log, runtime};

/// What the guest sees when the kv backend failed (the detail is in the host's log).
const KV_FAILED: &str = "the host's key-value store failed; the host's log has the details";

/// `log`: one guest log line, through the plugin's rate limiter.
pub(crate) fn log(services: &Services, ctx: &CallContext, level: i32, message: &[u8]) {
    log::emit(&services.log, ctx, level, message);
}

/// `config_get`: the plugin's `[config]` value for `key`.
pub(crate) fn config<'s>(services: &'s Services, key: &[u8]) -> Option<&'s String> {
    std::str::from_utf8(key)
        .ok()
        .and_then(|k| services.config.get(k))
}

/// One kv operation on the plugin's namespace, run on the host's blocking pool (a redb
/// write waits for its fsync; an async caller's fiber waits, no worker does).
pub(crate) async fn kv<T: Send + 'static>(
    services: &Services,
    work: impl FnOnce(&KvNamespace) -> Result<T, KvError> + Send + 'static,
) -> Result<T, String> {
    let ns = services.kv()?.clone();
    match runtime::blocking(move || work(&ns)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(kv_error(e)),
        Err(_) => Err(KV_FAILED.into()),
    }
}

/// The guest sees quota and size errors as they are; backend failures (which name host
/// paths) are logged on the host and reported to the guest without detail.
fn kv_error(e: KvError) -> String {
    match e {
        KvError::Backend(detail) => {
            tracing::warn!(target: "wasmplug::kv", "{detail}");
            KV_FAILED.into()
        }
        unavailable @ KvError::Unavailable { .. } => {
            tracing::warn!(target: "wasmplug::kv", "{unavailable}");
            "the host's key-value store is unreachable right now; retry later (the host's log has the details)".into()
        }
        other => other.to_string(),
    }
}

/// `http_request`: through the plugin's allow-list, redirect re-checks, private-address
/// rules and size limits, ending by `deadline` at the latest.
pub(crate) async fn http(
    services: Arc<Services>,
    deadline: Instant,
    request: HttpRequest,
) -> Result<HttpResponse, String> {
    services
        .http()
        .request(request, &services.net, services.http_limits, deadline)
        .await
        .map_err(|e| e.to_string())
}
