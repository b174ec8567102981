//! `POST|GET /v1/plugins/{name}/{function}`: one plugin call per request.
//!
//! Raw mode (default): the body is the input, the output is the body of a 200 response
//! (`application/json` when it starts like a JSON object or array, `text/plain` when it is
//! other UTF-8, `application/octet-stream` otherwise). Envelope mode: see [`crate::envelope`].
//! The serving version is returned in `X-Wasmplug-Version`.

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use wasmplug::CallOptions;

use crate::access::RequestId;
use crate::envelope::{self, Envelope};
use crate::error::ApiError;
use crate::extract::UrlPath;
use crate::headers;
use crate::state::AppState;

/// The request is taken whole (not through the `HeaderMap` / `Method` / `Uri` extractors,
/// which clone): this is the gateway's hot path.
pub(crate) async fn invoke(
    State(state): State<AppState>,
    UrlPath((name, function)): UrlPath<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let request_id = parts
        .extensions
        .remove::<RequestId>()
        .map(|id| id.as_str().to_string())
        .unwrap_or_default();
    let (method, uri, request_headers) = (parts.method, parts.uri, parts.headers);
    let body = crate::body::read(
        &state,
        &request_headers,
        body,
        state.config().body_limit.bytes(),
    )
    .await?;
    let query: Vec<(String, String)> = match uri.query() {
        Some(_) => {
            Query::<Vec<(String, String)>>::try_from_uri(&uri)
                .map_err(|e| ApiError::BadRequest(e.body_text()))?
                .0
        }
        None => Vec::new(),
    };
    let version = request_headers
        .get(headers::VERSION)
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .or_else(|| {
            query
                .iter()
                .rev()
                .find(|(k, _)| k == "version")
                .map(|(_, v)| v.clone())
        })
        .map(|v| {
            semver::Version::parse(v.trim()).map_err(|e| {
                ApiError::BadRequest(format!("version pin `{v}` is not a semver version: {e}"))
            })
        })
        .transpose()?;
    let sticky_key = request_headers
        .get(headers::STICKY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let envelope = match request_headers
        .get(headers::ENVELOPE)
        .map(HeaderValue::as_bytes)
    {
        Some(b"1" | b"true") => true,
        Some(b"0" | b"false") => false,
        _ => state
            .config()
            .plugins
            .get(&name)
            .is_some_and(|p| p.envelope),
    };
    let mut opts = CallOptions {
        version,
        sticky_key,
        ..CallOptions::default()
    };
    if state.registry().has_rules(&name) {
        attributes(&mut opts, &request_headers, &query);
    }
    let input = if envelope {
        Envelope::new(
            &request_id,
            method.as_str(),
            uri.path(),
            &request_headers,
            query,
            &body,
        )
        .to_bytes()
    } else {
        Vec::from(body)
    };
    opts.request_id = Some(request_id);
    let routed = state
        .registry()
        .call_async(&name, &function, input, opts)
        .await?;
    let output = routed.output.output;
    let mut response = if envelope {
        envelope::response(output)?
    } else {
        raw_response(output)
    };
    let response_headers = response.headers_mut();
    if let Some(v) = version_value(&routed.version) {
        response_headers.insert(headers::VERSION, v);
    }
    if let Ok(v) = HeaderValue::from_str(routed.route.as_str()) {
        response_headers.insert(headers::ROUTE, v);
    }
    Ok(response)
}

/// `version` as a header value, formatted once per thread while the version stays the
/// same (a plugin's serving version changes rarely; formatting it costs more than a copy).
fn version_value(version: &semver::Version) -> Option<HeaderValue> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(semver::Version, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((v, value)) = last.as_ref()
            && v == version
        {
            return Some(value.clone());
        }
        let value = HeaderValue::from_str(&version.to_string()).ok()?;
        *last = Some((version.clone(), value.clone()));
        Some(value)
    })
}

/// What rollout rules match on: the request's headers and query, and its labels
/// (`X-Wasmplug-Label: name=value`).
pub(crate) fn attributes(opts: &mut CallOptions, request: &HeaderMap, query: &[(String, String)]) {
    for (name, value) in request {
        let Ok(value) = value.to_str() else { continue };
        if name.as_str() == headers::LABEL {
            if let Some((k, v)) = value.split_once('=') {
                opts.labels
                    .push((k.trim().to_string(), v.trim().to_string()));
            }
        } else {
            opts.headers
                .push((name.as_str().to_string(), value.to_string()));
        }
    }
    opts.query = query.to_vec();
}

/// A 200 response carrying `output`, with a content type guessed from its first byte.
pub(crate) fn raw_response(output: Vec<u8>) -> Response {
    let content_type = match output.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => "application/json",
        _ if std::str::from_utf8(&output).is_ok() => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let mut response = Response::new(Body::from(output));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
