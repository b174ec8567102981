//! [`RedisServer`]: a real `redis-server` on a free loopback port.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::binary;
use crate::process::{Supervised, free_port};

/// How long a server may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Ports tried when the picked one was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// A `redis-server` on `127.0.0.1`, with a temporary working directory, stopped on drop.
///
/// By default nothing is persisted (`--save ''`, `--appendonly no`); [`RedisServer::start_with`]
/// passes extra arguments (for example `["--appendonly", "yes", "--appendfsync", "always"]`).
#[derive(Debug)]
pub struct RedisServer {
    process: Option<Supervised>,
    port: u16,
    args: Vec<String>,
    dir: tempfile::TempDir,
    binary: PathBuf,
}

impl RedisServer {
    /// Starts a server without persistence.
    ///
    /// # Panics
    /// When `redis-server` is not installed or does not become ready.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments.
    ///
    /// # Panics
    /// When `redis-server` is not installed or does not become ready.
    pub fn start_with(args: &[&str]) -> RedisServer {
        let mut server = RedisServer {
            process: None,
            port: 0,
            args: args.iter().map(|a| a.to_string()).collect(),
            dir: tempfile::tempdir().expect("temporary directory for redis-server"),
            binary: binary::find("redis-server", binary::REDIS_SERVER_ENV),
        };
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            server.port = free_port();
            match server.launch() {
                Ok(()) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!("redis-server did not start after {PORT_ATTEMPTS} attempts; its log:\n{last_log}");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on (kept across [`RedisServer::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server process, while it runs (its pid, its log).
    pub fn process(&mut self) -> Option<&mut Supervised> {
        self.process.as_mut()
    }

    /// Stops the server (SIGKILL); [`RedisServer::restart`] starts it again. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts the server again on the same port and directory (stopping it first if needed).
    ///
    /// # Panics
    /// When it does not become ready (for example because the port was taken meanwhile).
    pub fn restart(&mut self) {
        self.stop();
        if let Err(log) = self.launch() {
            panic!(
                "redis-server did not restart on port {}; its log:\n{log}",
                self.port
            );
        }
    }

    /// Starts the process and waits until it answers as itself; on failure returns its log.
    fn launch(&mut self) -> Result<(), String> {
        let dir = self.dir.path();
        let mut args: Vec<String> = [
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir.to_string_lossy(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.extend(self.args.iter().cloned());
        let log = dir.join("redis.log");
        let mut process = Supervised::spawn("redis-server", &self.binary, &args, &log);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if server_pid(addr) == Some(process.pid()) {
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

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `process_id` the server at `addr` reports in `INFO server`, if it answers.
fn server_pid(addr: SocketAddr) -> Option<u32> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream
        .write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    // A bulk string: read until the pid line has arrived (the reply is a few KiB).
    while !contains_pid_line(&reply) {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    text.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

fn contains_pid_line(reply: &[u8]) -> bool {
    let text = String::from_utf8_lossy(reply);
    text.find("process_id:")
        .is_some_and(|at| text[at..].contains("\r\n"))
}
