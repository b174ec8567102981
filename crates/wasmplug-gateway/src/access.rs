//! Request ids, access logs and HTTP metrics, for every request.
//!
//! The request id comes from `X-Request-Id` when it is 1..=128 printable ASCII characters,
//! otherwise it is generated (16 hex digits, unique per process). It is stored in the
//! request's extensions ([`RequestId`]), returned in `X-Request-Id`, and logged (target
//! `wasmplug_gateway::access`, level info) with method, path, status and latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::headers;
use crate::state::AppState;

/// The id of the request being handled (printable ASCII: see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) HeaderValue);

impl RequestId {
    /// The id as text.
    pub(crate) fn as_str(&self) -> &str {
        // Only ever made from a checked header value or from hex digits.
        self.0.to_str().unwrap_or_default()
    }
}

/// The HTTP metric handles, made once per [`AppState`] at its first request (by then the
/// recorder is installed: see [`crate::install_metrics`]), so that a request does not look
/// its metrics up by name and labels.
pub(crate) struct HttpMetrics {
    /// `wasmplug_http_requests_total` by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    requests: [metrics::Counter; 5],
    duration: metrics::Histogram,
}

impl HttpMetrics {
    pub(crate) fn new() -> HttpMetrics {
        HttpMetrics {
            requests: ["1xx", "2xx", "3xx", "4xx", "5xx"]
                .map(|class| metrics::counter!("wasmplug_http_requests_total", "status" => class)),
            duration: metrics::histogram!("wasmplug_http_request_duration_seconds"),
        }
    }
}

/// Decrements the in-flight counter even if the handler's future is dropped.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) async fn access(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let counter = state.in_flight_counter();
    counter.fetch_add(1, Ordering::Relaxed);
    let _guard = InFlight(counter);
    // A header value shares the request's bytes: taking it copies nothing.
    let id = RequestId(
        request
            .headers()
            .get(headers::REQUEST_ID)
            .filter(|v| v.to_str().is_ok_and(valid_id))
            .cloned()
            .unwrap_or_else(generate_id),
    );
    let method = request.method().clone();
    let uri = request.uri().clone(); // shares its bytes: no copy of the path
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    let status = response.status();
    response
        .headers_mut()
        .insert(headers::REQUEST_ID, id.0.clone());
    let elapsed = start.elapsed();
    let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
    let http = state.http_metrics();
    http.requests[class].increment(1);
    http.duration.record(elapsed.as_secs_f64());
    tracing::info!(
        target: "wasmplug_gateway::access",
        request_id = id.as_str(),
        %method,
        path = uri.path(),
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
    );
    response
}

fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// 16 hex digits: a per-process seed mixed with a counter (splitmix64), unique per process.
fn generate_id() -> HeaderValue {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        now ^ (u64::from(std::process::id()) << 32)
    });
    let mut z = seed.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let z = z ^ (z >> 31);
    let mut hex = [0u8; 16];
    for (i, digit) in hex.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[((z >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&hex).expect("hex digits are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_validated() {
        let a = generate_id();
        assert_eq!(a.len(), 16);
        assert!(a.as_bytes().iter().all(u8::is_ascii_hexdigit));
        assert_ne!(a, generate_id());
        assert!(valid_id("req-001"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id(&"x".repeat(129)));
    }
}
