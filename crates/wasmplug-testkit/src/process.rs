//! [`Supervised`]: a server process under a `sh` watchdog, and [`free_port`].

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// Starts `"$@"` with its output appended to the log file `$1`, prints its pid, and kills it
/// (SIGKILL) as soon as this shell's stdin reaches end of file: when the test drops the
/// handle, or when the test process dies and the kernel closes the pipe.
/// (A background job's stdin is `/dev/null` in a non-interactive shell, hence fd 3; the
/// shell's own messages, such as "Killed", go to the log too.)
const WATCHDOG: &str = r#"log="$1"; shift
exec 3<&0 2>>"$log"
"$@" </dev/null >>"$log" 2>&1 &
pid=$!
echo "$pid"
( read -r _ <&3; kill -9 "$pid" 2>/dev/null ) &
exec 3<&-
wait "$pid""#;

/// A port on `127.0.0.1` that was free a moment ago (the kernel's pick for port 0).
///
/// # Panics
/// When no loopback socket can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback socket to find a free port")
}

/// A server process started under a watchdog; stopped (SIGKILL) on [`Supervised::stop`] or
/// drop, and also when the test process itself dies.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    shell: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    log: PathBuf,
}

impl Supervised {
    /// Starts `program args..`, appending its stdout and stderr to `log`.
    ///
    /// # Panics
    /// When `sh` cannot be started or does not report the server's pid.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
        log: &Path,
    ) -> Supervised {
        Supervised::spawn_env(name, program, args, &[], log)
    }

    /// Like [`Supervised::spawn`], with extra environment variables for the server.
    ///
    /// # Panics
    /// When `sh` cannot be started or does not report the server's pid.
    pub fn spawn_env(
        name: &str,
        program: &Path,
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
        envs: &[(&str, &str)],
        log: &Path,
    ) -> Supervised {
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("wasmplug-testkit-watchdog")
            .arg(log)
            .arg(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `sh` for {name}: {e}"));
        let mut line = String::new();
        let stdout = shell.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{name}: cannot read the watchdog's output: {e}"));
        let pid = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}: the watchdog printed `{line}`, not a pid"));
        Supervised {
            name: name.to_owned(),
            stdin: shell.stdin.take(),
            shell,
            pid,
            log: log.to_owned(),
        }
    }

    /// The server's process id (not the watchdog's).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What the server wrote to its stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the server is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.shell.try_wait(), Ok(None))
    }

    /// Sends `signal` (a name such as `STOP`, `CONT` or `TERM`) to the server, as
    /// `kill -<signal>` would. `STOP` freezes it: its port still accepts connections (the
    /// kernel's backlog) but nothing answers.
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }

    /// Sends SIGKILL to the server now (a crash, as `kill -9` would) and waits for it.
    pub fn kill(&mut self) {
        self.signal("KILL");
        self.stop();
    }

    /// Stops the server (SIGKILL through the watchdog) and waits until it is gone.
    /// Idempotent.
    pub fn stop(&mut self) {
        // Closing the pipe wakes the watchdog, which kills the server; the shell then exits.
        drop(self.stdin.take());
        if let Err(e) = self.shell.wait() {
            eprintln!("{}: waiting for the watchdog failed: {e}", self.name);
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}
