//! Outbound HTTP through the host (`wasmplug.http_request`). The host makes the request only
//! to destinations granted in the plugin's manifest (`[capabilities] net`), checks every
//! redirect hop against the same grants, refuses private and loopback addresses unless a
//! grant names them, caps the response body (`max_http_response`) and ends the request at
//! the call's deadline. Every refusal is an [`Error`] value.
//!
//! ```no_run
//! use wasmplug_pdk::{FnResult, http};
//!
//! fn fetch_status() -> FnResult<String> {
//!     let response = http::Request::get("https://api.example.com/status")
//!         .header("accept", "application/json")
//!         .send()?;
//!     if response.status != 200 {
//!         return Err(wasmplug_pdk::Error::new(format!("upstream said {}", response.status)));
//!     }
//!     Ok(response.text()?)
//! }
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Error;

/// An outgoing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes (sent separately from the JSON head).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl Request {
    /// A request with any method.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Request {
        Request::new("GET", url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Request {
        Request::new("POST", url)
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and its `content-type`.
    ///
    /// # Errors
    /// Serialisation fails.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Request, Error> {
        Ok(self
            .header("content-type", "application/json")
            .body(serde_json::to_vec(value)?))
    }

    /// Sends the request through the host.
    ///
    /// # Errors
    /// The host's error value: destination not granted, redirect to a destination not
    /// granted, private address, response too large, deadline reached, connection failure.
    pub fn send(&self) -> Result<Response, Error> {
        let head = serde_json::to_vec(self)?;
        let buf = imp::request(&head, &self.body)?;
        decode_response(&buf)
    }
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    ///
    /// # Errors
    /// The body is not UTF-8.
    pub fn text(&self) -> Result<String, Error> {
        Ok(String::from_utf8(self.body.clone())?)
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// The body is not JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// Decodes an `http_request` result: `u32` LE head length, JSON head, body.
fn decode_response(buf: &[u8]) -> Result<Response, Error> {
    let malformed = || Error::new("malformed http_request result");
    let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(malformed)?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(malformed());
    }
    let mut response: Response = serde_json::from_slice(&rest[..len])?;
    response.body = rest[len..].to_vec();
    Ok(response)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use crate::hostcall::take_reply;

    pub(super) fn request(head: &[u8], body: &[u8]) -> Result<Vec<u8>, Error> {
        let mut slot = 0u64;
        // SAFETY: live slices the host only reads; `slot` is a live 8-byte result slot.
        let status = unsafe {
            crate::host::http_request(
                head.as_ptr(),
                head.len(),
                body.as_ptr(),
                body.len(),
                &mut slot,
            )
        };
        // SAFETY: the host wrote `slot` for this call.
        Ok(unsafe { take_reply(status, slot) }?.unwrap_or_default())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    pub(super) fn request(_head: &[u8], _body: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::new(
            "http requests are made by the wasmplug host; they are not available in native builds",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head_is_json_without_body() {
        let r = Request::post("http://x/y").header("a", "b").body("payload");
        let head: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(
            head,
            serde_json::json!({"method": "POST", "url": "http://x/y", "headers": [["a", "b"]]})
        );
    }

    #[test]
    fn response_decoding() {
        let head = br#"{"status":201,"headers":[["Content-Type","text/plain"]]}"#;
        let mut buf = (head.len() as u32).to_le_bytes().to_vec();
        buf.extend_from_slice(head);
        buf.extend_from_slice(b"hello");
        let r = decode_response(&buf).unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.text().unwrap(), "hello");
        assert!(decode_response(&buf[..3]).is_err());
        assert!(decode_response(&[200, 0, 0, 0, b'{']).is_err());
    }

    #[test]
    fn native_builds_say_why() {
        let e = Request::get("http://x").send().unwrap_err();
        assert!(
            e.message().contains("not available in native builds"),
            "{e}"
        );
    }
}
