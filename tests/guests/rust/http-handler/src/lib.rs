//! A `wasi:http/proxy` handler as any toolchain would write it: the plain `wasip2` bindings,
//! no wasmplug kit. Routes (the path the component sees, after `/v1/http/http-handler`):
//!
//! - `GET /hello`: `hello from wasi:http`, with header `x-handler: plain-wasi`
//! - `POST /echo`: the request body streamed back, `content-type` kept
//! - `GET /headers`: the request headers, one `name: value` a line
//! - `GET /path...`: the path and query the component received
//! - `GET /spin`: loops forever (stopped by the plugin's deadline)
//! - `GET /fetch?url`: an outgoing request to `url` (the host's allow-list decides); the
//!   response status and body, or 502 with the error code

use std::io::{Read as _, Write as _};

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    ResponseOutparam, Scheme,
};

wasip2::http::proxy::export!(Handler);

struct Handler;

impl wasip2::exports::http::incoming_handler::Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let route = path.split('?').next().unwrap_or("").to_string();
        match (request.method(), route.as_str()) {
            (Method::Get, "/hello") => {
                let headers = Fields::new();
                let _ = headers.append("x-handler", b"plain-wasi");
                respond(out, 200, headers, b"hello from wasi:http");
            }
            (Method::Post, "/echo") => echo(request, out),
            (Method::Get, "/headers") => {
                let mut text = String::new();
                for (name, value) in request.headers().entries() {
                    text.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&value)));
                }
                respond(out, 200, Fields::new(), text.as_bytes());
            }
            (Method::Get, "/spin") =>
            {
                #[allow(clippy::empty_loop)]
                loop {}
            }
            (Method::Get, "/fetch") => {
                let url = path.split_once("?url=").map(|(_, u)| u).unwrap_or("");
                fetch(url, out);
            }
            _ => respond(out, 200, Fields::new(), path.as_bytes()),
        }
    }
}

/// Sets a response with `body`.
fn respond(out: ResponseOutparam, status: u16, headers: Fields, body: &[u8]) {
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let outgoing = response.body().expect("first body");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = outgoing.write().expect("body stream");
    for chunk in body.chunks(4096) {
        stream.write_all(chunk).expect("write");
    }
    stream.flush().expect("flush");
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("finish");
}

/// Streams the request body back in chunks.
fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let headers = Fields::new();
    for (name, value) in request.headers().entries() {
        if name == "content-type" {
            let _ = headers.append(&name, &value);
        }
    }
    let incoming = request.consume().expect("request body");
    let mut input = incoming.stream().expect("request body stream");
    let response = OutgoingResponse::new(headers);
    let outgoing = response.body().expect("first body");
    ResponseOutparam::set(out, Ok(response));
    let mut output = outgoing.write().expect("body stream");
    let mut buf = vec![0; 64 * 1024];
    loop {
        match std::io::Read::read(&mut input, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => output.write_all(&buf[..n]).expect("write"),
        }
    }
    output.flush().expect("flush");
    drop(output);
    drop(input);
    OutgoingBody::finish(outgoing, None).expect("finish");
}

/// An outgoing GET of `url` (`http://host:port/path`).
fn fetch(url: &str, out: ResponseOutparam) {
    let Some(rest) = url.strip_prefix("http://") else {
        return respond(out, 400, Fields::new(), b"url must be http://");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&Scheme::Http));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(path));
    let future = match outgoing_handler::handle(request, None) {
        Ok(future) => future,
        Err(code) => return respond(out, 502, Fields::new(), format!("{code:?}").as_bytes()),
    };
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => {
            let status = response.status();
            let mut body = Vec::new();
            if let Ok(incoming) = response.consume() {
                if let Ok(mut stream) = incoming.stream() {
                    let _ = stream.read_to_end(&mut body);
                }
            }
            respond(out, status, Fields::new(), &body);
        }
        Some(Ok(Err(code))) => respond(out, 502, Fields::new(), format!("{code:?}").as_bytes()),
        _ => respond(out, 502, Fields::new(), b"no response"),
    }
}
