//! `wasmplug sign <module|plugin.toml> --key NAME.key [-o OUT]`

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use wasmplug::trust::{SigningKey, sign};

use super::module_file;
use crate::exit;

/// Sign a module (embedded `signature` section; signatures already there are kept).
///
/// With a `plugin.toml`, the module it names is signed, in place unless `-o` is given; a
/// `sha256` pin in the manifest is updated to the signed module's hash.
#[derive(Debug, clap::Args)]
pub struct Sign {
    /// A `.wasm` module or a `plugin.toml` (`.wat` text needs `-o OUT.wasm`).
    plugin: PathBuf,
    /// The secret key (`wasmplug keygen` or `wasmsign2 keygen`).
    #[arg(long, value_name = "NAME.key")]
    key: PathBuf,
    /// Where to write the signed module [default: replace the module].
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    out: Option<PathBuf>,
}

impl Sign {
    /// Signs and writes the module.
    pub fn execute(self) -> anyhow::Result<()> {
        let key = SigningKey::from_file(&self.key)?;
        let file = module_file::read(&self.plugin)?;
        let (module, manifest, raw) = (file.path, file.manifest, file.bytes);
        let binary = wasmplug::abi::to_binary(&raw).map_err(exit::load)?;
        if !matches!(binary, std::borrow::Cow::Borrowed(_)) && self.out.is_none() {
            bail!(
                "`{}` is WebAssembly text; pass -o OUT.wasm for the signed binary module",
                module.display()
            );
        }
        let signed = sign(&binary, &key).map_err(exit::load)?;
        let out = self.out.clone().unwrap_or_else(|| module.clone());
        write_atomic(&out, &signed)?;
        println!(
            "signed {} with key {} ({} bytes)",
            out.display(),
            key.public_key().key_id(),
            signed.len()
        );
        if let Some(pin) = manifest.as_ref().and_then(|m| m.sha256.as_deref())
            && out == module
        {
            let found = hex::encode(Sha256::digest(&signed));
            update_pin(&self.plugin, pin, &found)?;
            println!("updated the sha256 pin in {}", self.plugin.display());
        }
        Ok(())
    }
}

/// Replaces the pinned hash `old` (lowercase) in the manifest text by `new`.
fn update_pin(manifest: &Path, old: &str, new: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(manifest)?;
    let at = text
        .to_ascii_lowercase()
        .find(old)
        .with_context(|| format!("cannot find the sha256 pin in `{}`", manifest.display()))?;
    let updated = format!("{}{new}{}", &text[..at], &text[at + old.len()..]);
    write_atomic(manifest, updated.as_bytes())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.signing"));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace `{}`", path.display()))
}
