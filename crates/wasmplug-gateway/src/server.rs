//! Serving: the metrics recorder, graceful shutdown with a grace period, and the bare
//! handler the load test compares against.

use std::future::Future;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::any;
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::state::AppState;

/// How often histogram samples are drained into their summaries.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the global Prometheus recorder and a thread that runs its upkeep (without it,
/// histogram samples pile up until the next scrape). Call it once, before creating the
/// registry, so that the registry's metric handles record into it.
///
/// # Errors
/// A recorder is already installed.
pub fn install_metrics() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new().install_recorder()?;
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
/// marks the gateway not ready, and waits for in-flight requests for at most the
/// configured grace period.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.config().grace_period;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let signal_state = state.clone();
    let signal = async move {
        shutdown.await;
        signal_state.set_ready(false);
        tracing::info!(
            in_flight = signal_state.in_flight(),
            "shutting down: finishing in-flight requests (grace period {grace:?})"
        );
        let _ = tx.send(());
    };
    let app = crate::router(state.clone());
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    tokio::select! {
        result = server.into_future() => result,
        () = async {
            if rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
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
