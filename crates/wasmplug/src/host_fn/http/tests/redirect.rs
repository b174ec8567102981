//! Redirects: every hop checked, methods and credentials handled like browsers do.

use super::server::{Reply, Server};
use super::*;

#[test]
fn redirect_to_ungranted_port_is_refused_before_connecting() {
    let b = Server::start(|_| Reply::ok("secret"));
    let to = b.url("/admin");
    let a = Server::start(move |_| Reply::redirect(302, &to));
    let err = run(
        &client(),
        req("GET", &a.url("/start")),
        &grant_servers(&[&a]),
    )
    .unwrap_err();
    match &err {
        HttpError::RedirectNotAllowed { from, to, .. } => {
            assert_eq!(
                (from.as_str(), to.as_str()),
                (a.url("/start").as_str(), b.url("/admin").as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&format!(
        "`http://127.0.0.1:{}` is not in the plugin's net grants",
        b.port
    )));
    assert_eq!(b.connections(), 0);
    assert_eq!(a.seen().len(), 1);
}

#[test]
fn redirect_to_granted_host_is_followed() {
    let b = Server::start(echo);
    let to = b.url("/landed?q=1");
    let a = Server::start(move |seen| match seen.target.as_str() {
        "/start" => Reply::redirect(301, "/relative"),
        _ => Reply::redirect(308, &to),
    });
    let resp = run(
        &client(),
        req("GET", &a.url("/start")),
        &grant_servers(&[&a, &b]),
    )
    .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(header(&resp, "x-target"), Some("/landed?q=1"));
    let targets: Vec<String> = a.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(targets, ["/start", "/relative"]);
}

#[test]
fn redirects_change_methods_like_browsers() {
    let s = Server::start(|seen| match seen.target.as_str() {
        "/302" => Reply::redirect(302, "/end"),
        "/303" => Reply::redirect(303, "/end"),
        "/307" => Reply::redirect(307, "/end"),
        _ => echo(seen),
    });
    let allow = grant_servers(&[&s]);
    let c = client();
    let send = |method: &str, path: &str| {
        let mut r = req(method, &s.url(path));
        r.body = b"data".to_vec();
        r.headers = vec![("content-type".into(), "text/plain".into())];
        let resp = run(&c, r, &allow).unwrap();
        let last = s.seen().pop().unwrap();
        (
            header(&resp, "x-method").unwrap().to_string(),
            resp.body,
            last.header("content-type").map(str::to_string),
        )
    };
    assert_eq!(send("POST", "/302"), ("GET".into(), Vec::new(), None));
    assert_eq!(
        send("PUT", "/302"),
        ("PUT".into(), b"data".to_vec(), Some("text/plain".into()))
    );
    assert_eq!(send("PUT", "/303"), ("GET".into(), Vec::new(), None));
    assert_eq!(
        send("POST", "/307"),
        ("POST".into(), b"data".to_vec(), Some("text/plain".into()))
    );
}

#[test]
fn credentials_are_dropped_when_the_origin_changes() {
    let b = Server::start(|_| Reply::ok(""));
    let to = b.url("/other-origin");
    let a = Server::start(move |seen| match seen.target.as_str() {
        "/start" => Reply::redirect(307, "/same-origin"),
        _ => Reply::redirect(307, &to),
    });
    let mut r = req("GET", &a.url("/start"));
    r.headers = vec![
        ("Authorization".into(), "Bearer t".into()),
        ("Cookie".into(), "c=1".into()),
        ("X-Keep".into(), "1".into()),
    ];
    run(&client(), r, &grant_servers(&[&a, &b])).unwrap();
    for seen in a.seen() {
        assert_eq!(
            (seen.header("authorization"), seen.header("cookie")),
            (Some("Bearer t"), Some("c=1"))
        );
    }
    let last = &b.seen()[0];
    assert_eq!(
        (last.header("authorization"), last.header("cookie")),
        (None, None)
    );
    assert_eq!(last.header("x-keep"), Some("1"));
}

#[test]
fn redirect_loop_is_too_many_redirects() {
    let s = Server::start(|seen| {
        let next = if seen.target == "/a" { "/b" } else { "/a" };
        Reply::redirect(302, next)
    });
    let err = run(&client(), req("GET", &s.url("/a")), &grant_servers(&[&s])).unwrap_err();
    assert!(
        matches!(err, HttpError::TooManyRedirects { max: 10, .. }),
        "{err:?}"
    );
    assert_eq!(s.seen().len(), 11);
    // With redirects off, the 3xx itself is the answer.
    let c = HttpClient::new(HttpConfig {
        max_redirects: 0,
        ..HttpConfig::default()
    })
    .unwrap();
    let resp = run(&c, req("GET", &s.url("/a")), &grant_servers(&[&s])).unwrap();
    assert_eq!((resp.status, header(&resp, "location")), (302, Some("/b")));
}
