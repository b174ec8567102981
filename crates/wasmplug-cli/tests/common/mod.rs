//! Shared by the CLI's test binaries: the repo root and the guests, built once per binary.

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

/// The repo root, after building the Rust guests once for this test binary.
pub fn built() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new("bash")
                .arg(root().join("scripts/build-guests.sh"))
                .status()
                .unwrap();
            assert!(status.success(), "scripts/build-guests.sh failed");
            root()
        })
        .clone()
}
