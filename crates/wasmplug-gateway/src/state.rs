//! The state shared by every handler: registry, configuration, metrics, readiness, admin
//! token. Cheap to clone: one reference count for all of it (handlers clone the state on
//! every request, on every core, so one shared counter is what keeps that cheap).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::PrometheusHandle;
use wasmplug::Registry;

use crate::access::HttpMetrics;
use crate::auth::AdminToken;
use crate::config::GatewayConfig;
use crate::console::Console;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

/// The fields behind [`AppState`]'s one reference count.
#[derive(Clone)]
struct Shared {
    registry: Registry,
    config: Arc<GatewayConfig>,
    metrics: Option<PrometheusHandle>,
    admin_token: Option<Arc<AdminToken>>,
    /// The operations console's samples and event history (on with the admin API).
    console: Option<Arc<Console>>,
    ready: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    http_metrics: Arc<OnceLock<HttpMetrics>>,
}

impl AppState {
    /// State over `registry`; not ready, no metrics, admin API off.
    pub fn new(registry: Registry, config: GatewayConfig) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                registry,
                config: Arc::new(config),
                metrics: None,
                admin_token: None,
                console: None,
                ready: Arc::new(AtomicBool::new(false)),
                in_flight: Arc::new(AtomicUsize::new(0)),
                http_metrics: Arc::new(OnceLock::new()),
            }),
        }
    }

    /// Serves `/metrics` from `handle` (see [`crate::install_metrics`]).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        Arc::make_mut(&mut self.shared).metrics = Some(handle);
        self
    }

    /// Turns the admin API and the console (`/console`) on, guarded by `token`. The console
    /// starts sampling the registry and recording its events now, so call this before
    /// loading plugins to keep their load events.
    pub fn with_admin_token(mut self, token: Option<AdminToken>) -> AppState {
        let shared = Arc::make_mut(&mut self.shared);
        shared.console = token.is_some().then(|| Console::start(&shared.registry));
        shared.admin_token = token.map(Arc::new);
        self
    }

    /// Marks the gateway ready (`/readyz` answers 200) or not.
    pub fn set_ready(&self, ready: bool) {
        self.shared.ready.store(ready, Ordering::Release);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Acquire)
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// The configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.shared.config
    }

    /// The Prometheus handle, if metrics are on.
    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.shared.metrics.as_ref()
    }

    /// The admin token, if the admin API is on.
    pub fn admin_token(&self) -> Option<&AdminToken> {
        self.shared.admin_token.as_deref()
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Relaxed)
    }

    /// The console's state, when the admin API is on.
    pub(crate) fn console(&self) -> Option<&Arc<Console>> {
        self.shared.console.as_ref()
    }

    pub(crate) fn in_flight_counter(&self) -> &AtomicUsize {
        &self.shared.in_flight
    }

    /// The HTTP metric handles (made at the first request).
    pub(crate) fn http_metrics(&self) -> &HttpMetrics {
        self.shared.http_metrics.get_or_init(HttpMetrics::new)
    }
}
