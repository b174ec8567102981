//! The input flags shared by `run` and `bench`: `--input TEXT` or `--input-file PATH`
//! (`-` for stdin).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::Context;

/// Where a command's input bytes come from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// Input text.
    #[arg(long, short, conflicts_with = "input_file")]
    input: Option<String>,
    /// File whose bytes are the input (`-` for stdin).
    #[arg(long)]
    input_file: Option<PathBuf>,
}

impl InputArgs {
    /// The input bytes. Without either flag the input is empty, or, when `piped_stdin` is
    /// set and stdin is not a terminal, whatever stdin holds.
    pub fn read(&self, piped_stdin: bool) -> anyhow::Result<Vec<u8>> {
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
            None if piped_stdin && !std::io::stdin().is_terminal() => {
                std::io::stdin().read_to_end(&mut buf)?;
            }
            None => {}
        }
        Ok(buf)
    }
}
