//! The senders under test (cases), the pixel formats fed to them, their
//! command lines, and whether each can run here.

use super::*;

/// Settings that change how the senders are run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Knobs {
    pub(crate) fdsrc_blocksize: Option<u32>,
    pub(crate) encoder_props: String,
    /// The folder holding `framecast.so`, for framecast-python's
    /// `PYTHONPATH`.
    pub(crate) python_path: Option<PathBuf>,
}

/// One sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
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
    /// `framecast serve` (`send`'s pipeline into `rtspserversink`): the
    /// bench plays the stream over RTSP with UDP, the receiver's port as
    /// `client_port`, so the same receiver decodes it.
    ServeUdp,
    /// The same over TCP interleaved: the bench relays each RTP packet
    /// from the RTSP connection to the receiver's port.
    ServeTcp,
}

impl Case {
    pub(crate) const ALL: [Case; 11] = [
        Case::LaunchX264,
        Case::LaunchOpenh264,
        Case::Send,
        Case::GstX264,
        Case::GstOpenh264,
        Case::FfmpegX264,
        Case::FramecastPython,
        Case::GstPython,
        Case::Library,
        Case::ServeUdp,
        Case::ServeTcp,
    ];

    pub(crate) fn name(self) -> &'static str {
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
            Case::ServeUdp => "framecast-serve-rtsp-udp",
            Case::ServeTcp => "framecast-serve-rtsp-tcp",
        }
    }

    pub(crate) fn parse(name: &str) -> Result<Case, String> {
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

    pub(crate) fn is_framecast(self) -> bool {
        matches!(
            self,
            Case::LaunchX264
                | Case::LaunchOpenh264
                | Case::Send
                | Case::FramecastPython
                | Case::Library
                | Case::ServeUdp
                | Case::ServeTcp
        )
    }

    /// How the bench plays the RTSP cases' stream, `None` for the others.
    pub(crate) fn rtsp_transport(self) -> Option<crate::rtsp::Transport> {
        match self {
            Case::ServeUdp => Some(crate::rtsp::Transport::Udp),
            Case::ServeTcp => Some(crate::rtsp::Transport::Tcp),
            _ => None,
        }
    }
}

/// Pixel format of the raw frames on the sender's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Packed 8-bit B, G, R (OpenCV's order).
    Bgr,
    /// Planar 4:2:0: Y, then U and V at half size.
    I420,
}

impl Format {
    /// The name in `rawvideoparse format=` (GStreamer's and framecast's)
    /// and in `framecast send --format`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Bgr => "bgr",
            Format::I420 => "i420",
        }
    }

    pub(crate) fn parse(name: &str) -> Result<Format, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "bgr" => Ok(Format::Bgr),
            "i420" => Ok(Format::I420),
            other => Err(format!("--formats: unknown format {other:?} (bgr or i420)")),
        }
    }

    /// The name in GStreamer caps and in `framecast.Sender(format=)`.
    pub(crate) fn caps_name(self) -> &'static str {
        match self {
            Format::Bgr => "BGR",
            Format::I420 => "I420",
        }
    }

    /// The format as framecast's video format.
    pub(crate) fn video_format(self) -> framecast::VideoFormat {
        match self {
            Format::Bgr => framecast::VideoFormat::Bgr,
            Format::I420 => framecast::VideoFormat::I420,
        }
    }

    pub(crate) fn ffmpeg_pix_fmt(self) -> &'static str {
        match self {
            Format::Bgr => "bgr24",
            Format::I420 => "yuv420p",
        }
    }

    /// Bytes of one frame, tightly packed (the layout every sender expects
    /// for even sizes).
    pub(crate) fn frame_bytes(self, width: usize, height: usize) -> usize {
        match self {
            Format::Bgr => width * height * 3,
            Format::I420 => width * height + 2 * (width.div_ceil(2) * height.div_ceil(2)),
        }
    }
}

/// Parses `WxH`; sizes must be even (4:2:0) and wide enough for a stamp.
pub(crate) fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let (w, h) = text
        .trim()
        .split_once(['x', 'X'])
        .and_then(|(w, h)| {
            Some((
                w.trim().parse::<usize>().ok()?,
                h.trim().parse::<usize>().ok()?,
            ))
        })
        .ok_or_else(|| format!("--size {text:?}: expected WxH, e.g. 1280x720"))?;
    if w % 2 != 0 || h % 2 != 0 {
        return Err(format!("--size {text:?}: width and height must be even"));
    }
    // Room for the stamp's 16-pixel blocks and the picture below it.
    let fits = w >= stamp::MIN_WIDTH && Stamp::rows(w, h).is_some_and(|rows| h >= rows + 64);
    if !fits {
        let min = Stamp::rows(stamp::MIN_WIDTH, 1080).unwrap_or(0) + 64;
        return Err(format!(
            "--size {text:?}: too small for the stamp (at least {}x{min}, or wider)",
            stamp::MIN_WIDTH,
        ));
    }
    Ok((w, h))
}

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    /// Environment variables set for it.
    pub(crate) env: Vec<(String, String)>,
}

/// The command line of `case` sending `format` frames of `width`x`height`
/// to 127.0.0.1:`port`; `exe` is this program (for the framecast cases).
/// `None` for the in-process case, which has no command line.
pub(crate) fn sender_invocation(
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
        Case::Send | Case::ServeUdp | Case::ServeTcp => {
            let mut args: Vec<String> = [
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
            ]
            .map(String::from)
            .to_vec();
            // The RTSP cases listen on TCP port `port` (the receiver has
            // the UDP port of that number).
            let (command, output) = match case {
                Case::Send => ("send", ["--to".to_string(), format!("127.0.0.1:{port}")]),
                _ => ("serve", ["--rtsp".to_string(), format!("127.0.0.1:{port}")]),
            };
            args.insert(0, command.to_string());
            args.extend(output);
            Invocation {
                env: Vec::new(),
                program: exe.to_path_buf(),
                args,
            }
        }
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
pub(crate) fn succeeds(program: &Path, args: &[&str]) -> Result<bool, std::io::Error> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
}

/// `Ok` when [`PYTHON`] runs `code` (with `PYTHONPATH=dir` when given).
pub(crate) fn python_runs(code: &str, dir: Option<&Path>) -> Result<bool, std::io::Error> {
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
pub(crate) fn python_numpy() -> Result<(), String> {
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
pub(crate) fn stage_python_module(exe: &Path) -> Result<PathBuf, String> {
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
pub(crate) fn available(
    case: Case,
    exe: &Path,
    python_path: Result<&Path, &str>,
) -> Result<(), String> {
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
        Case::Send | Case::Library | Case::ServeUdp | Case::ServeTcp => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let with_command = Case::ALL.into_iter().filter(|&c| c != Case::Library);
        for (case, inv) in with_command.zip(&all) {
            let line = inv.args.join(" ");
            assert!(line.contains("127.0.0.1"), "{line}");
            assert!(line.contains("5000"), "{line}");
            assert!(line.contains("4000"), "{line}");
            // `framecast send` and framecast.Sender have no MTU option;
            // their payloader's default is 1400.
            if !matches!(
                case,
                Case::Send | Case::FramecastPython | Case::ServeUdp | Case::ServeTcp
            ) {
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
}
