//! [`OciError`]: why pushing or pulling a plugin artifact failed.

use std::path::PathBuf;

/// Why a push to or a pull from an OCI registry failed. Each message names the reference.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The reference is not `oci://host[:port]/repository:tag` or `...@sha256:<digest>`.
    #[error(
        "invalid OCI reference `{reference}`: {reason}; expected oci://host[:port]/repository:tag or oci://host[:port]/repository@sha256:<64 hex digits>"
    )]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry could not be reached or answered with an error.
    #[error("OCI registry: {action} `{reference}` failed: {message}")]
    Registry {
        /// The reference.
        reference: String,
        /// What was being done (`pull the manifest of`, `push a blob of`, ...).
        action: &'static str,
        /// The client's or the registry's message.
        message: String,
    },
    /// The registry has no such repository, tag or digest.
    #[error(
        "`{reference}` is not in the registry ({message}); check the repository, tag or digest"
    )]
    NotFound {
        /// The reference.
        reference: String,
        /// The registry's message.
        message: String,
    },
    /// Content does not hash to the digest that names it: the registry, the network or the
    /// local cache altered it. Nothing of it was used.
    #[error(
        "digest mismatch in the {what} of `{reference}`: expected {expected}, got {actual}; the content was altered and is refused"
    )]
    DigestMismatch {
        /// The reference.
        reference: String,
        /// Which content (`manifest`, `application/wasm layer`, `cached plugin.toml`, ...).
        what: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// The artifact is not a wasmplug plugin (media types, layers, sizes or manifest).
    #[error("`{reference}` is not a wasmplug plugin artifact: {reason}")]
    NotAPlugin {
        /// The reference.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store's [`super::ArtifactVerifier`] refused the artifact.
    #[error("`{reference}` was refused by the artifact verifier: {reason}")]
    Rejected {
        /// The reference.
        reference: String,
        /// The verifier's reason.
        reason: String,
    },
    /// The local plugin to push is not valid.
    #[error("cannot push `{}`: {source}", path.display())]
    Plugin {
        /// Its manifest.
        path: PathBuf,
        /// Why it cannot be pushed.
        #[source]
        source: Box<crate::Error>,
    },
    /// The local cache (or the output folder of a pull) could not be read or written.
    #[error("OCI cache `{}`: {source}", path.display())]
    Cache {
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
}

impl OciError {
    pub(super) fn cache(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OciError {
        let path = path.into();
        move |source| OciError::Cache { path, source }
    }
}
