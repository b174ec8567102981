//! `wasmplug`: run and inspect WebAssembly plugins from the command line.
//!
//! Exit codes: 0 success, 1 other failure (e.g. unreadable input file), 2 usage error,
//! 3 the plugin could not be loaded (or is not a valid plugin, or not validly signed),
//! 4 the call failed; `wasmplug diff` exits 1 when the new contract breaks the old one.
//! A closed stdout (`wasmplug run ... | head`) is not an error.

mod commands;
mod exit;

use clap::Parser;

/// mimalloc instead of the system allocator: the gateway allocates and frees on every
/// request on every worker, where glibc's malloc spends more (see docs/gateway.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run and inspect sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "wasmplug", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WASMPLUG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command.execute() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => exit::report(&err),
    }
}
