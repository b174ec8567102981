//! `wasmplug contract <plugin> [-o FILE]`: the plugin's contract as stable JSON.

use std::path::PathBuf;

use anyhow::Context;
use wasmplug::Contract;

use crate::exit;

/// Print the plugin's contract (ABI version, functions, imports with signatures, requested
/// capabilities, limits, requirements) as stable JSON, for `wasmplug diff` and CI.
/// Nothing is compiled or run.
#[derive(Debug, clap::Args)]
pub struct ContractCmd {
    /// A `plugin.toml`, `.wasm` module or `.wat` file.
    plugin: PathBuf,
    /// Write the JSON to FILE instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
}

impl ContractCmd {
    /// Reads the plugin and prints its contract.
    pub fn execute(self) -> anyhow::Result<()> {
        let json = Contract::from_path(&self.plugin)
            .with_context(|| format!("cannot read the contract of `{}`", self.plugin.display()))
            .map_err(exit::load)?
            .to_json();
        match &self.out {
            Some(file) => std::fs::write(file, json)
                .with_context(|| format!("cannot write `{}`", file.display())),
            None => {
                print!("{json}");
                Ok(())
            }
        }
    }
}
