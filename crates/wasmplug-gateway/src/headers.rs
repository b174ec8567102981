//! The HTTP headers the gateway reads and writes (names are lowercase, as on the wire in
//! HTTP/2 and as `http::HeaderName` stores them).

/// Request id: taken from the request when it is a short printable string, generated
/// otherwise; always returned on the response.
pub const REQUEST_ID: &str = "x-request-id";
/// On a request: pins the plugin version (`1.2.0`; the query parameter `?version=` does the
/// same). On a response: the version that served the call.
pub const VERSION: &str = "x-wasmplug-version";
/// Sticky routing key: requests with the same key go to the same version while the weights
/// stay the same (e.g. a user id, for consistent canary exposure).
pub const STICKY: &str = "x-wasmplug-sticky";
/// `1`/`true` turns the JSON envelope mode on for this request, `0`/`false` turns it off
/// (overrides the plugin's setting in `wasmplug.toml`).
pub const ENVELOPE: &str = "x-wasmplug-envelope";
/// On a response: which part of the routing chose the version: `pin`, `rule:<name>` or
/// `default` (see `wasmplug::RoutingRules`).
pub const ROUTE: &str = "x-wasmplug-route";
/// On a request: a label for rollout rules, `name=value` (the header may repeat).
pub const LABEL: &str = "x-wasmplug-label";
