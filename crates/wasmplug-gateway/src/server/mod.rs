//! Serving: the metrics recorder, bounded connections ([`conn`]), graceful shutdown with a
//! grace period, and the bare handler the load test compares against.

mod conn;

use std::future::Future;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::any;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::state::AppState;

/// How often histogram samples are drained into their buckets.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Histogram buckets of the latency families, in seconds: 10 µs to 30 s, about three per
/// decade, so that p50/p99 of calls from a noop (~µs) to a slow guest (~s) can be
/// aggregated across replicas.
pub const LATENCY_BUCKETS: &[f64] = wasmplug::LATENCY_BUCKETS;

/// Installs the global Prometheus recorder (latency families as histograms with
/// [`LATENCY_BUCKETS`]) and a thread that runs its upkeep (without it, histogram samples
/// pile up until the next scrape). Call it once, before creating the registry, so that the
/// registry's metric handles record into it.
///
/// # Errors
/// A recorder is already installed.
pub fn install_metrics() -> Result<PrometheusHandle, BuildError> {
    let mut builder = PrometheusBuilder::new();
    for family in [
        "wasmplug_call_duration_seconds",
        "wasmplug_http_request_duration_seconds",
    ] {
        builder = builder.set_buckets_for_metric(Matcher::Full(family.into()), LATENCY_BUCKETS)?;
    }
    let handle = builder.install_recorder()?;
    metrics::describe_counter!(
        "wasmplug_http_requests_total",
        "HTTP requests answered by the gateway, by status class"
    );
    metrics::describe_histogram!(
        "wasmplug_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time from request head to response, by the gateway"
    );
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("wasmplug-metrics".into())
        .spawn(move || {
            loop {
                std::thread::sleep(METRICS_UPKEEP);
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| BuildError::FailedToCreateRuntime(format!("metrics upkeep thread: {e}")))?;
    Ok(handle)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Serves [`crate::router`] on `listener` until `shutdown` resolves; then stops accepting,
/// marks the gateway not ready, closes the connections with no request in flight, and waits
/// for in-flight requests for at most the configured grace period. Connections are bounded
/// by `header_timeout` and `max_connections` (see `server/conn.rs`).
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.config().grace_period;
    let limits = conn::ConnLimits {
        header_timeout: state.config().header_timeout,
        max_connections: state
            .config()
            .max_connections
            .unwrap_or_else(conn::default_max_connections),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signal_state = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        signal_state.set_ready(false);
        tracing::info!(
            in_flight = signal_state.in_flight(),
            "shutting down: finishing in-flight requests (grace period {grace:?})"
        );
        let _ = stop_tx.send(true);
        // Keep the sender alive so that receivers see `true` rather than a closed channel.
        std::future::pending::<()>().await;
    });
    let app = crate::router(state.clone());
    let mut stopped = stop_rx.clone();
    let server = conn::accept_loop(listener, app, limits, stop_rx);
    tokio::pin!(server);
    tokio::select! {
        result = server.as_mut() => return result,
        _ = stopped.wait_for(|s| *s) => {}
    }
    tokio::select! {
        result = server => result,
        () = tokio::time::sleep(grace) => {
            tracing::warn!(
                in_flight = state.in_flight(),
                "grace period of {grace:?} elapsed; abandoning the requests still in flight"
            );
            Ok(())
        }
    }
}

/// A router answering every request with `body` (and `content_type`): the bare axum handler
/// the load test compares the gateway with.
pub fn bare_router(body: Bytes, content_type: &'static str) -> Router {
    Router::new().fallback(any(move || {
        let body = body.clone();
        async move {
            (
                [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
                body,
            )
                .into_response()
        }
    }))
}
