//! The console's JSON endpoints (behind the admin token): the plugins overview, one
//! plugin's chart series, and the event history. Actions go through the admin API
//! (`/v1/admin/...`); live updates through [`super::stream`].

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use crate::error::ApiError;
use crate::extract::UrlPath;
use crate::state::AppState;

/// Most events one answer returns.
const MAX_EVENTS: usize = 500;

pub(super) fn console(state: &AppState) -> Result<Arc<Console>, ApiError> {
    state.console().cloned().ok_or(ApiError::NotFound)
}

/// `GET /console/api/overview`: every plugin with its versions and live figures.
pub(crate) async fn overview(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let console = console(&state)?;
    Ok(Json(super::view::overview(
        state.registry(),
        &console.samples,
    )))
}

/// `GET /console/api/plugins/{name}/series`: the last 15 minutes of samples.
pub(crate) async fn series(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let console = console(&state)?;
    if !state.registry().plugins().iter().any(|p| p.name == name) {
        return Err(wasmplug::Error::PluginNotFound { name }.into());
    }
    Ok(Json(console.samples.series(&name)))
}

/// Query of [`events`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Only this plugin's events.
    plugin: Option<String>,
    /// Only events after this sequence number.
    #[serde(default)]
    after: u64,
    /// At most this many (the newest), at most 500.
    limit: Option<usize>,
}

/// `GET /console/api/events?plugin=&after=&limit=`: recorded events, oldest first.
pub(crate) async fn events(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let console = console(&state)?;
    let limit = q.limit.unwrap_or(MAX_EVENTS).min(MAX_EVENTS);
    let events = console.history.list(
        q.plugin.as_deref().filter(|p| !p.is_empty()),
        q.after,
        limit,
    );
    Ok(Json(json!({ "events": events })))
}
