//! Reading request bodies with a size limit and a deadline.
//!
//! A body announced (`Content-Length`) over the limit is refused with 413 before a byte of
//! it is read; one that turns out larger while streaming is cut off at the limit, also with
//! 413. A body that does not arrive completely within `body_timeout` is answered 408, so a
//! client trickling bytes cannot hold a request open. A body that has already arrived
//! (the usual small request, read with its head) is taken without arming that timer.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures_util::FutureExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;
use crate::state::AppState;

/// Reads `body` (whose request had `headers`) up to `limit` bytes.
pub(crate) async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: u64,
) -> Result<Bytes, ApiError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    let limited = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    let timeout = state.config().body_timeout;
    let mut collect = std::pin::pin!(limited.collect());
    // One poll first (a no-op waker is fine: a pending body is polled again at once).
    let collected = match collect.as_mut().now_or_never() {
        Some(done) => done,
        None => tokio::time::timeout(timeout, collect)
            .await
            .map_err(|_| ApiError::BodyTimeout { timeout })?,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::BodyTooLarge { limit })
        }
        Err(e) => Err(ApiError::BadRequest(format!(
            "the request body could not be read: {e}"
        ))),
    }
}
