//! The gateway's error type: one HTTP status per class, a JSON body naming the class, and
//! never a host stack trace.
//!
//! | class | status |
//! |---|---|
//! | `plugin_not_found`, `function_not_found`, `version_not_found`, `not_found` | 404 |
//! | `input_too_large` (plugin `max_input` or gateway `body_limit`) | 413 |
//! | `request_timeout` (body not received within `body_timeout`) | 408 |
//! | `busy` | 503 + `Retry-After: 1` |
//! | `circuit_open` | 503 + `Retry-After` (seconds until the breaker probes) |
//! | `no_route` (every version has weight 0), `not_ready` | 503 |
//! | `timeout` | 504 |
//! | `guest` (the plugin returned an error value) | 422, or the error code when it is 400..=599 |
//! | `trap`, `memory_limit`, `out_of_fuel`, `memory_out_of_bounds`, `output_too_large`, ... | 500 |
//! | `invalid_response` (malformed `http_response` in envelope mode) | 502 |
//! | `bad_request` (bad version pin, bad path, bad admin body, HTTP/1.1 without `Host`) | 400 |
//! | `invalid_routing` (rollout rules that cannot apply; a version that cannot be removed) | 400 |
//! | `method_not_allowed` (with `Allow`) | 405 |
//! | `unauthorized` (no bearer token) / `forbidden` (wrong token) | 401 / 403 |
//! | `cross_origin` (a browser sent a state-changing admin request from another site) | 403 |
//! | load errors on admin upload/reload (`manifest`, `invalid_wasm`, ...) | 422 |
//! | `capability_escalation`, `breaking_contract`, `no_previous_version` (rollback with nothing to go back to) | 409 |

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything a gateway request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// An error of the registry or of the plugin call.
    #[error(transparent)]
    Plugin(#[from] wasmplug::Error),
    /// The request body is over the limit (`body_limit` for plugin calls).
    #[error("request body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The request body did not arrive completely within `body_timeout`.
    #[error("the request body did not arrive within {timeout:?} (`body_timeout`)")]
    BodyTimeout {
        /// The timeout.
        timeout: Duration,
    },
    /// The request is malformed (bad version pin, bad admin body, ...).
    #[error("{0}")]
    BadRequest(String),
    /// In envelope mode, the plugin's `http_response` is malformed.
    #[error("the plugin's `http_response` is invalid: {0}")]
    InvalidResponse(String),
    /// No route matches.
    #[error("no such endpoint; see docs/gateway.md")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed here; allowed: {allowed}")]
    MethodNotAllowed {
        /// The methods the route answers (the `Allow` header).
        allowed: &'static str,
    },
    /// An HTTP/1.1 request without a `Host` header (RFC 9112 section 3.2).
    #[error("missing `Host` header: HTTP/1.1 requests must carry one")]
    MissingHost,
    /// The plugin directory is not loaded yet, or the server is shutting down.
    #[error("not ready")]
    NotReady,
    /// An admin request without a bearer token.
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// An admin request with a wrong token.
    #[error("wrong admin token")]
    Forbidden,
    /// A state-changing admin or console request that a browser sent from another site.
    #[error("cross-origin request refused: {reason}; use the console at /console on this gateway")]
    CrossOrigin {
        /// The header that marks it as cross-origin.
        reason: String,
    },
    /// An I/O failure on the gateway's side (writing an uploaded plugin, ...).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Plugin(e) => plugin_status(e),
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidResponse(_) => StatusCode::BAD_GATEWAY,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::MissingHost => StatusCode::BAD_REQUEST,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::CrossOrigin { .. } => StatusCode::FORBIDDEN,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable class name in the JSON body (for plugin errors,
    /// [`wasmplug::Error::class`]).
    pub fn class(&self) -> &'static str {
        match self {
            ApiError::Plugin(e) => e.class(),
            ApiError::BodyTooLarge { .. } => "input_too_large",
            ApiError::BodyTimeout { .. } => "request_timeout",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidResponse(_) => "invalid_response",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::MissingHost => "bad_request",
            ApiError::NotReady => "not_ready",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::CrossOrigin { .. } => "cross_origin",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The `Retry-After` delay, for backpressure and open breakers.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Plugin(wasmplug::Error::Busy { .. }) => Some(Duration::from_secs(1)),
            ApiError::Plugin(wasmplug::Error::CircuitOpen { retry_after, .. }) => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// The message of the JSON body: the error's first line (a trap's wasm backtrace and
    /// anything else after it stays in the server log).
    pub fn message(&self) -> String {
        let text = self.to_string();
        text.lines().next().unwrap_or_default().to_string()
    }
}

fn plugin_status(e: &wasmplug::Error) -> StatusCode {
    use wasmplug::Error as E;
    match e {
        E::PluginNotFound { .. } | E::FunctionNotFound { .. } | E::VersionNotFound { .. } => {
            StatusCode::NOT_FOUND
        }
        E::InputTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        E::Busy { .. } | E::CircuitOpen { .. } | E::NoRoute { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        E::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        E::Guest { code, .. } => code
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..=599).contains(c))
            .and_then(|c| StatusCode::from_u16(c).ok())
            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
        E::CapabilityEscalation { .. }
        | E::BreakingContract { .. }
        | E::NoPreviousVersion { .. } => StatusCode::CONFLICT,
        E::InvalidRouting { .. } => StatusCode::BAD_REQUEST,
        e if e.is_load_error() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Broken plugins and gateway faults are worth a warning; backpressure, timeouts and
        // client mistakes are routine under load.
        if matches!(status.as_u16(), 500 | 502) {
            tracing::warn!(class = self.class(), "{self}");
        } else {
            tracing::debug!(class = self.class(), status = status.as_u16(), "{self}");
        }
        let body = json!({"error": {"class": self.class(), "message": self.message()}});
        let mut response = (status, Json(body)).into_response();
        if let Some(after) = self.retry_after() {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if let ApiError::MethodNotAllowed { allowed } = &self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allowed));
        }
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wasmplug-admin\""),
            );
        }
        response
    }
}
