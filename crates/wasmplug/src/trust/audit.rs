//! The audit log: one JSON object per line for every verdict of a trust policy.
//!
//! ```json
//! {"time":"2026-01-01T12:00:00.000Z","plugin":"greet","version":"1.0.0","sha256":"…","key_id":"…","verdict":"refused","reason":"tampered","detail":"tampered: the module was modified after it was signed …"}
//! ```
//!
//! Invariants: a record is written with a single `write` on a file opened for appending, so
//! concurrent verdicts never interleave within a line; records are written after the
//! decision, acceptances and refusals alike. A write failure does not change the verdict:
//! it is logged and counted (`wasmplug_trust_audit_errors_total`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether the module may load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It may load.
    Accepted,
    /// It was refused.
    Refused,
}

impl Verdict {
    /// `accepted` or `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Refused => "refused",
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// Plugin name.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// sha256 of the module (lowercase hex).
    pub sha256: String,
    /// The key id of the accepted signer, or of a signature that was refused.
    pub key_id: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// `signed` / `unverified` for acceptances, [`super::UntrustedReason::class`] for
    /// refusals.
    pub reason: String,
    /// A sentence for people.
    pub detail: String,
}

impl AuditRecord {
    pub(crate) fn new(plugin: &str, version: &str, sha256: &str, key_id: Option<String>) -> Self {
        AuditRecord {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            plugin: plugin.to_string(),
            version: version.to_string(),
            sha256: sha256.to_string(),
            key_id,
            verdict: Verdict::Refused,
            reason: String::new(),
            detail: String::new(),
        }
    }

    pub(crate) fn verdict(&mut self, verdict: Verdict, reason: &str, detail: String) {
        self.verdict = verdict;
        self.reason = reason.to_string();
        self.detail = detail;
    }
}

/// An append-only JSON-lines file of [`AuditRecord`]s. Cheap to clone (one shared handle).
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: Arc<PathBuf>,
    file: Arc<Mutex<File>>,
}

impl AuditLog {
    /// Opens `path` for appending, creating it (and its folder) if needed.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(AuditLog {
            path: Arc::new(path.to_path_buf()),
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every record of the log at `path` (for tools and tests).
    ///
    /// # Errors
    /// [`Error::Io`], also (with `InvalidData`) naming a line that is not a record.
    pub fn read(path: impl AsRef<Path>) -> Result<Vec<AuditRecord>> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {} is not an audit record: {e}", i + 1),
                    ),
                })
            })
            .collect()
    }

    pub(crate) fn append(&self, record: &AuditRecord) {
        let mut line = serde_json::to_vec(record).expect("a record serialises");
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(&line) {
            crate::metrics::describe();
            metrics::counter!("wasmplug_trust_audit_errors_total").increment(1);
            tracing::error!(
                path = %self.path.display(),
                "cannot append to the trust audit log: {e}"
            );
        }
    }
}
