//! `GET /console/api/stream`: live updates as server-sent events, read by the page with
//! `fetch` (so that the bearer token travels in a header, never in a URL; `EventSource`
//! cannot send headers).
//!
//! Events: `tick` (every sample: each version's live figures and new chart point, see
//! [`super::sampler::Tick`]; the latest one is sent first), `registry` (a recorded
//! registry event, see [`super::history`]), and `lagged` (this client fell behind and
//! missed some: reload the overview). The stream ends when the gateway stops being ready
//! (shutting down), at the next tick; the page reconnects.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::Live;
use crate::error::ApiError;
use crate::state::AppState;

/// The live stream.
pub(crate) async fn stream(
    State(state): State<AppState>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let console = super::api::console(&state)?;
    let receiver = console.live.subscribe();
    let first = console.samples.latest().map(|tick| Live::tick(&tick));
    let events = futures_util::stream::unfold(
        (receiver, state, first),
        |(mut receiver, state, first)| async move {
            if let Some(live) = first {
                return Some((Ok(event(&live)), (receiver, state, None)));
            }
            if !state.is_ready() {
                return None;
            }
            let next = match receiver.recv().await {
                Ok(live) => event(&live),
                Err(RecvError::Lagged(missed)) => {
                    Event::default().event("lagged").data(missed.to_string())
                }
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(next), (receiver, state, None)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

fn event(live: &Live) -> Event {
    Event::default().event(live.kind).data(&*live.data)
}
