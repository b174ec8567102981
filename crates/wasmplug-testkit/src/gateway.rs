//! [`Gateway`]: a `wasmplug serve` process on a free loopback port, and [`http`], a
//! one-request HTTP/1.1 client for talking to it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::Supervised;

/// How long a gateway may take to become ready (it compiles its plugins first).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running `wasmplug serve` (started with `--addr 127.0.0.1:0`), stopped on drop.
#[derive(Debug)]
pub struct Gateway {
    process: Supervised,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Starts `binary serve --addr 127.0.0.1:0 <args>` with `envs`, and waits until it
    /// answers `/readyz` with 200.
    ///
    /// # Panics
    /// When it exits or is not ready within two minutes; the panic shows its output.
    pub fn start(binary: &Path, args: &[&str], envs: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().expect("temporary directory for the gateway's log");
        let log = dir.path().join("gateway.log");
        let all: Vec<&str> = ["serve", "--addr", "127.0.0.1:0"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let mut process = Supervised::spawn_env("wasmplug serve", binary, &all, envs, &log);
        let deadline = Instant::now() + READY_TIMEOUT;
        let addr = loop {
            let output = process.log();
            if let Some(addr) = output
                .lines()
                .find_map(|l| l.split("listening on http://").nth(1))
                .and_then(|a| a.trim().parse().ok())
            {
                break addr;
            }
            assert!(
                process.is_running() && Instant::now() < deadline,
                "the gateway did not start:\n{output}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while http(addr, "GET", "/readyz", &[], b"").map(|r| r.status) != Some(200) {
            assert!(
                process.is_running() && Instant::now() < deadline,
                "the gateway did not become ready:\n{}",
                process.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Gateway {
            process,
            addr,
            _dir: dir,
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything it printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.process.log()
    }

    /// The process (its pid; [`Supervised::kill`] for a crash).
    pub fn process(&mut self) -> &mut Supervised {
        &mut self.process
    }

    /// One request to the gateway.
    ///
    /// # Panics
    /// When the request fails at the socket level.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        http(self.addr, method, path, headers, body)
            .unwrap_or_else(|| panic!("{method} {path} failed; gateway output:\n{}", self.output()))
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body (not de-chunked: the gateway sends lengths).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), 30 s read timeout;
/// `None` on any I/O or parse error.
pub fn http(
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
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}
