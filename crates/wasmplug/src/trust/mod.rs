//! Signed plugins: keys, embedded signatures, the host's trust policy and its audit log.
//!
//! - [`SigningKey`] / [`PublicKey`]: Ed25519 keys in the reference `wasmsign2` tool's file
//!   formats (`wasmplug keygen` writes them).
//! - [`sign`] / [`check`]: signatures embedded in a module's first custom section,
//!   `signature`, in the format of the WebAssembly tool-conventions *Signatures* proposal
//!   (the `wasmsign2` crate): they cover every byte after that section, metadata sections
//!   included, and a module may carry several signers.
//! - [`TrustPolicy`]: trusted publishers (a key and the plugin names it may publish) and
//!   whether unsigned modules are refused; [`TrustConfig`] is its `[trust]` table in
//!   `wasmplug.toml`. [`crate::PluginBuilder::trust`] and [`crate::RegistryConfig::trust`]
//!   apply it: every load, hot reload and admin upload is checked **before** the module is
//!   parsed or compiled, and refused with [`crate::Error::Untrusted`].
//! - [`AuditLog`]: every verdict as one JSON line; each verdict is also counted in
//!   `wasmplug_trust_verdicts_total{plugin, verdict, reason}`.
//!
//! See `docs/trust.md` for the workflow and the production configuration.

mod audit;
mod config;
mod keys;
mod load;
mod policy;
mod reason;
mod signature;

pub use audit::{AuditLog, AuditRecord, Verdict};
pub use config::{PublisherConfig, TrustConfig};
pub use keys::{PublicKey, SigningKey};
pub use policy::{Publisher, Signer, TrustPolicy};
pub use reason::UntrustedReason;
pub use signature::{SIGNATURE_SECTION, SignatureCheck, check, sign};

pub(crate) use load::verify_before_parse;
