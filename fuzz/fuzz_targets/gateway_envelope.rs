//! The gateway's envelope mode on untrusted bytes: the request envelope built from
//! arbitrary headers, query pairs and body must be JSON carrying them, and any plugin
//! output must become a valid response or an `invalid_response` error (502).
#![no_main]

use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmplug_gateway::fuzzing::{envelope_input, envelope_output};

#[derive(Debug, Arbitrary)]
struct Case {
    request_id: String,
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    query: Vec<(String, String)>,
    body: Vec<u8>,
    output: Vec<u8>,
}

fuzz_target!(|case: Case| {
    let mut headers = HeaderMap::new();
    for (name, value) in &case.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(n, v);
        }
    }
    let input = envelope_input(
        &case.request_id,
        &case.method,
        &case.path,
        &headers,
        case.query.clone(),
        &case.body,
    );
    let v: Value = serde_json::from_slice(&input).expect("the envelope is JSON");
    assert_eq!(v["request_id"], case.request_id.as_str());
    assert_eq!(v["method"], case.method.as_str());
    assert_eq!(v["path"], case.path.as_str());
    for name in headers.keys() {
        assert!(
            v["headers"].get(name.as_str()).is_some(),
            "header `{name}` missing"
        );
    }
    for (k, _) in &case.query {
        assert!(v["query"].get(k).is_some(), "query key `{k}` missing");
        assert!(v["parameters"].get(k).is_some(), "parameter `{k}` missing");
    }
    match std::str::from_utf8(&case.body) {
        Ok("") => assert_eq!(v["body"], Value::Null),
        Ok(text) => assert_eq!(v["body"], text),
        Err(_) => assert!(v["body_base64"].is_string()),
    }

    match envelope_output(case.output.clone()) {
        Ok(response) => {
            for reserved in [
                "content-length",
                "transfer-encoding",
                "connection",
                "x-request-id",
            ] {
                assert!(
                    response.headers().get(reserved).is_none(),
                    "the plugin set `{reserved}`"
                );
            }
        }
        Err(e) => {
            assert_eq!(e.class(), "invalid_response", "{e}");
            assert_eq!(e.status(), 502);
        }
    }
});
