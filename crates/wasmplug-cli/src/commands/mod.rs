//! One module per subcommand, each with `execute(self) -> anyhow::Result<()>`.

mod bench;
mod bench_http;
mod build;
mod contract;
mod diff;
mod input;
mod inspect;
mod keygen;
mod module_file;
mod new;
mod oci;
mod progress;
mod pull;
mod push;
mod run;
mod sandbox;
mod serve;
mod serve_oci;
mod serve_sync;
mod sign;
mod trust_args;
mod verify;

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Call a function of a plugin and print its output.
    Run(run::Run),
    /// Show what a plugin is made of, without running any of its code.
    Inspect(inspect::Inspect),
    /// Measure calls/s and latency of a plugin function (optionally against raw wasmtime).
    Bench(bench::Bench),
    /// Load-test the HTTP gateway with wrk (a plugin endpoint against a bare handler).
    BenchHttp(bench_http::BenchHttp),
    /// Serve a directory of plugins over HTTP (the gateway; see docs/gateway.md).
    Serve(serve::Serve),
    /// Generate an Ed25519 key pair for signing plugins (NAME.key, NAME.pub).
    Keygen(keygen::Keygen),
    /// Sign a module (or the module of a plugin.toml) with a secret key.
    Sign(sign::Sign),
    /// Verify a module's signature against public keys.
    Verify(verify::Verify),
    /// Print a plugin's contract as stable JSON (docs/contract.md).
    Contract(contract::ContractCmd),
    /// Compare two contracts: exit 0 if compatible, 1 if breaking.
    Diff(diff::DiffCmd),
    /// Create a plugin project in Rust, Go, C, Zig or AssemblyScript.
    New(new::New),
    /// Build a plugin project and write its wasmplug custom sections from plugin.toml.
    Build(build::Build),
    /// Publish a plugin to an OCI registry (see docs/oci.md).
    Push(push::Push),
    /// Fetch a plugin from an OCI registry into a plugin directory.
    Pull(pull::Pull),
}

impl Command {
    /// Runs the subcommand.
    pub fn execute(self) -> anyhow::Result<()> {
        match self {
            Command::Run(c) => c.execute(),
            Command::Inspect(c) => c.execute(),
            Command::Bench(c) => c.execute(),
            Command::BenchHttp(c) => c.execute(),
            Command::Serve(c) => c.execute(),
            Command::Keygen(c) => c.execute(),
            Command::Sign(c) => c.execute(),
            Command::Verify(c) => c.execute(),
            Command::Contract(c) => c.execute(),
            Command::Diff(c) => c.execute(),
            Command::New(c) => c.execute(),
            Command::Build(c) => c.execute(),
            Command::Push(c) => c.execute(),
            Command::Pull(c) => c.execute(),
        }
    }
}
