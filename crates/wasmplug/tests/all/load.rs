//! Loading through manifests: config for `init`, pins, name checks, limits.

use std::path::Path;

use wasmplug::{ByteSize, Error, Limits, Plugin};

use crate::support::wat;

fn write_manifest(dir: &Path, extra: &str) -> std::path::PathBuf {
    std::fs::copy(wat("init-fails"), dir.join("plugin.wat")).unwrap();
    let path = dir.join("plugin.toml");
    std::fs::write(
        &path,
        format!("name = \"init-fails\"\nversion = \"0.1.0\"\nwasm = \"plugin.wat\"\n{extra}"),
    )
    .unwrap();
    path
}

#[test]
fn init_receives_the_manifest_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_manifest(dir.path(), "[config]\nok = \"yes\"\n");
    let plugin = Plugin::load(&path).unwrap();
    assert_eq!(plugin.call("config", b"").unwrap(), br#"{"ok":"yes"}"#);
}

#[test]
fn builder_config_is_added_to_the_manifest_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_manifest(dir.path(), "[config]\nok = \"yes\"\n");
    let plugin = Plugin::builder().config("zone", "eu").load(&path).unwrap();
    assert_eq!(
        plugin.call("config", b"").unwrap(),
        br#"{"ok":"yes","zone":"eu"}"#
    );
}

#[test]
fn failing_init_refuses_the_plugin_with_the_guest_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Plugin::load(write_manifest(dir.path(), "")).unwrap_err();
    match err {
        Error::Guest {
            function,
            message,
            code,
        } => {
            assert_eq!(function, "init");
            assert_eq!(message, "missing config `ok`");
            assert_eq!(code, Some(3));
        }
        other => panic!("expected Guest error from init, got {other:?}"),
    }
}

#[test]
fn sha256_pin_obeyed_and_violated() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(wat("init-fails")).unwrap();
    let good = sha256_hex(&bytes);
    let path = write_manifest(
        dir.path(),
        &format!("sha256 = \"{good}\"\n[config]\nok = \"1\"\n"),
    );
    Plugin::load(&path).unwrap();
    let bad = "0".repeat(64);
    let path = write_manifest(
        dir.path(),
        &format!("sha256 = \"{bad}\"\n[config]\nok = \"1\"\n"),
    );
    match Plugin::load(&path).unwrap_err() {
        Error::ChecksumMismatch {
            expected, found, ..
        } => {
            assert_eq!(expected, bad);
            assert_eq!(found, good);
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn manifest_name_must_match_the_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_manifest(dir.path(), "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("init-fails", "other");
    std::fs::write(&path, text).unwrap();
    let err = Plugin::load(&path).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("`other`") && reason.contains("`init-fails`")),
        "{err:?}"
    );
}

#[test]
fn manifest_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_manifest(dir.path(), "colour = \"red\"\n");
    let err = Plugin::load(&path).unwrap_err();
    match &err {
        Error::Manifest { path: p, message } => {
            assert_eq!(p, &path);
            assert!(
                message.contains("colour") && message.contains("line 4"),
                "{message}"
            );
        }
        other => panic!("expected Manifest, got {other:?}"),
    }
}

#[test]
fn manifest_pointing_at_a_missing_module_is_file_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.toml");
    std::fs::write(
        &path,
        "name = \"x\"\nversion = \"1.0.0\"\nwasm = \"gone.wasm\"\n",
    )
    .unwrap();
    let err = Plugin::load(&path).unwrap_err();
    assert!(
        matches!(&err, Error::FileNotFound { path } if path == &dir.path().join("gone.wasm")),
        "{err:?}"
    );
}

#[test]
fn initial_memory_over_the_limit_fails_to_instantiate() {
    // echo.wat starts with one 64 KiB page.
    let too_small = Limits {
        memory: ByteSize::kib(32),
        ..Limits::default()
    };
    let err = Plugin::builder()
        .limits(too_small)
        .load(wat("echo"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Instantiate { message, .. } if message.contains("memory limit")),
        "{err:?}"
    );
    let enough = Limits {
        memory: ByteSize::kib(64),
        ..Limits::default()
    };
    Plugin::builder().limits(enough).load(wat("echo")).unwrap();
}

#[test]
fn compile_does_not_run_guest_code() {
    // init-fails refuses to initialise without config, but compiling alone succeeds.
    let compiled = Plugin::builder().compile(wat("init-fails")).unwrap();
    assert_eq!(compiled.name(), "init-fails");
    assert!(compiled.interface().has_init);
    assert!(
        Plugin::new(compiled).is_err(),
        "instantiating runs init, which fails"
    );
}
