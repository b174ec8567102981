//! `/v1/http/{name}/{path...}`: a `kind = "wasi-http"` plugin serves the request itself.
//!
//! The component sees `/{path...}` and the query (the mount prefix is cut), the method, the
//! headers and the body, streamed: nothing is buffered on the way in or out. The body is
//! limited to the plugin's `max_input` (413 up front from `Content-Length`, the stream cut
//! at the limit otherwise). The version is chosen like for `/v1/plugins` (pin in
//! `X-Wasmplug-Version`, sticky key, rollout rules, weights) and returned in
//! `X-Wasmplug-Version`; each request runs on a fresh instance under the plugin's deadline
//! (a handler past it answers 504).

use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use wasmplug::CallOptions;

use crate::access::RequestId;
use crate::error::ApiError;
use crate::headers;
use crate::state::AppState;

/// The mount prefix of `wasi:http` plugins.
const PREFIX: &str = "/v1/http/";

pub(crate) async fn serve(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let rest = parts.uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let (name, path) = match rest.split_once('/') {
        Some((name, path)) => (name.to_string(), format!("/{path}")),
        None => (rest.to_string(), "/".to_string()),
    };
    let plugin = state
        .registry()
        .get(&name)
        .ok_or_else(|| wasmplug::Error::PluginNotFound { name: name.clone() })?;
    let limit = plugin.compiled().limits().max_input.bytes();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    // HTTP/1.0 clients (and in-process callers) may send no Host: the component needs an
    // authority.
    parts
        .headers
        .entry(header::HOST)
        .or_insert(HeaderValue::from_static("localhost"));
    let target = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    parts.uri = target
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("bad request target `{target}`: {e}")))?;
    let version = parts
        .headers
        .get(headers::VERSION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            semver::Version::parse(v.trim()).map_err(|e| {
                ApiError::BadRequest(format!("version pin `{v}` is not a semver version: {e}"))
            })
        })
        .transpose()?;
    let mut opts = CallOptions {
        version,
        sticky_key: parts
            .headers
            .get(headers::STICKY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        request_id: Some(request_id.as_str().to_string()),
        ..CallOptions::default()
    };
    if state.registry().has_rules(&name) {
        crate::invoke::attributes(&mut opts, &parts.headers, &[]);
    }
    let body = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    let request = axum::http::Request::from_parts(parts, body);
    let (version, response) = state.registry().handle_http(&name, request, opts).await?;
    let mut response = response.map(|body| Body::new(body.map_err(axum::Error::new)));
    if let Ok(v) = HeaderValue::from_str(&version.to_string()) {
        response.headers_mut().insert(headers::VERSION, v);
    }
    Ok(response)
}
