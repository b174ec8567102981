//! [`TrustPolicy`]: which signatures a host accepts, and the decision for one module.
//!
//! Decision table (docs/trust.md):
//!
//! | the module | `require_signatures = true` | `= false` |
//! |---|---|---|
//! | signed by a trusted key allowed for its name | accepted | accepted |
//! | signed by trusted keys, none allowed for its name | refused `key_not_allowed` | refused `key_not_allowed` |
//! | signed only by keys not in the policy | refused `unknown_key` | accepted (unverified) |
//! | unsigned | refused `unsigned` | accepted (unverified) |
//! | changed after signing | refused `tampered` | refused `tampered` |
//! | unreadable `signature` section | refused `malformed_signature` | refused `malformed_signature` |
//!
//! A policy with no publishers, no audit log and `require_signatures = false` is off: nothing
//! is checked (the default, and the demo's setting).

use super::audit::{AuditLog, AuditRecord, Verdict};
use super::config::TrustConfig;
use super::keys::PublicKey;
use super::reason::UntrustedReason;
use super::signature::{SignatureCheck, check};
use crate::error::{Error, Result};

/// A trusted publisher: a name, a public key and the plugin names it may publish.
#[derive(Debug, Clone)]
pub struct Publisher {
    name: String,
    key: PublicKey,
    plugins: Vec<glob::Pattern>,
}

impl Publisher {
    /// The publisher's name (as written in the policy).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Whether it may publish plugin `name`.
    pub fn may_publish(&self, name: &str) -> bool {
        self.plugins.iter().any(|p| p.matches(name))
    }
}

/// Who signed an accepted module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The trusted publisher.
    pub publisher: String,
    /// Its key id.
    pub key_id: String,
}

/// The host's trust policy. By default off: every module loads, nothing is recorded.
///
/// ```
/// use wasmplug::trust::{SigningKey, TrustPolicy};
///
/// # fn main() -> wasmplug::Result<()> {
/// let key = SigningKey::generate().public_key();
/// let policy = TrustPolicy::new()
///     .require_signatures(true)
///     .publisher("acme", key, &["acme-*", "json-transformer"])?;
/// assert!(policy.publishers()[0].may_publish("acme-billing"));
/// assert!(!policy.publishers()[0].may_publish("greet"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct TrustPolicy {
    publishers: Vec<Publisher>,
    require_signatures: bool,
    audit: Option<AuditLog>,
}

impl TrustPolicy {
    /// A policy that is off (see the type's docs).
    pub fn new() -> TrustPolicy {
        TrustPolicy::default()
    }

    /// Refuse modules without a signature from a trusted publisher. By default `false`.
    pub fn require_signatures(mut self, required: bool) -> Self {
        self.require_signatures = required;
        self
    }

    /// Trusts `key` as publisher `name` for the plugin names matching one of `plugins`
    /// (globs: `*`, `?`, `[a-z]`).
    ///
    /// # Errors
    /// [`Error::TrustPolicy`] for a bad glob, an empty `plugins` list, or a publisher name
    /// or key given twice.
    pub fn publisher(mut self, name: &str, key: PublicKey, plugins: &[&str]) -> Result<Self> {
        let bad = |reason: String| Err(Error::TrustPolicy { reason });
        if plugins.is_empty() {
            return bad(format!(
                "publisher `{name}` has an empty `plugins` list; name the plugins it may publish (`[\"*\"]` for all)"
            ));
        }
        if let Some(p) = self
            .publishers
            .iter()
            .find(|p| p.name == name || p.key == key)
        {
            return bad(format!(
                "publisher `{name}` repeats the name or key of `{}`",
                p.name
            ));
        }
        let plugins = plugins
            .iter()
            .map(|g| {
                glob::Pattern::new(g).map_err(|e| Error::TrustPolicy {
                    reason: format!("publisher `{name}`: bad plugin-name glob `{g}`: {e}"),
                })
            })
            .collect::<Result<_>>()?;
        self.publishers.push(Publisher {
            name: name.to_string(),
            key,
            plugins,
        });
        Ok(self)
    }

    /// Appends every verdict to `log`. By default verdicts are only counted (metric
    /// `wasmplug_trust_verdicts_total`) and logged.
    pub fn audit_log(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }

    /// The policy described by a `[trust]` table (paths already resolved, see
    /// [`TrustConfig::resolve_paths`]): reads the key files and opens the audit log.
    ///
    /// # Errors
    /// Unreadable or invalid key files ([`Error::Key`]), bad globs
    /// ([`Error::TrustPolicy`]), an audit log that cannot be opened ([`Error::Io`]).
    pub fn from_config(config: &TrustConfig) -> Result<TrustPolicy> {
        let mut policy = TrustPolicy::new().require_signatures(config.require_signatures);
        for (name, publisher) in &config.publishers {
            let key = PublicKey::from_file(&publisher.key)?;
            let globs: Vec<&str> = publisher.plugins.iter().map(String::as_str).collect();
            policy = policy.publisher(name, key, &globs)?;
        }
        if let Some(path) = &config.audit_log {
            policy = policy.audit_log(AuditLog::open(path)?);
        }
        Ok(policy)
    }

    /// Whether the policy checks anything (see the type's docs).
    pub fn is_active(&self) -> bool {
        self.require_signatures || !self.publishers.is_empty() || self.audit.is_some()
    }

    /// Whether unsigned modules are refused.
    pub fn requires_signatures(&self) -> bool {
        self.require_signatures
    }

    /// The trusted publishers.
    pub fn publishers(&self) -> &[Publisher] {
        &self.publishers
    }

    /// Decides on `module` (binary), published as plugin `plugin` `version`, and records
    /// the verdict (audit log, metric, log line). Returns the signer of an accepted signed
    /// module. An inactive policy accepts without recording anything.
    ///
    /// # Errors
    /// [`Error::Untrusted`] naming the reason.
    pub fn verify(
        &self,
        module: &[u8],
        plugin: &str,
        version: &str,
        sha256: &str,
    ) -> Result<Option<Signer>> {
        if !self.is_active() {
            return Ok(None);
        }
        let keys: Vec<PublicKey> = self.publishers.iter().map(|p| p.key.clone()).collect();
        let decision = self.decide(check(module, &keys), plugin);
        let mut record = AuditRecord::new(plugin, version, sha256, decision.key_id);
        let result = match decision.outcome {
            Ok((signer, detail)) => {
                record.verdict(Verdict::Accepted, accepted_reason(&signer), detail);
                tracing::info!(plugin, version, "trust policy: {}", record.detail);
                Ok(signer)
            }
            Err(reason) => {
                record.verdict(Verdict::Refused, reason.class(), reason.to_string());
                tracing::info!(plugin, version, "trust policy refused the module: {reason}");
                Err(Error::Untrusted {
                    plugin: plugin.to_string(),
                    version: version.to_string(),
                    reason,
                })
            }
        };
        crate::metrics::trust_verdict(plugin, record.verdict, &record.reason);
        if let Some(log) = &self.audit {
            log.append(&record);
        }
        result
    }

    /// The verdict and the key id to record with it.
    fn decide(&self, found: SignatureCheck, plugin: &str) -> Decision {
        let optional = !self.require_signatures;
        match found {
            SignatureCheck::Unsigned if optional => {
                Decision::accept(None, "unsigned (signatures are not required)".into(), None)
            }
            SignatureCheck::Unsigned => Decision::refuse(UntrustedReason::Unsigned, None),
            SignatureCheck::Tampered => Decision::refuse(UntrustedReason::Tampered, None),
            SignatureCheck::Malformed { message } => {
                Decision::refuse(UntrustedReason::MalformedSignature { message }, None)
            }
            SignatureCheck::Signed { trusted, key_ids } if trusted.is_empty() => {
                let first = key_ids.first().cloned();
                if optional {
                    let detail = format!(
                        "signed by keys the policy does not trust ({}); accepted unverified (signatures are not required)",
                        if key_ids.is_empty() {
                            "no key id".to_string()
                        } else {
                            key_ids.join(", ")
                        }
                    );
                    Decision::accept(None, detail, first)
                } else {
                    Decision::refuse(UntrustedReason::UnknownKey { key_ids }, first)
                }
            }
            SignatureCheck::Signed { trusted, .. } => {
                let signers: Vec<&Publisher> =
                    trusted.iter().map(|&i| &self.publishers[i]).collect();
                match signers.iter().find(|p| p.may_publish(plugin)) {
                    Some(p) => {
                        let key_id = p.key.key_id();
                        let detail = format!("signed by `{}` (key {key_id})", p.name);
                        let signer = Signer {
                            publisher: p.name.clone(),
                            key_id: key_id.clone(),
                        };
                        Decision::accept(Some(signer), detail, Some(key_id))
                    }
                    None => Decision::refuse(
                        UntrustedReason::KeyNotAllowed {
                            publishers: signers.iter().map(|p| p.name.clone()).collect(),
                        },
                        Some(signers[0].key.key_id()),
                    ),
                }
            }
        }
    }
}

fn accepted_reason(signer: &Option<Signer>) -> &'static str {
    if signer.is_some() {
        "signed"
    } else {
        "unverified"
    }
}

/// A verdict before it is recorded.
struct Decision {
    /// The signer (if any) and the sentence to record, or the refusal.
    outcome: std::result::Result<(Option<Signer>, String), UntrustedReason>,
    /// The key id to record.
    key_id: Option<String>,
}

impl Decision {
    fn accept(signer: Option<Signer>, detail: String, key_id: Option<String>) -> Decision {
        Decision {
            outcome: Ok((signer, detail)),
            key_id,
        }
    }

    fn refuse(reason: UntrustedReason, key_id: Option<String>) -> Decision {
        Decision {
            outcome: Err(reason),
            key_id,
        }
    }
}
