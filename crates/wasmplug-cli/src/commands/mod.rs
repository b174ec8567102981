//! One module per subcommand, each with `execute(self) -> anyhow::Result<()>`.

mod bench;
mod bench_http;
mod input;
mod inspect;
mod oci;
mod progress;
mod pull;
mod push;
mod run;
mod sandbox;
mod serve;
mod serve_oci;

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
            Command::Push(c) => c.execute(),
            Command::Pull(c) => c.execute(),
        }
    }
}
