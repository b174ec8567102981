//! [`Haproxy`]: a real `haproxy` (Debian package `haproxy`) balancing HTTP round-robin over
//! backends on loopback, with a config written here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::binary;
use crate::gateway::http;
use crate::process::{Supervised, free_port};

/// How long the balancer may take to answer through a healthy backend.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Environment variable naming the `haproxy` binary to use.
pub const HAPROXY_ENV: &str = "WASMPLUG_HAPROXY";

/// A `haproxy` in front of some backends, stopped on drop.
///
/// Health checks `GET /readyz` every 200 ms (a backend is out after one failed check, back
/// after two good ones); a request whose connection to a backend fails is retried on
/// another one (`retry-on conn-failure empty-response response-timeout`, `option
/// redispatch`), as a production setup would (docs/deploy.md).
#[derive(Debug)]
pub struct Haproxy {
    process: Supervised,
    addr: SocketAddr,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    /// Starts a balancer over `backends` on a free loopback port and waits until a request
    /// to `/readyz` through it answers 200.
    ///
    /// # Panics
    /// When `haproxy` is not installed, refuses the config, or is not ready in time.
    pub fn start(backends: &[SocketAddr]) -> Haproxy {
        let binary = binary::find("haproxy", HAPROXY_ENV);
        let dir = tempfile::tempdir().expect("temporary directory for haproxy");
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, b)| format!("    server r{i} {b} check\n"))
            .collect();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n    maxconn 512\n\
                 defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n\
                 \x20   retries 3\n    option redispatch 1\n    retry-on conn-failure empty-response response-timeout\n\
                 frontend wasmplug\n    bind {addr}\n    default_backend replicas\n\
                 backend replicas\n    balance roundrobin\n    option httpchk GET /readyz\n\
                 \x20   default-server inter 200ms fall 1 rise 2\n{servers}"
            ),
        )
        .expect("write haproxy.cfg");
        let log = dir.path().join("haproxy.log");
        let mut process = Supervised::spawn(
            "haproxy",
            &binary,
            ["-db", "-f", &config.to_string_lossy()],
            &log,
        );
        let deadline = Instant::now() + READY_TIMEOUT;
        while http(addr, "GET", "/readyz", &[], b"").map(|r| r.status) != Some(200) {
            assert!(
                process.is_running() && Instant::now() < deadline,
                "haproxy did not become ready:\n{}",
                process.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Haproxy {
            process,
            addr,
            config,
            _dir: dir,
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The config file it runs with.
    pub fn config(&self) -> &std::path::Path {
        &self.config
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        self.process.log()
    }
}
