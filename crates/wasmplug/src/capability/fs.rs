//! File-system mounts: `HOST[:GUEST][:ro|rw]`.
//!
//! A mount makes one host directory visible to the guest at a guest path. The guest reaches
//! nothing else: wasmtime-wasi resolves every path relative to an open directory handle
//! (capability-based, cap-std), so `..` and symlinks cannot leave the mount.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};

/// Whether a mount can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FsMode {
    /// Read-only (the default).
    #[default]
    ReadOnly,
    /// Read-write: the guest may create, write, rename and delete inside the mount.
    ReadWrite,
}

/// One directory mount granted to a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FsMount {
    /// The host directory.
    pub host: PathBuf,
    /// Where the guest sees it (an absolute guest path such as `/data`).
    pub guest: String,
    /// Read-only or read-write.
    pub mode: FsMode,
}

impl FsMount {
    /// Makes a relative host path relative to `base` (a manifest's folder).
    pub(crate) fn resolve_against(&mut self, base: &Path) {
        if self.host.is_relative() {
            self.host = base.join(&self.host);
        }
    }
}

impl FromStr for FsMount {
    type Err = String;

    /// Parses `HOST[:GUEST][:ro|rw]`; the guest path defaults to the host path and the mode
    /// to `ro`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts: Vec<&str> = s.split(':').collect();
        let mode = match parts.last() {
            Some(&"ro") if parts.len() > 1 => {
                parts.pop();
                FsMode::ReadOnly
            }
            Some(&"rw") if parts.len() > 1 => {
                parts.pop();
                FsMode::ReadWrite
            }
            _ => FsMode::ReadOnly,
        };
        let (host, guest) = match parts.as_slice() {
            [host] => (*host, *host),
            [host, guest] => (*host, *guest),
            _ => {
                return Err(format!(
                    "invalid mount `{s}`: expected HOST[:GUEST][:ro|rw]"
                ));
            }
        };
        if host.is_empty() || guest.is_empty() {
            return Err(format!("invalid mount `{s}`: empty host or guest path"));
        }
        Ok(FsMount {
            host: PathBuf::from(host),
            guest: guest.to_string(),
            mode,
        })
    }
}

impl fmt::Display for FsMount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            FsMode::ReadOnly => "ro",
            FsMode::ReadWrite => "rw",
        };
        write!(f, "{}:{}:{mode}", self.host.display(), self.guest)
    }
}

impl<'de> Deserialize<'de> for FsMount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        let m: FsMount = "/srv/data".parse().unwrap();
        assert_eq!(
            (m.host.to_str().unwrap(), m.guest.as_str(), m.mode),
            ("/srv/data", "/srv/data", FsMode::ReadOnly)
        );
        let m: FsMount = "./data:/data".parse().unwrap();
        assert_eq!((m.guest.as_str(), m.mode), ("/data", FsMode::ReadOnly));
        let m: FsMount = "/tmp/out:/out:rw".parse().unwrap();
        assert_eq!(m.mode, FsMode::ReadWrite);
        let m: FsMount = "/tmp/x:rw".parse().unwrap();
        assert_eq!((m.guest.as_str(), m.mode), ("/tmp/x", FsMode::ReadWrite));
        assert_eq!(m.to_string(), "/tmp/x:/tmp/x:rw");
    }

    #[test]
    fn rejects_malformed_mounts() {
        assert!(
            "a:b:c:ro"
                .parse::<FsMount>()
                .unwrap_err()
                .contains("HOST[:GUEST]")
        );
        assert!(":/data".parse::<FsMount>().unwrap_err().contains("empty"));
    }
}
