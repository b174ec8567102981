//! One module per subcommand, each with `execute(self) -> anyhow::Result<()>`.

mod inspect;
mod progress;
mod run;
mod sandbox;

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Call a function of a plugin and print its output.
    Run(run::Run),
    /// Show what a plugin is made of, without running any of its code.
    Inspect(inspect::Inspect),
}

impl Command {
    /// Runs the subcommand.
    pub fn execute(self) -> anyhow::Result<()> {
        match self {
            Command::Run(c) => c.execute(),
            Command::Inspect(c) => c.execute(),
        }
    }
}
