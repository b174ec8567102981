//! [`OciRegistry`]: a real `docker-registry` (CNCF distribution) on a free loopback port.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::binary;
use crate::process::{Supervised, free_port};

const READY_TIMEOUT: Duration = Duration::from_secs(20);
const PORT_ATTEMPTS: usize = 5;
/// Response header carrying this instance's token, so readiness is checked against it.
const IDENTITY_HEADER: &str = "X-Wasmplug-Testkit";

/// A `docker-registry` on `127.0.0.1` over plain HTTP, without authentication, storing
/// blobs in a temporary directory; stopped on drop.
///
/// The Debian package's own `/etc/docker/registry/config.yml` (htpasswd auth, port 5000) is
/// not used: the config is written here.
#[derive(Debug)]
pub struct OciRegistry {
    process: Option<Supervised>,
    port: u16,
    dir: tempfile::TempDir,
    binary: PathBuf,
}

impl OciRegistry {
    /// Starts a registry.
    ///
    /// # Panics
    /// When `docker-registry` is not installed or does not become ready.
    pub fn start() -> OciRegistry {
        let mut registry = OciRegistry {
            process: None,
            port: 0,
            dir: tempfile::tempdir().expect("temporary directory for docker-registry"),
            binary: binary::find("docker-registry", binary::DOCKER_REGISTRY_ENV),
        };
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            registry.port = free_port();
            match registry.launch() {
                Ok(()) => return registry,
                Err(log) => last_log = log,
            }
        }
        panic!(
            "docker-registry did not start after {PORT_ATTEMPTS} attempts; its log:\n{last_log}"
        );
    }

    /// `127.0.0.1:<port>`, the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Root of the registry's filesystem storage (`docker/registry/v2/...` below it).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The stored file of blob `digest` (`sha256:<hex>`), for tests that tamper with it.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2.min(hex.len())])
            .join(hex)
            .join("data")
    }

    /// The registry process (its pid, its log).
    pub fn process(&mut self) -> Option<&mut Supervised> {
        self.process.as_mut()
    }

    /// Stops the registry. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    fn launch(&mut self) -> Result<(), String> {
        let token = format!("{}-{}", std::process::id(), self.port);
        let config = self.dir.path().join("config.yml");
        std::fs::write(&config, config_yaml(&self.storage_dir(), self.port, &token))
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let log = self.dir.path().join("registry.log");
        let mut process = Supervised::spawn(
            "docker-registry",
            &self.binary,
            [Path::new("serve"), &config],
            &log,
        );
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if identity(addr).as_deref() == Some(token.as_str()) {
                self.process = Some(process);
                return Ok(());
            }
            if !process.is_running() || Instant::now() > deadline {
                let log = process.log();
                process.stop();
                return Err(log);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config_yaml(storage: &Path, port: u16, token: &str) -> String {
    format!(
        "version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  headers:
    {IDENTITY_HEADER}: [\"{token}\"]
",
        storage = storage.display()
    )
}

/// The identity header of `GET /v2/` at `addr`, when it answers 200.
fn identity(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    write!(
        stream,
        "GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, _) = reply.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    if !lines.next()?.starts_with("HTTP/1.1 200") {
        return None;
    }
    lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case(IDENTITY_HEADER)
            .then(|| value.trim().to_owned())
    })
}
