//! Plugins pushed to and pulled from a real OCI registry (Debian's `docker-registry`, on a
//! free loopback port): by tag and by digest, through the cache, into a `Registry`; and
//! every way the content can be wrong — altered blobs, altered manifests, an altered
//! cache, artifacts of another kind, refused by the verifier — as typed errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmplug::oci::{
    ArtifactVerifier, OciError, OciReference, OciStore, PulledPlugin, PushedPlugin,
};
use wasmplug::{CallOptions, Registry};
use wasmplug_testkit::OciRegistry;

use crate::support::example;

fn block<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn reference(registry: &OciRegistry, rest: &str) -> OciReference {
    format!("oci://{}/{rest}", registry.host()).parse().unwrap()
}

fn push(store: &OciStore, plugin: &Path, to: &OciReference) -> PushedPlugin {
    block(store.push(plugin, to)).unwrap()
}

fn pull(store: &OciStore, from: &OciReference) -> Result<PulledPlugin, OciError> {
    block(store.pull(from))
}

fn greet_through(pulled: &PulledPlugin) -> Vec<u8> {
    let registry = Registry::default();
    registry.load(&pulled.manifest_path).unwrap();
    registry
        .call("greet", "greet", b"oci", &CallOptions::default())
        .unwrap()
        .output
        .output
}

/// A fresh store (its own cache) and a registry holding greet 1.0.0.
fn pushed_greet() -> (OciRegistry, OciStore, tempfile::TempDir, PushedPlugin) {
    let registry = OciRegistry::start();
    let cache = tempfile::tempdir().unwrap();
    let store = OciStore::new(cache.path());
    let pushed = push(
        &store,
        &example("greet"),
        &reference(&registry, "greet:1.0.0"),
    );
    (registry, store, cache, pushed)
}

#[test]
fn pushed_plugin_is_pulled_by_tag_and_by_digest_and_served() {
    let (mut registry, store, _cache, pushed) = pushed_greet();
    assert_eq!(
        (pushed.name.as_str(), pushed.version.to_string().as_str()),
        ("greet", "1.0.0")
    );
    assert!(
        pushed.digest.starts_with("sha256:") && pushed.size > 100_000,
        "{pushed:?}"
    );
    assert_eq!(pushed.pinned.digest(), Some(pushed.digest.as_str()));

    let by_tag = pull(&store, &reference(&registry, "greet:1.0.0")).unwrap();
    assert_eq!(by_tag.digest, pushed.digest);
    assert!(!by_tag.from_cache);
    assert!(by_tag.manifest_path.starts_with(store.cache_dir()));
    assert_eq!(greet_through(&by_tag), b"Hello, oci!");
    // The same tag again: the manifest is asked for, the content comes from the cache.
    assert!(
        pull(&store, &reference(&registry, "greet:1.0.0"))
            .unwrap()
            .from_cache
    );

    let by_digest = pull(&store, &pushed.pinned).unwrap();
    assert_eq!(
        (by_digest.digest.as_str(), by_digest.manifest_path.as_path()),
        (pushed.digest.as_str(), by_tag.manifest_path.as_path())
    );
    // A pinned, cached plugin needs no registry; a tag does.
    registry.stop();
    let offline = pull(&store, &pushed.pinned).unwrap();
    assert!(offline.from_cache);
    assert_eq!(greet_through(&offline), b"Hello, oci!");
    let err = pull(&store, &reference(&registry, "greet:1.0.0")).unwrap_err();
    assert!(matches!(err, OciError::Registry { .. }), "{err:?}");
}

#[test]
fn a_module_path_with_folders_is_pushed_as_its_file_name() {
    let registry = OciRegistry::start();
    let cache = tempfile::tempdir().unwrap();
    let store = OciStore::new(cache.path());
    let dir = tempfile::tempdir().unwrap();
    // A module path with folders is rewritten to its file name in the pushed manifest.
    std::fs::create_dir(dir.path().join("build")).unwrap();
    let wasm = example("greet").with_file_name("greet.wasm");
    std::fs::copy(&wasm, dir.path().join("build/greet.wasm")).unwrap();
    let text = std::fs::read_to_string(example("greet"))
        .unwrap()
        .replace("wasm = \"greet.wasm\"", "wasm = \"build/greet.wasm\"");
    std::fs::write(dir.path().join("plugin.toml"), text).unwrap();
    // A folder and its plugin.toml are the same plugin.
    let first = push(&store, dir.path(), &reference(&registry, "greet:a"));
    let second = push(
        &store,
        &dir.path().join("plugin.toml"),
        &reference(&registry, "greet:b"),
    );
    assert_eq!(first.name, second.name);
    let pulled = pull(&store, &second.pinned).unwrap();
    let manifest = std::fs::read_to_string(&pulled.manifest_path).unwrap();
    assert!(manifest.contains("wasm = \"greet.wasm\""), "{manifest}");
    assert!(manifest.contains("Greets people"), "{manifest}");
    assert_eq!(greet_through(&pulled), b"Hello, oci!");
}

#[test]
fn unknown_tags_digests_and_repositories_are_not_found() {
    let (registry, store, _cache, _) = pushed_greet();
    let missing_digest = format!("greet@sha256:{}", "0".repeat(64));
    for rest in ["greet:9.9.9", "nothing:1.0.0", missing_digest.as_str()] {
        let err = pull(&store, &reference(&registry, rest)).unwrap_err();
        assert!(matches!(err, OciError::NotFound { .. }), "{rest}: {err:?}");
        assert!(err.to_string().contains(rest), "{err}");
    }
    let err =
        block(store.push(&example("greet"), &reference(&registry, &missing_digest))).unwrap_err();
    assert!(matches!(err, OciError::InvalidReference { .. }), "{err:?}");
    let err = block(store.push(
        Path::new("/nonexistent/plugin.toml"),
        &reference(&registry, "x:1"),
    ))
    .unwrap_err();
    assert!(matches!(err, OciError::Plugin { .. }), "{err:?}");
}

/// Flips one byte of the file at `path`, keeping its length.
fn tamper(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// The digest of the module layer of the artifact `pinned` points to, from the registry's
/// own storage (the image manifest is a blob too).
fn wasm_layer_digest(registry: &OciRegistry, pinned: &str) -> String {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(registry.blob_path(pinned)).unwrap()).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["layers"][1]["mediaType"],
        "application/vnd.wasmplug.manifest.v1+toml"
    );
    manifest["layers"][0]["digest"].as_str().unwrap().to_owned()
}

#[test]
fn an_altered_blob_in_the_registry_is_a_digest_mismatch() {
    let (registry, store, cache, pushed) = pushed_greet();
    tamper(&registry.blob_path(&wasm_layer_digest(&registry, &pushed.digest)));
    for from in [reference(&registry, "greet:1.0.0"), pushed.pinned.clone()] {
        let err = pull(&store, &from).unwrap_err();
        match &err {
            OciError::DigestMismatch {
                what,
                expected,
                actual,
                ..
            } => {
                assert!(what.contains("application/wasm"), "{err}");
                assert_ne!(expected, actual);
            }
            other => panic!("{from}: expected DigestMismatch, got {other:?}"),
        }
    }
    // Nothing of it reached the cache.
    assert!(
        !cache
            .path()
            .join("sha256")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some())
    );
}

#[test]
fn an_altered_manifest_in_the_registry_is_a_digest_mismatch() {
    let (registry, store, _cache, pushed) = pushed_greet();
    // Still valid JSON (the registry parses it), different bytes.
    let path = registry.blob_path(&pushed.digest);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("Greets people"), "{text}");
    std::fs::write(&path, text.replace("Greets people", "Greets peoplf")).unwrap();
    for from in [pushed.pinned.clone(), reference(&registry, "greet:1.0.0")] {
        let err = pull(&store, &from).unwrap_err();
        assert!(
            matches!(&err, OciError::DigestMismatch { what, .. } if what.contains("manifest")),
            "{from}: {err:?}"
        );
    }
}

#[test]
fn an_altered_cache_is_detected_and_pulled_again() {
    let (_registry, store, _cache, pushed) = pushed_greet();
    let first = pull(&store, &pushed.pinned).unwrap();
    let cached_wasm: PathBuf = first.manifest_path.with_file_name("greet.wasm");
    let good = std::fs::read(&cached_wasm).unwrap();
    tamper(&cached_wasm);
    let again = pull(&store, &pushed.pinned).unwrap();
    assert!(!again.from_cache, "the altered copy was used");
    assert_eq!(std::fs::read(&cached_wasm).unwrap(), good);
    assert_eq!(greet_through(&again), b"Hello, oci!");
}

#[test]
fn an_artifact_of_another_kind_is_not_a_plugin() {
    use oci_client::client::{Config, ImageLayer};
    let (registry, store, _cache, _) = pushed_greet();
    let other = reference(&registry, "image:1");
    block(async {
        let client = oci_client::Client::new(oci_client::client::ClientConfig {
            protocol: oci_client::client::ClientProtocol::Http,
            ..Default::default()
        });
        let layer = ImageLayer::oci_v1(b"not a plugin".to_vec(), None);
        let config = Config::oci_v1(b"{}".to_vec(), None);
        let target: oci_client::Reference = format!("{}/image:1", registry.host()).parse().unwrap();
        client
            .push(
                &target,
                &[layer],
                config,
                &oci_client::secrets::RegistryAuth::Anonymous,
                None,
            )
            .await
            .unwrap();
    });
    let err = pull(&store, &other).unwrap_err();
    assert!(
        matches!(&err, OciError::NotAPlugin { reason, .. } if reason.contains("application/vnd.wasm.config.v0+json")),
        "{err:?}"
    );
}

#[test]
fn the_verifier_sees_every_pull_and_can_refuse() {
    struct OnlyDigest(String);
    impl ArtifactVerifier for OnlyDigest {
        fn verify(&self, _: &OciReference, digest: &str) -> Result<(), String> {
            (digest == self.0)
                .then_some(())
                .ok_or_else(|| format!("{digest} is not signed"))
        }
    }
    let (registry, store, cache, pushed) = pushed_greet();
    let trusting = store
        .clone()
        .verifier(Arc::new(OnlyDigest(pushed.digest.clone())));
    assert!(pull(&trusting, &pushed.pinned).is_ok());
    let refusing = OciStore::new(cache.path()).verifier(Arc::new(OnlyDigest("sha256:x".into())));
    // Refused from the cache as well as from the registry.
    for from in [pushed.pinned.clone(), reference(&registry, "greet:1.0.0")] {
        let err = pull(&refusing, &from).unwrap_err();
        assert!(
            matches!(&err, OciError::Rejected { reason, .. } if reason.contains("not signed")),
            "{err:?}"
        );
    }
}
