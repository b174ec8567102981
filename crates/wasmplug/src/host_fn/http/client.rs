//! The request loop: send, follow redirects by hand (each hop checked against the grants),
//! read the body under its cap. Runs on the module's runtime; the caller bounds it by the
//! deadline.

use std::error::Error as _;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, Response, StatusCode, Url};

use super::allow::{self, quote};
use super::resolve::Refused;
use super::validate::{Prepared, without_credentials};
use super::{HttpError, HttpResponse};
use crate::capability::NetPattern;

/// Most of a redirect response's body read so that its connection can be reused.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Headers that carry credentials, dropped when a redirect leaves the origin.
const CREDENTIALS: [header::HeaderName; 3] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

/// Headers describing the body, dropped when a redirect turns the request into a GET.
const BODY_HEADERS: [header::HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
];

/// Sends `req`, following up to `max_redirects` redirects (0: return 3xx responses as
/// they are), and reads at most `max_response_bytes` of body.
pub(super) async fn execute(
    client: &reqwest::Client,
    req: Prepared,
    allow: &[NetPattern],
    max_redirects: usize,
    max_response_bytes: u64,
) -> Result<HttpResponse, HttpError> {
    let Prepared {
        mut method,
        mut url,
        mut headers,
        mut body,
    } = req;
    let mut redirects = 0;
    loop {
        let response = send(client, &method, &url, &headers, &body).await?;
        let next = match redirect_target(&response, &url) {
            Some(next) if max_redirects > 0 => next,
            _ => return read(response, &url, max_response_bytes).await,
        };
        redirects += 1;
        if redirects > max_redirects {
            return Err(HttpError::TooManyRedirects {
                max: max_redirects,
                url: quote(next.as_str()),
            });
        }
        if !allow::permits(allow, &next) {
            tracing::debug!(from = %url, to = %next, "http_request: redirect to an ungranted URL refused");
            return Err(HttpError::RedirectNotAllowed {
                from: quote(url.as_str()),
                to: quote(next.as_str()),
                origin: allow::origin(&next),
                grants: allow::describe(allow),
            });
        }
        let status = response.status();
        drain(response).await;
        let to_get = match status {
            StatusCode::SEE_OTHER => method != Method::GET && method != Method::HEAD,
            StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => method == Method::POST,
            _ => false,
        };
        if to_get {
            method = Method::GET;
            body = Bytes::new();
            for name in &BODY_HEADERS {
                headers.remove(name);
            }
        }
        if next.origin() != url.origin() {
            for name in &CREDENTIALS {
                headers.remove(name);
            }
        }
        url = next;
    }
}

async fn send(
    client: &reqwest::Client,
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, HttpError> {
    let mut builder = client
        .request(method.clone(), url.clone())
        .headers(headers.clone());
    // A body (even an empty one, which sends `content-length: 0`) for methods that carry one.
    let carries_body = [Method::POST, Method::PUT, Method::PATCH].contains(method);
    if carries_body || !body.is_empty() {
        builder = builder.body(body.clone());
    }
    builder.send().await.map_err(|e| transport(url, &e))
}

/// Where a redirect response points, resolved against `url`. `None` for other responses and
/// for redirects without a usable `Location` (those are returned to the plugin as they are).
/// User info in the `Location` is dropped rather than sent.
fn redirect_target(response: &Response, url: &Url) -> Option<Url> {
    let redirect = [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::SEE_OTHER,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ];
    if !redirect.contains(&response.status()) {
        return None;
    }
    let location = response.headers().get(header::LOCATION)?;
    let location = String::from_utf8_lossy(location.as_bytes());
    let next = url.join(location.trim()).ok()?;
    if next.username().is_empty() && next.password().is_none() {
        return Some(next);
    }
    Url::parse(&without_credentials(&next)).ok()
}

/// Reads and drops a small redirect body, so that the connection goes back to the pool.
async fn drain(mut response: Response) {
    if response
        .content_length()
        .is_some_and(|n| n > DRAIN_LIMIT as u64)
    {
        return;
    }
    let mut read = 0;
    while read <= DRAIN_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

/// The final response, with at most `limit` bytes of body.
async fn read(mut response: Response, url: &Url, limit: u64) -> Result<HttpResponse, HttpError> {
    let too_large = || HttpError::ResponseTooLarge {
        limit,
        url: quote(url.as_str()),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    // Refuse early on an announced size; the count below is what actually holds.
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let capacity = announced.unwrap_or(0).min(limit).min(1 << 20);
    let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(url, &e))? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// A client error as the plugin should see it: a refused address from the resolver, or
/// the transport failure with its causes.
fn transport(url: &Url, err: &reqwest::Error) -> HttpError {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return HttpError::PrivateAddress {
                host: refused.host.clone(),
                addr: refused.addr,
                range: refused.range,
            };
        }
        let text = cause.to_string();
        // hyper-util's "client error (Connect)" only repeats what the next cause says.
        if !(text.starts_with("client error (") && cause.source().is_some()) {
            causes.push(text);
        }
        source = cause.source();
    }
    let what = if err.is_body() || err.is_decode() {
        "reading the response failed"
    } else if err.is_connect() {
        "connecting failed"
    } else {
        "the request failed"
    };
    let detail = if causes.is_empty() {
        err.to_string()
    } else {
        causes.join(": ")
    };
    HttpError::Transport(format!(
        "http_request to `{}`: {what}: {detail}",
        quote(url.as_str())
    ))
}
