//! `--trust` / `--trust-key` of `run`: the trust policy a command loads plugins under.

use std::path::PathBuf;

use anyhow::Context;
use wasmplug::TrustPolicy;
use wasmplug::trust::PublicKey;
use wasmplug_gateway::GatewayConfig;

/// Trust flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrustArgs {
    /// Enforce the `[trust]` policy of this `wasmplug.toml` (docs/trust.md).
    #[arg(long, value_name = "wasmplug.toml")]
    trust: Option<PathBuf>,
    /// Require a signature by this public key, for any plugin name (repeatable; adds to
    /// `--trust`).
    #[arg(long = "trust-key", value_name = "NAME.pub")]
    trust_key: Vec<PathBuf>,
}

impl TrustArgs {
    /// The policy, or `None` when no flag is given.
    pub fn policy(&self) -> anyhow::Result<Option<TrustPolicy>> {
        if self.trust.is_none() && self.trust_key.is_empty() {
            return Ok(None);
        }
        let mut policy = match &self.trust {
            Some(file) => {
                let config = GatewayConfig::from_file(file)?;
                TrustPolicy::from_config(&config.trust)
                    .with_context(|| format!("cannot set up `[trust]` of `{}`", file.display()))?
            }
            None => TrustPolicy::new(),
        };
        if !self.trust_key.is_empty() {
            policy = policy.require_signatures(true);
        }
        for file in &self.trust_key {
            let key = PublicKey::from_file(file)?;
            let name = format!("--trust-key {}", file.display());
            policy = policy.publisher(&name, key, &["*"])?;
        }
        Ok(Some(policy))
    }
}
