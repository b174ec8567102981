//! The input flags shared by `run` and `bench`: `--input TEXT` or `--input-file PATH`
//! (`-` for stdin).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::Context;

use crate::exit;

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
    /// The input bytes, at most `limit` (the plugin's `max_input`). Without either flag
    /// the input is empty, or, when `piped_stdin` is set and stdin is not a terminal,
    /// whatever stdin holds. A larger input is refused after reading `limit + 1` bytes.
    pub fn read(&self, piped_stdin: bool, limit: u64) -> anyhow::Result<Vec<u8>> {
        let bytes = match (&self.input, &self.input_file) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(path)) if path.as_os_str() != "-" => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot read input file `{}`", path.display()))?;
                bounded(file, limit)
                    .with_context(|| format!("cannot read input file `{}`", path.display()))?
            }
            (None, Some(_)) => bounded(std::io::stdin(), limit)?,
            (None, None) if piped_stdin && !std::io::stdin().is_terminal() => {
                bounded(std::io::stdin(), limit)?
            }
            (None, None) => Vec::new(),
        };
        if bytes.len() as u64 > limit {
            return Err(exit::call(wasmplug::Error::InputTooLarge {
                size: bytes.len() as u64,
                limit,
            }))
            .context(format!(
                "the input is larger than the plugin's `max_input` of {limit} bytes (reading stopped after {} bytes)",
                bytes.len()
            ));
        }
        Ok(bytes)
    }
}

/// Reads at most `limit + 1` bytes of `reader`.
fn bounded(reader: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    Ok(buf)
}
