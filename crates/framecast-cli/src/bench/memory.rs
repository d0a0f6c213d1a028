//! (being written)

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the benchmark.
pub fn run(_args: &Args) -> Result<(), String> {
    Err("not written yet".into())
}
