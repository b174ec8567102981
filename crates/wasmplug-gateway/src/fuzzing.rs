//! Entry points for the fuzz targets in `fuzz/` (see `docs/fuzzing.md`). **Unstable**: not
//! part of the gateway's API, hidden from its documentation, changed without notice.
//!
//! Each function is the crate-internal code the gateway runs on untrusted bytes, exposed
//! as it is (no copy of its logic), so a fuzz target exercises exactly what a request does.

use axum::http::HeaderMap;
use axum::response::Response;

use crate::envelope::{self, Envelope};
use crate::error::ApiError;

/// The JSON a plugin receives in envelope mode for a request with these parts (the query
/// already decoded into pairs, as the gateway does before building the envelope).
pub fn envelope_input(
    request_id: &str,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    query: Vec<(String, String)>,
    body: &[u8],
) -> Vec<u8> {
    Envelope::new(request_id, method, path, headers, query, body).to_bytes()
}

/// The HTTP response the gateway sends for a plugin's `output` in envelope mode.
///
/// # Errors
/// [`ApiError::InvalidResponse`] when the output is a malformed `http_response`.
pub fn envelope_output(output: Vec<u8>) -> Result<Response, ApiError> {
    envelope::response(output)
}
