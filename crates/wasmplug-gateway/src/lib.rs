//! # wasmplug-gateway
//!
//! The HTTP gateway of wasmplug: a directory of plugins becomes a set of HTTP endpoints,
//! with hot reload (through [`wasmplug::Registry`]), an admin API, Prometheus metrics and
//! graceful shutdown. `wasmplug serve` is a thin command line around this crate.
//!
//! ```no_run
//! use wasmplug::{Registry, RegistryConfig};
//! use wasmplug_gateway::{AppState, GatewayConfig, router};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = wasmplug_gateway::install_metrics()?; // before the registry records anything
//! let config = GatewayConfig::default();
//! let registry = Registry::new(RegistryConfig::default());
//! registry.load_dir(&config.plugin_dir)?;
//! let state = AppState::new(registry, config).with_metrics(metrics);
//! state.set_ready(true);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! wasmplug_gateway::serve(listener, state, wasmplug_gateway::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! ## Endpoints
//! - `POST|GET /v1/plugins/{name}/{function}`: calls a plugin function (see [`headers`] for
//!   the request and response headers, and `docs/gateway.md` for the JSON envelope mode).
//! - `/v1/admin/...`: the admin API, mounted only when an admin token is configured.
//! - `/metrics`, `/healthz`, `/readyz`: operations.
//!
//! Every error answers with one status per class and a JSON body
//! `{"error": {"class": "...", "message": "..."}}` ([`ApiError`]).

mod access;
mod admin;
mod auth;
mod config;
mod envelope;
mod error;
pub mod headers;
mod invoke;
mod ops;
mod server;
mod sources;
mod state;

pub use auth::AdminToken;
pub use config::{
    AdminConfig, ConfigError, DEFAULT_ADMIN_TOKEN_ENV, GatewayConfig, PluginSettings,
};
pub use error::ApiError;
pub use server::{bare_router, install_metrics, serve, shutdown_signal};
pub use sources::{KvConfig, OciLoad, OciLoadError, OciSource, load_oci};
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

/// Body limit of admin requests (uploads carry a whole module, base64-encoded).
const ADMIN_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// The gateway's routes, with request ids, access logs and the body limit applied.
pub fn router(state: AppState) -> Router {
    let limit = usize::try_from(state.config().body_limit.bytes()).unwrap_or(usize::MAX);
    let mut app = Router::new()
        .route(
            "/v1/plugins/{name}/{function}",
            get(invoke::invoke).post(invoke::invoke),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .layer(DefaultBodyLimit::max(limit));
    if state.admin_token().is_some() {
        app =
            app.merge(admin::routes(state.clone()).layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT)));
    }
    app.fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::access,
        ))
        .with_state(state)
}
