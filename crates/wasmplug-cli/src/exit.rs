//! Maps errors to messages on stderr and to the documented exit codes.

use std::process::ExitCode;

/// Exit code: something other than loading or calling failed.
pub const OTHER: u8 = 1;
/// Exit code of `wasmplug diff` when the new contract breaks the old one.
pub const BREAKING: u8 = 1;
/// Exit code: the plugin could not be loaded or is not a valid plugin.
pub const LOAD: u8 = 3;
/// Exit code: the plugin call failed.
pub const CALL: u8 = 4;

/// An error that already knows its exit code.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The underlying error.
    #[source]
    pub source: anyhow::Error,
}

/// Wraps `err` as a load failure (exit code 3).
pub fn load(err: impl Into<anyhow::Error>) -> anyhow::Error {
    Failure {
        code: LOAD,
        source: err.into(),
    }
    .into()
}

/// Wraps `err` as a call failure (exit code 4).
pub fn call(err: impl Into<anyhow::Error>) -> anyhow::Error {
    Failure {
        code: CALL,
        source: err.into(),
    }
    .into()
}

/// Prints `err` with its cause chain to stderr and returns the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let code = err.downcast_ref::<Failure>().map_or(OTHER, |f| f.code);
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !err.to_string().contains(&text) {
            eprintln!("  caused by: {text}");
        }
    }
    ExitCode::from(code)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
