//! HTTP hardening of the console and of the admin API it drives.
//!
//! - Every console response carries a strict Content-Security-Policy ([`CSP`]: only the
//!   gateway's own scripts, styles and connections; no inline script or style, no
//!   framing, no plugins), `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//!   no-referrer` and `X-Frame-Options: DENY`; API answers are `Cache-Control: no-store`.
//! - State-changing requests (anything but `GET`, `HEAD`, `OPTIONS`) to the admin API and
//!   the console API are refused when a browser says they come from another site:
//!   `Sec-Fetch-Site` other than `same-origin` or `none`, or an `Origin` whose authority
//!   is not the request's `Host`. Clients that send neither (curl, scripts) are not
//!   affected. No CORS headers are ever sent, so other origins cannot read answers either.
//!   Together with the bearer token (which browsers never attach on their own) this makes
//!   the admin API CSRF-safe.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;

/// The console's Content-Security-Policy.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to a console response.
pub(crate) async fn headers(response: Response) -> Response {
    let mut response = response;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Marks a console API answer as not cacheable.
pub(crate) async fn no_store(response: Response) -> Response {
    let mut response = response;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Middleware: refuses cross-site state-changing requests (see the module docs).
pub(crate) async fn same_origin(request: Request, next: Next) -> Result<Response, ApiError> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && let Some(reason) = cross_site(request.headers()) {
        return Err(ApiError::CrossOrigin { reason });
    }
    Ok(next.run(request).await)
}

/// Why the request's headers mark it as coming from another site, if they do.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Some(format!("`Sec-Fetch-Site: {site}`"));
    }
    let origin = text(header::ORIGIN.as_str())?;
    let host = text(header::HOST.as_str()).unwrap_or_default();
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match authority {
        Some(a) if !host.is_empty() && a.eq_ignore_ascii_case(host) => None,
        _ => Some(format!(
            "`Origin: {origin}` is not this gateway (`Host: {host}`)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_site_and_non_browser_requests_pass() {
        assert_eq!(cross_site(&headers(&[])), None, "curl sends neither header");
        assert_eq!(
            cross_site(&headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ])),
            None
        );
        assert_eq!(cross_site(&headers(&[("sec-fetch-site", "none")])), None);
    }

    #[test]
    fn cross_site_requests_are_refused() {
        for h in [
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]),
            headers(&[("origin", "http://127.0.0.1:8080")]),
            headers(&[
                ("origin", "http://127.0.0.1:9999"),
                ("host", "127.0.0.1:8080"),
            ]),
        ] {
            assert!(cross_site(&h).is_some(), "{h:?}");
        }
    }
}
