//! Extractors whose rejections are [`ApiError`]s, so that a malformed path or body gets the
//! same JSON error body as every other failure (axum's own rejections answer plain text).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Body limit of admin requests (uploads carry a whole module, base64-encoded).
pub(crate) const ADMIN_BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// Path parameters; a bad one (e.g. not UTF-8) is a 400 `bad_request`.
pub(crate) struct UrlPath<T>(pub(crate) T);

impl<T> FromRequestParts<AppState> for UrlPath<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| UrlPath(p.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// A JSON admin body, read through [`ADMIN_BODY_LIMIT`] and `body_timeout`.
pub(crate) struct AdminJson<T>(pub(crate) T);

impl<T> FromRequest<AppState> for AdminJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let bytes = crate::body::read(state, &parts.headers, body, ADMIN_BODY_LIMIT).await?;
        serde_json::from_slice(&bytes)
            .map(AdminJson)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}
