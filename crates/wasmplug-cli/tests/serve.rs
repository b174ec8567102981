//! `wasmplug serve` end to end: the real binary on a free loopback port, called over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{built, root};
use wasmplug_testkit::{Response, http};

/// A running `wasmplug serve`; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    _cache: tempfile::TempDir,
    /// The data directory (kv store, routing state), unless the test passed its own.
    _data: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Server {
        Server::start_with(Command::new(env!("CARGO_BIN_EXE_wasmplug")), args, envs)
    }

    /// Like [`Server::start`] with at most `limit` open file descriptors (`ulimit -n`).
    fn start_with_fd_limit(limit: u32, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_wasmplug"));
        Server::start_with(cmd, args, envs)
    }

    fn start_with(mut command: Command, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let cache = tempfile::tempdir().unwrap();
        // Each server gets its own data directory unless the test gives one (`--data-dir`):
        // routing state persisted by one test must not reach another.
        let data = (!args.contains(&"--data-dir")).then(|| tempfile::tempdir().unwrap());
        if let Some(d) = &data {
            command.env("WASMPLUG_DATA_DIR", d.path());
        }
        let mut child = command
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
            _data: data,
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
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"{"success":true,"data":{"action":"transform","_request_id":"req-001","_processed":true}}"#
    );
    assert_eq!(r.header("x-request-id"), Some("req-001"));
    assert_eq!(r.header("x-wasmplug-version"), Some("1.0.0"));
    // Raw mode: the body is the plugin's input.
    let r = server.call("POST", "/v1/plugins/greet/greet", &[], b"gateway");
    assert_eq!((r.status, r.text().as_str()), (200, "Hello, gateway!"));

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
            (r.status, r.text().as_str()),
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
            (r.status, r.text().as_str()),
            (
                200,
                r#"{"success":true,"data":{"action":"transform","_request_id":"req-002","_processed":true}}"#
            ),
            "{lang}"
        );
    }

    let metrics = server.call("GET", "/metrics", &[], b"").text();
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
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("json-transformer"));
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
                    Some(r) if r.body == b"Hello, swap!" => (
                        r.status,
                        r.header("x-wasmplug-version").unwrap_or("?").to_string(),
                    ),
                    Some(r) => (r.status, format!("unexpected body: {}", r.text())),
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
    assert_eq!(r.status, 504, "{}", r.text());
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

/// A plugin directory holding one plugin whose module carries `pad` bytes of padding.
fn padded_plugin_dir(pad: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("wat-echo");
    std::fs::create_dir(&folder).unwrap();
    let wat = std::fs::read_to_string(root().join("tests/guests/wat/echo.wat")).unwrap();
    let mut module = wat::parse_str(&wat).unwrap();
    // A custom section: id 0, size, name, payload.
    let name = b"padding";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.resize(payload.len() + pad, b'x');
    module.push(0);
    let mut size = payload.len();
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        module.push(if size == 0 { byte } else { byte | 0x80 });
        if size == 0 {
            break;
        }
    }
    module.extend_from_slice(&payload);
    std::fs::write(folder.join("echo.wasm"), module).unwrap();
    std::fs::write(
        folder.join("plugin.toml"),
        "name = \"wat-echo\"\nversion = \"1.0.0\"\nwasm = \"echo.wasm\"\n",
    )
    .unwrap();
    dir
}

/// Bytes the process has read (`rchar` of /proc/PID/io).
fn bytes_read(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn issue11_idle_gateway_reads_no_plugin_files() {
    const PAD: usize = 4 << 20;
    let dir = padded_plugin_dir(PAD);
    let server = Server::start(&["--plugins", dir.path().to_str().unwrap()], &[]);
    std::thread::sleep(Duration::from_millis(500));
    let before = bytes_read(server.child.id());
    std::thread::sleep(Duration::from_secs(3));
    let read = bytes_read(server.child.id()) - before;
    // Before the fix the watcher re-read the 4 MiB module every ~75 ms.
    assert!(
        read < (PAD / 4) as u64,
        "an idle gateway read {read} bytes in 3 s"
    );
}

#[test]
fn issue11_admin_delete_stays_deleted_with_hot_reload_on() {
    let dir = padded_plugin_dir(0);
    let server = Server::start(
        &["--plugins", dir.path().to_str().unwrap()],
        &[("WASMPLUG_ADMIN_TOKEN", "t0ken")],
    );
    let auth = [("Authorization", "Bearer t0ken")];
    let r = server.call("DELETE", "/v1/admin/plugins/wat-echo", &auth, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_millis(1500));
    let r = server.call("POST", "/v1/plugins/wat-echo/echo", &[], b"x");
    assert_eq!(r.status, 404, "the plugin came back: {}", r.text());
    let r = server.call("GET", "/v1/admin/plugins", &auth, b"");
    assert!(!r.text().contains("wat-echo"), "{}", r.text());
}

#[cfg(unix)]
#[test]
fn issue11_health_checks_pass_with_300_silent_connections_under_256_descriptors() {
    let dir = padded_plugin_dir(0);
    let server =
        Server::start_with_fd_limit(256, &["--plugins", dir.path().to_str().unwrap()], &[]);
    let silent: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect_timeout(&server.addr, Duration::from_secs(2)).ok())
        .collect();
    assert!(
        silent.len() > 200,
        "only {} connections opened",
        silent.len()
    );
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = http(server.addr, "GET", "/healthz", &[], b"");
    assert_eq!(
        r.map(|r| r.status),
        Some(200),
        "healthz under a connection flood"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "healthz took {:?}",
        started.elapsed()
    );
    drop(silent);
}

/// A keep-alive HTTP/1.1 client for many small requests on one connection.
struct KeepAlive {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl KeepAlive {
    fn connect(addr: SocketAddr) -> KeepAlive {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        KeepAlive {
            stream: BufReader::new(stream),
            addr,
        }
    }

    /// POSTs `body` to `path` with `headers`; returns status and response headers.
    fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (n, v) in headers {
            request.push_str(&format!("{n}: {v}\r\n"));
        }
        request.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(request.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).unwrap();
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).unwrap();
        Response {
            status,
            headers,
            body,
        }
    }
}

/// Issue 15's check through the real binary: a hash-bucket rule sends 5 % ± 1 % of distinct
/// users to the canary, the same user always to the same version, before and after a
/// restart; a 90/10 split set through the admin API survives the restart too. (2,000 users
/// here, to keep the debug build's run short; `tests/all/rollout.rs` routes 10,000
/// in-process.)
#[test]
fn bucket_rule_and_admin_split_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(root().join("tests/guests/wat/echo.wat")).unwrap();
    for version in ["1.0.0", "1.1.0"] {
        let folder = dir.path().join("wat-echo").join(version);
        std::fs::create_dir_all(&folder).unwrap();
        let module = wat.replace(
            r#"\"version\":\"1.0.0\""#,
            &format!(r#"\"version\":\"{version}\""#),
        );
        std::fs::write(folder.join("echo.wat"), module).unwrap();
        std::fs::write(
            folder.join("plugin.toml"),
            format!("name = \"wat-echo\"\nversion = \"{version}\"\nwasm = \"echo.wat\"\n[instances]\nisolation = \"reuse\"\n"),
        )
        .unwrap();
    }
    let config = dir.path().join("wasmplug.toml");
    std::fs::write(
        &config,
        "[routing.wat-echo]\ndefault = { version = \"=1.0.0\" }\n[[routing.wat-echo.rules]]\nname = \"canary\"\nbucket = { header = \"X-User-Id\", below = 5 }\nto = \"=1.1.0\"\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--plugins",
        dir.path().to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ];
    let envs = [("WASMPLUG_ADMIN_TOKEN", "t0ken")];
    let route_all = |server: &Server| -> Vec<String> {
        let mut client = KeepAlive::connect(server.addr);
        (0..2_000)
            .map(|i| {
                let id = format!("user-{i}");
                let r = client.post("/v1/plugins/wat-echo/echo", &[("X-User-Id", &id)], b"x");
                assert_eq!(r.status, 200, "{}", r.text());
                r.header("x-wasmplug-version").unwrap().to_string()
            })
            .collect()
    };
    let server = Server::start(&args, &envs);
    let before = route_all(&server);
    let canary = before.iter().filter(|v| *v == "1.1.0").count();
    assert!(
        (80..=120).contains(&canary),
        "{canary} of 2,000 on the canary"
    );
    let auth = [("Authorization", "Bearer t0ken")];
    // A 90/10 split of the weights, through the admin API (the rules stay).
    let r = server.call(
        "PUT",
        "/v1/admin/plugins/wat-echo/weights",
        &auth,
        br#"{"weights": {"1.0.0": 90, "1.1.0": 10}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let weights = |server: &Server| {
        let r = server.call("GET", "/v1/admin/plugins/wat-echo", &auth, b"");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["version"].as_str().unwrap().to_string(),
                    v["weight"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let split = weights(&server);
    assert_eq!(split, vec![("1.0.0".into(), 90), ("1.1.0".into(), 10)]);
    drop(server);

    let server = Server::start(&args, &envs);
    assert_eq!(weights(&server), split, "the split survived the restart");
    let after = route_all(&server);
    assert_eq!(
        before, after,
        "every user got the same version after the restart"
    );
}
