//! The JSON envelope mode: the request context in, an optional `http_response` out.
//!
//! In envelope mode the plugin's input is
//!
//! ```json
//! {"request_id": "…", "method": "POST", "path": "/v1/plugins/p/f",
//!  "headers": {"content-type": "application/json"}, "query": {"a": "1"},
//!  "parameters": {"a": "1", "from_body": true}, "body": "{\"from_body\":true}"}
//! ```
//!
//! - `headers`: lowercase names; repeated headers are joined with `", "`; values that are not
//!   UTF-8 are converted lossily.
//! - `query`: the query string decoded (a repeated key keeps its last value).
//! - `parameters`: `query` merged with the body when the body is a JSON object (the body's
//!   keys win). This is the shape of the documents' `PluginContext`.
//! - `body`: the body as a string, or `null` when it is empty or not UTF-8 (then
//!   `body_base64` carries it).
//!
//! The plugin may answer `{"http_response": {"status": 201, "headers": {…}, "body": …}}`:
//! `status` (default 200) and `headers` are used as given, a string `body` is sent as-is, any
//! other JSON value is serialised (with `content-type: application/json` unless the plugin
//! set one). Any other output is the response body, with status 200.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The request context a plugin receives in envelope mode.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) parameters: Map<String, Value>,
    pub(crate) body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body_base64: Option<String>,
}

impl<'a> Envelope<'a> {
    pub(crate) fn new(
        request_id: &'a str,
        method: &'a str,
        path: &'a str,
        headers: &HeaderMap,
        query: Vec<(String, String)>,
        body: &'a [u8],
    ) -> Envelope<'a> {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            map.entry(name.as_str().to_string())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let query: BTreeMap<String, String> = query.into_iter().collect();
        let mut parameters: Map<String, Value> = query
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let text = std::str::from_utf8(body).ok();
        if body.first().is_some_and(|b| *b == b'{')
            && let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body)
        {
            parameters.extend(fields);
        }
        Envelope {
            request_id,
            method,
            path,
            headers: map,
            query,
            parameters,
            body: text.filter(|t| !t.is_empty()),
            body_base64: text
                .is_none()
                .then(|| base64::engine::general_purpose::STANDARD.encode(body)),
        }
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope always serialises")
    }
}

#[derive(Deserialize)]
struct Reply {
    http_response: Option<HttpResponse>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpResponse {
    #[serde(default = "ok")]
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Value,
}

fn ok() -> u16 {
    200
}

/// Headers the plugin may not set (the gateway owns framing and the request id).
const RESERVED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "x-request-id",
];

/// The response for a plugin's output in envelope mode: an `http_response` object, or the
/// output as the body with 200 when it is anything else.
pub(crate) fn response(output: Vec<u8>) -> Result<Response, ApiError> {
    let first = output.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') || !contains(&output, b"\"http_response\"") {
        return Ok(crate::invoke::raw_response(output));
    }
    let reply = match serde_json::from_slice::<Reply>(&output) {
        Ok(Reply {
            http_response: Some(r),
        }) => r,
        Ok(Reply {
            http_response: None,
        }) => return Ok(crate::invoke::raw_response(output)),
        Err(e) if e.is_data() => return Err(ApiError::InvalidResponse(e.to_string())),
        Err(_) => return Ok(crate::invoke::raw_response(output)),
    };
    let status = StatusCode::from_u16(reply.status)
        .map_err(|_| ApiError::InvalidResponse(format!("status {} is not valid", reply.status)))?;
    let (body, default_type) = match reply.body {
        Value::Null => (Vec::new(), None),
        Value::String(s) => (s.into_bytes(), Some("text/plain; charset=utf-8")),
        other => (
            serde_json::to_vec(&other).expect("a JSON value serialises"),
            Some("application/json"),
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let map = response.headers_mut();
    for (name, value) in reply.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ApiError::InvalidResponse(format!("header name `{name}` is not valid")))?;
        if RESERVED.contains(&name.as_str()) {
            continue;
        }
        let value = HeaderValue::from_str(&value).map_err(|_| {
            ApiError::InvalidResponse(format!("the value of header `{name}` is not valid"))
        })?;
        map.append(name, value);
    }
    if let Some(content_type) = default_type
        && !map.contains_key(header::CONTENT_TYPE)
    {
        map.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    Ok(response)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_merges_query_and_body() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        let query = vec![("q".into(), "1".into()), ("b".into(), "query".into())];
        let e = Envelope::new("r1", "POST", "/p", &headers, query, br#"{"b":"body"}"#);
        let v: Value = serde_json::from_slice(&e.to_bytes()).unwrap();
        assert_eq!(v["request_id"], "r1");
        assert_eq!(v["headers"]["x-a"], "1, 2");
        assert_eq!(v["query"]["b"], "query");
        assert_eq!(v["parameters"], serde_json::json!({"q": "1", "b": "body"}));
        assert_eq!(v["body"], r#"{"b":"body"}"#);
        assert!(v.get("body_base64").is_none());
    }

    #[test]
    fn binary_bodies_travel_as_base64() {
        let e = Envelope::new("r", "POST", "/", &HeaderMap::new(), vec![], &[0xff, 0]);
        let v: Value = serde_json::from_slice(&e.to_bytes()).unwrap();
        assert_eq!(v["body"], Value::Null);
        assert_eq!(v["body_base64"], "/wA=");
        let empty = Envelope::new("r", "GET", "/", &HeaderMap::new(), vec![], b"");
        assert_eq!(serde_json::to_value(&empty).unwrap()["body"], Value::Null);
    }

    #[test]
    fn http_response_sets_status_headers_and_body() {
        let out = br#"{"http_response":{"status":201,"headers":{"x-b":"c","content-length":"9"},"body":{"k":1}}}"#;
        let r = response(out.to_vec()).unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-b"], "c");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert!(r.headers().get("content-length").is_none());
    }

    #[test]
    fn other_outputs_are_bodies() {
        for out in [
            &br#"{"success":true}"#[..],
            b"plain",
            br#"{"http_response" oops"#,
        ] {
            assert_eq!(response(out.to_vec()).unwrap().status(), 200);
        }
        let bad = response(br#"{"http_response":{"status":"x"}}"#.to_vec()).unwrap_err();
        assert_eq!(bad.class(), "invalid_response");
        let bad = response(br#"{"http_response":{"status":1000}}"#.to_vec()).unwrap_err();
        assert_eq!(bad.status(), 502);
    }
}
