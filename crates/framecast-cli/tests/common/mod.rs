//! What the `framecast` binary's tests share: starting it as a user would
//! and waiting for it, bounded.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use framecast_test_support::child::{wait_bounded, Lines};

/// The longest a `framecast` run of these tests may take.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// `framecast`, with no tracers from the environment (their reports would
/// mix into the output the tests read).
pub fn framecast() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_framecast"));
    cmd.env_remove("FRAMECAST_TRACERS");
    cmd
}

/// Waits for `child` at most [`TIMEOUT`]; kills it and panics after that.
pub fn wait(child: &mut Child) -> ExitStatus {
    wait_bounded(child, TIMEOUT)
}

/// `framecast ARGS` started, no input, its standard error read line by
/// line (its standard output dropped).
// Not every test binary that includes this module starts one so.
#[allow(dead_code)]
pub fn spawn_with_stderr(args: &[&str]) -> (Child, Lines) {
    let mut child = framecast()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("framecast {args:?}: {e}"));
    let lines = Lines::new(child.stderr.take().expect("stderr"));
    (child, lines)
}
