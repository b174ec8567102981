//! The `send_request` hook of a `wasi-http` (or any component) store: outgoing
//! `wasi:http` requests go through [`crate::host_fn::ops::http`], so the plugin's net
//! grants, the redirect re-check, the private-address rules, the size limits and the
//! call's deadline apply exactly as to `http_request`. Nothing is sent without a grant.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error as WasiHttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::host_fn::{HttpError, HttpRequest, Services};

/// Hooks of one instance: its services and the deadline of the request it serves.
pub(crate) struct HttpHooks {
    pub(crate) services: Arc<Services>,
    /// When outgoing requests must end (set when a request or call starts).
    pub(crate) deadline: Instant,
}

type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), WasiHttpError>> + Send>,
                ),
                WasiHttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpHooks {
    /// The host's client sets `Host` from the URL (and refuses one set by hand).
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), WasiHttpError>> + Send>,
    ) -> Sent {
        let services = self.services.clone();
        let deadline = self.deadline;
        Box::new(async move {
            let limit = services.http_limits.max_request_bytes;
            let (parts, body) = request.into_parts();
            let body =
                http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
                    .collect()
                    .await
                    .map_err(|_| WasiHttpError::HttpRequestBodySize(Some(limit)))?
                    .to_bytes();
            let request = HttpRequest {
                method: parts.method.to_string(),
                url: parts.uri.to_string(),
                headers: parts
                    .headers
                    .iter()
                    .filter(|(k, _)| *k != http::header::HOST)
                    .map(|(k, v)| {
                        (
                            k.to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: body.to_vec(),
            };
            let response = services
                .http()
                .request(request, &services.net, services.http_limits, deadline)
                .await
                .map_err(refused)?;
            let mut out = http::Response::builder().status(response.status);
            for (name, value) in &response.headers {
                out = out.header(name, value);
            }
            let body = Full::new(Bytes::from(response.body))
                .map_err(|never| match never {})
                .boxed_unsync();
            let out = out
                .body(body)
                .map_err(|e| WasiHttpError::InternalError(Some(e.to_string())))?;
            let done: Box<dyn Future<Output = Result<(), WasiHttpError>> + Send> =
                Box::new(async { Ok(()) });
            Ok((out, done))
        })
    }
}

/// The `wasi:http` error code of a refused or failed request (the reason is logged).
fn refused(e: HttpError) -> WasiHttpError {
    tracing::info!(target: "wasmplug::http", "outgoing wasi:http request: {e}");
    match e {
        HttpError::NotAllowed { .. } | HttpError::RedirectNotAllowed { .. } => {
            WasiHttpError::HttpRequestDenied
        }
        HttpError::PrivateAddress { .. } => WasiHttpError::DestinationIpProhibited,
        HttpError::RequestTooLarge { .. } => WasiHttpError::HttpRequestBodySize(None),
        HttpError::ResponseTooLarge { .. } => WasiHttpError::HttpResponseBodySize(None),
        HttpError::Timeout { .. } => WasiHttpError::ConnectionTimeout,
        other => WasiHttpError::InternalError(Some(other.to_string())),
    }
}
