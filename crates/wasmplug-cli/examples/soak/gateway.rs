//! The gateway process under test: started as `wasmplug serve --config ...`, its address read
//! from its first line, its resources read from `/proc`, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::plugins::Setup;

/// A running `wasmplug serve`.
pub struct Gateway {
    child: Mutex<Child>,
    base: String,
    log: PathBuf,
}

/// Resource use of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Resident set size in bytes.
    pub rss: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Threads.
    pub threads: u64,
}

impl Gateway {
    /// Starts the gateway and waits (at most 60 s) for its listening line.
    pub fn start(wasmplug: &Path, work: &Path, setup: &Setup) -> anyhow::Result<Gateway> {
        let log = work.join("gateway.log");
        let mut child = Command::new(wasmplug)
            .arg("serve")
            .arg("--config")
            .arg(&setup.config)
            .arg("--data-dir")
            .arg(work.join("data"))
            .env("WASMPLUG_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("cannot start `{}`", wasmplug.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let log_out = work.join("gateway.out");
        std::thread::spawn(move || {
            let mut out = std::fs::File::create(log_out).ok();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("wasmplug gateway listening on ") {
                    let _ = tx.send(addr.trim().to_string());
                }
                if let Some(out) = out.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(out, "{line}");
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "the gateway printed no address within 60 s; see {}",
                    log.display()
                );
            }
        };
        Ok(Gateway {
            child: Mutex::new(child),
            base,
            log,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    /// Whether it still runs.
    pub fn alive(&self) -> bool {
        matches!(self.child.lock().unwrap().try_wait(), Ok(None))
    }

    /// Bytes the gateway logged (stderr).
    pub fn log_size(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len())
    }

    /// SIGTERM, then waits up to `grace` for a clean exit (status 0); kills it otherwise.
    pub fn stop(&self, grace: Duration) -> anyhow::Result<()> {
        let mut child = self.child.lock().unwrap();
        if let Some(status) = child.try_wait()? {
            bail!("the gateway had already exited ({status})");
        }
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        let limit = Instant::now() + grace;
        while Instant::now() < limit {
            if let Some(status) = child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    bail!("the gateway exited with {status} after SIGTERM")
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        bail!("the gateway did not exit within {grace:?} of SIGTERM")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock()
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `pid`'s RSS and threads from `/proc/<pid>/status` and counts `/proc/<pid>/fd`.
pub fn usage(pid: u32) -> anyhow::Result<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64;
    Ok(Usage {
        rss: field("VmRSS:") * 1024,
        fds,
        threads: field("Threads:"),
    })
}
