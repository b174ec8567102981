//! The admin API under `/v1/admin`, mounted only when an admin token is configured and
//! guarded by it ([`crate::auth`]).
//!
//! | method and path | does |
//! |---|---|
//! | `GET /v1/admin/plugins` | every plugin: versions, weights, breaker, calls, failures |
//! | `GET /v1/admin/plugins/{name}` | one plugin |
//! | `PUT /v1/admin/plugins/{name}` | upload a version: `{"manifest": "<plugin.toml>", "wasm_base64": "…"}` |
//! | `POST /v1/admin/plugins/{name}/reload` | reload from its manifest |
//! | `POST /v1/admin/plugins/{name}/rollback` | all traffic back to the previous version |
//! | `PUT /v1/admin/plugins/{name}/weights` | `{"weights": {"1.0.0": 90, "1.1.0": 10}}` |
//! | `DELETE /v1/admin/plugins/{name}` | unload (the files stay on disk) |
//! | `GET`/`PUT`/`DELETE /v1/admin/plugins/{name}/routing` | rollout rules (`wasmplug::RoutingRules` as JSON) |
//! | `DELETE /v1/admin/plugins/{name}/versions/{version}` | remove one version, files too |
//! | `GET /v1/admin/replicas` | with `[sync]`: every replica, the version it serves of each plugin, what it refused |
//!
//! An upload adds a version next to the others (`<plugin_dir>/<name>/<version>/`, see
//! `Registry::deploy`) and loads it through the registry, with the same validation as a hot
//! reload. When the registry refuses it, the previous files are restored and the answer
//! names the error class.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasmplug::{MANIFEST_FILE, Manifest, PluginStatus, RoutingRules};

use crate::error::ApiError;
use crate::extract::{AdminJson, UrlPath};
use crate::only;
use crate::state::AppState;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/admin/plugins", only(get(list), "GET, HEAD"))
        .route(
            "/v1/admin/replicas",
            only(get(crate::replicas::list), "GET, HEAD"),
        )
        .route(
            "/v1/admin/plugins/{name}",
            only(
                get(show).put(upload).delete(unload),
                "GET, HEAD, PUT, DELETE",
            ),
        )
        .route(
            "/v1/admin/plugins/{name}/reload",
            only(post(reload), "POST"),
        )
        .route(
            "/v1/admin/plugins/{name}/rollback",
            only(post(rollback), "POST"),
        )
        .route(
            "/v1/admin/plugins/{name}/weights",
            only(put(weights), "PUT"),
        )
        .route(
            "/v1/admin/plugins/{name}/routing",
            only(
                get(show_routing).put(set_routing).delete(clear_routing),
                "GET, HEAD, PUT, DELETE",
            ),
        )
        .route(
            "/v1/admin/plugins/{name}/versions/{version}",
            only(delete(remove_version), "DELETE"),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::require_token,
        ))
}

/// A plugin with totals over its versions.
#[derive(Serialize)]
struct PluginSummary {
    #[serde(flatten)]
    status: PluginStatus,
    calls: u64,
    failures: u64,
    error_rate: f64,
}

impl From<PluginStatus> for PluginSummary {
    fn from(status: PluginStatus) -> Self {
        let calls = status.versions.iter().map(|v| v.calls).sum::<u64>();
        let failures = status.versions.iter().map(|v| v.failures).sum::<u64>();
        PluginSummary {
            status,
            calls,
            failures,
            error_rate: if calls == 0 {
                0.0
            } else {
                failures as f64 / calls as f64
            },
        }
    }
}

fn find(state: &AppState, name: &str) -> Result<PluginSummary, ApiError> {
    state
        .registry()
        .plugins()
        .into_iter()
        .find(|p| p.name == name)
        .map(PluginSummary::from)
        .ok_or_else(|| {
            wasmplug::Error::PluginNotFound {
                name: name.to_string(),
            }
            .into()
        })
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    let plugins: Vec<PluginSummary> = state
        .registry()
        .plugins()
        .into_iter()
        .map(PluginSummary::from)
        .collect();
    Json(json!({ "plugins": plugins }))
}

async fn show(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<PluginSummary>, ApiError> {
    find(&state, &name).map(Json)
}

/// Runs a registry change on the blocking pool (loads compile modules).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("admin task failed: {e}")))?
}

fn version_answer(name: &str, version: &semver::Version) -> Json<Value> {
    Json(json!({"plugin": name, "version": version.to_string()}))
}

async fn reload(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let registry = state.registry().clone();
    let n = name.clone();
    let version = blocking(move || Ok(registry.reload(&n)?)).await?;
    Ok(version_answer(&name, &version))
}

async fn rollback(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let version = state.registry().rollback(&name)?;
    Ok(version_answer(&name, &version))
}

async fn unload(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    state.registry().unload(&name)?;
    Ok(Json(json!({"plugin": name, "unloaded": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Weights {
    weights: BTreeMap<String, u32>,
}

async fn weights(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    AdminJson(body): AdminJson<Weights>,
) -> Result<Json<PluginSummary>, ApiError> {
    let weights = body
        .weights
        .into_iter()
        .map(|(v, w)| parse_version(&v).map(|v| (v, w)))
        .collect::<Result<Vec<_>, _>>()?;
    state.registry().set_weights(&name, &weights)?;
    find(&state, &name).map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    /// The text of `plugin.toml`.
    manifest: String,
    /// The module (`.wasm`, or `.wat` text), base64.
    wasm_base64: String,
}

async fn upload(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    AdminJson(body): AdminJson<Upload>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let manifest = Manifest::parse(&body.manifest).map_err(|m| {
        ApiError::Plugin(wasmplug::Error::Manifest {
            path: PathBuf::from(MANIFEST_FILE),
            message: m,
        })
    })?;
    // Refuse an oversized module before decoding it, and before anything touches the disk.
    let limit = manifest.limits.max_module_size.bytes();
    let encoded = body.wasm_base64.trim();
    let size = (encoded.len() as u64 / 4) * 3;
    if size > limit + 2 {
        return Err(wasmplug::Error::ModuleTooLarge { size, limit }.into());
    }
    let wasm = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| ApiError::BadRequest(format!("`wasm_base64` is not base64: {e}")))?;
    if wasm.len() as u64 > limit {
        return Err(wasmplug::Error::ModuleTooLarge {
            size: wasm.len() as u64,
            limit,
        }
        .into());
    }
    if manifest.name.as_str() != name {
        return Err(ApiError::BadRequest(format!(
            "the manifest names plugin `{}` but the URL names `{name}`",
            manifest.name
        )));
    }
    let module = single_file_name(&manifest.wasm).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`wasm = \"{}\"` must be a plain file name (the module is stored next to plugin.toml)",
            manifest.wasm.display()
        ))
    })?;
    let dir = state.config().plugin_dir.clone();
    let registry = state.registry().clone();
    let text = body.manifest;
    let version = blocking(move || Ok(registry.deploy(&dir, &text, &module, &wasm)?)).await?;
    Ok((StatusCode::CREATED, version_answer(&name, &version)))
}

async fn remove_version(
    State(state): State<AppState>,
    UrlPath((name, version)): UrlPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let version = parse_version(&version)?;
    let registry = state.registry().clone();
    let (n, v) = (name.clone(), version.clone());
    blocking(move || Ok(registry.remove_version(&n, &v)?)).await?;
    Ok(Json(
        json!({"plugin": name, "version": version.to_string(), "removed": true}),
    ))
}

async fn show_routing(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    find(&state, &name)?;
    Ok(Json(
        json!({"plugin": name, "routing": state.registry().rules(&name)}),
    ))
}

async fn set_routing(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    AdminJson(rules): AdminJson<RoutingRules>,
) -> Result<Json<Value>, ApiError> {
    state.registry().set_rules(&name, Some(rules))?;
    show_routing(State(state), UrlPath(name)).await
}

async fn clear_routing(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    state.registry().set_rules(&name, None)?;
    show_routing(State(state), UrlPath(name)).await
}

fn parse_version(v: &str) -> Result<semver::Version, ApiError> {
    semver::Version::parse(v)
        .map_err(|e| ApiError::BadRequest(format!("`{v}` is not a semver version: {e}")))
}

fn single_file_name(path: &Path) -> Option<String> {
    let mut components = path.components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(name)), None) => name.to_str().map(str::to_string),
        _ => None,
    }
}
