//! A `wasmplug serve` for the browser tests: the real binary on a free loopback port, with
//! an admin token, its own cache and data directories, and a plain HTTP client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{built, root};

/// The admin token of every test gateway.
pub const TOKEN: &str = "console-test-token-5f1c";

/// A running gateway; killed on drop.
pub struct Gateway {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plugin directory holding copies of the bundled example plugins (uploads write into
/// the plugin directory, so the tests never serve `examples/plugins` itself).
pub fn examples_dir() -> tempfile::TempDir {
    let repo = built();
    let dir = tempfile::tempdir().unwrap();
    for name in ["api-proxy", "echo", "greet", "json-transformer"] {
        let folder = dir.path().join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let source = repo.join("examples/plugins").join(name);
        for file in ["plugin.toml".to_string(), format!("{name}.wasm")] {
            std::fs::copy(source.join(&file), folder.join(&file)).unwrap();
        }
    }
    dir
}

impl Gateway {
    /// Serves `plugins` (a directory of `<name>/plugin.toml` folders) with [`TOKEN`].
    pub fn start(plugins: &Path) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--plugins"])
            .arg(plugins)
            .env("WASMPLUG_CACHE_DIR", dir.path().join("cache"))
            .env("WASMPLUG_DATA_DIR", dir.path().join("data"))
            .env("WASMPLUG_ADMIN_TOKEN", TOKEN)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in `{first}`"));
        // Keep reading so that the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        let gateway = Gateway { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(120);
        while gateway.request("GET", "/readyz", false, b"").0 != 200 {
            assert!(Instant::now() < deadline, "the gateway did not get ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        gateway
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A scratch directory that lives as long as the gateway.
    pub fn scratch(&self) -> PathBuf {
        let path = self.dir.path().join("scratch");
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// One request (`Connection: close`), with the admin token if `admin`; `(0, "")` when
    /// the gateway cannot be reached.
    pub fn request(&self, method: &str, path: &str, admin: bool, body: &[u8]) -> (u16, String) {
        http(self.addr, method, path, admin, body).unwrap_or((0, String::new()))
    }

    /// `GET /v1/admin/plugins`, as JSON.
    pub fn admin_plugins(&self) -> serde_json::Value {
        let (status, body) = self.request("GET", "/v1/admin/plugins", true, b"");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The weights of `plugin`'s versions, from the admin API.
    pub fn weights(&self, plugin: &str) -> Vec<(String, u64)> {
        let all = self.admin_plugins();
        let p = all["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == plugin)
            .unwrap_or_else(|| panic!("{plugin} not in {all}"))
            .clone();
        p["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["version"].as_str().unwrap().to_string(),
                    v["weight"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// Calls `plugin`'s `function` `n` times; returns the statuses seen.
    pub fn call(&self, plugin: &str, function: &str, n: usize) -> Vec<u16> {
        let path = format!("/v1/plugins/{plugin}/{function}");
        (0..n)
            .map(|_| self.request("POST", &path, false, b"console").0)
            .collect()
    }
}

fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    admin: bool,
    body: &[u8],
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let auth = if admin {
        format!("Authorization: Bearer {TOKEN}\r\n")
    } else {
        String::new()
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Calls made in the background at about 50 a second, so that screenshots show live
/// rates; bounded to [`Load::MAX_CALLS`] calls and [`Load::MAX_TIME`].
pub struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl Load {
    const MAX_CALLS: usize = 5000;
    const MAX_TIME: Duration = Duration::from_secs(90);

    /// Starts calling `plugin`'s `function` on `gateway`.
    pub fn start(gateway: &Gateway, plugin: &str, function: &str) -> Load {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, addr) = (stop.clone(), gateway.addr);
        let path = format!("/v1/plugins/{plugin}/{function}");
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut calls = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed)
                && calls < Load::MAX_CALLS
                && start.elapsed() < Load::MAX_TIME
            {
                let _ = http(addr, "POST", &path, false, b"load");
                calls += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            calls
        });
        Load {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops; returns the calls made.
    pub fn stop(mut self) -> usize {
        self.halt()
    }

    fn halt(&mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap_or(0))
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.halt();
    }
}
