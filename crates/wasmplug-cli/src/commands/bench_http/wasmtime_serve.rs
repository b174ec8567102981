//! `wasmtime serve` as the comparison server for `wasi:http` components: started on a free
//! loopback port with its default settings, stopped when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running `wasmtime serve` child process.
pub struct WasmtimeServe {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// `wasmtime --version`.
    pub version: String,
}

impl WasmtimeServe {
    /// Starts `binary serve --addr 127.0.0.1:<free port> component` and waits (at most 60 s,
    /// the component is compiled first) until it accepts connections.
    pub fn start(binary: &Path, component: &Path) -> anyhow::Result<Self> {
        let version = Command::new(binary)
            .arg("--version")
            .output()
            .with_context(|| format!("cannot run `{}`", binary.display()))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let child = Command::new(binary)
            .arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg(component)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start `{} serve`", binary.display()))?;
        let mut server = Self {
            child,
            addr,
            version,
        };
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("`wasmtime serve` exited at start-up: {status}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("`wasmtime serve` did not listen on {addr} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

impl Drop for WasmtimeServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
