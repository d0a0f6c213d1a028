//! `framecast bench latency`: end-to-end latency, frame handed over ->
//! frame decoded, over RTP/H.264 on 127.0.0.1, for framecast's senders
//! beside GStreamer's and FFmpeg's, in one run, measured by one receiver.
//!
//! For every case a fresh receiver (`anchors/gst_latency_receiver.c`:
//! `udpsrc ! rtph264depay ! avdec_h264 ! appsink`, the same for every
//! sender) listens on a free port of 127.0.0.1, and the sender runs as a
//! child process reading raw frames on its standard input, as a program
//! that pipes OpenCV frames into it would. This process paces frames at
//! 30 fps like a camera (absolute deadlines; a slot missed because the
//! sender did not take the previous frame in time is skipped, not sent in
//! a burst), paints the [stamp](crate::stamp) into each, takes the time
//! just before writing it, and writes it. The receiver reads the stamp the
//! moment the frame is decoded: latency = decoded - handed over, on one
//! clock (`CLOCK_MONOTONIC`). The first second is not counted (start-up,
//! the first IDR).
//!
//! One more case, `framecast-sender-lib`, has no child and no pipe: a
//! [`framecast::sender::Sender`] in this process, each stamped frame copied
//! into `Sender::frame()` and pushed, as a program linking framecast does.
//! Its CPU time is this process's less the painting thread's, plus that
//! thread's time in the copy and `push`; it has no RSS of its own.
//!
//! Two more cases are Python programs (`/usr/bin/python3`, an OpenCV-style
//! loop: one preallocated numpy array filled from stdin with `readinto`,
//! then pushed): `framecast-python` pushes it into the `framecast` module's
//! `Sender` (the `libframecast_py.so` built beside this program, copied into
//! a temporary folder as `framecast.so`), `gst-python` into GStreamer's
//! `appsrc` through PyGObject (`Gst.Buffer.new_wrapped(frame.tobytes())`,
//! `push-buffer`), ahead of the gst-x264 case's encoder and payloader.
//! framecast-python is compared with gst-python.
//!
//! The sender's CPU time per frame is steady state: its `utime + stime`
//! at exit (`wait4(2)`) less what it had used at the one-second mark
//! (`/proc/PID/stat`), over the frames written since; its peak RSS is
//! `VmHWM` in `/proc/PID/status` when the last frame has been written (not
//! `ru_maxrss`: Linux carries the parent's peak into a child across
//! fork and exec, so it would report at least this benchmark's own RSS).

use framecast::sync::MutexExt;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::stamp::{self, Stamp};

/// Frames per second every sender is fed and told.
pub(super) const FPS: u32 = 30;
/// Bitrate every encoder is asked for, kbit/s.
pub(super) const BITRATE_KBPS: u32 = 4000;
/// RTP packet size asked of every payloader.
const MTU: u32 = 1400;
/// Latencies of frames handed over in the first second are not counted.
const WARMUP: Duration = Duration::from_secs(1);
/// Longest wait for the receiver to start playing.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest a sender may take to exit once its input is closed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The receiver is stopped once no frame came for this long after the
/// sender exited.
const DRAIN_IDLE: Duration = Duration::from_millis(500);
/// Bytes of a child's stderr kept for error messages.
const TAIL_BYTES: usize = 4096;

const RECEIVER_SOURCE: &str = include_str!("../../anchors/gst_latency_receiver.c");

/// The Python that runs the Python cases: Debian's, where PyGObject
/// (`python3-gi`) and numpy (`python3-numpy`) are packaged.
const PYTHON: &str = "/usr/bin/python3";
/// The Python cases' program (argv: `framecast` TO FORMAT WIDTH HEIGHT FPS
/// BITRATE, or `gst` PIPELINE FORMAT WIDTH HEIGHT).
const PY_SOURCE: &str = include_str!("latency_python.py");
/// The framecast Python module as Cargo builds it.
const PY_MODULE_FILE: &str = "libframecast_py.so";

/// Options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of frames each case is fed (the first second is not counted).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Frame sizes, `WxH`, comma-separated or repeated.
    #[arg(long = "size", value_delimiter = ',', default_values_t = ["1280x720".to_string(), "1920x1080".to_string()])]
    sizes: Vec<String>,
    /// Input pixel formats: bgr, i420.
    #[arg(long, value_delimiter = ',', default_values_t = ["bgr".to_string(), "i420".to_string()])]
    formats: Vec<String>,
    /// Sender cases to run (default all): framecast-launch-x264,
    /// framecast-launch-openh264, framecast-send, gst-x264, gst-openh264,
    /// ffmpeg-x264, framecast-python, gst-python (Python programs pushing
    /// numpy frames), framecast-sender-lib (in process).
    #[arg(long, value_delimiter = ',')]
    cases: Vec<String>,
    /// `fdsrc blocksize=` for the `launch` cases of framecast and
    /// GStreamer (default: unset, each tool's own: 65536 bytes in
    /// framecast, 4096 in GStreamer).
    #[arg(long)]
    fdsrc_blocksize: Option<u32>,
    /// Extra properties for framecast's encoder in the `launch` cases,
    /// e.g. `threads=3` (to try encoder settings against the same peers).
    #[arg(long, default_value = "")]
    encoder_props: String,
}

/// Settings that change how the senders are run.
#[derive(Debug, Clone, Default)]
struct Knobs {
    fdsrc_blocksize: Option<u32>,
    encoder_props: String,
    /// The folder holding `framecast.so`, for framecast-python's
    /// `PYTHONPATH`.
    python_path: Option<PathBuf>,
}

/// One sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    LaunchX264,
    LaunchOpenh264,
    Send,
    GstX264,
    GstOpenh264,
    FfmpegX264,
    /// A Python program pushing numpy frames into `framecast.Sender`.
    FramecastPython,
    /// The same program with GStreamer's Python bindings and `appsrc`.
    GstPython,
    /// framecast's `Sender` in the benchmark's own process (no pipe).
    Library,
}

impl Case {
    const ALL: [Case; 9] = [
        Case::LaunchX264,
        Case::LaunchOpenh264,
        Case::Send,
        Case::GstX264,
        Case::GstOpenh264,
        Case::FfmpegX264,
        Case::FramecastPython,
        Case::GstPython,
        Case::Library,
    ];

    fn name(self) -> &'static str {
        match self {
            Case::LaunchX264 => "framecast-launch-x264",
            Case::LaunchOpenh264 => "framecast-launch-openh264",
            Case::Send => "framecast-send",
            Case::GstX264 => "gst-x264",
            Case::GstOpenh264 => "gst-openh264",
            Case::FfmpegX264 => "ffmpeg-x264",
            Case::FramecastPython => "framecast-python",
            Case::GstPython => "gst-python",
            Case::Library => "framecast-sender-lib",
        }
    }

    fn parse(name: &str) -> Result<Case, String> {
        Case::ALL
            .into_iter()
            .find(|c| c.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<_> = Case::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "--cases: unknown case {name:?} (one of {})",
                    names.join(", ")
                )
            })
    }

    fn is_framecast(self) -> bool {
        matches!(
            self,
            Case::LaunchX264
                | Case::LaunchOpenh264
                | Case::Send
                | Case::FramecastPython
                | Case::Library
        )
    }
}

/// Pixel format of the raw frames on the sender's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// Packed 8-bit B, G, R (OpenCV's order).
    Bgr,
    /// Planar 4:2:0: Y, then U and V at half size.
    I420,
}

impl Format {
    /// The name in `rawvideoparse format=` (GStreamer's and framecast's)
    /// and in `framecast send --format`.
    fn name(self) -> &'static str {
        match self {
            Format::Bgr => "bgr",
            Format::I420 => "i420",
        }
    }

    fn parse(name: &str) -> Result<Format, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "bgr" => Ok(Format::Bgr),
            "i420" => Ok(Format::I420),
            other => Err(format!("--formats: unknown format {other:?} (bgr or i420)")),
        }
    }

    /// The name in GStreamer caps and in `framecast.Sender(format=)`.
    fn caps_name(self) -> &'static str {
        match self {
            Format::Bgr => "BGR",
            Format::I420 => "I420",
        }
    }

    fn ffmpeg_pix_fmt(self) -> &'static str {
        match self {
            Format::Bgr => "bgr24",
            Format::I420 => "yuv420p",
        }
    }

    /// Bytes of one frame, tightly packed (the layout every sender expects
    /// for even sizes).
    pub(super) fn frame_bytes(self, width: usize, height: usize) -> usize {
        match self {
            Format::Bgr => width * height * 3,
            Format::I420 => width * height + 2 * (width.div_ceil(2) * height.div_ceil(2)),
        }
    }
}

/// Parses `WxH`; sizes must be even (4:2:0) and wide enough for a stamp.
fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let (w, h) = crate::send::parse_size(text.trim())?;
    let (w, h) = (w as usize, h as usize);
    if w % 2 != 0 || h % 2 != 0 {
        return Err(format!("--size {text:?}: width and height must be even"));
    }
    if w < stamp::MIN_WIDTH || h < Stamp::height(w) + 64 {
        return Err(format!(
            "--size {text:?}: too small for the stamp (at least {}x{})",
            stamp::MIN_WIDTH,
            Stamp::height(stamp::MIN_WIDTH) + 64
        ));
    }
    Ok((w, h))
}

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Invocation {
    program: PathBuf,
    args: Vec<String>,
    /// Environment variables set for it.
    env: Vec<(String, String)>,
}

/// The command line of `case` sending `format` frames of `width`x`height`
/// to 127.0.0.1:`port`; `exe` is this program (for the framecast cases).
/// `None` for the in-process case, which has no command line.
fn sender_invocation(
    case: Case,
    format: Format,
    (width, height): (usize, usize),
    port: u16,
    exe: &Path,
    knobs: &Knobs,
) -> Option<Invocation> {
    let blocksize = knobs
        .fdsrc_blocksize
        .map_or(String::new(), |b| format!(" blocksize={b}"));
    let extra = &knobs.encoder_props;
    let raw_in = format!(
        "fdsrc fd=0{blocksize} ! rawvideoparse format={} width={width} height={height} \
         framerate={FPS}/1 ! videoconvert ! video/x-raw,format=I420",
        format.name()
    );
    // One argument per token: gst-launch-1.0 escapes the spaces inside an
    // argument (it is one token), framecast launch joins them.
    let tokens = |first: &str, pipeline: String| {
        std::iter::once(first.to_string())
            .chain(pipeline.split_whitespace().map(String::from))
            .collect()
    };
    let framecast_launch = |encoder: &str| Invocation {
        env: Vec::new(),
        program: exe.to_path_buf(),
        args: tokens(
            "launch",
            format!(
                "{raw_in} ! {encoder} bitrate={BITRATE_KBPS} {extra} ! rtph264pay mtu={MTU} \
                 ! udpsink host=127.0.0.1 port={port}"
            ),
        ),
    };
    let gst_x264 = format!(
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate={BITRATE_KBPS} key-int-max={FPS}"
    );
    let gst_out = |encoder: &str| {
        format!(
            "{encoder} ! rtph264pay config-interval=-1 mtu={MTU} \
             ! udpsink host=127.0.0.1 port={port} sync=false"
        )
    };
    let gst_launch = |encoder: &str| Invocation {
        env: Vec::new(),
        program: "gst-launch-1.0".into(),
        args: tokens("-q", format!("{raw_in} ! {}", gst_out(encoder))),
    };
    let (w, h) = (width.to_string(), height.to_string());
    Some(match case {
        Case::Library => return None,
        Case::LaunchX264 => framecast_launch("x264enc"),
        Case::LaunchOpenh264 => framecast_launch("openh264enc"),
        Case::Send => Invocation {
            env: Vec::new(),
            program: exe.to_path_buf(),
            args: [
                "send",
                "--input",
                "-",
                "--format",
                format.name(),
                "--size",
                &format!("{width}x{height}"),
                "--fps",
                &FPS.to_string(),
                "--bitrate",
                &BITRATE_KBPS.to_string(),
                "--to",
                &format!("127.0.0.1:{port}"),
            ]
            .map(String::from)
            .to_vec(),
        },
        Case::GstX264 => gst_launch(&gst_x264),
        // openh264enc counts bit/s, not kbit/s.
        Case::GstOpenh264 => gst_launch(&format!(
            "openh264enc bitrate={} gop-size={FPS}",
            BITRATE_KBPS * 1000
        )),
        // Its encoder is the one framecast was built with (x264 with
        // --features x264); its payloader's MTU is the default, 1400.
        Case::FramecastPython => Invocation {
            env: knobs
                .python_path
                .iter()
                .map(|dir| ("PYTHONPATH".to_string(), dir.display().to_string()))
                .collect(),
            program: PYTHON.into(),
            args: vec![
                "-c".into(),
                PY_SOURCE.into(),
                "framecast".into(),
                format!("127.0.0.1:{port}"),
                format.caps_name().into(),
                w,
                h,
                FPS.to_string(),
                BITRATE_KBPS.to_string(),
            ],
        },
        // gst-x264's pipeline with appsrc for fdsrc ! rawvideoparse.
        Case::GstPython => Invocation {
            env: Vec::new(),
            program: PYTHON.into(),
            args: vec![
                "-c".into(),
                PY_SOURCE.into(),
                "gst".into(),
                format!(
                    "appsrc name=src is-live=true do-timestamp=true format=time \
                     caps=video/x-raw,format={},width={width},height={height},framerate={FPS}/1 \
                     ! videoconvert ! video/x-raw,format=I420 ! {}",
                    format.caps_name(),
                    gst_out(&gst_x264)
                ),
                format.caps_name().into(),
                w,
                h,
            ],
        },
        Case::FfmpegX264 => {
            let size = format!("{width}x{height}");
            let rate = format!("{BITRATE_KBPS}k");
            // 0.6 s of VBV buffer, as GStreamer's x264enc tune=zerolatency.
            let bufsize = format!("{}k", BITRATE_KBPS * 6 / 10);
            let url = format!("rtp://127.0.0.1:{port}");
            Invocation {
                env: Vec::new(),
                program: "ffmpeg".into(),
                args: [
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-f",
                    "rawvideo",
                    "-pix_fmt",
                    format.ffmpeg_pix_fmt(),
                    "-s",
                    &size,
                    "-r",
                    &FPS.to_string(),
                    "-i",
                    "-",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-tune",
                    "zerolatency",
                    "-b:v",
                    &rate,
                    "-maxrate",
                    &rate,
                    "-bufsize",
                    &bufsize,
                    "-g",
                    &FPS.to_string(),
                    "-pix_fmt",
                    "yuv420p",
                    // SPS/PPS in band before every IDR: the receiver has no SDP.
                    "-x264-params",
                    "repeat-headers=1",
                    "-f",
                    "rtp",
                    "-pkt_size",
                    &MTU.to_string(),
                    &url,
                ]
                .map(String::from)
                .to_vec(),
            }
        }
    })
}

/// Runs `program args` quietly; `Ok(true)` when it exits 0, `Err` when it
/// cannot be started.
fn succeeds(program: &Path, args: &[&str]) -> Result<bool, std::io::Error> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
}

/// `Ok` when [`PYTHON`] runs `code` (with `PYTHONPATH=dir` when given).
fn python_runs(code: &str, dir: Option<&Path>) -> Result<bool, std::io::Error> {
    let mut command = Command::new(PYTHON);
    if let Some(dir) = dir {
        command.env("PYTHONPATH", dir);
    }
    command
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
}

/// `Ok` when [`PYTHON`] runs and imports numpy, else why not.
fn python_numpy() -> Result<(), String> {
    match python_runs("import numpy", None) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "{PYTHON} cannot import numpy (apt-get install python3-numpy)"
        )),
        Err(e) => Err(format!("{PYTHON}: {e} (apt-get install python3)")),
    }
}

/// Finds the framecast Python module built beside `exe`
/// (`<target>/<profile>/libframecast_py.so`, or in `deps/`) and copies it
/// as `framecast.so` into a new temporary folder, which it returns.
fn stage_python_module(exe: &Path) -> Result<PathBuf, String> {
    let missing = || {
        format!(
            "no {PY_MODULE_FILE} beside {} (build it: cargo build --release -p framecast-py)",
            exe.display()
        )
    };
    let profile = exe.parent().ok_or_else(missing)?;
    let built = [
        profile.join(PY_MODULE_FILE),
        profile.join("deps").join(PY_MODULE_FILE),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or_else(missing)?;
    let dir = std::env::temp_dir().join(format!("framecast-bench-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::copy(&built, dir.join("framecast.so"))
        .map_err(|e| format!("copying {}: {e}", built.display()))?;
    eprintln!("framecast-python: module {}", built.display());
    Ok(dir)
}

/// `Ok` when `case` can run here, else why not. `python_path` is the
/// folder of the staged framecast Python module, or why there is none
/// (framecast-python).
fn available(case: Case, exe: &Path, python_path: Result<&Path, &str>) -> Result<(), String> {
    let gst = |element: &str, package: &str| match succeeds(
        Path::new("gst-inspect-1.0"),
        &["--exists", element],
    ) {
        Ok(true) => match succeeds(Path::new("gst-launch-1.0"), &["--version"]) {
            Ok(true) => Ok(()),
            _ => Err("gst-launch-1.0 not found (apt-get install gstreamer1.0-tools)".to_string()),
        },
        Ok(false) => Err(format!(
            "GStreamer has no {element} element (apt-get install {package})"
        )),
        Err(_) => Err("gst-inspect-1.0 not found (apt-get install gstreamer1.0-tools)".to_string()),
    };
    let framecast = |element: &str| match succeeds(exe, &["inspect", element]) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "this framecast has no {element} element{}",
            if element == "x264enc" {
                " (build with --features x264)"
            } else {
                ""
            }
        )),
        Err(e) => Err(format!("{}: {e}", exe.display())),
    };
    match case {
        Case::LaunchX264 => framecast("x264enc"),
        Case::LaunchOpenh264 => framecast("openh264enc"),
        Case::Send | Case::Library => Ok(()),
        Case::GstX264 => gst("x264enc", "gstreamer1.0-plugins-ugly"),
        Case::GstOpenh264 => gst("openh264enc", "gstreamer1.0-plugins-bad"),
        Case::FramecastPython => {
            python_numpy()?;
            let dir = python_path?;
            match python_runs("import framecast", Some(dir)) {
                Ok(true) => Ok(()),
                _ => Err(format!(
                    "{PYTHON} cannot import the framecast module staged in {} \
                     (rebuild it: cargo build --release -p framecast-py)",
                    dir.display()
                )),
            }
        }
        Case::GstPython => {
            python_numpy()?;
            gst("x264enc", "gstreamer1.0-plugins-ugly")?;
            match python_runs(
                "import gi; gi.require_version('Gst','1.0'); \
                 gi.require_version('GstApp','1.0'); from gi.repository import Gst, GstApp",
                None,
            ) {
                Ok(true) => Ok(()),
                _ => Err(format!(
                    "{PYTHON} cannot import GStreamer's Python bindings (apt-get install \
                     python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0)"
                )),
            }
        }
        Case::FfmpegX264 => {
            let out = Command::new("ffmpeg")
                .args(["-hide_banner", "-encoders"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .map_err(|_| "ffmpeg not found (apt-get install ffmpeg)".to_string())?;
            if String::from_utf8_lossy(&out.stdout).contains(" libx264 ") {
                Ok(())
            } else {
                Err("this ffmpeg has no libx264 encoder".into())
            }
        }
    }
}

/// Builds the receiver (needs `cc`, `pkg-config`, GStreamer's development
/// files); returns its path.
pub(super) fn build_receiver() -> Result<PathBuf, String> {
    super::build_c_anchor(
        "gst_latency_receiver",
        RECEIVER_SOURCE,
        &["gstreamer-1.0", "gstreamer-app-1.0", "gstreamer-video-1.0"],
    )
}

/// A free UDP port on 127.0.0.1 (bound, read, released).
pub(super) fn free_udp_port() -> Result<u16, String> {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free UDP port on 127.0.0.1: {e}"))
}

/// The last [`TAIL_BYTES`] of a child's stderr, read on a thread.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<Vec<u8>>>);

impl Tail {
    fn follow(stream: impl Read + Send + 'static) -> Tail {
        let tail = Tail::default();
        let shared = tail.0.clone();
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut kept = shared.locked();
                kept.extend_from_slice(&chunk[..n]);
                let excess = kept.len().saturating_sub(TAIL_BYTES);
                kept.drain(..excess);
            }
        });
        tail
    }

    fn text(&self) -> String {
        let kept = self.0.locked();
        // `framecast send`'s stats line redraws with '\r'.
        String::from_utf8_lossy(&kept)
            .replace('\r', "\n")
            .trim()
            .to_string()
    }
}

/// One line of the receiver's output.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// A decoded frame: its number, its latency, and when the last of its
    /// packets came out of the receiver's socket (the sender's share,
    /// network included), both from the stamp.
    Frame {
        frame: u32,
        latency_ns: i64,
        wire_ns: Option<i64>,
    },
    /// The pipeline plays.
    Ready,
    /// A frame came out of the decoder at this `CLOCK_MONOTONIC` time
    /// (ns), whole stamp or not (only with a jitter-buffer latency given).
    Decoded(u64),
    /// The last line: whole stamps read, damaged stamps.
    Summary {
        frames: u64,
        bad: u64,
        payload_bytes: Option<u64>,
    },
    /// Anything else.
    Other(String),
}

fn parse_line(line: &str) -> Line {
    let line = line.trim_end();
    if line == "# ready" {
        return Line::Ready;
    }
    if let Some(Ok(at)) = line.strip_prefix("# decoded ").map(str::parse) {
        return Line::Decoded(at);
    }
    if let Some(rest) = line.strip_prefix("# ") {
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        };
        if let (Some(frames), Some(bad)) = (field("frames"), field("bad")) {
            return Line::Summary {
                frames,
                bad,
                payload_bytes: field("payload-bytes"),
            };
        }
    }
    let mut fields = line.split('\t');
    if let (Some(Ok(frame)), Some(Ok(latency_ns))) =
        (fields.next().map(str::parse), fields.next().map(str::parse))
    {
        // Fields 3 and 4: first and last packet out of the socket.
        let wire_ns = fields.nth(1).and_then(|f| f.parse().ok());
        return Line::Frame {
            frame,
            latency_ns,
            wire_ns,
        };
    }
    Line::Other(line.to_string())
}

/// A running receiver.
pub(super) struct Receiver {
    child: Child,
    lines: mpsc::Receiver<Line>,
    stderr: Tail,
}

impl Receiver {
    /// Starts the receiver on `port` and waits until it plays; with
    /// `jitter_ms`, behind an `rtpjitterbuffer` of that latency, saying
    /// when every frame is decoded ([`Line::Decoded`]).
    pub(super) fn start(
        exe: &Path,
        port: u16,
        seconds: f64,
        jitter_ms: Option<u32>,
    ) -> Result<Receiver, String> {
        let mut child = Command::new(exe)
            .args([port.to_string(), format!("{seconds:.0}")])
            .args(jitter_ms.map(|ms| ms.to_string()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let stderr = stderr.map(Tail::follow).unwrap_or_default();
        let (send, lines) = mpsc::channel();
        if let Some(stdout) = stdout {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if send.send(parse_line(&line)).is_err() {
                        break;
                    }
                }
            });
        }
        let mut receiver = Receiver {
            child,
            lines,
            stderr,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.lines.recv_timeout(left) {
                Ok(Line::Ready) => return Ok(receiver),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    receiver.stop();
                    return Err(format!(
                        "the receiver did not start in {} s: {}",
                        READY_TIMEOUT.as_secs(),
                        receiver.stderr.text()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    receiver.stop();
                    return Err(format!("the receiver failed: {}", receiver.stderr.text()));
                }
            }
        }
    }

    /// Collects the frames decoded until none came for [`DRAIN_IDLE`],
    /// stops the receiver and returns the frames and its damaged-stamp
    /// count.
    pub(super) fn finish(mut self) -> Received {
        let mut frames = Vec::new();
        let mut decoded = Vec::new();
        let mut wire = Vec::new();
        let mut bad = None;
        let mut payload_bytes = None;
        let mut take = |line: Line| match line {
            Line::Frame {
                frame,
                latency_ns,
                wire_ns,
            } => {
                frames.push((frame, latency_ns));
                wire.extend(wire_ns.map(|ns| (frame, ns)));
            }
            Line::Summary {
                bad: b,
                payload_bytes: p,
                ..
            } => {
                bad = Some(b);
                payload_bytes = p;
            }
            Line::Decoded(at) => decoded.push(at),
            _ => {}
        };
        let drain_end = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self.lines.recv_timeout(DRAIN_IDLE) {
            take(line);
            if Instant::now() >= drain_end {
                break;
            }
        }
        // SIGTERM: the receiver prints its summary and exits.
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child, not yet waited for.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => take(line),
                Err(_) => break,
            }
        }
        self.stop();
        Received {
            frames,
            decoded,
            wire,
            bad,
            payload_bytes,
        }
    }

    /// Waits a little for the receiver to exit, then kills it.
    fn stop(&mut self) {
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the receiver reported.
pub(super) struct Received {
    /// Frame number and latency (ns) of every whole frame decoded.
    pub(super) frames: Vec<(u32, i64)>,
    /// When each frame was decoded (`CLOCK_MONOTONIC` ns), whole or not;
    /// empty unless started with a jitter-buffer latency.
    pub(super) decoded: Vec<u64>,
    /// Frame number and stamp -> last packet out of the socket (ns).
    wire: Vec<(u32, i64)>,
    /// Damaged stamps, when the receiver said.
    bad: Option<u64>,
    /// RTP payload bytes received, when the receiver said.
    payload_bytes: Option<u64>,
}

/// How a sender ended.
struct Exit {
    /// `None` when it exited 0, else what happened.
    failure: Option<String>,
    cpu_ns: u64,
}

fn timeval_ns(tv: libc::timeval) -> u64 {
    (tv.tv_sec.max(0) as u64) * 1_000_000_000 + (tv.tv_usec.max(0) as u64) * 1000
}

/// Reaps child `pid` with `wait4(2)` for its resource usage, waiting at
/// most [`EXIT_TIMEOUT`], then SIGINT, then SIGKILL.
fn wait_with_rusage(pid: libc::pid_t) -> Result<Exit, String> {
    let start = Instant::now();
    let mut signalled = 0;
    loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value to be overwritten.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own child, not reaped elsewhere; both
        // out-pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let failure = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                None
            } else if libc::WIFEXITED(status) {
                Some(format!("exit status {}", libc::WEXITSTATUS(status)))
            } else if libc::WIFSIGNALED(status) {
                Some(format!("killed by signal {}", libc::WTERMSIG(status)))
            } else {
                Some("ended abnormally".into())
            };
            let failure = match (failure, signalled) {
                (None, 0) => None,
                (f, 0) => f,
                (f, _) => Some(format!(
                    "did not exit within {} s of end of input ({})",
                    EXIT_TIMEOUT.as_secs(),
                    f.unwrap_or_else(|| "then exited 0 on SIGINT".into())
                )),
            };
            return Ok(Exit {
                failure,
                cpu_ns: timeval_ns(usage.ru_utime) + timeval_ns(usage.ru_stime),
            });
        }
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("wait4: {e}"));
        }
        let waited = start.elapsed();
        let signal = match signalled {
            0 if waited > EXIT_TIMEOUT => Some(libc::SIGINT),
            1 if waited > EXIT_TIMEOUT + Duration::from_secs(3) => Some(libc::SIGKILL),
            _ => None,
        };
        if let Some(signal) = signal {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(pid, signal) };
            signalled += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `utime + stime` in clock ticks from the text of `/proc/PID/stat`.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    // Fields after the command (which may hold spaces), from field 3.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time used so far by process `pid` (all threads), nanoseconds.
fn process_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|&h| h > 0)?;
    Some(stat_cpu_ticks(&stat)? * 1_000_000_000 / hz)
}

/// A 0..=127..=0 triangle wave of period 256.
fn triangle(v: usize) -> u8 {
    let v = (v % 256) as u8;
    if v < 128 {
        v
    } else {
        255 - v
    }
}

/// `t` bouncing between 0 and `span`.
fn bounce(t: usize, span: usize) -> usize {
    let span = span.max(1);
    let p = t % (2 * span);
    if p < span {
        p
    } else {
        2 * span - p
    }
}

/// Rows the background scrolls through before repeating.
const PERIOD: usize = 256;

/// The moving test picture: smooth gradients scrolling upwards (real
/// motion for the encoder, no noise) and a white box bouncing across,
/// with the stamp over the top rows.
struct Pattern {
    format: Format,
    width: usize,
    height: usize,
    /// `height + PERIOD` rows of the background (luma only for I420).
    background: Vec<u8>,
    frame: Vec<u8>,
}

impl Pattern {
    fn new(format: Format, width: usize, height: usize) -> Pattern {
        let rows = height + PERIOD;
        let mut background = Vec::with_capacity(rows * width * 3);
        for y in 0..rows {
            for x in 0..width {
                let t = triangle(y);
                match format {
                    Format::Bgr => background.extend_from_slice(&[
                        48 + (x * 128 / width) as u8,
                        48 + t,
                        48 + triangle(x / 2 + y) / 2 * 2,
                    ]),
                    Format::I420 => background.push(40 + (x * 80 / width) as u8 + t),
                }
            }
        }
        let frame = vec![128u8; format.frame_bytes(width, height)];
        Pattern {
            format,
            width,
            height,
            background,
            frame,
        }
    }

    /// Bytes per row of the first plane.
    fn stride(&self) -> usize {
        match self.format {
            Format::Bgr => self.width * 3,
            Format::I420 => self.width,
        }
    }

    /// Draws picture `n` (without the stamp).
    fn draw(&mut self, n: usize) {
        let stride = self.stride();
        let (w, h) = (self.width, self.height);
        let scroll = (n * 4) % PERIOD;
        let plane = &mut self.frame[..stride * h];
        plane.copy_from_slice(&self.background[scroll * stride..(scroll + h) * stride]);
        let top = Stamp::height(w) + 16;
        let size = (h - top) / 3;
        let x0 = bounce(n * 12, w - size);
        let y0 = top + bounce(n * 5, h - top - size);
        let (pixel, white) = match self.format {
            Format::Bgr => (3, 255),
            Format::I420 => (1, 235),
        };
        for y in y0..y0 + size {
            let row = y * stride;
            plane[row + x0 * pixel..row + (x0 + size) * pixel].fill(white);
        }
    }

    /// Paints `stamp` over the top rows.
    fn paint(&mut self, stamp: &Stamp) {
        let (stride, w, h) = (self.stride(), self.width, self.height);
        match self.format {
            Format::Bgr => stamp.paint_rgb24(&mut self.frame, stride, w, h),
            Format::I420 => stamp.paint_luma(&mut self.frame[..stride * h], stride, w, h),
        }
    }
}

/// Writes all of `data` to the non-blocking pipe `out`, waiting in
/// `poll(2)` while it is full, until `deadline`.
fn write_all_by(out: &mut ChildStdin, data: &[u8], deadline: Instant) -> std::io::Result<()> {
    let mut written = 0;
    while written < data.len() {
        match out.write(&data[written..]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the sender stopped reading its input",
                    ));
                }
                let mut fd = libc::pollfd {
                    fd: out.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                let ms = left.as_millis().clamp(1, 100) as libc::c_int;
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut fd, 1, ms) };
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What the producer did.
#[derive(Debug, Default)]
pub(super) struct Produced {
    /// Frames written.
    pub(super) frames: u32,
    /// The first frame handed over after the warm-up second.
    first_counted: u32,
    /// Slots of the 30 fps schedule skipped because the sender was late.
    skipped: u64,
    /// The sender's CPU time at the warm-up mark.
    cpu_at_mark_ns: Option<u64>,
    /// How long the sender took to read each counted frame off the pipe
    /// (stamp to last byte written), ms.
    handover_ms: Vec<f64>,
    /// The sender's peak RSS once the last frame was handed over
    /// (`None` for the in-process sender: this process's RSS is the
    /// benchmark's).
    peak_rss_kib: Option<u64>,
}

/// The slot to send in next: `slot + 1`, unless the clock (`elapsed`) is
/// already past its end, in which case the current one (late slots are
/// skipped, as a camera drops frames nobody took).
fn next_slot(slot: u64, elapsed: Duration, period: Duration) -> u64 {
    let now_slot = (elapsed.as_nanos() / period.as_nanos().max(1)) as u64;
    (slot + 1).max(now_slot)
}

/// Feeds the sender frames through its standard input at [`FPS`] for
/// `seconds`.
fn produce(
    stdin: &mut ChildStdin,
    pid: u32,
    format: Format,
    size: (usize, usize),
    seconds: f64,
) -> Result<Produced, String> {
    // Non-blocking, so a sender that stops reading cannot hang us.
    let fd = stdin.as_raw_fd();
    // SAFETY: fcntl on a pipe we own.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) >= 0
    };
    if !ok {
        return Err(format!(
            "making the pipe non-blocking: {}",
            std::io::Error::last_os_error()
        ));
    }
    let write_deadline = Instant::now() + Duration::from_secs_f64(seconds) + EXIT_TIMEOUT;
    let mut produced = pace(
        format,
        size,
        seconds,
        |frame| write_all_by(stdin, frame, write_deadline).map_err(|e| e.to_string()),
        || process_cpu_ns(pid),
    )?;
    produced.peak_rss_kib = peak_rss_kib(pid);
    Ok(produced)
}

/// `VmHWM` of process `pid` (its peak resident set since exec), KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_hwm_kib(&status)
}

/// The `VmHWM:` line of a `/proc/PID/status` text, KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// Paints frames of `format` and `size` at [`FPS`] for `seconds`, stamps
/// each and gives it to `hand_over`; `sender_cpu_ns` reads the sender's
/// CPU time (at the warm-up mark).
pub(super) fn pace(
    format: Format,
    (width, height): (usize, usize),
    seconds: f64,
    mut hand_over: impl FnMut(&[u8]) -> Result<(), String>,
    sender_cpu_ns: impl Fn() -> Option<u64>,
) -> Result<Produced, String> {
    let mut pattern = Pattern::new(format, width, height);
    if format == Format::I420 {
        // The producer's own check: the stamp reads back from a frame.
        pattern.draw(0);
        let probe = Stamp::now(0);
        pattern.paint(&probe);
        let y = &pattern.frame[..width * height];
        if Stamp::read_luma(y, width, width, height) != Some(probe) {
            return Err("the painted stamp does not read back".into());
        }
    }
    let period = Duration::from_secs(1) / FPS;
    let length = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut produced = Produced::default();
    let mut marked = false;
    let mut slot: u64 = 0;
    loop {
        let due = period * slot as u32;
        if due >= length {
            break;
        }
        pattern.draw(produced.frames as usize);
        if let Some(wait) = (start + due).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if !marked && due >= WARMUP {
            marked = true;
            produced.first_counted = produced.frames;
            produced.cpu_at_mark_ns = sender_cpu_ns();
        }
        let stamp = Stamp::now(produced.frames);
        pattern.paint(&stamp);
        hand_over(&pattern.frame)
            .map_err(|e| format!("handing over frame {}: {e}", produced.frames))?;
        if marked {
            produced
                .handover_ms
                .push(stamp::monotonic_ns().saturating_sub(stamp.time_ns) as f64 / 1e6);
        }
        produced.frames += 1;
        let next = next_slot(slot, start.elapsed(), period);
        produced.skipped += next - slot - 1;
        slot = next;
    }
    if !marked {
        produced.first_counted = produced.frames;
    }
    Ok(produced)
}

/// The figures of one case.
#[derive(Debug, Clone, Default)]
struct Outcome {
    case_name: String,
    framecast: bool,
    format: &'static str,
    size: String,
    /// Latencies of the counted frames, ms, sorted.
    latencies_ms: Vec<f64>,
    /// Frames handed over after the warm-up.
    counted_sent: u32,
    /// Median time the sender took to read a frame off the pipe, ms.
    handover_p50_ms: f64,
    /// Longest time the sender took to read a frame off the pipe, ms: a
    /// sender that stalls stops reading and the producer's write blocks.
    handover_max_ms: f64,
    /// The counted frame with the highest latency: its number and latency
    /// (ms). A stall shows here even when it is too short to reach the p99.
    worst: Option<(u32, f64)>,
    /// Median latency of the counted frames that start a GOP (every
    /// [`FPS`]th frame: every sender makes an IDR there), ms. A p99 of 270
    /// frames is about the third-slowest, and 9 of them are IDRs, so an
    /// encoder whose IDRs are slow shows it here first.
    idr_p50_ms: f64,
    /// The first frame's latency and the highest in the warm-up second,
    /// ms: what starting the stream costs (not counted in the figures).
    startup: Option<(f64, f64)>,
    /// Median time from the stamp to the frame's last packet leaving the
    /// receiver's socket, ms: the sender's share of the latency (the
    /// rest is the receiver's depayload and decode).
    wire_p50_ms: f64,
    /// Video bitrate received (RTP payload), kbit/s.
    kbps: f64,
    bad: Option<u64>,
    skipped: u64,
    cpu_ms_per_frame: f64,
    rss_mib: f64,
    /// Why the case failed (its figures are then partial or missing).
    failure: Option<String>,
}

impl Outcome {
    fn p(&self, p: f64) -> f64 {
        stamp::percentile(&self.latencies_ms, p)
    }

    /// The highest counted latency, ms (NaN when no frame was counted).
    fn max(&self) -> f64 {
        self.worst.map_or(f64::NAN, |(_, ms)| ms)
    }
}

/// The latency of frame 0 and the highest latency of the frames before
/// `first` (the warm-up), ms.
fn startup_latencies(frames: &[(u32, i64)], first: u32) -> Option<(f64, f64)> {
    let ms = |ns: i64| ns as f64 / 1e6;
    let first_frame = frames
        .iter()
        .find(|(n, _)| *n == 0)
        .map(|&(_, ns)| ms(ns))?;
    let warmup_max = frames
        .iter()
        .filter(|(n, _)| *n < first)
        .map(|&(_, ns)| ms(ns))
        .fold(first_frame, f64::max);
    Some((first_frame, warmup_max))
}

/// The frame numbered `first` or later with the highest latency: its
/// number and latency, ms.
fn worst_frame(frames: &[(u32, i64)], first: u32) -> Option<(u32, f64)> {
    frames
        .iter()
        .filter(|(n, _)| *n >= first)
        .max_by_key(|(_, ns)| *ns)
        .map(|&(n, ns)| (n, ns as f64 / 1e6))
}

/// Latencies (ms, sorted) of the frames numbered `first` or later.
fn counted_latencies(frames: &[(u32, i64)], first: u32) -> Vec<f64> {
    let mut v: Vec<f64> = frames
        .iter()
        .filter(|(n, _)| *n >= first)
        .map(|(_, ns)| *ns as f64 / 1e6)
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// What every case shares.
struct Setup {
    /// This program.
    exe: PathBuf,
    /// The built receiver.
    receiver: PathBuf,
    seconds: f64,
    knobs: Knobs,
}

/// What a sender did, however it ran.
struct Sent {
    produced: Result<Produced, String>,
    exit: Result<Exit, String>,
    /// Its standard error (child processes).
    stderr: Tail,
}

/// Runs `case` as a child process fed through its standard input.
fn send_from_child(
    setup: &Setup,
    case: Case,
    format: Format,
    size: (usize, usize),
    port: u16,
) -> Result<Sent, String> {
    let invocation = sender_invocation(case, format, size, port, &setup.exe, &setup.knobs)
        .ok_or_else(|| format!("{} has no command line", case.name()))?;
    let mut child = Command::new(&invocation.program)
        .args(&invocation.args)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", invocation.program.display()))?;
    let stderr = child.stderr.take().map(Tail::follow).unwrap_or_default();
    let pid = child.id();
    let produced = match child.stdin.take() {
        Some(mut stdin) => produce(&mut stdin, pid, format, size, setup.seconds),
        None => Err("no pipe to the sender".into()),
    };
    // The pipe closed above: end of stream for the sender.
    let exit = libc::pid_t::try_from(pid)
        .map_err(|_| "bad pid".to_string())
        .and_then(wait_with_rusage);
    Ok(Sent {
        produced,
        exit,
        stderr,
    })
}

/// A CPU-time clock (`CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`),
/// nanoseconds.
fn cpu_clock_ns(id: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to a valid local.
    let ok = unsafe { libc::clock_gettime(id, &mut ts) } == 0;
    ok.then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// The calling thread's CPU time, nanoseconds (0 if unreadable).
fn thread_cpu_ns() -> u64 {
    cpu_clock_ns(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0)
}

/// CPU time of this process less the calling thread's, nanoseconds: what
/// the library sender's threads used while this thread painted frames
/// (the benchmark's own reader threads, a few wake-ups a frame, are in
/// it too).
fn other_threads_cpu_ns() -> Option<u64> {
    Some(cpu_clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)?.saturating_sub(thread_cpu_ns()))
}

/// The library case: a [`framecast::Sender`] in this process; each
/// stamped frame is copied into a pooled frame from `Sender::frame()` (a
/// program copying its image in) and pushed. No pipe, no second process.
fn send_in_process(
    format: Format,
    (width, height): (usize, usize),
    port: u16,
    seconds: f64,
) -> Sent {
    let video_format = match format {
        Format::Bgr => framecast::VideoFormat::Bgr,
        Format::I420 => framecast::VideoFormat::I420,
    };
    let built = framecast::sender::Sender::builder()
        .to(&format!("127.0.0.1:{port}"))
        .codec(framecast::sender::Codec::H264)
        .size(width as u32, height as u32)
        .fps(FPS)
        .input_format(video_format)
        .bitrate(BITRATE_KBPS)
        .build();
    let sender = match built {
        Ok(sender) => sender,
        Err(e) => {
            return Sent {
                produced: Err(format!("Sender::build: {e}")),
                exit: Err(e.to_string()),
                stderr: Tail::default(),
            }
        }
    };
    let info = match framecast::VideoInfo::new(video_format, width as u32, height as u32) {
        Ok(info) => info,
        Err(e) => {
            return Sent {
                produced: Err(e.to_string()),
                exit: Err(e.to_string()),
                stderr: Tail::default(),
            }
        }
    };
    // The copy into the pooled frame and the push run on the painting
    // thread but are the sender's work (a child process pays its pipe
    // read): their thread CPU time is added back.
    let hand_over_ns = std::cell::Cell::new(0u64);
    let produced = pace(
        format,
        (width, height),
        seconds,
        |packed| {
            let before = thread_cpu_ns();
            let mut frame = sender
                .frame()
                .map_err(|e| format!("no pooled frame: {e}"))?;
            crate::send::fill_from_packed(&mut frame, packed, &info)?;
            let pushed = sender.push(frame).map(|_| ()).map_err(|e| e.to_string());
            hand_over_ns.set(hand_over_ns.get() + thread_cpu_ns().saturating_sub(before));
            pushed
        },
        || Some(other_threads_cpu_ns()? + hand_over_ns.get()),
    );
    let finished = sender.finish();
    let exit = Ok(Exit {
        failure: finished.err().map(|e| e.to_string()),
        cpu_ns: other_threads_cpu_ns().unwrap_or(0) + hand_over_ns.get(),
    });
    Sent {
        produced,
        exit,
        stderr: Tail::default(),
    }
}

/// Runs one case.
fn run_case(
    setup: &Setup,
    case: Case,
    format: Format,
    size: (usize, usize),
) -> Result<Outcome, String> {
    let seconds = setup.seconds;
    let port = free_udp_port()?;
    let receiver = Receiver::start(&setup.receiver, port, seconds + 60.0, None)?;
    let sent = if case == Case::Library {
        Ok(send_in_process(format, size, port, seconds))
    } else {
        send_from_child(setup, case, format, size, port)
    };
    let Received {
        frames,
        decoded: _,
        wire,
        bad,
        payload_bytes,
    } = receiver.finish();
    let Sent {
        produced,
        exit,
        stderr,
    } = sent?;
    let exit = exit?;
    let mut failure = exit.failure.map(|f| format!("sender {f}"));
    let produced = match produced {
        Ok(p) => p,
        Err(e) => {
            failure = Some(e);
            Produced::default()
        }
    };
    if let Some(f) = &mut failure {
        let tail = stderr.text();
        if !tail.is_empty() {
            let last: Vec<&str> = tail.lines().rev().take(6).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            f.push_str(&format!(": {}", last.join(" | ")));
        }
    }
    let counted = produced.frames.saturating_sub(produced.first_counted);
    let steady_cpu = produced
        .cpu_at_mark_ns
        .filter(|&at| at <= exit.cpu_ns && counted > 0)
        .map(|at| (exit.cpu_ns - at) as f64 / f64::from(counted))
        .unwrap_or(exit.cpu_ns as f64 / f64::from(produced.frames.max(1)));
    Ok(Outcome {
        case_name: case.name().to_string(),
        framecast: case.is_framecast(),
        format: format.name(),
        size: format!("{}x{}", size.0, size.1),
        latencies_ms: counted_latencies(&frames, produced.first_counted),
        worst: worst_frame(&frames, produced.first_counted),
        startup: startup_latencies(&frames, produced.first_counted),
        idr_p50_ms: {
            let idrs: Vec<(u32, i64)> = frames
                .iter()
                .copied()
                .filter(|(n, _)| n % FPS == 0)
                .collect();
            stamp::percentile(&counted_latencies(&idrs, produced.first_counted), 50.0)
        },
        handover_max_ms: produced
            .handover_ms
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(f64::NAN),
        wire_p50_ms: stamp::percentile(&counted_latencies(&wire, produced.first_counted), 50.0),
        handover_p50_ms: {
            let mut v = produced.handover_ms;
            v.sort_by(|a, b| a.total_cmp(b));
            stamp::percentile(&v, 50.0)
        },
        counted_sent: counted,
        // Payload bits over the run's length: its 30 fps slots, taken or
        // skipped.
        kbps: payload_bytes
            .filter(|_| produced.frames > 0)
            .map_or(f64::NAN, |b| {
                let slots = u64::from(produced.frames) + produced.skipped;
                b as f64 * 8.0 * f64::from(FPS) / slots as f64 / 1000.0
            }),
        bad,
        skipped: produced.skipped,
        cpu_ms_per_frame: steady_cpu / 1e6,
        rss_mib: produced
            .peak_rss_kib
            .map_or(f64::NAN, |k| k as f64 / 1024.0),
        failure,
    })
}

/// `numerator / denominator` as "1.23x", or "-".
fn ratio(numerator: f64, denominator: f64) -> String {
    if numerator.is_finite() && denominator.is_finite() && denominator > 0.0 {
        format!("{:.2}x", numerator / denominator)
    } else {
        "-".into()
    }
}

/// The x264 peers: a framecast case is compared with the better of them.
const X264_PEERS: &[&str] = &["gst-x264", "ffmpeg-x264"];
/// The openh264 peer.
const OPENH264_PEERS: &[&str] = &["gst-openh264"];
/// framecast-python's peer: the same Python loop with GStreamer.
const PYTHON_PEERS: &[&str] = &["gst-python"];

/// The peer groups a framecast case is compared with: the best x264
/// sender of GStreamer and FFmpeg, and GStreamer's openh264enc for the
/// openh264 case and for `framecast send` and the library sender (whose
/// encoder is openh264 unless framecast was built with x264). The openh264
/// case is held to both: ahead of GStreamer's openh264enc, and near the
/// best x264 sender. framecast-python is held to gst-python, the same
/// Python program written with GStreamer.
fn peers_of(case_name: &str) -> &'static [&'static [&'static str]] {
    if case_name == Case::FramecastPython.name() {
        &[PYTHON_PEERS]
    } else if case_name == Case::LaunchOpenh264.name() {
        &[OPENH264_PEERS, X264_PEERS]
    } else if case_name == Case::Send.name() || case_name == Case::Library.name() {
        &[X264_PEERS, OPENH264_PEERS]
    } else {
        &[X264_PEERS]
    }
}

/// Lowest p50, lowest p99 and lowest max among `peers` of the same
/// format and size.
fn best_peer(outcomes: &[Outcome], of: &Outcome, peers: &[&str]) -> Option<(f64, f64, f64)> {
    let same: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| {
            peers.contains(&o.case_name.as_str())
                && o.format == of.format
                && o.size == of.size
                && o.failure.is_none()
                && !o.latencies_ms.is_empty()
        })
        .collect();
    let p50 = same
        .iter()
        .map(|o| o.p(50.0))
        .min_by(|a, b| a.total_cmp(b))?;
    let p99 = same
        .iter()
        .map(|o| o.p(99.0))
        .min_by(|a, b| a.total_cmp(b))?;
    let max = same.iter().map(|o| o.max()).min_by(|a, b| a.total_cmp(b))?;
    Some((p50, p99, max))
}

/// `value` with `decimals`, or "-" when it is not a number (no frames).
fn figure(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "-".into()
    }
}

fn print_row(o: &Outcome) {
    let bad = o.bad.map_or("?".to_string(), |b| b.to_string());
    let lost = i64::from(o.counted_sent) - o.latencies_ms.len() as i64;
    println!(
        "{:<26} {:<5} {:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>5} {:>8} {:>7} {:>6}",
        o.case_name,
        o.format,
        o.size,
        figure(o.p(50.0), 1),
        figure(o.p(99.0), 1),
        figure(o.max(), 1),
        figure(o.handover_p50_ms, 2),
        figure(o.handover_max_ms, 1),
        figure(o.wire_p50_ms, 2),
        o.latencies_ms.len(),
        lost,
        bad,
        o.skipped,
        figure(o.cpu_ms_per_frame, 2),
        figure(o.rss_mib, 1),
        figure(o.kbps, 0)
    );
    if let Some((frame, ms)) = o.worst {
        // Where a stall sits (start-up, an IDR, a pool growing) is the
        // first clue to its cause.
        println!(
            "    max {ms:.1} ms at frame {frame} (about {:.2} s in); IDR frames p50 {} ms{}",
            f64::from(frame) / f64::from(FPS),
            figure(o.idr_p50_ms, 1),
            o.startup.map_or(String::new(), |(first, warmup)| format!(
                "; start-up (not counted): frame 0 {first:.1} ms, warm-up max {warmup:.1} ms"
            ))
        );
    }
    if let Some(f) = &o.failure {
        println!("    ! {f}");
    }
}

fn print_header() {
    println!(
        "{:<26} {:<5} {:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>5} {:>8} {:>7} {:>6}",
        "case",
        "fmt",
        "size",
        "p50 ms",
        "p99 ms",
        "max ms",
        "in ms",
        "in max",
        "wire ms",
        "frames",
        "lost",
        "bad",
        "skip",
        "CPU ms/f",
        "RSS MiB",
        "kbit/s"
    );
}

/// Runs the benchmark and prints the table.
pub fn run(args: &Args) -> Result<(), String> {
    if !(args.seconds >= 2.0 && args.seconds <= 600.0) {
        return Err("--seconds: between 2 and 600".into());
    }
    let sizes = args
        .sizes
        .iter()
        .map(|s| parse_size(s))
        .collect::<Result<Vec<_>, _>>()?;
    let formats = args
        .formats
        .iter()
        .map(|f| Format::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let cases = if args.cases.is_empty() {
        Case::ALL.to_vec()
    } else {
        args.cases
            .iter()
            .map(|c| Case::parse(c))
            .collect::<Result<Vec<_>, _>>()?
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let receiver = build_receiver()?;
    let staged = if cases.contains(&Case::FramecastPython) {
        stage_python_module(&exe)
    } else {
        Err("not staged".to_string())
    };
    let setup = Setup {
        receiver,
        exe,
        seconds: args.seconds,
        knobs: Knobs {
            fdsrc_blocksize: args.fdsrc_blocksize,
            encoder_props: args.encoder_props.clone(),
            python_path: staged.as_ref().ok().cloned(),
        },
    };
    let mut runnable = Vec::new();
    for case in cases {
        match available(case, &setup.exe, staged.as_deref().map_err(String::as_str)) {
            Ok(()) => runnable.push(case),
            Err(why) => eprintln!("{}: skipped: {why}", case.name()),
        }
    }
    let mut outcomes = Vec::new();
    for &size in &sizes {
        for &format in &formats {
            for &case in &runnable {
                eprintln!(
                    "{} {} {}x{} ...",
                    case.name(),
                    format.name(),
                    size.0,
                    size.1
                );
                match run_case(&setup, case, format, size) {
                    Ok(outcome) => {
                        if let Some(f) = &outcome.failure {
                            eprintln!("  failed: {f}");
                        }
                        outcomes.push(outcome);
                    }
                    Err(e) => {
                        eprintln!("  failed: {e}");
                        outcomes.push(Outcome {
                            case_name: case.name().to_string(),
                            framecast: case.is_framecast(),
                            format: format.name(),
                            size: format!("{}x{}", size.0, size.1),
                            failure: Some(e),
                            ..Outcome::default()
                        });
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_file(&setup.receiver);
    if let Some(dir) = &setup.knobs.python_path {
        let _ = std::fs::remove_dir_all(dir);
    }

    println!(
        "framecast bench latency: push -> decoded, RTP/H.264 over 127.0.0.1, {FPS} fps, \
         {BITRATE_KBPS} kbit/s, {} s per case (first {} s not counted){}",
        args.seconds,
        WARMUP.as_secs(),
        args.fdsrc_blocksize
            .map_or(String::new(), |b| format!(", fdsrc blocksize={b}"))
            + &if args.encoder_props.is_empty() {
                String::new()
            } else {
                format!(", framecast encoder {}", args.encoder_props)
            }
    );
    print_header();
    for o in &outcomes {
        print_row(o);
    }
    println!(
        "in: median time the sender took to read a frame off its stdin pipe (part of the latency);\n\
         wire: median time from the stamp to the frame's last packet out of the receiver's socket \
         (the sender's share; the rest is depayload and decode);\n\
         max: the slowest counted frame (a stall too short to reach the p99 shows here); \
         in max: the longest read of one frame (the producer's write blocked that long);\n\
         frames: stamps decoded after the first second; lost: handed over but not decoded whole; \
         bad: damaged stamps (whole run);\nskip: 30 fps slots skipped because the sender had not \
         taken the previous frame; CPU: sender's steady-state utime+stime per frame; \
         kbit/s: RTP payload received over the run; \
         RSS: sender's peak."
    );
    let mut compared = false;
    for o in outcomes
        .iter()
        .filter(|o| o.framecast && o.failure.is_none())
    {
        for peers in peers_of(&o.case_name) {
            let Some((p50, p99, max)) = best_peer(&outcomes, o, peers) else {
                continue;
            };
            if !compared {
                println!("\nframecast / best peer (same format and size; lower is better)");
                println!(
                    "{:<26} {:<5} {:<10} {:>8} {:>8} {:>8}  peer",
                    "case", "fmt", "size", "p50", "p99", "max"
                );
                compared = true;
            }
            println!(
                "{:<26} {:<5} {:<10} {:>8} {:>8} {:>8}  {}",
                o.case_name,
                o.format,
                o.size,
                ratio(o.p(50.0), p50),
                ratio(o.p(99.0), p99),
                ratio(o.max(), max),
                peers.join(" | ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_lines_parse() {
        assert_eq!(parse_line("# ready"), Line::Ready);
        assert_eq!(
            parse_line("42\t5600123\n"),
            Line::Frame {
                frame: 42,
                latency_ns: 5_600_123,
                wire_ns: None
            }
        );
        assert_eq!(
            parse_line("42\t5600123\t900000\t3100000"),
            Line::Frame {
                frame: 42,
                latency_ns: 5_600_123,
                wire_ns: Some(3_100_000)
            }
        );
        assert_eq!(
            parse_line("# frames=300 bad=2"),
            Line::Summary {
                frames: 300,
                bad: 2,
                payload_bytes: None
            }
        );
        assert_eq!(
            parse_line("# frames=300 bad=0 payload-bytes=1500000"),
            Line::Summary {
                frames: 300,
                bad: 0,
                payload_bytes: Some(1_500_000)
            }
        );
        assert!(matches!(parse_line("x\ty"), Line::Other(_)));
        // With a jitter-buffer latency: every decoded frame's time.
        assert_eq!(
            parse_line("# decoded 123456789\n"),
            Line::Decoded(123_456_789)
        );
        assert!(matches!(parse_line("# decoded soon"), Line::Other(_)));
    }

    #[test]
    fn sizes_and_names_parse() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert_eq!(parse_size(" 1920X1080 "), Ok((1920, 1080)));
        assert!(parse_size("1281x720").is_err());
        assert!(parse_size("64x64").is_err());
        assert!(parse_size("wide").is_err());
        for case in Case::ALL {
            assert_eq!(Case::parse(case.name()), Ok(case));
        }
        assert!(Case::parse("vlc").is_err());
        assert_eq!(Format::parse("BGR"), Ok(Format::Bgr));
        assert!(Format::parse("nv12").is_err());
        assert_eq!(Format::I420.frame_bytes(1280, 720), 1280 * 720 * 3 / 2);
        assert_eq!(Format::Bgr.frame_bytes(1280, 720), 1280 * 720 * 3);
    }

    #[test]
    fn senders_get_equal_settings() {
        let exe = Path::new("/x/framecast");
        let all: Vec<Invocation> = Case::ALL
            .into_iter()
            .filter_map(|c| {
                sender_invocation(c, Format::Bgr, (1280, 720), 5000, exe, &Knobs::default())
            })
            .collect();
        assert_eq!(all.len(), Case::ALL.len() - 1, "all but the library case");
        for (case, inv) in Case::ALL.into_iter().zip(&all) {
            let line = inv.args.join(" ");
            assert!(line.contains("127.0.0.1"), "{line}");
            assert!(line.contains("5000"), "{line}");
            assert!(line.contains("4000"), "{line}");
            // `framecast send` and framecast.Sender have no MTU option;
            // their payloader's default is 1400.
            if case != Case::Send && case != Case::FramecastPython {
                assert!(line.contains("1400"), "{line}");
            }
        }
        let blocks = sender_invocation(
            Case::GstX264,
            Format::I420,
            (640, 480),
            1,
            exe,
            &Knobs {
                fdsrc_blocksize: Some(65536),
                ..Knobs::default()
            },
        )
        .unwrap();
        assert!(blocks
            .args
            .join(" ")
            .contains("fdsrc fd=0 blocksize=65536 !"));
        let launch = all[0].args.join(" ");
        assert!(launch.starts_with("launch fdsrc fd=0 ! rawvideoparse format=bgr width=1280"));
        assert!(all[4]
            .args
            .join(" ")
            .contains("openh264enc bitrate=4000000 gop-size=30"));
        assert_eq!(all[5].program, PathBuf::from("ffmpeg"));
        assert!(all[5].args.contains(&"bgr24".to_string()));
    }

    #[test]
    fn python_senders_match_their_peers() {
        let exe = Path::new("/x/framecast");
        let knobs = Knobs {
            python_path: Some("/tmp/fc".into()),
            ..Knobs::default()
        };
        let inv =
            |case| sender_invocation(case, Format::I420, (1280, 720), 5000, exe, &knobs).unwrap();
        let (gst, gst_py, fc_py) = (
            inv(Case::GstX264),
            inv(Case::GstPython),
            inv(Case::FramecastPython),
        );
        assert_eq!(gst_py.program, PathBuf::from(PYTHON));
        assert_eq!(
            gst_py.args[..3],
            ["-c".to_string(), PY_SOURCE.to_string(), "gst".to_string()]
        );
        // Everything after videoconvert is gst-x264's, token for token.
        let from_convert = |line: &str| {
            let at = line.find("! videoconvert").unwrap();
            line[at..].split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(
            from_convert(&gst_py.args[3]),
            from_convert(&gst.args.join(" "))
        );
        assert!(gst_py.args[3].starts_with("appsrc name=src is-live=true do-timestamp=true"));
        assert!(gst_py.args[3]
            .contains("caps=video/x-raw,format=I420,width=1280,height=720,framerate=30/1 "));
        assert_eq!(gst_py.args[4..], ["I420", "1280", "720"]);
        assert!(gst_py.env.is_empty());
        assert_eq!(fc_py.program, PathBuf::from(PYTHON));
        assert_eq!(
            fc_py.args[1..],
            [
                PY_SOURCE,
                "framecast",
                "127.0.0.1:5000",
                "I420",
                "1280",
                "720",
                "30",
                "4000"
            ]
        );
        assert_eq!(
            fc_py.env,
            vec![("PYTHONPATH".to_string(), "/tmp/fc".to_string())]
        );
        assert_eq!(peers_of("framecast-python"), &[PYTHON_PEERS]);
        assert!(Case::FramecastPython.is_framecast() && !Case::GstPython.is_framecast());
    }

    #[test]
    fn peak_rss_is_vm_hwm() {
        let status =
            "Name:\tframecast\nVmPeak:\t  900000 kB\nVmHWM:\t   35512 kB\nVmRSS:\t 30000 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(35_512));
        assert_eq!(vm_hwm_kib("Name:\tx\n"), None);
        let own = peak_rss_kib(std::process::id()).expect("this process's VmHWM");
        assert!(own > 100, "{own} KiB");
    }

    #[test]
    fn proc_stat_cpu_is_utime_plus_stime() {
        let stat = "1234 (gst launch) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 30 0 0 20 0 9 0";
        assert_eq!(stat_cpu_ticks(stat), Some(280));
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn late_slots_are_skipped() {
        let period = Duration::from_millis(10);
        assert_eq!(next_slot(0, Duration::from_millis(3), period), 1);
        assert_eq!(next_slot(4, Duration::from_millis(45), period), 5);
        assert_eq!(next_slot(4, Duration::from_millis(73), period), 7);
    }

    #[test]
    fn warmup_frames_are_not_counted() {
        let frames = [(0, 9_000_000), (31, 3_000_000), (30, 2_000_000), (2, 1)];
        assert_eq!(counted_latencies(&frames, 30), vec![2.0, 3.0]);
    }

    #[test]
    fn the_slowest_counted_frame_is_the_max() {
        // Frame 2 is the slowest but falls in the warm-up; of the counted
        // frames, 31's single 133 ms stall is the max, far above a p99
        // that the other 199 frames decide.
        let mut frames: Vec<(u32, i64)> = (30..230).map(|n| (n, 10_000_000)).collect();
        frames.push((2, 900_000_000));
        frames[1].1 = 133_000_000;
        assert_eq!(worst_frame(&frames, 30), Some((31, 133.0)));
        assert_eq!(worst_frame(&frames, 500), None);
        frames.push((0, 50_000_000));
        assert_eq!(startup_latencies(&frames, 30), Some((50.0, 900.0)));
        assert_eq!(startup_latencies(&frames[..1], 30), None);
        let o = Outcome {
            latencies_ms: counted_latencies(&frames, 30),
            worst: worst_frame(&frames, 30),
            ..Outcome::default()
        };
        assert_eq!(o.p(99.0), 10.0);
        assert_eq!(o.max(), 133.0);
        assert!(Outcome::default().max().is_nan());
    }

    #[test]
    fn framecast_is_compared_with_its_best_peer() {
        let outcome = |name: &str, v: &[f64]| Outcome {
            case_name: name.into(),
            framecast: name.starts_with("framecast"),
            format: "bgr",
            size: "1280x720".into(),
            latencies_ms: v.to_vec(),
            worst: v.last().map(|&ms| (0, ms)),
            ..Outcome::default()
        };
        let all = vec![
            outcome("gst-x264", &[6.0, 20.0]),
            outcome("ffmpeg-x264", &[8.0, 12.0]),
            outcome("gst-openh264", &[9.0, 9.0]),
            outcome("framecast-send", &[5.0, 10.0]),
        ];
        let fc = &all[3];
        assert_eq!(
            best_peer(&all, fc, peers_of(&fc.case_name)[0]),
            Some((6.0, 12.0, 12.0))
        );
        assert_eq!(
            best_peer(&all, fc, peers_of("framecast-launch-openh264")[0]),
            Some((9.0, 9.0, 9.0))
        );
        // The openh264 case is also held against the best x264 sender.
        assert_eq!(
            best_peer(&all, fc, peers_of("framecast-launch-openh264")[1]),
            Some((6.0, 12.0, 12.0))
        );
        assert_eq!(
            best_peer(&all, fc, peers_of(&fc.case_name)[1]),
            Some((9.0, 9.0, 9.0))
        );
        assert_eq!(ratio(3.0, 6.0), "0.50x");
        assert_eq!(figure(f64::NAN, 1), "-");
        assert_eq!(figure(2.345, 2), "2.35");
        assert_eq!(ratio(3.0, 0.0), "-");
    }

    #[test]
    fn the_pattern_moves_and_carries_the_stamp() {
        for format in [Format::Bgr, Format::I420] {
            let mut p = Pattern::new(format, 320, 240);
            p.draw(0);
            let first = p.frame.clone();
            p.draw(1);
            assert_ne!(first, p.frame);
            assert_eq!(p.frame.len(), format.frame_bytes(320, 240));
        }
        let mut p = Pattern::new(Format::I420, 640, 360);
        p.draw(3);
        let s = Stamp::now(3);
        p.paint(&s);
        assert_eq!(
            Stamp::read_luma(&p.frame[..640 * 360], 640, 640, 360),
            Some(s)
        );
    }
}
