//! Outbound HTTP for plugins: what the `http_request` host function runs.
//!
//! A plugin never gets a socket. It asks the host for one request,
//! `http_request(method, url, headers, body) -> (status, headers, body)`, and the host makes
//! it with one long-lived, pooled [`HttpClient`], only to destinations the plugin was granted
//! ([`NetPattern`]s, `[capabilities] net` in the manifest).
//!
//! # Rules
//! - **Grants.** The URL must be allowed by one of the plugin's patterns (scheme, host with
//!   `*.` wildcards, port), checked on the URL as the client parses it. Otherwise
//!   [`HttpError::NotAllowed`], before any connection or DNS lookup.
//! - **Redirects** (301, 302, 303, 307, 308 with a `Location`) are followed by this module,
//!   at most [`HttpConfig::max_redirects`] hops, and *every* hop is checked against the same
//!   grants: a redirect elsewhere is [`HttpError::RedirectNotAllowed`], not followed. 301
//!   and 302 turn a POST into a GET without body; 303 turns any method but HEAD into a GET
//!   without body; 307 and 308 keep method and body. `Authorization`, `Cookie` and
//!   `Proxy-Authorization` are dropped once a redirect changes the origin (scheme, host or
//!   port). A relative `Location` is resolved against the current URL; user info in it is
//!   dropped. A redirect without a usable `Location` is returned to the plugin as it is.
//! - **Addresses.** A host given as an IP address (`http://127.0.0.1:8080`,
//!   `http://[::1]/`) is reached only through a pattern naming that address (wildcards never
//!   match addresses); such a grant is explicit, so any address may be named. A DNS name
//!   must resolve only to public addresses: loopback, private (RFC 1918, CGNAT, unique-local),
//!   link-local, unspecified, multicast, broadcast, documentation and other special-purpose
//!   ranges, and IPv6 forms embedding such an IPv4 address, are refused with
//!   [`HttpError::PrivateAddress`]. The exception is the name `localhost`, which may resolve
//!   to loopback. The check is made by the client's own resolver on the very addresses it
//!   connects to, so a DNS answer cannot change between the check and the connection.
//! - **Sizes.** The request body is capped by [`HttpLimits::max_request_bytes`]
//!   ([`HttpError::RequestTooLarge`]); the response body by
//!   [`HttpLimits::max_response_bytes`], counted as it arrives (an announced
//!   `Content-Length` over the cap is refused at once): [`HttpError::ResponseTooLarge`].
//! - **Time.** The whole exchange, redirects and body included, ends by the call's deadline:
//!   [`HttpError::Timeout`].
//! - **Requests.** The method is any HTTP token; GET, POST, PUT, DELETE, PATCH, HEAD,
//!   OPTIONS and TRACE are accepted in any case and sent upper-case, CONNECT is refused.
//!   Header names and values are validated. `Host` and the hop-by-hop headers (`Connection`,
//!   `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`) are
//!   managed by the client, so a plugin setting one gets [`HttpError::InvalidRequest`]; a
//!   `Content-Length` equal to the body length is accepted (and set by the client anyway),
//!   any other is refused. URLs with user info are refused. Proxies from the environment are
//!   not used, responses are not decompressed, only HTTP/1.1 is spoken, and https
//!   certificates are checked against the bundled Mozilla roots (`webpki-roots`) and
//!   [`HttpConfig::root_certificates`].
//! - **Responses.** Header names are lower-case; values that are not UTF-8 are converted
//!   lossily. Status and body are returned as they are, whatever the status.
//!
//! Every error's `Display` is written for the plugin author, who sees it as the error value
//! of `http_request`.
//!
//! # Threads
//! [`HttpClient::request_blocking`] is called from synchronous host-function code on any
//! thread, a plain thread or a tokio blocking-pool thread. The request runs on a small
//! runtime owned by this module (one worker thread named `wasmplug-http`, started on first
//! use) and the caller waits on a channel until the deadline; it never calls `block_on`.

mod addr;
mod allow;
mod client;
mod error;
mod resolve;
mod validate;

#[cfg(test)]
mod tests;

pub use error::HttpError;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::runtime;
use crate::capability::NetPattern;

/// Settings of an [`HttpClient`], fixed when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Answers used instead of DNS for these names (matched without regard to case or a
    /// trailing dot). They are checked like DNS answers: overriding `db.test` to
    /// `10.0.0.5` does not let plugins reach `10.0.0.5` through `db.test`.
    pub resolve_overrides: HashMap<String, Vec<IpAddr>>,
    /// Redirects followed per request (default 10); one more is
    /// [`HttpError::TooManyRedirects`]. `0` does not follow redirects: 3xx responses are
    /// returned to the plugin as they are.
    pub max_redirects: usize,
    /// `User-Agent` sent when the plugin sets none (default `wasmplug/<version>`).
    pub user_agent: String,
    /// How long an idle pooled connection is kept (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host (default 16).
    pub pool_max_idle_per_host: usize,
    /// Root certificates (DER) trusted for https besides the bundled Mozilla roots, e.g.
    /// an organisation's own CA.
    pub root_certificates: Vec<Vec<u8>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            resolve_overrides: HashMap::new(),
            max_redirects: 10,
            user_agent: concat!("wasmplug/", env!("CARGO_PKG_VERSION")).to_string(),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 16,
            root_certificates: Vec::new(),
        }
    }
}

/// Size caps of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request body the plugin may send.
    pub max_request_bytes: u64,
    /// Largest response body the plugin may receive.
    pub max_response_bytes: u64,
}

impl Default for HttpLimits {
    /// 4 MiB each, like the default [`crate::Limits`].
    fn default() -> Self {
        HttpLimits {
            max_request_bytes: 4 << 20,
            max_response_bytes: 4 << 20,
        }
    }
}

/// A request as a plugin asks for it. Nothing in it is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, … or any other valid method token.
    pub method: String,
    /// Absolute `http` or `https` URL.
    pub url: String,
    /// Header names and values, sent in this order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// Request body; may be empty.
    pub body: Vec<u8>,
}

/// The final response (after redirects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code, whatever it is (a 404 or 500 is a response, not an error).
    pub status: u16,
    /// Header names (lower-case) and values (lossily UTF-8), in the order received.
    pub headers: Vec<(String, String)>,
    /// The whole body, at most [`HttpLimits::max_response_bytes`].
    pub body: Vec<u8>,
}

/// The HTTP client behind `http_request`: one connection pool, shared by every clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// An error only for [`HttpClient::shared`], which cannot return one.
    client: Result<reqwest::Client, HttpError>,
    max_redirects: usize,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("max_redirects", &self.inner.max_redirects)
            .field("ready", &self.inner.client.is_ok())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with its own connection pool.
    pub fn new(config: HttpConfig) -> Result<HttpClient, HttpError> {
        let mut builder = reqwest::Client::builder();
        for (i, der) in config.root_certificates.iter().enumerate() {
            let cert = reqwest::Certificate::from_der(der).map_err(|e| {
                HttpError::InvalidConfig(format!("root certificate #{i}: {}", error_chain(&e)))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .http1_only()
            .dns_resolver(Arc::new(resolve::GuardedResolver::new(
                &config.resolve_overrides,
            )))
            .user_agent(config.user_agent.as_str())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build()
            .map_err(|e| HttpError::InvalidConfig(error_chain(&e)))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                client: Ok(client),
                max_redirects: config.max_redirects,
            }),
        })
    }

    /// The process-wide client with [`HttpConfig::default`], built on first use. If it
    /// could not be built, its requests fail with [`HttpError::Transport`] saying why.
    pub fn shared() -> HttpClient {
        static SHARED: OnceLock<HttpClient> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                HttpClient::new(HttpConfig::default()).unwrap_or_else(|e| HttpClient {
                    inner: Arc::new(Inner {
                        client: Err(HttpError::Transport(format!(
                            "the host's HTTP client is unavailable: {e}"
                        ))),
                        max_redirects: 0,
                    }),
                })
            })
            .clone()
    }

    /// Makes `req` for a plugin granted `allow`, within `limits`, finishing by `deadline`.
    /// Blocks the calling thread, which may be any thread (see the module docs), but not a
    /// worker of this module's own runtime.
    pub fn request_blocking(
        &self,
        req: HttpRequest,
        allow: &[NetPattern],
        limits: HttpLimits,
        deadline: Instant,
    ) -> Result<HttpResponse, HttpError> {
        let (handle, url, exchange) = self.exchange(req, allow, limits, deadline)?;
        let budget = deadline.saturating_duration_since(Instant::now());
        finish(url, budget, runtime::run_until(&handle, exchange, deadline))
    }

    /// Like [`HttpClient::request_blocking`], for async code (any executor): the exchange
    /// runs on this module's runtime and is awaited, so no thread waits. Dropping the future
    /// aborts the exchange.
    pub async fn request(
        &self,
        req: HttpRequest,
        allow: &[NetPattern],
        limits: HttpLimits,
        deadline: Instant,
    ) -> Result<HttpResponse, HttpError> {
        let (handle, url, exchange) = self.exchange(req, allow, limits, deadline)?;
        let budget = deadline.saturating_duration_since(Instant::now());
        finish(
            url,
            budget,
            runtime::run_on(&handle, exchange, deadline).await,
        )
    }

    /// Checks `req` and prepares its exchange (to run on the returned runtime).
    #[allow(clippy::type_complexity)]
    fn exchange(
        &self,
        req: HttpRequest,
        allow: &[NetPattern],
        limits: HttpLimits,
        deadline: Instant,
    ) -> Result<
        (
            tokio::runtime::Handle,
            String,
            impl std::future::Future<Output = Result<HttpResponse, HttpError>> + Send + 'static,
        ),
        HttpError,
    > {
        let budget = deadline.saturating_duration_since(Instant::now());
        let prepared = validate::prepare(req, allow, &limits)?;
        let url = allow::quote(prepared.url.as_str());
        if budget.is_zero() {
            return Err(HttpError::Timeout { after: budget, url });
        }
        let client = self.inner.client.clone()?;
        let handle = runtime::handle().map_err(HttpError::Transport)?;
        let allow = allow.to_vec();
        let max_redirects = self.inner.max_redirects;
        let exchange = async move {
            client::execute(
                &client,
                prepared,
                &allow,
                max_redirects,
                limits.max_response_bytes,
            )
            .await
        };
        Ok((handle, url, exchange))
    }
}

/// The exchange's outcome as the plugin sees it (`budget`: the time it had).
fn finish(
    url: String,
    budget: Duration,
    outcome: Result<Result<HttpResponse, HttpError>, runtime::Stopped>,
) -> Result<HttpResponse, HttpError> {
    match outcome {
        Ok(result) => result,
        Err(runtime::Stopped::Deadline) => Err(HttpError::Timeout { after: budget, url }),
        Err(runtime::Stopped::Died) => Err(HttpError::Transport(format!(
            "http_request to `{url}` failed: the host's HTTP task stopped unexpectedly"
        ))),
    }
}

/// `err` and its causes, `: `-separated.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
