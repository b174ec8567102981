//! Paths of fixtures and guests, built once per test run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A WAT fixture from `tests/guests/wat/`.
pub fn wat(name: &str) -> PathBuf {
    root().join("tests/guests/wat").join(format!("{name}.wat"))
}

/// Builds the Rust guests once (for this test binary) and returns the repo root.
pub fn guests_built() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = root();
            let status = Command::new("bash")
                .arg(root.join("scripts/build-guests.sh"))
                .status()
                .expect("run scripts/build-guests.sh");
            assert!(status.success(), "scripts/build-guests.sh failed");
            root
        })
        .clone()
}

/// The manifest of example plugin `name`, built.
pub fn example(name: &str) -> PathBuf {
    guests_built()
        .join("examples/plugins")
        .join(name)
        .join("plugin.toml")
}

/// The `pdk-probe` test guest, built.
pub fn probe() -> PathBuf {
    guests_built().join("target/guests/wasm/pdk-probe.wasm")
}
