//! Where the gateway's plugins keep state and come from besides `plugin_dir`: the `[kv]`
//! backend and the `[[oci]]` references of `wasmplug.toml`.
//!
//! ```toml
//! [kv]
//! backend = "redis"                 # or "redb" (the default: kv.redb in the data dir)
//! url = "redis://127.0.0.1:6379/"   # redis only; shared by every replica pointing at it
//! timeout = "1s"                    # redis only; longest one kv operation may take
//!
//! [[oci]]                           # one table per plugin pulled from a registry
//! ref = "oci://127.0.0.1:5000/greet:1.0.0"   # by tag, or @sha256:<digest> to pin it
//! insecure = false                  # plain HTTP to a non-loopback registry
//! poll = "1s"                       # follow new version tags of the repository (off by default)
//! ```
//!
//! Invariant: references are parsed when the file is read, so a bad one is a config error
//! naming its line, never a failure at the first request.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use wasmplug::host_fn::KvError;
use wasmplug::oci::{OciError, OciReference, OciStore, PulledPlugin};
use wasmplug::{KvStore, RedisOptions, Registry};

/// The `[kv]` table: which store backs the plugins' kv host functions.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum KvConfig {
    /// `kv.redb` in the data directory: persistent, one process at a time. The default.
    /// (A struct variant, so that stray keys such as `url` are refused.)
    Redb {},
    /// A Redis server, shared by every gateway configured with the same URL.
    Redis {
        /// `redis://[user:password@]host[:port][/db]`.
        url: String,
        /// Longest one kv operation may take (connecting included). By default 1 s.
        #[serde(default, deserialize_with = "de_opt_duration")]
        timeout: Option<Duration>,
    },
}

impl Default for KvConfig {
    fn default() -> Self {
        KvConfig::Redb {}
    }
}

impl KvConfig {
    /// The configured store; `None` for redb (the host opens it in its data directory).
    ///
    /// # Errors
    /// [`KvError::Backend`] when the Redis URL is invalid. An unreachable server is not an
    /// error here: the store connects when it is first used, and reconnects by itself.
    pub fn store(&self) -> Result<Option<KvStore>, KvError> {
        match self {
            KvConfig::Redb {} => Ok(None),
            KvConfig::Redis { url, timeout } => {
                let mut options = RedisOptions::default();
                if let Some(timeout) = timeout {
                    options = options.timeout(*timeout);
                }
                KvStore::redis(url, options).map(Some)
            }
        }
    }
}

/// One `[[oci]]` table: a plugin pulled from an OCI registry at start-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OciSource {
    /// `oci://host[:port]/repository:tag` or `...@sha256:<digest>`.
    #[serde(rename = "ref", deserialize_with = "de_reference")]
    pub reference: OciReference,
    /// Plain HTTP even though the registry is not on a loopback address. By default off.
    #[serde(default)]
    pub insecure: bool,
    /// Poll the repository's tags this often and serve the newest version tag (semver,
    /// at least the one served) as soon as it appears ([`follow_oci`]). By default off.
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub poll: Option<Duration>,
}

/// What became of one `[[oci]]` source at start-up.
#[derive(Debug)]
pub struct OciLoad {
    /// The source's reference.
    pub reference: OciReference,
    /// The pulled plugin and the version the registry now serves, or why not.
    pub result: Result<(PulledPlugin, semver::Version), OciLoadError>,
}

/// Why an `[[oci]]` plugin is not served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciLoadError {
    /// It could not be pulled.
    #[error(transparent)]
    Pull(#[from] OciError),
    /// It was pulled but did not pass the registry's validation.
    #[error(transparent)]
    Load(#[from] wasmplug::Error),
}

impl OciLoadError {
    /// A short stable name of the failure (`wasmplug::Error::class` for load failures).
    pub fn class(&self) -> &'static str {
        match self {
            OciLoadError::Pull(OciError::DigestMismatch { .. }) => "digest_mismatch",
            OciLoadError::Pull(OciError::NotFound { .. }) => "not_found",
            OciLoadError::Pull(_) => "pull",
            OciLoadError::Load(e) => e.class(),
        }
    }
}

/// Pulls every source into `store`'s cache, in order, and loads each into `registry` through
/// [`Registry::load`] (complete validation; a plugin named like one already loaded becomes
/// its serving version). Failures are reported per source; the others load.
pub async fn load_oci(
    registry: &Registry,
    store: &OciStore,
    sources: &[OciSource],
) -> Vec<OciLoad> {
    let mut loads = Vec::with_capacity(sources.len());
    for source in sources {
        let store = store.clone().insecure(source.insecure);
        let result = match store.pull(&source.reference).await {
            Err(e) => Err(e.into()),
            Ok(pulled) => {
                let registry = registry.clone();
                let path = pulled.manifest_path.clone();
                match tokio::task::spawn_blocking(move || registry.load(&path)).await {
                    Ok(Ok(version)) => Ok((pulled, version)),
                    Ok(Err(e)) => Err(e.into()),
                    Err(join) => std::panic::resume_unwind(join.into_panic()),
                }
            }
        };
        loads.push(OciLoad {
            reference: source.reference.clone(),
            result,
        });
    }
    loads
}

/// Follows the `[[oci]]` sources that have `poll`: every interval, lists the repository's
/// tags and, when a version tag newer than the one served appears, pulls it and loads it
/// through [`Registry::load`] (complete validation; with `[sync]` the change is published to
/// the other replicas too, which also poll). Runs until the registry is dropped; a failed
/// poll is logged and retried at the next interval.
pub async fn follow_oci(registry: Registry, store: OciStore, sources: Vec<OciSource>) {
    let mut followed: Vec<(OciSource, Option<semver::Version>)> = sources
        .into_iter()
        .filter(|s| s.poll.is_some() && s.reference.tag().is_some())
        .map(|s| {
            let floor = s
                .reference
                .tag()
                .and_then(|t| semver::Version::parse(t.strip_prefix('v').unwrap_or(t)).ok());
            (s, floor)
        })
        .collect();
    let Some(interval) = followed.iter().filter_map(|(s, _)| s.poll).min() else {
        return;
    };
    loop {
        tokio::time::sleep(interval).await;
        for (source, floor) in &mut followed {
            if let Some(version) = follow_once(&registry, &store, source, floor.as_ref()).await {
                *floor = Some(version);
            }
        }
    }
}

/// One poll of `source`: the newer version it loaded, if any.
async fn follow_once(
    registry: &Registry,
    store: &OciStore,
    source: &OciSource,
    floor: Option<&semver::Version>,
) -> Option<semver::Version> {
    let store = store.clone().insecure(source.insecure);
    let tags = store
        .tags(&source.reference)
        .await
        .inspect_err(|e| tracing::warn!(reference = %source.reference, "cannot list tags: {e}"))
        .ok()?;
    let (tag, version) = wasmplug::oci::newest_version_tag(&tags, floor)?;
    if floor == Some(&version) {
        return None;
    }
    let reference = source.reference.with_tag(tag);
    let pulled = store
        .pull(&reference)
        .await
        .inspect_err(|e| tracing::warn!(%reference, "cannot pull a new tag: {e}"))
        .ok()?;
    let registry = registry.clone();
    let path = pulled.manifest_path.clone();
    match tokio::task::spawn_blocking(move || registry.load(&path)).await {
        Ok(Ok(loaded)) => {
            tracing::info!(%reference, version = %loaded, "new tag loaded");
            Some(version)
        }
        Ok(Err(e)) => {
            tracing::warn!(%reference, "new tag refused: {e}");
            // Not retried until a newer tag appears.
            Some(version)
        }
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

fn de_reference<'de, D: Deserializer<'de>>(d: D) -> Result<OciReference, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    wasmplug::parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use crate::GatewayConfig;

    use super::*;

    #[test]
    fn kv_defaults_to_redb_and_takes_redis_with_a_url() {
        assert!(matches!(
            GatewayConfig::parse("").unwrap().kv,
            KvConfig::Redb {}
        ));
        let c = GatewayConfig::parse("[kv]\nbackend = \"redb\"\n").unwrap();
        assert!(c.kv.store().unwrap().is_none());
        let c = GatewayConfig::parse(
            "[kv]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:1/\"\ntimeout = \"250ms\"\n",
        )
        .unwrap();
        let KvConfig::Redis { url, timeout } = &c.kv else {
            panic!("{:?}", c.kv)
        };
        assert_eq!(
            (url.as_str(), *timeout),
            ("redis://127.0.0.1:1/", Some(Duration::from_millis(250)))
        );
        let store = c.kv.store().unwrap().unwrap();
        assert!(format!("{store:?}").contains("redis at 127.0.0.1:1"));
    }

    #[test]
    fn bad_kv_tables_are_errors() {
        let cases = [
            ("[kv]\nbackend = \"mysql\"\n", "mysql"),
            ("[kv]\nbackend = \"redis\"\n", "url"),
            ("[kv]\nbackend = \"redb\"\nurl = \"redis://h/\"\n", "url"),
            (
                "[kv]\nbackend = \"redis\"\nurl = \"redis://h/\"\ntimeout = \"soon\"\n",
                "soon",
            ),
            (
                "[kv]\nbackend = \"redis\"\nurl = \"redis://h/\"\nurll = \"x\"\n",
                "urll",
            ),
        ];
        for (text, expected) in cases {
            let err = GatewayConfig::parse(text).unwrap_err();
            assert!(
                err.contains(expected) && err.contains("line"),
                "{text}: {err}"
            );
        }
        let c = GatewayConfig::parse("[kv]\nbackend = \"redis\"\nurl = \"http://h/\"\n").unwrap();
        assert!(matches!(c.kv.store(), Err(KvError::Backend(_))));
    }

    #[test]
    fn oci_sources_parse_and_bad_references_name_their_line() {
        let c = GatewayConfig::parse(
            "[[oci]]\nref = \"oci://127.0.0.1:5000/greet:1.0.0\"\n[[oci]]\nref = \"oci://r.example.com/a@sha256:0000000000000000000000000000000000000000000000000000000000000000\"\ninsecure = true\n",
        )
        .unwrap();
        assert_eq!(c.oci.len(), 2);
        assert_eq!(c.oci[0].reference.tag(), Some("1.0.0"));
        assert!(!c.oci[0].insecure && c.oci[1].insecure);
        let err =
            GatewayConfig::parse("[[oci]]\nref = \"oci://127.0.0.1:5000/greet\"\n").unwrap_err();
        assert!(
            err.contains("neither a tag") && err.contains("line 2"),
            "{err}"
        );
        let err = GatewayConfig::parse("[[oci]]\nreference = \"x\"\n").unwrap_err();
        assert!(err.contains("reference"), "{err}");
    }
}
