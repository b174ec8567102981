//! `wasmplug run <plugin> <function> [--input TEXT | --input-file PATH]`

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::exit;

/// Call a plugin function and print its output bytes to stdout.
///
/// The input comes from `--input`, `--input-file`, or standard input when it is not a
/// terminal (otherwise it is empty).
#[derive(Debug, clap::Args)]
pub struct Run {
    /// The plugin: a `plugin.toml`, a `.wasm` module or a `.wat` file.
    plugin: PathBuf,
    /// The plugin function to call.
    function: String,
    /// Input text.
    #[arg(long, short, conflicts_with = "input_file")]
    input: Option<String>,
    /// File whose bytes are the input (`-` for stdin).
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// Extra configuration for the plugin's `init`, as KEY=VALUE (repeatable).
    #[arg(long = "config", short = 'c', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    config: Vec<(String, String)>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

impl Run {
    /// Loads the plugin, calls the function, writes the output.
    pub fn execute(self) -> anyhow::Result<()> {
        let input = self.read_input()?;
        let mut builder = wasmplug::Plugin::builder();
        for (key, value) in self.config {
            builder = builder.config(key, value);
        }
        let plugin = builder
            .load(&self.plugin)
            .with_context(|| format!("cannot load plugin `{}`", self.plugin.display()))
            .map_err(exit::load)?;
        let output = plugin
            .call(&self.function, &input)
            .with_context(|| format!("call to `{}` failed", self.function))
            .map_err(exit::call)?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&output)?;
        if std::io::stdout().is_terminal() && !output.ends_with(b"\n") {
            stdout.write_all(b"\n")?;
        }
        stdout.flush()?;
        Ok(())
    }

    fn read_input(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(text) = &self.input {
            return Ok(text.clone().into_bytes());
        }
        let mut buf = Vec::new();
        match &self.input_file {
            Some(path) if path.as_os_str() != "-" => {
                return std::fs::read(path)
                    .with_context(|| format!("cannot read input file `{}`", path.display()));
            }
            Some(_) => {
                std::io::stdin().read_to_end(&mut buf)?;
            }
            None if !std::io::stdin().is_terminal() => {
                std::io::stdin().read_to_end(&mut buf)?;
            }
            None => {}
        }
        Ok(buf)
    }
}
