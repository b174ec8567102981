//! The plugin artifact: what `push` uploads and what `pull` accepts (docs/oci.md).
//!
//! An OCI image manifest (`application/vnd.oci.image.manifest.v1+json`) whose config is the
//! CNCF Wasm config (`application/vnd.wasm.config.v0+json`: `architecture` `wasm`, `os`
//! `wasip1`, `layerDigests`) and whose layers are exactly the module
//! (`application/wasm`) and the plugin's `plugin.toml`
//! (`application/vnd.wasmplug.manifest.v1+toml`), in that order, each annotated with its
//! file name. Anything else — another config type, a missing, extra or oversized layer, a
//! `plugin.toml` that does not parse or names its module with a path — is refused before
//! a byte of it reaches the cache.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::{MANIFEST_FILE, Manifest};

/// Media type of the config blob (CNCF Wasm OCI artifact).
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// Media type of the module layer.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// Media type of the `plugin.toml` layer.
pub const MANIFEST_LAYER_MEDIA_TYPE: &str = "application/vnd.wasmplug.manifest.v1+toml";
/// Annotation with a layer's file name (and the manifest's plugin name).
pub(super) const TITLE: &str = "org.opencontainers.image.title";
const VERSION: &str = "org.opencontainers.image.version";
const DESCRIPTION: &str = "org.opencontainers.image.description";

/// Largest `plugin.toml` layer accepted.
pub(super) const MAX_MANIFEST_LAYER: u64 = 1 << 20;
/// Largest config blob accepted.
pub(super) const MAX_CONFIG: u64 = 64 << 10;
/// Largest image manifest accepted.
pub(super) const MAX_IMAGE_MANIFEST: usize = 1 << 20;

/// `sha256:<hex>` of `data`.
pub(super) fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// The config blob (CNCF Wasm OCI artifact, `application/vnd.wasm.config.v0+json`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WasmConfig {
    /// RFC 3339 creation time (`SOURCE_DATE_EPOCH` when set, for reproducible pushes).
    pub(super) created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) author: Option<String>,
    pub(super) architecture: String,
    pub(super) os: String,
    #[serde(default)]
    pub(super) layer_digests: Vec<String>,
}

/// Everything a push uploads, digests computed.
pub(super) struct Artifact {
    pub(super) config: Vec<u8>,
    pub(super) wasm: Vec<u8>,
    pub(super) wasm_name: String,
    pub(super) manifest_toml: Vec<u8>,
    /// The image manifest, serialised: its sha256 is the artifact's digest.
    pub(super) image_manifest: Vec<u8>,
    pub(super) manifest: Manifest,
}

impl Artifact {
    /// Packs the plugin of `manifest_path` (already parsed as `manifest`; `wasm` resolved).
    pub(super) fn pack(manifest_path: &Path, manifest: Manifest) -> Result<Artifact, String> {
        let wasm = std::fs::read(&manifest.wasm)
            .map_err(|e| format!("cannot read `{}`: {e}", manifest.wasm.display()))?;
        let wasm_name = manifest
            .wasm
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| plain_file_name(n))
            .ok_or_else(|| {
                format!(
                    "`{}` is not a usable module file name",
                    manifest.wasm.display()
                )
            })?;
        let text = std::fs::read_to_string(manifest_path)
            .map_err(|e| format!("cannot read `{}`: {e}", manifest_path.display()))?;
        let manifest_toml = with_plain_wasm_name(&text, &wasm_name)?.into_bytes();
        let config = WasmConfig {
            created: created(),
            author: Some(manifest.author.clone()).filter(|a| !a.is_empty()),
            architecture: "wasm".into(),
            os: "wasip1".into(),
            layer_digests: vec![digest_of(&wasm), digest_of(&manifest_toml)],
        };
        let config = serde_json::to_vec(&config).expect("the config serialises");
        let layer = |data: &[u8], media_type: &str, title: &str| OciDescriptor {
            media_type: media_type.into(),
            digest: digest_of(data),
            size: data.len() as i64,
            annotations: Some(BTreeMap::from([(TITLE.to_string(), title.to_string())])),
            ..OciDescriptor::default()
        };
        let mut annotations = BTreeMap::from([
            (TITLE.to_string(), manifest.name.to_string()),
            (VERSION.to_string(), manifest.version.to_string()),
        ]);
        if !manifest.description.is_empty() {
            annotations.insert(DESCRIPTION.to_string(), manifest.description.clone());
        }
        let image = OciImageManifest {
            schema_version: 2,
            media_type: Some(OCI_IMAGE_MEDIA_TYPE.into()),
            config: OciDescriptor {
                media_type: WASM_CONFIG_MEDIA_TYPE.into(),
                digest: digest_of(&config),
                size: config.len() as i64,
                ..OciDescriptor::default()
            },
            layers: vec![
                layer(&wasm, WASM_LAYER_MEDIA_TYPE, &wasm_name),
                layer(&manifest_toml, MANIFEST_LAYER_MEDIA_TYPE, MANIFEST_FILE),
            ],
            annotations: Some(annotations),
            ..OciImageManifest::default()
        };
        let image_manifest = serde_json::to_vec(&image).expect("the manifest serialises");
        Ok(Artifact {
            config,
            wasm,
            wasm_name,
            manifest_toml,
            image_manifest,
            manifest,
        })
    }

    /// `sha256:<hex>` of the image manifest.
    pub(super) fn digest(&self) -> String {
        digest_of(&self.image_manifest)
    }
}

/// `SOURCE_DATE_EPOCH` (seconds) when set, else now, as RFC 3339.
fn created() -> String {
    let time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(SystemTime::now, |secs| {
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
        });
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A name usable as a file next to `plugin.toml`: one normal path component, not one of the
/// files the cache itself writes.
pub(super) fn plain_file_name(name: &str) -> bool {
    let mut components = Path::new(name).components();
    matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) && name != MANIFEST_FILE
        && name != super::cache::IMAGE_MANIFEST_FILE
        && !name.starts_with('.')
}

/// `text` with `wasm = "<name>"`: unchanged (comments and all) when it already says so,
/// otherwise re-serialised with only that key changed.
fn with_plain_wasm_name(text: &str, name: &str) -> Result<String, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    if table.get("wasm").and_then(|v| v.as_str()) == Some(name) {
        return Ok(text.to_owned());
    }
    table.insert("wasm".into(), toml::Value::String(name.into()));
    toml::to_string(&table).map_err(|e| e.to_string())
}

/// The two layers of a validated image manifest.
pub(super) struct Layers {
    pub(super) wasm: OciDescriptor,
    pub(super) manifest: OciDescriptor,
}

/// Checks that `image` is a plugin artifact within the size limits; returns its layers.
pub(super) fn validate(image: &OciImageManifest, max_module: u64) -> Result<Layers, String> {
    if image.config.media_type != WASM_CONFIG_MEDIA_TYPE {
        return Err(format!(
            "its config has media type `{}`, not `{WASM_CONFIG_MEDIA_TYPE}`",
            image.config.media_type
        ));
    }
    check_size("config", image.config.size, MAX_CONFIG)?;
    let types: Vec<&str> = image.layers.iter().map(|l| l.media_type.as_str()).collect();
    let [wasm, manifest] = image.layers.as_slice() else {
        return Err(format!(
            "it has {} layer(s) ({}); a plugin has exactly two: `{WASM_LAYER_MEDIA_TYPE}` then `{MANIFEST_LAYER_MEDIA_TYPE}`",
            types.len(),
            types.join(", ")
        ));
    };
    if wasm.media_type != WASM_LAYER_MEDIA_TYPE || manifest.media_type != MANIFEST_LAYER_MEDIA_TYPE
    {
        return Err(format!(
            "its layers are `{}`; a plugin has `{WASM_LAYER_MEDIA_TYPE}` then `{MANIFEST_LAYER_MEDIA_TYPE}`",
            types.join("`, `")
        ));
    }
    check_size("module layer", wasm.size, max_module)?;
    check_size("plugin.toml layer", manifest.size, MAX_MANIFEST_LAYER)?;
    Ok(Layers {
        wasm: wasm.clone(),
        manifest: manifest.clone(),
    })
}

fn check_size(what: &str, size: i64, limit: u64) -> Result<(), String> {
    match u64::try_from(size) {
        Ok(size) if size <= limit => Ok(()),
        _ => Err(format!(
            "its {what} declares {size} bytes, over the limit of {limit}"
        )),
    }
}

/// Parses a pulled `plugin.toml`; its module must be a plain file name next to it.
pub(super) fn parse_manifest(text: &[u8]) -> Result<Manifest, String> {
    let text = std::str::from_utf8(text).map_err(|_| "its plugin.toml is not UTF-8".to_string())?;
    let manifest = Manifest::parse(text).map_err(|e| format!("its plugin.toml: {e}"))?;
    let name = manifest.wasm.to_string_lossy();
    if !plain_file_name(&name) {
        return Err(format!(
            "its plugin.toml names the module `{name}`; a pulled module must be a plain file name"
        ));
    }
    Ok(manifest)
}

/// Checks the config blob: a Wasm config whose `layerDigests`, when present, match.
pub(super) fn check_config(config: &[u8], layers: &Layers) -> Result<(), String> {
    let config: WasmConfig = serde_json::from_slice(config)
        .map_err(|e| format!("its config is not a Wasm config: {e}"))?;
    if config.architecture != "wasm" {
        return Err(format!(
            "its config says architecture `{}`, not `wasm`",
            config.architecture
        ));
    }
    let expected = [&layers.wasm.digest, &layers.manifest.digest];
    if !config.layer_digests.is_empty() && config.layer_digests.iter().ne(expected.iter().copied())
    {
        return Err("its config's layerDigests do not match its layers".into());
    }
    Ok(())
}
