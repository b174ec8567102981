//! [`HttpError`]: every way `http_request` can fail, worded for the plugin author.

use std::net::IpAddr;
use std::time::Duration;

/// Why a request was refused or failed. Displayed verbatim to plugin authors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No grant allows the URL; nothing was sent.
    #[error(
        "http_request to `{url}` refused: `{origin}` is not in the plugin's net grants ({grants}); grant it in [capabilities] net to allow it"
    )]
    NotAllowed {
        /// The requested URL.
        url: String,
        /// `scheme://host:port` of the URL: the pattern that would grant it.
        origin: String,
        /// The plugin's grants.
        grants: String,
    },
    /// A redirect pointed to a URL no grant allows; it was not followed.
    #[error(
        "http_request: redirect from `{from}` to `{to}` refused: `{origin}` is not in the plugin's net grants ({grants}); the redirect was not followed"
    )]
    RedirectNotAllowed {
        /// The URL that answered with the redirect.
        from: String,
        /// Where it pointed.
        to: String,
        /// `scheme://host:port` of `to`.
        origin: String,
        /// The plugin's grants.
        grants: String,
    },
    /// A DNS name resolved to a loopback, private, link-local or otherwise non-public
    /// address; nothing was sent.
    #[error(
        "http_request refused: `{host}` resolves to {addr} ({range}); plugins may reach such an address only through a grant naming the address itself, e.g. `http://{addr}:PORT`"
    )]
    PrivateAddress {
        /// The name from the URL.
        host: String,
        /// The refused address.
        addr: IpAddr,
        /// The range it is in, e.g. `loopback 127.0.0.0/8`.
        range: &'static str,
    },
    /// More redirects than [`HttpConfig::max_redirects`](super::HttpConfig::max_redirects).
    #[error("http_request: more than {max} redirects; the next one pointed to `{url}`")]
    TooManyRedirects {
        /// The limit.
        max: usize,
        /// The redirect that was not followed.
        url: String,
    },
    /// The response body is larger than
    /// [`HttpLimits::max_response_bytes`](super::HttpLimits::max_response_bytes).
    #[error(
        "http_request to `{url}`: the response body is larger than the plugin's limit of {limit} bytes"
    )]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: u64,
        /// The URL that sent it.
        url: String,
    },
    /// The request body is larger than
    /// [`HttpLimits::max_request_bytes`](super::HttpLimits::max_request_bytes).
    #[error(
        "http_request: the request body is {size} bytes, over the plugin's limit of {limit} bytes"
    )]
    RequestTooLarge {
        /// The body's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The call's deadline passed before the exchange finished.
    #[error(
        "http_request to `{url}` did not finish within {}ms, the time left in the plugin call",
        .after.as_millis()
    )]
    Timeout {
        /// The time the request had: from its start to the call's deadline.
        after: Duration,
        /// The requested URL.
        url: String,
    },
    /// The request is malformed: method, URL or a header.
    #[error("invalid http_request: {0}")]
    InvalidRequest(String),
    /// Connecting, TLS, or the exchange itself failed.
    #[error("{0}")]
    Transport(String),
    /// The [`HttpConfig`](super::HttpConfig) is unusable.
    #[error("invalid HTTP client configuration: {0}")]
    InvalidConfig(String),
}
