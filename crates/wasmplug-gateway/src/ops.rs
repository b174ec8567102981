//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the plugin directory
//! is loaded and the server is not shutting down), `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 once loaded, with the plugins that serve an older version because their newest
/// failed (`degraded`): `{"status": "ready", "degraded": [{"plugin": .., "failed": ..,
/// "class": .., "reason": ..}]}`.
pub(crate) async fn readyz(
    State(state): State<AppState>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let degraded: Vec<serde_json::Value> = state
        .registry()
        .degraded()
        .into_iter()
        .map(|(plugin, d)| {
            serde_json::json!({"plugin": plugin, "failed": d.failed, "class": d.class, "reason": d.reason})
        })
        .collect();
    Ok(axum::Json(
        serde_json::json!({"status": "ready", "degraded": degraded}),
    ))
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let handle = state.metrics().ok_or(ApiError::NotFound)?;
    let loaded: crate::scrape::Loaded = state
        .registry()
        .plugins()
        .into_iter()
        .map(|p| (p.name, p.versions.into_iter().map(|v| v.version).collect()))
        .collect();
    let text = crate::scrape::without_unloaded(&handle.render(), &loaded);
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound
}
