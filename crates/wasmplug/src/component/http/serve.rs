//! One `wasi:http` request on a fresh instance: the store is armed like any call (deadline,
//! fuel, slow lane), the request goes in as an `incoming-request`, and the response comes
//! back through the `response-outparam` as soon as the handler sets it; the handler keeps
//! running (streaming the body) on its own task until it returns, traps or its deadline
//! passes.

use bytes::Bytes;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

use crate::error::{Error, Result};
use crate::plugin::{CompiledPlugin, HttpInstance, SliceUsed};

/// How long past its deadline a handler may still wait in a host call before its task is
/// dropped (guest code itself is stopped at the deadline by the epoch).
const HOST_WAIT_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// The body of a `wasi:http` component's response, streamed from the guest.
pub type HttpBody = http_body_util::combinators::UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// Serves `request` with a fresh instance of `compiled` (whose pre-linked form is `pre`).
///
/// # Errors
/// [`Error::Instantiate`], or the call's [`Error::Timeout`] / [`Error::Trap`] / ... when
/// the handler ended without a response, or [`Error::Guest`] with the `wasi:http` error
/// code it answered with.
pub(crate) async fn serve<B>(
    compiled: &CompiledPlugin,
    pre: &ProxyPre<crate::host::HostState>,
    permit: tokio::sync::OwnedSemaphorePermit,
    request: http::Request<B>,
) -> Result<http::Response<HttpBody>>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    use http_body_util::BodyExt;
    let header_bytes: u64 = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().len() + v.len()) as u64)
        .sum();
    if header_bytes > super::MAX_REQUEST_HEADER_BYTES {
        return Err(Error::InputTooLarge {
            size: header_bytes,
            limit: super::MAX_REQUEST_HEADER_BYTES,
        });
    }
    let request = request.map(|body| {
        body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))
    });
    let slice = SliceUsed::default();
    let mut instance = HttpInstance::new(compiled, pre, Some(&slice)).await?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let (req, out) = {
        let state = instance.state();
        let mut view = state.http();
        let req = view
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| bad_request(compiled, e))?;
        let out = view
            .new_response_outparam(sender)
            .map_err(|e| bad_request(compiled, e))?;
        (req, out)
    };
    let owned = compiled.clone();
    let mine = slice.clone();
    let limit = compiled.limits().timeout;
    let handler = async move {
        let _permit = permit;
        let run = instance.handle(&owned, req, out, &mine);
        // The epoch deadline stops guest code; this also bounds a handler that waits in a
        // host call (a response body nobody reads, a stalled request body).
        match limit {
            None => run.await,
            Some(limit) => match tokio::time::timeout(limit + HOST_WAIT_GRACE, run).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout {
                    function: super::HTTP_FUNCTION.to_string(),
                    limit,
                    elapsed: limit + HOST_WAIT_GRACE,
                }),
            },
        }
    };
    let lane = crate::plugin::lane(Box::pin(handler), slice);
    // On the caller's runtime when there is one (the gateway's workers: no hop to another
    // thread per request), else on the host functions' runtime.
    let task = crate::host_fn::runtime::current_or_host()
        .map_err(|message| Error::Instantiate {
            plugin: compiled.name().to_string(),
            message,
        })?
        .spawn(lane);
    match receiver.await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => Err(Error::Guest {
            function: super::HTTP_FUNCTION.to_string(),
            message: format!("the handler answered with error code {code:?}"),
            code: None,
        }),
        // No response: the handler returned, trapped or timed out without setting one.
        Err(_) => match task.await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(Error::Guest {
                function: super::HTTP_FUNCTION.to_string(),
                message: "the handler returned without setting a response".into(),
                code: None,
            }),
            Err(e) => Err(Error::Trap {
                function: super::HTTP_FUNCTION.to_string(),
                kind: crate::TrapKind::Other,
                message: format!("the handler's task failed: {e}"),
                backtrace: Vec::new(),
            }),
        },
    }
}

fn bad_request(compiled: &CompiledPlugin, e: wasmtime::Error) -> Error {
    Error::Guest {
        function: super::HTTP_FUNCTION.to_string(),
        message: format!(
            "the request cannot be handed to `{}`: {e:#}",
            compiled.name()
        ),
        code: Some(400),
    }
}
