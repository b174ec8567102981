//! `plugin.toml`: the manifest that describes a plugin on disk.
//!
//! ```toml
//! name = "greet"                 # validated plugin name, must equal the module's
//! version = "1.0.0"              # semver, must equal the module's
//! description = "Says hello"
//! author = "wasmplug"
//! wasm = "greet.wasm"            # relative to this file's folder
//! sha256 = "9f2c…"               # optional pin; a mismatch refuses to load
//! kind = "module"                # or "component", "wasi-http" (see `PluginKind`)
//!
//! [config]                       # string values handed to the plugin's `init`
//! greeting = "Hello"
//!
//! [limits]                       # see `Limits`
//! memory = "32MiB"
//! timeout = "2s"
//!
//! [capabilities]                 # see `Capabilities`; nothing is granted by default
//! fs = ["./data:/data:ro"]       # host paths are relative to this file's folder
//! env = ["LOG_LEVEL=debug"]
//! net = ["https://api.example.com"]
//!
//! [instances]                    # see `InstancePolicy`
//! isolation = "per-call"         # or "reuse"
//! max = 16
//!
//! [breaker]                      # see `BreakerConfig` (used by the registry)
//! failure_threshold = 5
//! reset_timeout = "10s"
//!
//! [requires]                     # see `Requirements`; checked when loading
//! wasmplug = "^0.2"              # the plugin API version
//! [requires.host]
//! shop = "^1"                    # an application host module's declared version
//! [build]                        # see `BuildSpec` (used by `wasmplug build` only)
//! lang = "go"
//! ```
//!
//! Unknown keys are errors that name the key and its line: a typo must not silently drop a
//! limit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::breaker::BreakerConfig;
use crate::build::BuildSpec;
use crate::capability::Capabilities;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::name::PluginName;
use crate::policy::InstancePolicy;
use crate::requirements::Requirements;

/// File name of a manifest inside a plugin folder.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed and validated `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Plugin name.
    pub name: PluginName,
    /// Plugin version.
    pub version: semver::Version,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Author.
    #[serde(default)]
    pub author: String,
    /// Path of the module, relative to the manifest's folder (made absolute by
    /// [`Manifest::from_file`]).
    pub wasm: PathBuf,
    /// Optional sha256 pin of the module (64 lowercase hex digits).
    #[serde(default, deserialize_with = "de_sha256")]
    pub sha256: Option<String>,
    /// What the binary is: a core module (the default), a `wasmplug:plugin` component or a
    /// `wasi:http/proxy` component. Checked against the binary when loading.
    #[serde(default)]
    pub kind: crate::PluginKind,
    /// Configuration handed to the plugin's `init` export.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Resource limits.
    #[serde(default)]
    pub limits: Limits,
    /// What the plugin may access outside its sandbox.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Pooling and isolation of instances.
    #[serde(default)]
    pub instances: InstancePolicy,
    /// Circuit-breaker thresholds for this plugin (the registry's defaults otherwise).
    #[serde(default)]
    pub breaker: Option<BreakerConfig>,
    /// What the plugin requires of its host (the plugin API and host-module versions).
    #[serde(default)]
    pub requires: Requirements,
    /// How `wasmplug build` builds the module; ignored when loading.
    #[serde(default)]
    pub build: BuildSpec,
}

impl Manifest {
    /// Reads and parses a manifest file; `wasm` is resolved against the file's folder.
    ///
    /// # Errors
    /// [`Error::FileNotFound`] / [`Error::Io`] when the file cannot be read,
    /// [`Error::Manifest`] when it is malformed.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let bytes = crate::file::read_regular(
            path,
            crate::file::Kind::Manifest,
            crate::file::MAX_MANIFEST_SIZE,
        )?;
        Manifest::from_bytes(path, &bytes)
    }

    /// Parses the bytes of the manifest file at `path` (already read); `wasm` and mounts are
    /// resolved against the file's folder.
    pub(crate) fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Manifest> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            message: format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        })?;
        let mut manifest = Manifest::parse(text).map_err(|message| Error::Manifest {
            path: path.to_path_buf(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        manifest.wasm = base.join(&manifest.wasm);
        manifest.capabilities.resolve_paths(base);
        Ok(manifest)
    }

    /// Parses manifest text. Relative paths are left as written.
    ///
    /// # Errors
    /// A message naming the bad key and its line.
    pub fn parse(text: &str) -> std::result::Result<Manifest, String> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| crate::toml_error::toml_error_message(text, &e))?;
        manifest.instances.validate()?;
        Ok(manifest)
    }
}

fn de_sha256<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    let s = s.trim().to_ascii_lowercase();
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(serde::de::Error::custom(format!(
            "`sha256` must be 64 hex digits, got `{s}`; compute it with `sha256sum <file>.wasm`"
        )));
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::ByteSize;

    const MINIMAL: &str = "name = \"greet\"\nversion = \"1.2.3\"\nwasm = \"greet.wasm\"\n";

    #[test]
    fn minimal_manifest_gets_defaults() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(m.name.as_str(), "greet");
        assert_eq!(m.version, semver::Version::new(1, 2, 3));
        assert_eq!(m.wasm, PathBuf::from("greet.wasm"));
        assert!(m.config.is_empty() && m.sha256.is_none());
        assert_eq!(m.limits, Limits::default());
    }

    #[test]
    fn full_manifest_parses_config_and_limits() {
        let text = format!(
            "{MINIMAL}description = \"d\"\nauthor = \"a\"\nsha256 = \"{}\"\n[config]\ngreeting = \"Hi\"\n[limits]\nmemory = \"32MiB\"\n",
            "AB".repeat(32)
        );
        let m = Manifest::parse(&text).unwrap();
        assert_eq!(m.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(m.config["greeting"], "Hi");
        assert_eq!(m.limits.memory, ByteSize::mib(32));
    }

    #[test]
    fn build_table_parses_and_rejects_unknown_keys() {
        let m = Manifest::parse(&format!(
            "{MINIMAL}[build]\nlang = \"go\"\nfunctions = [\"a\"]\n"
        ))
        .unwrap();
        assert_eq!(m.build.lang, Some(crate::GuestLanguage::Go));
        assert_eq!(m.build.functions.as_deref(), Some(&["a".to_string()][..]));
        assert_eq!(
            Manifest::parse(MINIMAL).unwrap().build,
            BuildSpec::default()
        );
        let err = Manifest::parse(&format!("{MINIMAL}[build]\nlang = \"cobol\"\n")).unwrap_err();
        assert!(err.contains("cobol") && err.contains("line 5"), "{err}");
        let err = Manifest::parse(&format!("{MINIMAL}[build]\nflags = []\n")).unwrap_err();
        assert!(err.contains("flags"), "{err}");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = Manifest::parse(&format!("{MINIMAL}colour = \"red\"\n")).unwrap_err();
        assert!(err.contains("colour"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn unknown_limit_key_is_named_with_its_line() {
        let err = Manifest::parse(&format!("{MINIMAL}[limits]\ntimeuot = \"5s\"\n")).unwrap_err();
        assert!(err.contains("timeuot") && err.contains("line 5"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected_with_reason() {
        let bad_name =
            Manifest::parse("name = \"Bad Name\"\nversion = \"1.0.0\"\nwasm = \"x\"").unwrap_err();
        assert!(bad_name.contains("lowercase"), "{bad_name}");
        let bad_version =
            Manifest::parse("name = \"a\"\nversion = \"1.0\"\nwasm = \"x\"").unwrap_err();
        assert!(bad_version.contains("line 2"), "{bad_version}");
        let bad_pin = Manifest::parse(&format!("{MINIMAL}sha256 = \"abc\"")).unwrap_err();
        assert!(bad_pin.contains("64 hex digits"), "{bad_pin}");
        let bad_size =
            Manifest::parse(&format!("{MINIMAL}[limits]\nmemory = \"lots\"")).unwrap_err();
        assert!(bad_size.contains("invalid size `lots`"), "{bad_size}");
        let missing = Manifest::parse("name = \"a\"\nversion = \"1.0.0\"").unwrap_err();
        assert!(missing.contains("wasm"), "{missing}");
    }

    #[test]
    fn capabilities_parse_and_mounts_resolve_relative_to_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let text = format!(
            "{MINIMAL}[capabilities]\nfs = [\"data:/data\", \"/abs:/out:rw\"]\nenv = [\"A=1\", \"HOME\"]\nnet = [\"https://*.example.com\"]\n"
        );
        std::fs::write(&path, text).unwrap();
        let caps = Manifest::from_file(&path).unwrap().capabilities;
        assert_eq!(caps.fs[0].host, dir.path().join("data"));
        assert_eq!(caps.fs[1].host, PathBuf::from("/abs"));
        assert_eq!(caps.env.len(), 2);
        assert!(caps.net[0].allows("https://a.example.com/x"));
        let err = Manifest::parse(&format!("{MINIMAL}[capabilities]\nnet = [\"ftp://x\"]\n"))
            .unwrap_err();
        assert!(
            err.contains("line 5") && err.contains("http or https"),
            "{err}"
        );
        let err =
            Manifest::parse(&format!("{MINIMAL}[capabilities]\nsockets = true\n")).unwrap_err();
        assert!(err.contains("sockets"), "{err}");
    }

    #[test]
    fn from_file_resolves_wasm_relative_to_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        std::fs::write(&path, MINIMAL).unwrap();
        let m = Manifest::from_file(&path).unwrap();
        assert_eq!(m.wasm, dir.path().join("greet.wasm"));
        let missing = Manifest::from_file(dir.path().join("nope.toml")).unwrap_err();
        assert!(matches!(missing, Error::FileNotFound { .. }), "{missing:?}");
    }
}
