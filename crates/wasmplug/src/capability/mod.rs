//! Capabilities: what a plugin may touch outside its own memory. Everything is denied unless
//! granted here (by the manifest's `[capabilities]`, the embedding application, or CLI flags).
//!
//! ```toml
//! [capabilities]
//! fs = ["./data:/data:ro", "/var/cache/app:/cache:rw"]   # HOST[:GUEST][:ro|rw]
//! env = ["LOG_LEVEL=debug", "TZ"]                        # NAME=VALUE or NAME (host's value)
//! net = ["https://api.example.com", "http://*.internal:8080"]
//! ```
//!
//! Always available: clocks (wall and monotonic) and random numbers — a plugin needs them to
//! do ordinary work, and they reveal nothing about the host that the network would not.
//! Always denied: sockets (WASI preview 1 has no way to open one and none is pre-opened),
//! program arguments, stdin (empty). Stdout and stderr are captured per call (capped by
//! `Limits::max_stdio`), never written to the host's own streams.

mod capture;
mod env;
mod fs;
mod net;

pub use env::EnvGrant;
pub use fs::{FsMode, FsMount};
pub use net::NetPattern;

pub(crate) use capture::{Capture, Captured};

use std::path::Path;

use serde::Deserialize;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::error::{Error, Result};

/// The grants of one plugin. The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capabilities {
    /// Directory mounts.
    pub fs: Vec<FsMount>,
    /// Environment variables.
    pub env: Vec<EnvGrant>,
    /// Allowed outbound destinations (for the `http` host function).
    pub net: Vec<NetPattern>,
}

impl Capabilities {
    /// Adds `other`'s grants to these.
    pub fn extend(&mut self, other: Capabilities) {
        self.fs.extend(other.fs);
        self.env.extend(other.env);
        self.net.extend(other.net);
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.fs.is_empty() && self.env.is_empty() && self.net.is_empty()
    }

    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        for mount in &mut self.fs {
            mount.resolve_against(base);
        }
    }

    /// Checks the grants before any instance is made: every mounted host path must be an
    /// existing directory.
    pub(crate) fn validate(&self) -> Result<()> {
        for mount in &self.fs {
            match std::fs::metadata(&mount.host) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(Error::Capability {
                        reason: format!(
                            "mount `{mount}`: `{}` is not a directory",
                            mount.host.display()
                        ),
                    });
                }
                Err(e) => {
                    return Err(Error::Capability {
                        reason: format!(
                            "mount `{mount}`: cannot open `{}`: {e}",
                            mount.host.display()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The WASI context for one instance: only what is granted here.
    pub(crate) fn wasi_builder(
        &self,
        env: &[(String, String)],
        stdout: &Capture,
        stderr: &Capture,
    ) -> Result<WasiCtxBuilder> {
        let mut b = WasiCtxBuilder::new();
        b.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        b.stdout(stdout.clone()).stderr(stderr.clone());
        for (k, v) in env {
            b.env(k, v);
        }
        for mount in &self.fs {
            let perms = match mount.mode {
                FsMode::ReadOnly => FsPerms::ReadOnly,
                FsMode::ReadWrite => FsPerms::ReadWrite,
            };
            b.preopened_dir(&mount.host, &mount.guest, perms)
                .map_err(|e| Error::Capability {
                    reason: format!("mount `{mount}`: {e:#}"),
                })?;
        }
        Ok(b)
    }
}
