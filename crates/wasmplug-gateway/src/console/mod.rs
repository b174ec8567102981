//! The operations console (`/console`, issue 17): plugins, versions, canaries and live
//! metrics in the browser, and the admin actions on them.
//!
//! - [`assets`]: the page and its files, embedded in the binary (plain HTML, CSS, ES
//!   modules and the vendored uPlot; no framework build step, no network at run time).
//! - [`api`]: JSON endpoints under `/console/api/` behind the admin bearer token: the
//!   plugins overview ([`view`]), a plugin's chart series ([`sampler`]: the last 15
//!   minutes, sampled every second in memory) and the event history ([`history`]: a
//!   bounded ring of the registry's events).
//! - [`stream`]: live updates as server-sent events.
//! - [`guard`]: Content-Security-Policy and friends on every console response, and the
//!   same-origin rule for state-changing requests (also applied to `/v1/admin`).
//!
//! Actions (weights, rollback, reload, unload, upload) are calls of the admin API from the
//! page, with the same token. The console exists only with the admin API: [`Console::start`]
//! is called by [`AppState::with_admin_token`]. It runs two threads: one records the
//! registry's events as they come (it ends when the registry is dropped), one samples the
//! registry every second (it ends within a second of the console being dropped).

mod api;
mod assets;
mod guard;
mod history;
mod sampler;
mod stream;
mod view;

pub(crate) use guard::same_origin;

use std::sync::{Arc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use tokio::sync::broadcast;
use wasmplug::Registry;

use crate::only;
use crate::state::AppState;
use history::History;
use sampler::{SAMPLE_EVERY, Samples, Tick};

/// Live updates buffered per stream client before it counts as lagging.
const LIVE_BUFFER: usize = 256;

/// The console's state: samples, event history, and the live fan-out to streams.
pub(crate) struct Console {
    samples: Samples,
    history: History,
    live: broadcast::Sender<Live>,
}

/// One live update, serialised once for every stream client.
#[derive(Clone)]
struct Live {
    kind: &'static str,
    data: Arc<str>,
}

impl Live {
    fn tick(tick: &Tick) -> Live {
        Live {
            kind: "tick",
            data: serde_json::to_string(tick).unwrap_or_default().into(),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Console {
    /// Starts recording `registry`'s events and sampling its statistics.
    pub(crate) fn start(registry: &Registry) -> Arc<Console> {
        let console = Arc::new(Console {
            samples: Samples::default(),
            history: History::default(),
            live: broadcast::channel(LIVE_BUFFER).0,
        });
        let events = registry.subscribe();
        let weak = Arc::downgrade(&console);
        spawn("wasmplug-console-events", move || {
            for event in events {
                let Some(console) = weak.upgrade() else {
                    return;
                };
                let entry = console.history.push(&event, now_ms());
                let _ = console.live.send(Live {
                    kind: "registry",
                    data: entry.json.to_string().into(),
                });
            }
        });
        let (weak, registry): (Weak<Console>, Registry) =
            (Arc::downgrade(&console), registry.clone());
        spawn("wasmplug-console-sampler", move || {
            loop {
                std::thread::sleep(SAMPLE_EVERY);
                let Some(console) = weak.upgrade() else {
                    return;
                };
                let tick = console.samples.sample(&registry.plugins(), now_ms());
                let _ = console.live.send(Live::tick(&tick));
            }
        });
        console
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
        tracing::warn!("console: cannot start thread `{name}`: {e}; live updates are off");
    }
}

/// The console's routes: the page and its assets (always, so that the page can explain
/// how to turn it on), and the API (404 without an admin token).
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    let api = Router::new()
        .route(
            "/console/api/overview",
            only(get(api::overview), "GET, HEAD"),
        )
        .route(
            "/console/api/plugins/{name}/series",
            only(get(api::series), "GET, HEAD"),
        )
        .route("/console/api/events", only(get(api::events), "GET, HEAD"))
        .route("/console/api/stream", only(get(stream::stream), "GET"))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::require_token,
        ))
        .route_layer(axum::middleware::from_fn(guard::same_origin))
        .layer(axum::middleware::map_response(guard::no_store));
    Router::new()
        .route("/console", only(get(assets::page), "GET, HEAD"))
        .route("/console/", only(get(assets::page), "GET, HEAD"))
        .route(
            "/console/assets/{*path}",
            only(get(assets::asset), "GET, HEAD"),
        )
        .merge(api)
        .layer(axum::middleware::map_response(guard::headers))
}
