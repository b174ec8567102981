//! The `oci-client` glue: one client per operation (plain HTTP for loopback or insecure
//! registries), error mapping to [`OciError`], and blob downloads capped at their declared
//! size and checked against their digest.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use oci_client::Client;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use tokio::io::AsyncWrite;

use super::artifact::digest_of;
use super::{OciError, OciReference};

/// A client for `reference`'s registry, anonymous.
pub(super) async fn connect(reference: &OciReference, plain_http: bool) -> Client {
    let protocol = if plain_http || reference.is_loopback() {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(60)),
        // A plugin reference names one image manifest, never an index.
        platform_resolver: None,
        ..ClientConfig::default()
    });
    client
        .store_auth_if_needed(reference.registry(), &RegistryAuth::Anonymous)
        .await;
    client
}

/// Maps a client error of `action` on `reference`.
pub(super) fn map_error<'r>(
    reference: &'r OciReference,
    action: &'static str,
) -> impl FnOnce(OciDistributionError) -> OciError + 'r {
    move |error| {
        let reference_text = reference.to_string();
        match error {
            OciDistributionError::DigestError(DigestError::VerificationError {
                expected,
                actual,
            }) => OciError::DigestMismatch {
                reference: reference_text,
                what: if action.contains("manifest") {
                    "manifest"
                } else {
                    "blob"
                }
                .into(),
                expected,
                actual,
            },
            OciDistributionError::ImageManifestNotFoundError(message) => OciError::NotFound {
                reference: reference_text,
                message,
            },
            OciDistributionError::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|e| {
                    matches!(
                        e.code,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NotFound
                    )
                }) =>
            {
                OciError::NotFound {
                    reference: reference_text,
                    message: envelope.to_string(),
                }
            }
            OciDistributionError::ServerError {
                code: 404, message, ..
            } => OciError::NotFound {
                reference: reference_text,
                message,
            },
            other => OciError::Registry {
                reference: reference_text,
                action,
                message: error_chain(&other),
            },
        }
    }
}

/// `error` and its sources, joined (reqwest hides the useful part in its sources).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Downloads the blob of `layer` (`what` names it in errors): at most its declared size,
/// and refused unless it hashes to its digest.
pub(super) async fn pull_blob(
    client: &Client,
    reference: &OciReference,
    layer: &OciDescriptor,
    what: &str,
) -> Result<Vec<u8>, OciError> {
    let limit = usize::try_from(layer.size).unwrap_or(0);
    let mut out = CappedBuffer {
        data: Vec::with_capacity(limit.min(64 << 20)),
        limit,
    };
    client
        .pull_blob(reference.client_reference(), layer, &mut out)
        .await
        .map_err(|e| match map_error(reference, "pull a blob of")(e) {
            OciError::DigestMismatch {
                reference,
                expected,
                actual,
                ..
            } => OciError::DigestMismatch {
                reference,
                what: what.to_string(),
                expected,
                actual,
            },
            other => other,
        })?;
    let actual = digest_of(&out.data);
    if actual != layer.digest {
        return Err(OciError::DigestMismatch {
            reference: reference.to_string(),
            what: what.to_string(),
            expected: layer.digest.clone(),
            actual,
        });
    }
    if out.data.len() != limit {
        return Err(OciError::NotAPlugin {
            reference: reference.to_string(),
            reason: format!(
                "its {what} has {} bytes but its descriptor says {limit}",
                out.data.len()
            ),
        });
    }
    Ok(out.data)
}

/// An in-memory sink that fails once more than `limit` bytes arrive, so a registry cannot
/// make the host buffer more than a descriptor declared.
struct CappedBuffer {
    data: Vec<u8>,
    limit: usize,
}

impl AsyncWrite for CappedBuffer {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.data.len() + buf.len() > self.limit {
            return Poll::Ready(Err(std::io::Error::other(format!(
                "the blob is larger than its declared {} bytes",
                self.limit
            ))));
        }
        self.data.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
