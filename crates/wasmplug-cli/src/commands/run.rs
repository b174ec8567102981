//! `wasmplug run <plugin> <function> [--input TEXT | --input-file PATH]`

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::input::InputArgs;
use super::progress::with_spinner;
use super::sandbox::SandboxArgs;
use super::trust_args::TrustArgs;
use crate::exit;

/// Call a plugin function and print its output bytes to stdout.
///
/// The input comes from `--input`, `--input-file`, or standard input when it is not a
/// terminal (otherwise it is empty). The plugin gets nothing outside its sandbox unless its
/// manifest or the `--allow-*` flags grant it; what the guest writes to its stdout/stderr is
/// shown on stderr.
#[derive(Debug, clap::Args)]
pub struct Run {
    /// The plugin: a `plugin.toml`, a `.wasm` module or a `.wat` file.
    plugin: PathBuf,
    /// The plugin function to call.
    function: String,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    sandbox: SandboxArgs,
    #[command(flatten)]
    trust: TrustArgs,
}

impl Run {
    /// Loads the plugin, calls the function, writes the output.
    pub fn execute(self) -> anyhow::Result<()> {
        let trust = self.trust.policy()?;
        let label = format!("loading {}", self.plugin.display());
        let plugin = with_spinner(&label, || {
            self.sandbox
                .builder(&self.plugin)
                .map(|b| match trust {
                    Some(policy) => b.trust(policy),
                    None => b,
                })
                .and_then(|b| b.load(&self.plugin))
        })
        .with_context(|| format!("cannot load plugin `{}`", self.plugin.display()))
        .map_err(exit::load)?;
        let input = self
            .input
            .read(true, plugin.compiled().limits().max_input.bytes())?;
        let failed = || format!("call to `{}` failed", self.function);
        let (outcome, result) = plugin
            .call_report(&self.function, &input)
            .with_context(failed)
            .map_err(exit::call)?;
        // The guest's own stdout/stderr go to our stderr, so stdout carries only the output;
        // they are shown for a failed call too (a Go panic prints its text there).
        let mut stderr = std::io::stderr().lock();
        for (stream, data, dropped) in [
            ("stdout", &result.stdout, result.stdout_dropped),
            ("stderr", &result.stderr, result.stderr_dropped),
        ] {
            if !data.is_empty() {
                stderr.write_all(data)?;
                if !data.ends_with(b"\n") {
                    stderr.write_all(b"\n")?;
                }
            }
            if dropped > 0 {
                writeln!(
                    stderr,
                    "wasmplug: {dropped} more bytes of guest {stream} dropped (max_stdio)"
                )?;
            }
        }
        drop(stderr);
        let output = outcome.with_context(failed).map_err(exit::call)?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&output)?;
        if std::io::stdout().is_terminal() && !output.ends_with(b"\n") {
            stdout.write_all(b"\n")?;
        }
        stdout.flush()?;
        Ok(())
    }
}
