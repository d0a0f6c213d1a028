//! What the `framecast` binary's tests share: starting it as a user would
//! and waiting for it, bounded.

use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use framecast_test_support::child::wait_bounded;

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
