//! Turning a guest's [`HttpRequest`] into a request the client may send, or a precise error.
//! Everything here is guest-controlled input: every failure is an [`HttpError`], never a
//! panic.

use bytes::Bytes;
use reqwest::Method;
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::allow::{self, quote};
use super::{HttpError, HttpLimits, HttpRequest};
use crate::capability::NetPattern;

/// A checked request: method, URL (allowed by the grants), headers, body.
#[derive(Debug)]
pub(super) struct Prepared {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

/// Headers the client manages itself; a guest setting them gets an error.
const MANAGED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Most headers a request may have (the header map itself cannot hold more than 32768).
const MAX_HEADERS: usize = 256;

/// Most bytes of header names and values a request may have.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Checks `req` against the limits and the grants, in order: body size, method, URL,
/// grants, headers.
pub(super) fn prepare(
    req: HttpRequest,
    allow: &[NetPattern],
    limits: &HttpLimits,
) -> Result<Prepared, HttpError> {
    let size = req.body.len() as u64;
    if size > limits.max_request_bytes {
        return Err(HttpError::RequestTooLarge {
            size,
            limit: limits.max_request_bytes,
        });
    }
    let method = method(&req.method)?;
    let url = url(&req.url)?;
    if !allow::permits(allow, &url) {
        return Err(HttpError::NotAllowed {
            url: quote(url.as_str()),
            origin: allow::origin(&url),
            grants: allow::describe(allow),
        });
    }
    let headers = headers(&req.headers, req.body.len())?;
    Ok(Prepared {
        method,
        url,
        headers,
        body: Bytes::from(req.body),
    })
}

/// Standard methods in any case become upper case; any other valid token is kept as is.
fn method(m: &str) -> Result<Method, HttpError> {
    const STANDARD: &[Method] = &[
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
    ];
    if let Some(standard) = STANDARD.iter().find(|s| s.as_str().eq_ignore_ascii_case(m)) {
        return Ok(standard.clone());
    }
    if m.eq_ignore_ascii_case("CONNECT") {
        return Err(HttpError::InvalidRequest(
            "method CONNECT is not supported: plugins cannot open tunnels".to_string(),
        ));
    }
    Method::from_bytes(m.as_bytes()).map_err(|_| {
        HttpError::InvalidRequest(format!(
            "method `{}` is not a valid HTTP method (a token such as GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS)",
            quote(&m.escape_debug().to_string())
        ))
    })
}

fn url(raw: &str) -> Result<Url, HttpError> {
    let shown = || quote(&raw.escape_debug().to_string());
    let url = Url::parse(raw).map_err(|e| {
        HttpError::InvalidRequest(format!(
            "`{}` is not a valid absolute URL ({e}); expected e.g. `https://api.example.com/path`",
            shown()
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(HttpError::InvalidRequest(format!(
            "`{}`: only http and https URLs are supported",
            shown()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HttpError::InvalidRequest(format!(
            "`{}`: user info in URLs is not supported; send an `Authorization` header instead",
            quote(&without_credentials(&url))
        )));
    }
    Ok(url)
}

/// `url` with any user name and password removed, for messages.
pub(super) fn without_credentials(url: &Url) -> String {
    let mut url = url.clone();
    // Only fails for URLs that cannot have credentials, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

fn headers(pairs: &[(String, String)], body_len: usize) -> Result<HeaderMap, HttpError> {
    if pairs.len() > MAX_HEADERS {
        return Err(HttpError::InvalidRequest(format!(
            "{} headers, over the limit of {MAX_HEADERS}",
            pairs.len()
        )));
    }
    let bytes: usize = pairs.iter().map(|(n, v)| n.len() + v.len()).sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(HttpError::InvalidRequest(format!(
            "the headers take {bytes} bytes, over the limit of {MAX_HEADER_BYTES}"
        )));
    }
    let mut map = HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            HttpError::InvalidRequest(format!(
                "header name `{}` is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                quote(&name.escape_debug().to_string())
            ))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            HttpError::InvalidRequest(format!(
                "the value of header `{header}` contains a control character (such as CR, LF or NUL); header values must be a single line"
            ))
        })?;
        if MANAGED.contains(&header.as_str()) {
            return Err(HttpError::InvalidRequest(format!(
                "header `{header}` is managed by the host's HTTP client (the host comes from the URL, connection headers are per hop); remove it"
            )));
        }
        if header == reqwest::header::CONTENT_LENGTH {
            // Accepted when it states the truth; the client sets it either way.
            if value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                == Some(body_len)
            {
                continue;
            }
            return Err(HttpError::InvalidRequest(format!(
                "header `content-length` does not match the body length ({body_len} bytes); omit it, the host sets it"
            )));
        }
        map.append(header, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: b"hello".to_vec(),
        }
    }

    fn check(r: HttpRequest) -> Result<Prepared, HttpError> {
        let allow: Vec<NetPattern> = vec!["https://api.example.com".parse().unwrap()];
        let limits = HttpLimits {
            max_request_bytes: 10,
            max_response_bytes: 10,
        };
        prepare(r, &allow, &limits)
    }

    fn invalid(r: HttpRequest) -> String {
        match check(r) {
            Err(HttpError::InvalidRequest(m)) => m,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    const URL: &str = "https://api.example.com/v1";

    #[test]
    fn methods_are_tokens() {
        assert_eq!(check(req("get", URL, &[])).unwrap().method, Method::GET);
        assert_eq!(check(req("Patch", URL, &[])).unwrap().method, Method::PATCH);
        assert_eq!(
            check(req("PROPFIND", URL, &[])).unwrap().method.as_str(),
            "PROPFIND"
        );
        assert!(invalid(req("GE T", URL, &[])).contains("`GE T` is not a valid HTTP method"));
        assert!(invalid(req("", URL, &[])).contains("not a valid HTTP method"));
        assert!(invalid(req("GET\r\nX: y", URL, &[])).contains("GET\\r\\nX: y"));
        assert!(invalid(req("connect", URL, &[])).contains("CONNECT"));
    }

    #[test]
    fn urls_must_be_absolute_http_without_credentials() {
        assert!(invalid(req("GET", "/relative", &[])).contains("not a valid absolute URL"));
        assert!(invalid(req("GET", "file:///etc/passwd", &[])).contains("only http and https"));
        let m = invalid(req("GET", "https://u:secret@api.example.com/", &[]));
        assert!(m.contains("user info") && !m.contains("secret"), "{m}");
    }

    #[test]
    fn ungranted_urls_name_origin_and_grants() {
        let err = check(req("GET", "https://other.example.com:8443/x", &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "http_request to `https://other.example.com:8443/x` refused: `https://other.example.com:8443` is not in the plugin's net grants (`https://api.example.com:443`); grant it in [capabilities] net to allow it"
        );
    }

    #[test]
    fn headers_are_validated() {
        let ok = check(req(
            "POST",
            URL,
            &[("X-A", "1"), ("x-a", "2"), ("Content-Length", "5")],
        ));
        let ok = ok.unwrap();
        assert_eq!(ok.headers.get_all("x-a").iter().count(), 2);
        assert!(ok.headers.get("content-length").is_none());
        assert!(invalid(req("GET", URL, &[("bad name", "v")])).contains("`bad name`"));
        assert!(
            invalid(req("GET", URL, &[("x", "a\r\nInjected: 1")])).contains("control character")
        );
        assert!(invalid(req("GET", URL, &[("Host", "evil")])).contains("`host` is managed"));
        assert!(invalid(req("GET", URL, &[("Transfer-Encoding", "chunked")])).contains("managed"));
        assert!(invalid(req("GET", URL, &[("Content-Length", "6")])).contains("content-length"));
    }

    #[test]
    fn header_count_and_size_are_capped() {
        let many: Vec<(String, String)> =
            (0..257).map(|i| (format!("x-{i}"), "v".into())).collect();
        let r = HttpRequest {
            headers: many,
            ..req("GET", URL, &[])
        };
        assert!(invalid(r).contains("257 headers, over the limit of 256"));
        let big = "v".repeat(70_000);
        assert!(invalid(req("GET", URL, &[("x", &big)])).contains("over the limit of 65536"));
    }

    #[test]
    fn request_body_is_capped() {
        let mut r = req("POST", URL, &[]);
        r.body = vec![0; 11];
        assert!(matches!(
            check(r),
            Err(HttpError::RequestTooLarge {
                size: 11,
                limit: 10
            })
        ));
    }
}
