//! End-to-end tests against real servers on loopback (no other network).

mod guard;
mod limits;
mod redirect;
mod server;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::*;
use server::{Reply, Server};

fn client() -> HttpClient {
    HttpClient::new(HttpConfig::default()).unwrap()
}

fn client_resolving(name: &str, ip: &str) -> HttpClient {
    let ip: IpAddr = ip.parse().unwrap();
    HttpClient::new(HttpConfig {
        resolve_overrides: HashMap::from([(name.to_string(), vec![ip])]),
        ..HttpConfig::default()
    })
    .unwrap()
}

fn grant(patterns: &[String]) -> Vec<NetPattern> {
    patterns.iter().map(|p| p.parse().unwrap()).collect()
}

/// `http://127.0.0.1:PORT` for each server.
fn grant_servers(servers: &[&Server]) -> Vec<NetPattern> {
    grant(
        &servers
            .iter()
            .map(|s| format!("http://127.0.0.1:{}", s.port))
            .collect::<Vec<_>>(),
    )
}

fn req(method: &str, url: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        url: url.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn run(
    client: &HttpClient,
    r: HttpRequest,
    allow: &[NetPattern],
) -> Result<HttpResponse, HttpError> {
    client.request_blocking(r, allow, HttpLimits::default(), soon())
}

fn header<'a>(resp: &'a HttpResponse, name: &str) -> Option<&'a str> {
    resp.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn echo(seen: &server::Seen) -> Reply {
    let mut headers = vec![("x-method".to_string(), seen.method.clone())];
    headers.push(("x-target".to_string(), seen.target.clone()));
    Reply::Full(200, headers, seen.body.clone())
}

#[test]
fn get_returns_status_headers_and_body() {
    let s =
        Server::start(|_| Reply::Full(203, vec![("x-reply".into(), "yes".into())], b"hi".to_vec()));
    let resp = run(
        &client(),
        req("GET", &s.url("/hello?a=1")),
        &grant_servers(&[&s]),
    )
    .unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (203, &b"hi"[..]));
    assert_eq!(header(&resp, "x-reply"), Some("yes"));
    assert_eq!(s.seen()[0].target, "/hello?a=1");
    assert_eq!(s.seen()[0].method, "GET");
}

#[test]
fn post_body_is_echoed() {
    let s = Server::start(echo);
    let mut r = req("post", &s.url("/echo"));
    r.body = b"payload \x00\xff".to_vec();
    let resp = run(&client(), r, &grant_servers(&[&s])).unwrap();
    assert_eq!(resp.body, b"payload \x00\xff");
    assert_eq!(header(&resp, "x-method"), Some("POST"));
}

#[test]
fn headers_round_trip() {
    let s = Server::start(|seen| {
        let got = seen.header("x-token").unwrap_or("missing").to_string();
        let ua = seen.header("user-agent").unwrap_or("missing").to_string();
        Reply::Full(
            200,
            vec![("x-got".into(), got), ("x-ua".into(), ua)],
            Vec::new(),
        )
    });
    let mut r = req("GET", &s.url("/"));
    r.headers = vec![("X-Token".into(), "abc".into())];
    let resp = run(&client(), r, &grant_servers(&[&s])).unwrap();
    assert_eq!(header(&resp, "x-got"), Some("abc"));
    assert!(header(&resp, "x-ua").unwrap().starts_with("wasmplug/"));
}

#[test]
fn refused_connection_is_a_transport_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let err = run(
        &client(),
        req("GET", &url),
        &grant(&[format!("http://127.0.0.1:{port}")]),
    )
    .unwrap_err();
    let HttpError::Transport(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.starts_with(&format!("http_request to `{url}`: connecting failed")),
        "{msg}"
    );
}

#[test]
fn works_from_a_plain_thread_and_from_spawn_blocking() {
    let s = Server::start(|_| Reply::ok("ok"));
    let allow = grant_servers(&[&s]);
    let c = client();
    let (c1, a1, u1) = (c.clone(), allow.clone(), s.url("/thread"));
    let body = std::thread::spawn(move || run(&c1, req("GET", &u1), &a1).unwrap().body)
        .join()
        .unwrap();
    assert_eq!(body, b"ok");
    let app = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let u2 = s.url("/blocking");
    let body = app
        .block_on(async move {
            tokio::task::spawn_blocking(move || run(&c, req("GET", &u2), &allow).unwrap().body)
                .await
        })
        .unwrap();
    assert_eq!(body, b"ok");
}

#[test]
fn sequential_requests_reuse_one_connection() {
    let s = Server::start(|_| Reply::ok("again"));
    let allow = grant_servers(&[&s]);
    let c = client();
    for _ in 0..3 {
        assert_eq!(
            run(&c.clone(), req("GET", &s.url("/")), &allow)
                .unwrap()
                .body,
            b"again"
        );
    }
    assert_eq!(s.connections(), 1);
}

#[test]
fn shared_client_is_one_pool() {
    let s = Server::start(|_| Reply::ok("shared"));
    let allow = grant_servers(&[&s]);
    for _ in 0..2 {
        let resp = run(&HttpClient::shared(), req("GET", &s.url("/")), &allow).unwrap();
        assert_eq!(resp.body, b"shared");
    }
    assert_eq!(s.connections(), 1);
}

#[test]
fn https_with_a_trusted_root_and_refused_without_it() {
    let (s, cert) = Server::start_tls(|_| Reply::ok("secure"));
    let url = format!("https://127.0.0.1:{}/", s.port);
    let allow = grant(&[format!("https://127.0.0.1:{}", s.port)]);
    let err = run(&client(), req("GET", &url), &allow).unwrap_err();
    let HttpError::Transport(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("certificate"), "{msg}");
    let trusting = HttpClient::new(HttpConfig {
        root_certificates: vec![cert],
        ..HttpConfig::default()
    })
    .unwrap();
    assert_eq!(
        run(&trusting, req("GET", &url), &allow).unwrap().body,
        b"secure"
    );
    let bad = HttpClient::new(HttpConfig {
        root_certificates: vec![b"not DER".to_vec()],
        ..HttpConfig::default()
    });
    assert!(matches!(bad, Err(HttpError::InvalidConfig(_))), "{bad:?}");
}

#[test]
fn unusable_config_is_an_error() {
    let config = HttpConfig {
        user_agent: "bad\nagent".into(),
        ..HttpConfig::default()
    };
    let err = HttpClient::new(config).unwrap_err();
    assert!(matches!(err, HttpError::InvalidConfig(_)), "{err:?}");
}
