//! [`TrustConfig`]: the `[trust]` table of `wasmplug.toml`.
//!
//! ```toml
//! [trust]
//! require_signatures = true              # refuse unsigned plugins (production)
//! audit_log = "/var/log/wasmplug/trust.jsonl"
//!
//! [trust.publishers.acme]                # a trusted publisher
//! key = "keys/acme.pub"                  # `wasmplug keygen` / `wasmsign2 keygen` public key
//! plugins = ["acme-*", "json-transformer"] # the plugin names it may publish (globs)
//! ```
//!
//! Paths are relative to the file that holds the table ([`TrustConfig::resolve_paths`]).
//! Unknown keys are errors. [`crate::trust::TrustPolicy::from_config`] turns it into a
//! policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The `[trust]` table. The default is an inactive policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TrustConfig {
    /// Refuse modules without a signature of a trusted publisher. By default `false`.
    pub require_signatures: bool,
    /// JSON-lines audit log of every verdict. By default none.
    pub audit_log: Option<PathBuf>,
    /// Trusted publishers by name.
    pub publishers: BTreeMap<String, PublisherConfig>,
}

/// One `[trust.publishers.<name>]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PublisherConfig {
    /// Public key file.
    pub key: PathBuf,
    /// Plugin names (globs) the publisher may publish.
    pub plugins: Vec<String>,
}

impl TrustConfig {
    /// Makes the key and audit-log paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        for publisher in self.publishers.values_mut() {
            publisher.key = base.join(&publisher.key);
        }
        self.audit_log = self.audit_log.take().map(|p| base.join(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_paths() {
        let mut c: TrustConfig = toml::from_str(
            "require_signatures = true\naudit_log = \"audit.jsonl\"\n[publishers.acme]\nkey = \"k/acme.pub\"\nplugins = [\"acme-*\"]\n",
        )
        .unwrap();
        c.resolve_paths(Path::new("/etc/wasmplug"));
        assert!(c.require_signatures);
        assert_eq!(
            c.audit_log.as_deref(),
            Some(Path::new("/etc/wasmplug/audit.jsonl"))
        );
        assert_eq!(
            c.publishers["acme"].key,
            PathBuf::from("/etc/wasmplug/k/acme.pub")
        );
        let err = toml::from_str::<TrustConfig>("require_signature = true\n").unwrap_err();
        assert!(err.to_string().contains("require_signature"), "{err}");
        let err = toml::from_str::<TrustConfig>("[publishers.a]\nkey = \"k\"\n").unwrap_err();
        assert!(err.to_string().contains("plugins"), "{err}");
    }
}
