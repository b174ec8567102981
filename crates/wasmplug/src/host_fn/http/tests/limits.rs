//! Size caps and the deadline.

use std::time::{Duration, Instant};

use super::server::{Reply, Server};
use super::*;

#[test]
fn chunked_response_over_the_limit_is_refused() {
    let s = Server::start(|seen| match seen.target.as_str() {
        "/big" => Reply::Chunked(1 << 20),
        _ => Reply::Chunked(64 * 1024),
    });
    let limits = HttpLimits {
        max_response_bytes: 64 * 1024,
        ..HttpLimits::default()
    };
    let allow = grant_servers(&[&s]);
    let c = client();
    let err = c
        .request_blocking(req("GET", &s.url("/big")), &allow, limits, soon())
        .unwrap_err();
    assert!(
        matches!(err, HttpError::ResponseTooLarge { limit: 65536, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("larger than the plugin's limit of 65536 bytes")
    );
    let exact = c
        .request_blocking(req("GET", &s.url("/exact")), &allow, limits, soon())
        .unwrap();
    assert_eq!(exact.body.len(), 64 * 1024);
}

#[test]
fn announced_length_over_the_limit_is_refused_early() {
    let s = Server::start(|_| Reply::Trickle);
    let limits = HttpLimits {
        max_response_bytes: 10,
        ..HttpLimits::default()
    };
    let start = Instant::now();
    let err = client()
        .request_blocking(
            req("GET", &s.url("/")),
            &grant_servers(&[&s]),
            limits,
            soon(),
        )
        .unwrap_err();
    assert!(
        matches!(err, HttpError::ResponseTooLarge { limit: 10, .. }),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "did not wait for the body"
    );
}

fn assert_times_out(reply: fn(&server::Seen) -> Reply) {
    let s = Server::start(reply);
    let budget = Duration::from_millis(700);
    let start = Instant::now();
    let err = client()
        .request_blocking(
            req("GET", &s.url("/")),
            &grant_servers(&[&s]),
            HttpLimits::default(),
            start + budget,
        )
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, HttpError::Timeout { .. }), "{err:?}");
    assert!(
        took >= budget && took < budget + Duration::from_secs(2),
        "took {took:?}"
    );
    assert!(err.to_string().contains("did not finish within"), "{err}");
}

#[test]
fn stalled_server_times_out_by_the_deadline() {
    assert_times_out(|_| Reply::Stall);
}

#[test]
fn slow_body_times_out_by_the_deadline() {
    assert_times_out(|_| Reply::Trickle);
}

#[test]
fn passed_deadline_fails_at_once() {
    let s = Server::start(|_| Reply::ok(""));
    let err = client()
        .request_blocking(
            req("GET", &s.url("/")),
            &grant_servers(&[&s]),
            HttpLimits::default(),
            Instant::now(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Timeout {
                after: Duration::ZERO,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.connections(), 0);
}

#[test]
fn head_response_length_is_not_a_body() {
    let s = Server::start(|_| Reply::Full(200, Vec::new(), vec![b'x'; 1000]));
    let limits = HttpLimits {
        max_response_bytes: 10,
        ..HttpLimits::default()
    };
    let allow = grant_servers(&[&s]);
    let resp = client()
        .request_blocking(req("HEAD", &s.url("/")), &allow, limits, soon())
        .unwrap();
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    assert_eq!(header(&resp, "content-length"), Some("1000"));
}
