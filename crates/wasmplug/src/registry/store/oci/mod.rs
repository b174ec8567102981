//! Plugins pushed to and pulled from an OCI registry (docs/oci.md).
//!
//! [`OciStore::push`] packs a plugin folder as a CNCF Wasm OCI artifact (see [`artifact`]
//! for the exact layout) and uploads it; [`OciStore::pull`] downloads one by tag or by
//! digest into a local cache and returns the path of its `plugin.toml`, which the caller
//! loads like any other plugin (for a [`crate::Registry`], through [`crate::Registry::load`]:
//! the same complete validation as a plugin directory).
//!
//! Invariants:
//! - Nothing unverified is used. The image manifest must hash to the pinned digest (for a
//!   `@sha256:` reference) and every blob to the digest its descriptor gives; a blob may not
//!   exceed its declared size; the layers must be exactly the module and the manifest.
//!   A mismatch is [`OciError::DigestMismatch`].
//! - The cache is content-addressed by image-manifest digest and re-verified on every use; a
//!   digest-pinned pull whose folder is cached needs no network. A cache folder that fails
//!   verification is discarded and pulled again.
//! - Registries on loopback addresses are reached over plain HTTP, every other one over
//!   HTTPS unless [`OciStore::insecure`] says otherwise. Access is anonymous.
//! - Every pull passes the store's [`ArtifactVerifier`], when one is set, after the digests
//!   were checked and before the plugin is returned: the place for signature checks.

mod artifact;
mod cache;
mod client;
mod error;
mod reference;
mod tags;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use reqwest::header::HeaderValue;

pub use artifact::{MANIFEST_LAYER_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
pub use error::OciError;
pub use reference::{OCI_SCHEME, OciReference};
pub use tags::newest_version_tag;

use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::units::ByteSize;
use artifact::{Artifact, digest_of};
use cache::Cache;

/// Decides whether a pulled artifact may be used, after its digests were verified: the
/// hook for signature and provenance checks. Called on every pull, cached or not.
pub trait ArtifactVerifier: Send + Sync + 'static {
    /// `Ok` to accept the artifact whose image manifest has `digest` (`sha256:<hex>`; it
    /// covers every layer's digest); `Err(reason)` to refuse it
    /// ([`OciError::Rejected`]).
    fn verify(&self, reference: &OciReference, digest: &str) -> Result<(), String>;
}

/// A plugin uploaded by [`OciStore::push`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushedPlugin {
    /// The reference pinned to the pushed digest (`oci://host/repo@sha256:…`).
    pub pinned: OciReference,
    /// `sha256:<hex>` of the image manifest.
    pub digest: String,
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: semver::Version,
    /// Bytes uploaded (config, layers and manifest).
    pub size: u64,
}

/// A plugin fetched by [`OciStore::pull`], verified and unpacked in the cache.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PulledPlugin {
    /// The reference pinned to the pulled digest.
    pub pinned: OciReference,
    /// `sha256:<hex>` of the image manifest.
    pub digest: String,
    /// The unpacked `plugin.toml`, ready for [`crate::Registry::load`] or
    /// [`crate::Plugin::load`].
    pub manifest_path: PathBuf,
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: semver::Version,
    /// Whether it came from the cache without downloading anything.
    pub from_cache: bool,
}

/// Pushes plugins to and pulls them from OCI registries; cheap to clone.
#[derive(Clone)]
pub struct OciStore {
    cache_dir: PathBuf,
    insecure: bool,
    max_module_size: ByteSize,
    verifier: Option<Arc<dyn ArtifactVerifier>>,
}

impl std::fmt::Debug for OciStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciStore")
            .field("cache_dir", &self.cache_dir)
            .field("insecure", &self.insecure)
            .field("max_module_size", &self.max_module_size)
            .field("verifier", &self.verifier.is_some())
            .finish()
    }
}

impl OciStore {
    /// A store caching pulled plugins under `cache_dir` (created when needed).
    pub fn new(cache_dir: impl Into<PathBuf>) -> OciStore {
        OciStore {
            cache_dir: cache_dir.into(),
            insecure: false,
            max_module_size: crate::Limits::default().max_module_size,
            verifier: None,
        }
    }

    /// Plain HTTP for every registry, not only loopback ones. By default off.
    pub fn insecure(mut self, insecure: bool) -> OciStore {
        self.insecure = insecure;
        self
    }

    /// Largest module layer a pull accepts. By default the default `max_module_size` limit
    /// (64 MiB).
    pub fn max_module_size(mut self, size: ByteSize) -> OciStore {
        self.max_module_size = size;
        self
    }

    /// Checks every pulled artifact with `verifier`. By default none.
    pub fn verifier(mut self, verifier: Arc<dyn ArtifactVerifier>) -> OciStore {
        self.verifier = Some(verifier);
        self
    }

    /// Where pulled plugins are cached.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    fn cache(&self) -> Cache<'_> {
        Cache {
            root: &self.cache_dir,
            max_module: self.max_module_size.bytes(),
        }
    }

    /// Packs the plugin of `plugin` (a `plugin.toml` or its folder) and uploads it under
    /// `reference`'s tag. The plugin is compiled and checked against the ABI first, so a
    /// broken plugin is never published. A `wasm` path in `plugin.toml` other than a plain
    /// file name is rewritten to the module's file name in the pushed manifest.
    ///
    /// # Errors
    /// [`OciError::Plugin`] for an invalid plugin, [`OciError::InvalidReference`] for a
    /// digest reference (push by tag), [`OciError::Registry`] when the upload fails.
    pub async fn push(
        &self,
        plugin: &Path,
        reference: &OciReference,
    ) -> Result<PushedPlugin, OciError> {
        if reference.digest().is_some() || reference.tag().is_none() {
            return Err(OciError::InvalidReference {
                reference: reference.to_string(),
                reason: "a push needs a tag, not a digest (the digest is computed)".into(),
            });
        }
        let path = if plugin.is_dir() {
            plugin.join(MANIFEST_FILE)
        } else {
            plugin.to_path_buf()
        };
        let invalid = |source: crate::Error| OciError::Plugin {
            path: path.clone(),
            source: Box::new(source),
        };
        let manifest = Manifest::from_file(&path).map_err(invalid)?;
        crate::PluginBuilder::new()
            .compile(&path)
            .map_err(invalid)?;
        let artifact = Artifact::pack(&path, manifest)
            .map_err(|reason| invalid(crate::Error::invalid_plugin(reason)))?;
        let client = client::connect(reference, self.insecure).await;
        let target = reference.client_reference();
        for (data, what) in [
            (&artifact.wasm, "push the module of"),
            (&artifact.manifest_toml, "push the plugin.toml of"),
            (&artifact.config, "push the config of"),
        ] {
            client
                .push_blob(target, data, &digest_of(data))
                .await
                .map_err(client::map_error(reference, what))?;
        }
        client
            .push_manifest_raw(
                target,
                artifact.image_manifest.clone(),
                HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE),
            )
            .await
            .map_err(client::map_error(reference, "push the manifest of"))?;
        let digest = artifact.digest();
        tracing::info!(target: "wasmplug::oci", %reference, %digest, module = %artifact.wasm_name, "pushed");
        Ok(PushedPlugin {
            pinned: reference.with_digest(&digest),
            size: [
                &artifact.wasm,
                &artifact.manifest_toml,
                &artifact.config,
                &artifact.image_manifest,
            ]
            .iter()
            .map(|d| d.len() as u64)
            .sum(),
            name: artifact.manifest.name.to_string(),
            version: artifact.manifest.version.clone(),
            digest,
        })
    }

    /// Fetches the plugin of `reference` (by tag: the registry says which digest the tag
    /// names now; by digest: from the cache when it holds it), verifies it and unpacks it in
    /// the cache.
    ///
    /// # Errors
    /// [`OciError::DigestMismatch`] for altered content, [`OciError::NotAPlugin`] for an
    /// artifact of another kind, [`OciError::NotFound`] / [`OciError::Registry`] when the
    /// registry cannot provide it, [`OciError::Rejected`] when the verifier refuses it,
    /// [`OciError::Cache`] when the cache cannot be written.
    pub async fn pull(&self, reference: &OciReference) -> Result<PulledPlugin, OciError> {
        if let Some(digest) = reference.digest()
            && let Some(cached) = self.cached(reference, digest)?
        {
            return self.accept(reference, digest, cached, true);
        }
        let client = client::connect(reference, self.insecure).await;
        let (image, digest) = client
            .pull_manifest_raw(
                reference.client_reference(),
                &oci_client::secrets::RegistryAuth::Anonymous,
                &[OCI_IMAGE_MEDIA_TYPE],
            )
            .await
            .map_err(client::map_error(reference, "pull the manifest of"))?;
        let actual = digest_of(&image);
        let expected = reference.digest().unwrap_or(&digest);
        if actual != expected {
            return Err(OciError::DigestMismatch {
                reference: reference.to_string(),
                what: "manifest".into(),
                expected: expected.to_owned(),
                actual,
            });
        }
        if let Some(cached) = self.cached(reference, &actual)? {
            return self.accept(reference, &actual, cached, true);
        }
        let not_a_plugin = |reason: String| OciError::NotAPlugin {
            reference: reference.to_string(),
            reason,
        };
        if image.len() > artifact::MAX_IMAGE_MANIFEST {
            return Err(not_a_plugin(format!(
                "its manifest has {} bytes",
                image.len()
            )));
        }
        let parsed: OciImageManifest = serde_json::from_slice(&image)
            .map_err(|e| not_a_plugin(format!("its manifest is not an OCI image manifest: {e}")))?;
        let layers =
            artifact::validate(&parsed, self.max_module_size.bytes()).map_err(not_a_plugin)?;
        let config = client::pull_blob(&client, reference, &parsed.config, "config").await?;
        artifact::check_config(&config, &layers).map_err(not_a_plugin)?;
        let toml =
            client::pull_blob(&client, reference, &layers.manifest, "plugin.toml layer").await?;
        let manifest = artifact::parse_manifest(&toml).map_err(not_a_plugin)?;
        let wasm =
            client::pull_blob(&client, reference, &layers.wasm, "application/wasm layer").await?;
        let cached = self
            .cache()
            .store(&actual, &image, &toml, manifest, &wasm)?;
        self.accept(reference, &actual, cached, false)
    }

    /// The verified cache folder of `digest`; a folder that fails verification is evicted
    /// (and reported) so that the caller pulls it again.
    fn cached(
        &self,
        reference: &OciReference,
        digest: &str,
    ) -> Result<Option<cache::Cached>, OciError> {
        match self.cache().lookup(reference, digest) {
            Ok(found) => Ok(found),
            Err(e @ (OciError::DigestMismatch { .. } | OciError::NotAPlugin { .. })) => {
                tracing::warn!(target: "wasmplug::oci", %reference, "discarding a cached copy: {e}");
                self.cache().evict(digest)?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn accept(
        &self,
        reference: &OciReference,
        digest: &str,
        cached: cache::Cached,
        from_cache: bool,
    ) -> Result<PulledPlugin, OciError> {
        if let Some(verifier) = &self.verifier {
            verifier
                .verify(reference, digest)
                .map_err(|reason| OciError::Rejected {
                    reference: reference.to_string(),
                    reason,
                })?;
        }
        Ok(PulledPlugin {
            pinned: reference.with_digest(digest),
            digest: digest.to_owned(),
            manifest_path: cached.folder.join(MANIFEST_FILE),
            name: cached.manifest.name.to_string(),
            version: cached.manifest.version,
            from_cache,
        })
    }
}
