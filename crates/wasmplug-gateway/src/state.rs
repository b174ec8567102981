//! The state shared by every handler: registry, configuration, metrics, readiness, admin
//! token. Cheap to clone (every field is shared).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use wasmplug::Registry;

use crate::auth::AdminToken;
use crate::config::GatewayConfig;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    registry: Registry,
    config: Arc<GatewayConfig>,
    metrics: Option<PrometheusHandle>,
    admin_token: Option<Arc<AdminToken>>,
    ready: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
}

impl AppState {
    /// State over `registry`; not ready, no metrics, admin API off.
    pub fn new(registry: Registry, config: GatewayConfig) -> AppState {
        AppState {
            registry,
            config: Arc::new(config),
            metrics: None,
            admin_token: None,
            ready: Arc::new(AtomicBool::new(false)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Serves `/metrics` from `handle` (see [`crate::install_metrics`]).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        self.metrics = Some(handle);
        self
    }

    /// Turns the admin API on, guarded by `token`.
    pub fn with_admin_token(mut self, token: Option<AdminToken>) -> AppState {
        self.admin_token = token.map(Arc::new);
        self
    }

    /// Marks the gateway ready (`/readyz` answers 200) or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// The Prometheus handle, if metrics are on.
    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.metrics.as_ref()
    }

    /// The admin token, if the admin API is on.
    pub fn admin_token(&self) -> Option<&AdminToken> {
        self.admin_token.as_deref()
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(crate) fn in_flight_counter(&self) -> &AtomicUsize {
        &self.in_flight
    }
}
