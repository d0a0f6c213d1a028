//! `framecast bench …`: hands over to the `framecast-bench` program built
//! beside this one. The benchmarks (their code, the GStreamer C anchors,
//! the counting allocator) live in the `framecast-bench` crate so that
//! this binary carries none of them; this forwarder only looks for a file
//! and execs it.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// What follows `framecast bench`, handed to `framecast-bench` unread
/// (`--help` too).
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct BenchArgs {
    /// The benchmark and its options (`framecast-bench --help` lists them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Where `framecast-bench` is: beside this program, as Cargo builds both.
fn bench_exe() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    Ok(me.with_file_name("framecast-bench"))
}

/// Replaces this process with `framecast-bench ARGS…`; returns only when
/// that cannot be done.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let exe = bench_exe()?;
    if !exe.is_file() {
        return Err(format!(
            "the benchmarks are a separate program, and {} is not there: build it with \
             `cargo build --release -p framecast-cli -p framecast-bench` and run \
             `target/release/framecast-bench {}`",
            exe.display(),
            args.args.join(" ")
        ));
    }
    let error = Command::new(&exe).args(&args.args).exec();
    Err(format!("{}: {error}", exe.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_bench_program_it_says_how_to_build_it() {
        // This test binary lives in deps/, where no framecast-bench is.
        let exe = bench_exe().unwrap();
        assert_eq!(exe.file_name().unwrap(), "framecast-bench");
        assert!(!exe.exists(), "{}", exe.display());
        let err = run(BenchArgs {
            args: vec!["memory".into(), "--iters".into(), "10".into()],
        })
        .unwrap_err();
        assert!(
            err.contains("cargo build --release -p framecast-cli -p framecast-bench")
                && err.contains("framecast-bench memory --iters 10"),
            "{err}"
        );
    }
}
