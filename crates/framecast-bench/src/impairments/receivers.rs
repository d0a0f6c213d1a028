//! The receivers behind the relay: framecast's in this process, the
//! GStreamer C receiver, the GStreamer receiver with retransmission (a
//! Python child) and FFmpeg (a child decoding to a pipe), each started,
//! then stopped with what it decoded and when.

use super::*;

/// What a receiver saw: when each frame was decoded (`CLOCK_MONOTONIC`
/// ns), and the latencies (ms) of the counted frames whose stamp survived.
pub(crate) type Seen = (Vec<u64>, Vec<f64>);

/// A receiver running behind the relay.
pub(crate) enum Running {
    /// framecast's, pulled on a thread until `stop`; with the packets it
    /// rebuilt from FEC.
    Framecast {
        stop: Arc<AtomicBool>,
        thread: std::thread::JoinHandle<Result<(Seen, u64), String>>,
    },
    /// The GStreamer receiver with retransmission (a Python child): a
    /// line on its stdin ends it, its JSON report comes on stdout.
    GstRtx(Child),
    Gst(latency::Receiver),
    Ffmpeg {
        child: Child,
        thread: std::thread::JoinHandle<Seen>,
        stderr: PathBuf,
    },
}

/// Reads the stamp from a packed I420 frame's luma and gives the latency
/// to `now_ns`, ms; `None` for a damaged stamp, and for the first second
/// of video (start-up: FFmpeg probes the stream first, then decodes what
/// it held in a burst).
pub(crate) fn stamp_latency_ms(i420: &[u8], now_ns: u64) -> Option<f64> {
    let s = Stamp::read(framecast::VideoFormat::I420, i420, WIDTH, HEIGHT)?;
    counted(s.frame).then(|| now_ns.saturating_sub(s.time_ns) as f64 / 1e6)
}

/// Whether frame `n`'s latency counts (after the first second).
pub(crate) fn counted(n: u32) -> bool {
    n >= FPS
}

/// framecast's receiver on `port` (it rebuilds from FEC whenever FEC
/// comes: a receiver on a port knows framecast's FEC payload type).
pub(crate) fn start_framecast(port: u16, nack: bool) -> Result<Running, String> {
    let rx = framecast::receiver::Receiver::builder()
        .port(port)
        .address("127.0.0.1")
        .codec(framecast::sender::Codec::H264)
        .output_format(framecast::VideoFormat::I420)
        .latency(Duration::from_millis(u64::from(JITTER_MS)))
        .retransmission(nack)
        .build()
        .map_err(|e| format!("Receiver::build: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::spawn(move || {
        let (mut at, mut latencies) = (Vec::new(), Vec::new());
        let mut packed = vec![0u8; Format::I420.frame_bytes(WIDTH, HEIGHT)];
        let mut quiet_since = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            match rx.pull(Some(Duration::from_millis(50))) {
                Ok(Some(frame)) => {
                    let now = stamp::monotonic_ns();
                    at.push(now);
                    quiet_since = Instant::now();
                    if frame.copy_packed_to(&mut packed).is_ok() {
                        latencies.extend(stamp_latency_ms(&packed, now));
                    }
                }
                Ok(None) => {
                    if stopping.load(Ordering::Relaxed) && quiet_since.elapsed() > DRAIN {
                        break;
                    }
                }
                Err(e) => return Err(format!("the receiver failed: {e}")),
            }
        }
        let recovered = rx
            .pipeline()
            .by_name("jb")
            .map_or(0, |jb| jb.counter("num-fec-recovered"));
        let _ = rx.stop();
        Ok(((at, latencies), recovered))
    });
    Ok(Running::Framecast { stop, thread })
}

/// The SDP FFmpeg opens: H.264 on `port` of 127.0.0.1, nothing else (no
/// RTX: it would not use it).
pub(crate) fn ffmpeg_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=framecast\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=video {port} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 packetization-mode=1\r\n"
    )
}

/// Whether something already has UDP `port` of 127.0.0.1.
pub(crate) fn port_taken(port: u16) -> bool {
    std::net::UdpSocket::bind(("127.0.0.1", port)).is_err()
}

pub(crate) fn start_ffmpeg(port: u16) -> Result<Running, String> {
    let dir = std::env::temp_dir().join(format!("framecast-impairments-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let sdp = dir.join("stream.sdp");
    std::fs::write(&sdp, ffmpeg_sdp(port)).map_err(|e| format!("{}: {e}", sdp.display()))?;
    let stderr = dir.join("ffmpeg.log");
    let log = std::fs::File::create(&stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
        .args(["-protocol_whitelist", "file,udp,rtp"])
        .args(["-max_delay", "50000"])
        .arg("-i")
        .arg(&sdp)
        .args(["-map", "0:v", "-f", "rawvideo", "-pix_fmt", "yuv420p"])
        .args(["-fps_mode", "passthrough", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("ffmpeg: {e} (apt-get install ffmpeg)"))?;
    let Some(mut out) = child.stdout.take() else {
        let _ = child.kill();
        return Err("ffmpeg: no stdout".into());
    };
    let thread = std::thread::spawn(move || {
        let (mut at, mut latencies) = (Vec::new(), Vec::new());
        let mut frame = vec![0u8; Format::I420.frame_bytes(WIDTH, HEIGHT)];
        while out.read_exact(&mut frame).is_ok() {
            let now = stamp::monotonic_ns();
            at.push(now);
            latencies.extend(stamp_latency_ms(&frame, now));
        }
        (at, latencies)
    });
    // Ready once it holds the port (it binds before waiting for data).
    let ready_by = Instant::now() + Duration::from_secs(10);
    while !port_taken(port) {
        if Instant::now() > ready_by || !matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&stderr).unwrap_or_default();
            return Err(format!("ffmpeg did not open port {port}: {}", log.trim()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Running::Ffmpeg {
        child,
        thread,
        stderr,
    })
}

/// Starts the GStreamer receiver with retransmission on `port`, its RTCP
/// (the NACKs) to `rtcp_to` (the relay's way back to the sender); returns
/// once its sockets are bound.
pub(crate) fn start_gst_rtx(port: u16, rtcp_to: u16, seconds: f64) -> Result<Running, String> {
    let mut child = Command::new(PYTHON)
        .arg(gst_rtx_receiver())
        .arg(format!("--port={port}"))
        .arg(format!("--rtcp-to={rtcp_to}"))
        .arg(format!("--seconds={}", seconds + 30.0))
        .arg(format!("--bandwidth={}", BITRATE_KBPS * 1000))
        .arg(format!("--latency={JITTER_MS}"))
        .args(["--rtx", "--times"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{PYTHON}: {e} (apt-get install python3-gi)"))?;
    let Some(stderr) = child.stderr.take() else {
        terminate(&mut child);
        return Err("the GStreamer receiver: no stderr".into());
    };
    // "ready" on its stderr once bound; the rest of its stderr is read
    // (and dropped) so it never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut said = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line == "ready" => return Ok(Running::GstRtx(child)),
            Ok(line) => said.push(line),
            Err(_) => {
                terminate(&mut child);
                return Err(format!(
                    "the GStreamer receiver did not start: {}",
                    said.join("; ")
                ));
            }
        }
    }
}

/// Decode times and counted latencies from the GStreamer receiver's report.
pub(crate) fn gst_rtx_seen(report: &serde_json::Value) -> Result<Seen, String> {
    let decoded = report["decoded_at_ns"]
        .as_array()
        .ok_or_else(|| format!("no decoded_at_ns in {report}"))?
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    let latencies = report["stamps"]
        .as_array()
        .map(|v| v.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| Some((s[0].as_u64()?, s[1].as_u64()?)))
        .filter(|&(n, _)| u32::try_from(n).is_ok_and(counted))
        .map(|(_, ns)| ns as f64 / 1e6)
        .collect();
    Ok((decoded, latencies))
}

/// Stops a child: SIGTERM, then SIGKILL after 3 s.
pub(crate) fn terminate(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on our own child, not yet waited for.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Running {
    /// Lets the last frames in, stops, and returns decode times and
    /// latencies, and the packets rebuilt from FEC.
    pub(crate) fn finish(self) -> Result<(Seen, u64), String> {
        match self {
            Running::Framecast { stop, thread } => {
                stop.store(true, Ordering::Relaxed);
                thread
                    .join()
                    .map_err(|_| "the receiving thread panicked".to_string())?
            }
            Running::GstRtx(mut child) => {
                std::thread::sleep(DRAIN);
                if let Some(mut stdin) = child.stdin.take() {
                    use std::io::Write;
                    let _ = stdin.write_all(b"stop\n");
                }
                let mut out = child
                    .stdout
                    .take()
                    .ok_or("the GStreamer receiver: no stdout")?;
                let reader = std::thread::spawn(move || {
                    let mut s = String::new();
                    let _ = out.read_to_string(&mut s);
                    s
                });
                let end = Instant::now() + Duration::from_secs(15);
                while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(20));
                }
                terminate(&mut child);
                let report = reader
                    .join()
                    .map_err(|_| "the report reader panicked".to_string())?;
                let report: serde_json::Value = serde_json::from_str(report.trim())
                    .map_err(|e| format!("the GStreamer receiver's report {report:?}: {e}"))?;
                Ok((gst_rtx_seen(&report)?, 0))
            }
            Running::Gst(rx) => {
                let got = rx.finish();
                let latencies = got
                    .frames
                    .iter()
                    .filter(|&&(n, _)| counted(n))
                    .map(|&(_, ns)| ns as f64 / 1e6)
                    .collect();
                Ok(((got.decoded, latencies), 0))
            }
            Running::Ffmpeg {
                mut child,
                thread,
                stderr,
            } => {
                std::thread::sleep(DRAIN);
                terminate(&mut child);
                let got = thread
                    .join()
                    .map_err(|_| "the ffmpeg reader panicked".to_string())?;
                if got.0.is_empty() {
                    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
                    return Err(format!("ffmpeg decoded nothing: {}", log.trim()));
                }
                Ok((got, 0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gstreamer_report_gives_decode_times_and_counted_latencies() {
        let report: serde_json::Value = serde_json::from_str(
            r#"{"frames": 3, "decoded_at_ns": [10, 20, 30], "stamps": [[1, 5000000], [40, 7000000]]}"#,
        )
        .unwrap();
        let (at, latencies) = gst_rtx_seen(&report).unwrap();
        assert_eq!(at, [10, 20, 30]);
        // Frame 1 is in the first second: not counted.
        assert_eq!(latencies, [7.0]);
        assert!(gst_rtx_seen(&serde_json::json!({"frames": 0})).is_err());
        assert_eq!(Peer::parse("gst-rtx"), Ok(Peer::GstRtx));
    }

    #[test]
    fn the_sdp_is_for_ffmpeg_on_the_port() {
        let sdp = ffmpeg_sdp(5004);
        assert!(sdp.contains("m=video 5004 RTP/AVP 96\r\n"), "{sdp}");
        assert!(sdp.contains("a=rtpmap:96 H264/90000"), "{sdp}");
    }
}
