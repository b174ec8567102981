//! `wasmplug serve` end to end: the real binary on a free loopback port, called over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{built, root};

/// A running `wasmplug serve`; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    _cache: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Server {
        let cache = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("WASMPLUG_CACHE_DIR", cache.path())
            .env_remove("WASMPLUG_ADMIN_TOKEN")
            .envs(envs.iter().copied())
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in `{first}`"));
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let server = Server {
            child,
            addr,
            stdout,
            _cache: cache,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while http(addr, "GET", "/readyz", &[], b"").map(|r| r.status) != Some(200) {
            assert!(Instant::now() < deadline, "not ready: {}", server.stdout());
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        http(self.addr, method, path, headers, body).expect("request failed")
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`); `None` on any I/O error.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: body.to_string(),
    })
}

#[test]
fn serves_the_examples_with_metrics_and_admin_auth() {
    built();
    let server = Server::start(&[], &[("WASMPLUG_ADMIN_TOKEN", "t0ken")]);
    let out = server.stdout();
    assert!(out.contains("json-transformer 1.0.0"), "{out}");
    assert!(out.contains("curl -s -H 'X-Wasmplug-Envelope: 1'"), "{out}");

    // The call the startup message suggests.
    let r = server.call(
        "POST",
        "/v1/plugins/json-transformer/execute",
        &[("X-Wasmplug-Envelope", "1"), ("X-Request-Id", "req-001")],
        br#"{"action":"transform"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        r#"{"success":true,"data":{"action":"transform","_request_id":"req-001","_processed":true}}"#
    );
    assert_eq!(r.header("x-request-id"), Some("req-001"));
    assert_eq!(r.header("x-wasmplug-version"), Some("1.0.0"));
    // Raw mode: the body is the plugin's input.
    let r = server.call("POST", "/v1/plugins/greet/greet", &[], b"gateway");
    assert_eq!((r.status, r.body.as_str()), (200, "Hello, gateway!"));

    // The same examples in every language are served next to the Rust ones
    // (WASMPLUG_SKIP_LANGS=go,zig skips languages locally; CI builds them all).
    let skip = std::env::var("WASMPLUG_SKIP_LANGS").unwrap_or_default();
    for lang in ["go", "c", "zig", "assemblyscript"] {
        if skip.split(',').any(|s| s.trim() == lang) {
            continue;
        }
        assert!(out.contains(&format!("greet-{lang} 1.0.0: greet")), "{out}");
        let r = server.call(
            "POST",
            &format!("/v1/plugins/greet-{lang}/greet"),
            &[],
            b"gateway",
        );
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "Hello, gateway!"),
            "{lang}"
        );
        let r = server.call(
            "POST",
            &format!("/v1/plugins/json-transformer-{lang}/execute"),
            &[("X-Wasmplug-Envelope", "1"), ("X-Request-Id", "req-002")],
            br#"{"action":"transform"}"#,
        );
        assert_eq!(
            (r.status, r.body.as_str()),
            (
                200,
                r#"{"success":true,"data":{"action":"transform","_request_id":"req-002","_processed":true}}"#
            ),
            "{lang}"
        );
    }

    let metrics = server.call("GET", "/metrics", &[], b"").body;
    assert!(
        metrics.contains(r#"wasmplug_calls_total{plugin="json-transformer",version="1.0.0",function="execute"} 1"#),
        "{metrics}"
    );

    assert_eq!(
        server.call("GET", "/v1/admin/plugins", &[], b"").status,
        401
    );
    assert_eq!(
        server
            .call(
                "GET",
                "/v1/admin/plugins",
                &[("Authorization", "Bearer nope")],
                b""
            )
            .status,
        403
    );
    let r = server.call(
        "GET",
        "/v1/admin/plugins",
        &[("Authorization", "Bearer t0ken")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("json-transformer"));
}

#[test]
fn a_replaced_plugin_serves_its_new_version_without_failed_requests() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("wat-echo");
    std::fs::create_dir(&folder).unwrap();
    let v1 = std::fs::read_to_string(root().join("tests/guests/wat/echo.wat")).unwrap();
    let manifest = |version: &str| {
        format!("name = \"wat-echo\"\nversion = \"{version}\"\nwasm = \"echo.wat\"\n")
    };
    std::fs::write(folder.join("echo.wat"), &v1).unwrap();
    std::fs::write(folder.join("plugin.toml"), manifest("1.0.0")).unwrap();
    let server = Server::start(&["--plugins", dir.path().to_str().unwrap()], &[]);

    // A client loop that keeps calling while the plugin is replaced.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<(u16, String)>::new()));
    let client = {
        let (stop, seen, addr) = (stop.clone(), seen.clone(), server.addr);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let r = http(addr, "POST", "/v1/plugins/wat-echo/greet", &[], b"swap");
                let entry = match r {
                    Some(r) if r.body == "Hello, swap!" => (
                        r.status,
                        r.header("x-wasmplug-version").unwrap_or("?").to_string(),
                    ),
                    Some(r) => (r.status, format!("unexpected body: {}", r.body)),
                    None => (0, "connection failed".to_string()),
                };
                seen.lock().unwrap().push(entry);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // Replace the module in place, then the manifest.
    let v2 = v1.replace(r#"\"version\":\"1.0.0\""#, r#"\"version\":\"1.1.0\""#);
    assert_ne!(v1, v2);
    std::fs::write(folder.join("echo.wat"), &v2).unwrap();
    std::fs::write(folder.join("plugin.toml"), manifest("1.1.0")).unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let last = seen.lock().unwrap().last().cloned();
        if last.is_some_and(|(_, v)| v == "1.1.0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "1.1.0 never answered; {}",
            server.stdout()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    client.join().unwrap();

    let seen = seen.lock().unwrap();
    let failed: Vec<_> = seen.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        seen.len(),
        &failed[..failed.len().min(5)]
    );
    assert_eq!(seen.first().unwrap().1, "1.0.0");
    assert_eq!(seen.last().unwrap().1, "1.1.0");
    // Once 1.1.0 answered, 1.0.0 never did again.
    let first_new = seen.iter().position(|(_, v)| v == "1.1.0").unwrap();
    assert!(
        seen[first_new..].iter().all(|(_, v)| v == "1.1.0"),
        "{seen:?}"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_finishes_in_flight_calls() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("misbehave");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(
        root().join("tests/guests/wat/misbehave.wat"),
        folder.join("m.wat"),
    )
    .unwrap();
    std::fs::write(
        folder.join("plugin.toml"),
        "name = \"misbehave\"\nversion = \"0.1.0\"\nwasm = \"m.wat\"\n[limits]\ntimeout = \"700ms\"\n",
    )
    .unwrap();
    let mut server = Server::start(&["--plugins", dir.path().to_str().unwrap()], &[]);
    let addr = server.addr;
    // `spin` runs until its 700 ms deadline: in flight while the server is told to stop.
    let call =
        std::thread::spawn(move || http(addr, "POST", "/v1/plugins/misbehave/spin", &[], b""));
    std::thread::sleep(Duration::from_millis(250));
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let r = call
        .join()
        .unwrap()
        .expect("the in-flight call was cut off");
    assert_eq!(r.status, 504, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    // New connections are refused after shutdown.
    assert!(http(addr, "GET", "/healthz", &[], b"").is_none());
}
