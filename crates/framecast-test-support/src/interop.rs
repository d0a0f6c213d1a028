//! What the interop tests share: finding the real tools (ffmpeg,
//! gst-launch-1.0) and running them as children that never outlive the
//! test, and the GStreamer receiver with retransmission
//! ([`gst_rtx_receiver`]).

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Whether `tool` runs. Missing, it is a skip with a message, or a
/// failure when `FRAMECAST_REQUIRE_INTEROP=1` (as CI sets).
pub fn tool_available(tool: &str) -> bool {
    let available = Command::new(tool)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        // Started at all is enough: `gst-launch-1.0 -version` exits 1.
        .is_ok();
    required(available, &format!("{tool} not found"))
}

/// `available`, or a skip saying `why_not` (a failure when
/// `FRAMECAST_REQUIRE_INTEROP=1`): for a peer that needs more than a
/// tool that starts (a Python module, a GStreamer plugin).
pub fn required(available: bool, why_not: &str) -> bool {
    if !available {
        assert!(
            std::env::var("FRAMECAST_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{why_not}, and FRAMECAST_REQUIRE_INTEROP=1"
        );
        eprintln!("skipping: {why_not} (set FRAMECAST_REQUIRE_INTEROP=1 to fail)");
    }
    available
}

/// A child process killed (and reaped) when the test ends, however it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tool` with `args`, its standard streams closed.
pub fn spawn(tool: &str, args: &[String]) -> KillOnDrop {
    KillOnDrop(
        Command::new(tool)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {tool}: {e}")),
    )
}

/// Runs `cmd` to its end (no input) and returns what it printed; panics
/// when it does not end within `timeout` (the child is then left to the
/// end of the test process).
pub fn output_within(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null());
    let what = format!("{cmd:?}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(cmd.output()));
    rx.recv_timeout(timeout)
        .unwrap_or_else(|_| panic!("{what} did not end within {timeout:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Debian's interpreter, which has PyGObject (`python3-gi`) and numpy;
/// the `python3` on PATH may be another without them.
pub const PYTHON: &str = "/usr/bin/python3";

/// The GStreamer receiver with retransmission (`rtpbin` +
/// `rtprtxreceive`, `rtpjitterbuffer do-retransmission=true`): a PyGObject
/// program run with [`PYTHON`], since gst-launch cannot connect rtpbin's
/// `request-aux-receiver`. `--check` says whether it can run here.
pub fn gst_rtx_receiver() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("gst_rtx_receiver.py")
}

/// gst-rtsp-server in RECORD mode (a PyGObject program run with
/// [`PYTHON`]): the reference server framecast publishes into.
pub fn gst_rtsp_record_server() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("gst_rtsp_record_server.py")
}

/// gst-rtsp-server in PLAY mode serving a test stream (a PyGObject
/// program run with [`PYTHON`]): the reference server framecast plays from.
pub fn gst_rtsp_play_server() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("gst_rtsp_play_server.py")
}

/// Whether gst-rtsp-server can run here (PyGObject with GstRtspServer 1.0
/// under [`PYTHON`]); `false` means skip, and with
/// `FRAMECAST_REQUIRE_INTEROP=1` it fails the test instead (see
/// [`required`]).
pub fn gst_rtsp_server_available() -> bool {
    let ok = std::process::Command::new(PYTHON)
        .args([
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    required(ok, "python3-gi with GstRtspServer 1.0 not installed")
}
