//! [`UntrustedReason`]: why a trust policy refused a module, with a stable class name.

use std::fmt;

/// Why the trust policy refused a module (the `reason` of [`Error::Untrusted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UntrustedReason {
    /// No signature, and the policy requires one.
    Unsigned,
    /// Signed only by keys the policy does not trust.
    UnknownKey {
        /// Key ids named in the signatures (signers may omit them).
        key_ids: Vec<String>,
    },
    /// Signed by trusted publishers none of whom may publish this plugin name.
    KeyNotAllowed {
        /// The publishers whose signatures verify.
        publishers: Vec<String>,
    },
    /// The module was changed after it was signed.
    Tampered,
    /// The `signature` section cannot be decoded.
    MalformedSignature {
        /// What is wrong.
        message: String,
    },
}

impl UntrustedReason {
    /// A short stable name: `unsigned`, `unknown_key`, `key_not_allowed`, `tampered`,
    /// `malformed_signature` (audit records and metric labels use it).
    pub fn class(&self) -> &'static str {
        match self {
            UntrustedReason::Unsigned => "unsigned",
            UntrustedReason::UnknownKey { .. } => "unknown_key",
            UntrustedReason::KeyNotAllowed { .. } => "key_not_allowed",
            UntrustedReason::Tampered => "tampered",
            UntrustedReason::MalformedSignature { .. } => "malformed_signature",
        }
    }
}

impl fmt::Display for UntrustedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UntrustedReason::Unsigned => f.write_str(
                "unsigned: the policy requires a signature from a trusted publisher (sign it with `wasmplug sign`)",
            ),
            UntrustedReason::UnknownKey { key_ids } if key_ids.is_empty() => f.write_str(
                "unknown key: signed only by keys the policy does not trust (the signatures name no key id)",
            ),
            UntrustedReason::UnknownKey { key_ids } => write!(
                f,
                "unknown key: signed only by keys the policy does not trust (key ids {})",
                key_ids.join(", ")
            ),
            UntrustedReason::KeyNotAllowed { publishers } => write!(
                f,
                "key not allowed: signed by {} whose keys may not publish this plugin name (see `plugins` in `[trust.publishers]`)",
                publishers.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            ),
            UntrustedReason::Tampered => f.write_str(
                "tampered: the module was modified after it was signed (its contents do not match the signed hash)",
            ),
            UntrustedReason::MalformedSignature { message } => {
                write!(f, "malformed signature section: {message}")
            }
        }
    }
}
