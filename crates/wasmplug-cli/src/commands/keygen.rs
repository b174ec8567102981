//! `wasmplug keygen --out NAME`: an Ed25519 key pair for signing plugins.

use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmplug::trust::SigningKey;

/// Generate a key pair: `NAME.key` (secret, mode 0600) and `NAME.pub`, in the formats the
/// reference `wasmsign2` tool reads. Existing files are never overwritten.
#[derive(Debug, clap::Args)]
pub struct Keygen {
    /// Path and base name of the two files, e.g. `keys/release`.
    #[arg(long, value_name = "NAME")]
    out: PathBuf,
}

/// `NAME` with `.ext` appended (`keys/release` -> `keys/release.key`).
pub fn with_suffix(name: &Path, ext: &str) -> PathBuf {
    let mut s = name.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

impl Keygen {
    /// Writes the two files and prints the key id.
    pub fn execute(self) -> anyhow::Result<()> {
        let (secret, public) = (
            with_suffix(&self.out, ".key"),
            with_suffix(&self.out, ".pub"),
        );
        if let Some(existing) = [&secret, &public].into_iter().find(|p| p.exists()) {
            anyhow::bail!(
                "`{}` already exists; choose another --out or remove it first",
                existing.display()
            );
        }
        let key = SigningKey::generate();
        key.to_file(&secret)
            .with_context(|| format!("cannot write `{}`", secret.display()))?;
        key.public_key()
            .to_file(&public)
            .with_context(|| format!("cannot write `{}`", public.display()))?;
        println!(
            "wrote {} (secret: keep it private) and {}\nkey id: {}",
            secret.display(),
            public.display(),
            key.public_key().key_id()
        );
        Ok(())
    }
}
