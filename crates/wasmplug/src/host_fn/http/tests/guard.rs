//! What is refused before anything is sent: ungranted URLs, private addresses behind
//! names, malformed requests.

use super::server::{Reply, Server};
use super::*;

#[test]
fn ungranted_host_is_refused_without_connecting() {
    let s = Server::start(|_| Reply::ok("no"));
    let other = grant(&[
        "http://127.0.0.1:1".to_string(),
        "https://api.example.com".to_string(),
    ]);
    let err = run(&client(), req("GET", &s.url("/x")), &other).unwrap_err();
    let HttpError::NotAllowed { url, origin, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (url.as_str(), origin.clone()),
        (s.url("/x").as_str(), format!("http://127.0.0.1:{}", s.port))
    );
    let msg = err.to_string();
    assert!(
        msg.contains("`http://127.0.0.1:1`, `https://api.example.com:443`"),
        "{msg}"
    );
    let err = run(&client(), req("GET", &s.url("/x")), &[]).unwrap_err();
    assert!(err.to_string().contains("(it has none)"), "{err}");
    // `localhost` is a different host than `127.0.0.1` for the grants.
    let by_name = format!("http://localhost:{}/", s.port);
    assert!(matches!(
        run(&client(), req("GET", &by_name), &grant_servers(&[&s])),
        Err(HttpError::NotAllowed { .. })
    ));
    assert_eq!(s.connections(), 0);
}

#[test]
fn name_resolving_to_loopback_is_refused_without_connecting() {
    let s = Server::start(|_| Reply::ok("no"));
    let c = client_resolving("evil.test", "127.0.0.1");
    let allow = grant(&[format!("http://evil.test:{}", s.port)]);
    let err = run(
        &c,
        req("GET", &format!("http://evil.test:{}/", s.port)),
        &allow,
    )
    .unwrap_err();
    match &err {
        HttpError::PrivateAddress { host, addr, range } => {
            assert_eq!(
                (host.as_str(), addr.to_string().as_str()),
                ("evil.test", "127.0.0.1")
            );
            assert!(range.contains("loopback"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("`evil.test` resolves to 127.0.0.1"),
        "{err}"
    );
    assert_eq!(s.connections(), 0);
}

#[test]
fn redirect_to_a_name_resolving_to_loopback_is_refused() {
    let b = Server::start(|_| Reply::ok("no"));
    let to = format!("http://evil.test:{}/", b.port);
    let a = Server::start(move |_| Reply::redirect(302, &to));
    let c = client_resolving("evil.test", "127.0.0.1");
    let mut allow = grant_servers(&[&a]);
    allow.extend(grant(&[format!("http://evil.test:{}", b.port)]));
    let err = run(&c, req("GET", &a.url("/")), &allow).unwrap_err();
    assert!(matches!(err, HttpError::PrivateAddress { .. }), "{err:?}");
    assert_eq!(b.connections(), 0);
}

#[test]
fn localhost_may_reach_loopback() {
    let s = Server::start(|_| Reply::ok("local"));
    let allow = grant(&[format!("http://localhost:{}", s.port)]);
    let resp = run(
        &client(),
        req("GET", &format!("http://LOCALHOST:{}/", s.port)),
        &allow,
    )
    .unwrap();
    assert_eq!(resp.body, b"local");
}

#[test]
fn ip_literal_grant_is_explicit() {
    let s = Server::start(|_| Reply::ok("v4"));
    let allow = grant(&["http://127.0.0.1:*".to_string()]);
    assert_eq!(
        run(&client(), req("GET", &s.url("/")), &allow)
            .unwrap()
            .body,
        b"v4"
    );
    // IPv6 loopback, where the machine has it.
    if let Ok(addr) = "[::1]:0".parse()
        && std::net::TcpListener::bind(addr).is_ok()
    {
        let s6 = Server::start_on(addr, |_| Reply::ok("v6"));
        let allow = grant(&[format!("http://[::1]:{}", s6.port)]);
        let url = format!("http://[::1]:{}/", s6.port);
        assert_eq!(
            run(&client(), req("GET", &url), &allow).unwrap().body,
            b"v6"
        );
    }
}

#[test]
fn invalid_requests_are_refused_without_connecting() {
    let s = Server::start(|_| Reply::ok(""));
    let allow = grant_servers(&[&s]);
    let c = client();
    let with_header = |n: &str, v: &str| HttpRequest {
        headers: vec![(n.into(), v.into())],
        ..req("GET", &s.url("/"))
    };
    for bad in [
        req("GE T", &s.url("/")),
        req("", &s.url("/")),
        req("GET", "not a url"),
        with_header("x y", "1"),
        with_header("x", "a\nb"),
        with_header("Host", "other"),
        with_header("Connection", "upgrade"),
    ] {
        let err = run(&c, bad.clone(), &allow).unwrap_err();
        assert!(
            matches!(err, HttpError::InvalidRequest(_)),
            "{bad:?}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("invalid http_request: "),
            "{err}"
        );
    }
    let mut big = req("POST", &s.url("/"));
    big.body = vec![0; 11];
    let limits = HttpLimits {
        max_request_bytes: 10,
        ..HttpLimits::default()
    };
    let err = c.request_blocking(big, &allow, limits, soon()).unwrap_err();
    assert_eq!(
        err,
        HttpError::RequestTooLarge {
            size: 11,
            limit: 10
        }
    );
    assert_eq!(s.connections(), 0);
}
