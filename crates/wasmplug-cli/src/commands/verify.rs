//! `wasmplug verify <module|plugin.toml> --public-key NAME.pub`

use std::path::PathBuf;

use wasmplug::trust::{PublicKey, SignatureCheck, UntrustedReason, check};

use super::module_file;
use crate::exit;

/// Verify a module's embedded signature against public keys. Exits 0 when a key's
/// signature is valid, 3 with the reason otherwise (unsigned, unknown key, tampered).
#[derive(Debug, clap::Args)]
pub struct Verify {
    /// A `.wasm` module or a `plugin.toml`.
    plugin: PathBuf,
    /// A public key (`NAME.pub`); repeat to accept any of several.
    #[arg(long = "public-key", value_name = "NAME.pub", required = true)]
    public_key: Vec<PathBuf>,
}

impl Verify {
    /// Checks and reports.
    pub fn execute(self) -> anyhow::Result<()> {
        let keys = self
            .public_key
            .iter()
            .map(PublicKey::from_file)
            .collect::<wasmplug::Result<Vec<_>>>()?;
        let file = module_file::read(&self.plugin)?;
        let (module, bytes) = (file.path, file.bytes);
        let reason = match check(&bytes, &keys) {
            SignatureCheck::Signed { trusted, .. } if !trusted.is_empty() => {
                for i in trusted {
                    println!(
                        "valid: {} is signed by key {} ({})",
                        module.display(),
                        keys[i].key_id(),
                        self.public_key[i].display()
                    );
                }
                return Ok(());
            }
            SignatureCheck::Signed { key_ids, .. } => UntrustedReason::UnknownKey { key_ids },
            SignatureCheck::Unsigned => UntrustedReason::Unsigned,
            SignatureCheck::Tampered => UntrustedReason::Tampered,
            SignatureCheck::Malformed { message } => {
                UntrustedReason::MalformedSignature { message }
            }
            other => anyhow::bail!("unexpected signature check result {other:?}"),
        };
        Err(exit::load(anyhow::anyhow!(
            "`{}` is not validly signed by the given key(s): {reason}",
            module.display()
        )))
    }
}
