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
//! - `/v1/http/{name}/{path...}`: a `kind = "wasi-http"` plugin (a standard `wasi:http/proxy`
//!   component) serves the request, which it sees as `/{path...}` (docs/components.md).
//! - `/v1/admin/...`: the admin API, mounted only when an admin token is configured
//!   (`/v1/admin/replicas`: every replica's status, with `[sync]`).
//! - `/console`: the operations console (plugins, canaries, live metrics, events), a
//!   browser page over the admin API; without an admin token it explains how to enable it.
//! - `/metrics`, `/healthz`, `/readyz`: operations.
//!
//! Every error answers with one status per class and a JSON body
//! `{"error": {"class": "...", "message": "..."}}` ([`ApiError`]).

mod access;
mod admin;
mod auth;
mod body;
mod config;
mod console;
mod envelope;
mod error;
mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub mod headers;
mod http_component;
mod invoke;
mod ops;
mod replicas;
mod scrape;
mod server;
mod sources;
mod state;

pub use auth::AdminToken;
pub use config::{
    AdminConfig, ConfigError, ContractSettings, DEFAULT_ADMIN_TOKEN_ENV, GatewayConfig,
    PluginSettings,
};
pub use error::ApiError;
pub use replicas::SyncSettings;
pub use server::{LATENCY_BUCKETS, bare_router, install_metrics, serve, shutdown_signal};
pub use sources::{KvConfig, OciLoad, OciLoadError, OciSource, follow_oci, load_oci};
pub use state::AppState;

use axum::Router;
use axum::routing::{MethodRouter, get};

/// The gateway's routes, with request ids, access logs and body limits applied.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route(
            "/v1/plugins/{name}/{function}",
            only(get(invoke::invoke).post(invoke::invoke), "GET, HEAD, POST"),
        )
        // `wasi:http` components serve any method themselves.
        .route("/v1/http/{name}", axum::routing::any(http_component::serve))
        .route(
            "/v1/http/{name}/{*path}",
            axum::routing::any(http_component::serve),
        )
        .route("/healthz", only(get(ops::healthz), "GET, HEAD"))
        .route("/readyz", only(get(ops::readyz), "GET, HEAD"))
        .route("/metrics", only(get(ops::metrics), "GET, HEAD"));
    if state.admin_token().is_some() {
        app = app.merge(
            admin::routes(state.clone())
                .route_layer(axum::middleware::from_fn(console::same_origin)),
        );
    }
    app = app.merge(console::routes(state.clone()));
    app.fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::access,
        ))
        .with_state(state)
}

/// `methods`, answering any other method with a JSON 405 that lists `allowed`.
pub(crate) fn only(
    methods: MethodRouter<AppState>,
    allowed: &'static str,
) -> MethodRouter<AppState> {
    methods.fallback(move || async move { ApiError::MethodNotAllowed { allowed } })
}
