//! What the RTSP server tests share: a live counter stream served by
//! `rtspserversink` at `rtsp://127.0.0.1:PORT/cam`, the real decoding
//! viewers (ffmpeg, GStreamer's `rtspsrc`) as children writing GRAY8
//! frames to their stdout, and framecast's own `Receiver`, reading those
//! frames' counter stamps back, and raw RTSP requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast::elements::video::{decode_counter, Frame};
use framecast::receiver::Receiver;
use framecast::sender::Codec;
use framecast::{parse_launch, Pipeline, State};
use framecast_core::{VideoFormat, VideoInfo};

use crate::interop::KillOnDrop;
use crate::pipelines::element;

/// Width of the served frames.
pub const W: u32 = 320;
/// Height of the served frames.
pub const H: u32 = 240;

/// What the served stream carries, for a GStreamer viewer's depayloader
/// and decoder (ffmpeg finds out from the SDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// H.264 (RFC 6184).
    H264,
    /// JPEG (RFC 2435).
    Jpeg,
}

/// A live 30 fps counter stream through `encoder` (`openh264enc
/// gop-size=300`, `jpegenc`) served by `rtspserversink name=srv port=0
/// path=cam {extra}`, playing; returns the pipeline and the URL.
pub fn serve_encoded(encoder: &str, extra: &str) -> (Pipeline, String) {
    let p = parse_launch(&format!(
        "testsrc pattern=counter is-live=true ! video/x-raw,format=I420,width={W},height={H},framerate=30/1 \
         ! {encoder} ! rtspserversink name=srv port=0 path=cam {extra}"
    ))
    .expect("pipeline");
    p.set_state(State::Playing).expect("playing");
    let srv = element(&p, "srv");
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        let port = srv
            .property("bound-port")
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if port != 0 {
            break port;
        }
        assert!(Instant::now() < deadline, "server never bound");
        std::thread::sleep(Duration::from_millis(20));
    };
    (p, format!("rtsp://127.0.0.1:{port}/cam"))
}

/// An H.264 viewer ([`client_for`]).
pub fn client(kind: &str, url: &str) -> KillOnDrop {
    client_for(kind, url, Media::H264)
}

/// A decoding viewer writing GRAY8 frames to its stdout: `ffmpeg-udp`,
/// `ffmpeg-tcp`, `ffmpeg-udp_multicast` (`-rtsp_transport` …), or
/// `gst-udp`, `gst-tcp`, `gst-udp-mcast` (`rtspsrc protocols=` …; the
/// multicast group joined on `lo`, so it stays on this machine).
pub fn client_for(kind: &str, url: &str, media: Media) -> KillOnDrop {
    client_with(kind, url, media, &[])
}

/// [`client_for`], with more `rtspsrc` properties (`do-rtsp-keep-alive=false`)
/// for a GStreamer viewer.
pub fn client_with(kind: &str, url: &str, media: Media, rtspsrc: &[&str]) -> KillOnDrop {
    let mut cmd = if let Some(transport) = kind.strip_prefix("ffmpeg-") {
        let mut c = Command::new("ffmpeg");
        c.args([
            "-loglevel",
            "error",
            "-rtsp_transport",
            transport,
            "-i",
            url,
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"]);
        c
    } else {
        let protocols = kind.strip_prefix("gst-").unwrap_or(kind);
        let mut c = Command::new("gst-launch-1.0");
        c.arg("-q").arg("rtspsrc").arg(format!("location={url}"));
        c.arg(format!("protocols={protocols}")).arg("latency=50");
        if protocols == "udp-mcast" {
            c.arg("multicast-iface=lo");
        }
        c.args(rtspsrc);
        let decode = match (media, protocols) {
            // A multicast group flows before this viewer's PLAY (another
            // viewer plays it): what arrives before the IDR it asked for
            // refers to pictures it never had, and is not shown.
            (Media::H264, "udp-mcast") => "rtph264depay ! avdec_h264 output-corrupt=false",
            (Media::H264, _) => "rtph264depay ! avdec_h264",
            (Media::Jpeg, _) => "rtpjpegdepay ! jpegdec",
        };
        let tail = format!("! {decode} ! videoconvert ! video/x-raw,format=GRAY8 ! fdsink fd=1");
        c.args(tail.split(' '));
        c
    };
    KillOnDrop(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {kind}: {e}")),
    )
}

/// Every unicast viewer [`watch_together`] knows: ffmpeg and GStreamer
/// over UDP and TCP, and framecast's own receiver (TCP).
pub const UNICAST_VIEWERS: [&str; 5] = [
    "ffmpeg-udp",
    "ffmpeg-tcp",
    "gst-tcp",
    "gst-udp",
    "framecast",
];

/// Viewers of every kind in `kinds` ([`client_for`], or `framecast`: a
/// framecast [`Receiver`] in this process) watch `url` at once, each for
/// `n` frames (40 s at most); each must decode them ([`assert_stream`]).
pub fn watch_together(url: &str, kinds: &[&str], media: Media, n: usize) {
    let timeout = Duration::from_secs(40);
    let handles: Vec<_> = kinds
        .iter()
        .map(|k| {
            let (k, url) = (k.to_string(), url.to_string());
            std::thread::spawn(move || {
                if k == "framecast" {
                    return (k, receive_frames(&url, media, n, timeout));
                }
                let mut c = client_for(&k, &url, media);
                let (frames, _) = read_frames(&mut c, n, timeout);
                (k, frames)
            })
        })
        .collect();
    for h in handles {
        let (k, frames) = h.join().expect("viewer thread");
        assert_stream(&k, &frames, n);
    }
}

/// A framecast [`Receiver`] plays `url` (RTP interleaved on TCP) for up
/// to `n` frames (within `timeout`); their stamps' frame numbers.
pub fn receive_frames(url: &str, media: Media, n: usize, timeout: Duration) -> Vec<Option<u64>> {
    let codec = match media {
        Media::H264 => Codec::H264,
        Media::Jpeg => Codec::Jpeg,
    };
    let receiver = Receiver::builder()
        .url(url)
        .codec(codec)
        .output_format(VideoFormat::Gray8)
        .build()
        .unwrap_or_else(|e| panic!("framecast receiver of {url}: {e}"));
    let info = VideoInfo::new(VideoFormat::Gray8, W, H).expect("info");
    let mut packed = vec![0u8; info.size];
    let deadline = Instant::now() + timeout;
    let mut frames = Vec::new();
    while frames.len() < n && Instant::now() < deadline {
        let Some(frame) = receiver
            .pull(Some(Duration::from_millis(200)))
            .expect("pull")
        else {
            continue;
        };
        let stamp = frame
            .copy_packed_to(&mut packed)
            .ok()
            .and_then(|_| Frame::new(info, &packed).ok())
            .and_then(|f| decode_counter(&f));
        frames.push(stamp.map(|s| s.frame));
    }
    frames
}

/// Reads up to `n` frames (within `timeout`) and returns their stamps'
/// frame numbers (None for a frame without a readable stamp) and the
/// time the first one arrived.
pub fn read_frames(
    child: &mut KillOnDrop,
    n: usize,
    timeout: Duration,
) -> (Vec<Option<u64>>, Option<Instant>) {
    let mut out = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; (W * H) as usize];
        for _ in 0..n {
            if out.read_exact(&mut buf).is_err() {
                break;
            }
            let info = VideoInfo::new(VideoFormat::Gray8, W, H).expect("info");
            let stamp = Frame::new(info, &buf).ok().and_then(|f| decode_counter(&f));
            if tx.send((stamp.map(|s| s.frame), Instant::now())).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut frames = Vec::new();
    let mut first = None;
    while frames.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((f, at)) => {
                first.get_or_insert(at);
                frames.push(f);
            }
            Err(_) => break,
        }
    }
    (frames, first)
}

/// Counts the frames `child` decodes, from now on, in a thread.
pub fn count_frames(child: &mut KillOnDrop) -> Arc<AtomicUsize> {
    let mut out = child.0.stdout.take().expect("stdout");
    let n = Arc::new(AtomicUsize::new(0));
    let counter = n.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; (W * H) as usize];
        while out.read_exact(&mut buf).is_ok() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    n
}

/// Decoded frames that carry stamps, strictly increasing, and most of
/// them (a few may be lost to a joiner's start).
pub fn assert_stream(kind: &str, frames: &[Option<u64>], n: usize) {
    let stamped: Vec<u64> = frames.iter().flatten().copied().collect();
    assert!(
        frames.len() >= n,
        "{kind}: decoded only {} of {n} frames",
        frames.len()
    );
    assert!(
        stamped.len() + 2 >= n,
        "{kind}: {} of {n} frames carry a stamp: {frames:?}",
        stamped.len()
    );
    assert!(
        stamped.windows(2).all(|w| w[0] < w[1]),
        "{kind}: out of order {stamped:?}"
    );
}

/// Writes `text` (one request) and reads the answer: its head, and its
/// body when it has a `Content-Length` (at most 5 s).
pub fn request(stream: &mut TcpStream, text: &str) -> String {
    stream.write_all(text.as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if answer_complete(&got) {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Whether `got` holds a whole head and the body it announces.
fn answer_complete(got: &[u8]) -> bool {
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&got[..end]);
    let body = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    got.len() >= end + 4 + body
}

/// A TCP connection to the server of `url`.
pub fn connect(url: &str) -> TcpStream {
    let addr = url
        .trim_start_matches("rtsp://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    TcpStream::connect(addr).expect("connect")
}

/// The answer to a DESCRIBE of `url` on a new connection, SDP included.
pub fn describe(url: &str) -> String {
    request(
        &mut connect(url),
        &format!("DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
    )
}

/// The answer to `SETUP {url}/stream=0` asking for `transport` on `s`.
pub fn setup(s: &mut TcpStream, url: &str, transport: &str) -> String {
    let text =
        format!("SETUP {url}/stream=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: {transport}\r\n\r\n");
    request(s, &text)
}

/// The answer to `PLAY {url}` of session `id` on `s`.
pub fn play(s: &mut TcpStream, url: &str, id: &str) -> String {
    request(
        s,
        &format!("PLAY {url} RTSP/1.0\r\nCSeq: 2\r\nSession: {id}\r\n\r\n"),
    )
}

/// The session id of a SETUP answer.
pub fn session_of(answer: &str) -> String {
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Session: "))
        .unwrap_or_else(|| panic!("no Session header in {answer}"))
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string()
}
