//! `wasmplug diff <old> <new> [--json]`: compatible (exit 0) or breaking (exit 1).

use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmplug::Contract;
use wasmplug::contract::Diff;

use crate::exit;

/// Compare two plugin contracts and classify every change as compatible or breaking
/// (docs/contract.md). Each side is a `plugin.toml`, a module, or a contract JSON saved by
/// `wasmplug contract`. Exits 0 when nothing breaks, 1 when something does, 3 when a side
/// cannot be read.
#[derive(Debug, clap::Args)]
pub struct DiffCmd {
    /// The old version.
    old: PathBuf,
    /// The new version.
    new: PathBuf,
    /// Print the diff as JSON.
    #[arg(long)]
    json: bool,
}

fn contract(path: &Path) -> anyhow::Result<Contract> {
    let result = if path.extension().is_some_and(|e| e == "json") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "`{}` is not a contract saved by `wasmplug contract`",
                path.display()
            )
        })
    } else {
        Contract::from_path(path).map_err(anyhow::Error::from)
    };
    result
        .with_context(|| format!("cannot read the contract of `{}`", path.display()))
        .map_err(exit::load)
}

impl DiffCmd {
    /// Prints the diff; fails with exit code 1 on a breaking change.
    pub fn execute(self) -> anyhow::Result<()> {
        let (old, new) = (contract(&self.old)?, contract(&self.new)?);
        let diff = Diff::between(&old, &new);
        let breaking = diff.breaking().count();
        if self.json {
            let mut value = serde_json::to_value(&diff)?;
            value["breaking"] = breaking.into();
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            print!("{}", render(&old, &diff, breaking));
        }
        if breaking == 0 {
            return Ok(());
        }
        Err(exit::Failure {
            code: exit::BREAKING,
            source: anyhow::anyhow!(
                "{breaking} breaking change(s) from {} {} to {}",
                old.name,
                diff.old_version,
                diff.new_version
            ),
        }
        .into())
    }
}

fn render(old: &Contract, diff: &Diff, breaking: usize) -> String {
    let mut out = format!(
        "{} {} -> {}: {} change(s), {breaking} breaking\n",
        old.name,
        diff.old_version,
        diff.new_version,
        diff.changes.len()
    );
    for c in &diff.changes {
        let class = if c.breaking { "breaking" } else { "compatible" };
        out.push_str(&format!("  {class:<10}  {c}\n"));
    }
    out
}
