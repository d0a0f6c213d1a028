//! The demo's RTSP side: the sender also serves its stream at
//! `rtsp://127.0.0.1:PORT/demo` (the same encode, through
//! `rtspserversink`), and a second receiver, `framecast receive
//! rtsp://…` (DESCRIBE, SETUP with RTP interleaved on TCP, PLAY), watches
//! it beside the RTP/UDP one, as ffplay would (the URL is printed for
//! it: viewers come and go while the demo runs).

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::receive::Summary;
use crate::receiver_child::{Finished, ReceiverChild};

/// The path served.
const PATH: &str = "demo";

/// Longest wait for the server to listen once the demo starts.
const SERVER_WAIT: Duration = Duration::from_secs(10);

/// The URL to serve at, on `port` or a free one.
pub fn url(port: Option<u16>) -> Result<String, String> {
    let port = crate::demo::tcp_port(port, "RTSP")?;
    Ok(format!("rtsp://127.0.0.1:{port}/{PATH}"))
}

/// How long the viewer watches a demo of `seconds`: it stops before the
/// server does (its start, the DESCRIBE and the PLAY, take up to a
/// second), so that it ends with its summary rather than a closed
/// session.
fn watch_seconds(seconds: f64) -> f64 {
    (seconds - 1.5).max(seconds / 2.0)
}

/// The RTSP viewer, watching in a thread of its own.
#[derive(Debug)]
pub struct RtspViewer {
    thread: JoinHandle<Result<Finished, String>>,
}

/// Starts `exe receive URL --codec CODEC` once the server listens (waiting at most
/// [`SERVER_WAIT`]), to watch a demo of `seconds`.
pub fn watch(exe: PathBuf, url: &str, codec: &str, seconds: f64) -> RtspViewer {
    let url = url.to_string();
    let codec = codec.to_string();
    let thread = std::thread::spawn(move || {
        let addr: SocketAddr = url
            .trim_start_matches("rtsp://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("{url}: no address"))?;
        let deadline = Instant::now() + SERVER_WAIT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if Instant::now() >= deadline {
                return Err(format!("the RTSP server at {url} never listened"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let watch = watch_seconds(seconds);
        let seconds = format!("{watch:.2}");
        let args = [
            &url,
            "--codec",
            &codec,
            "--quiet",
            "--json",
            "--seconds",
            &seconds,
        ]
        .map(String::from);
        let child = ReceiverChild::spawn(&exe, &args, "RTSP viewer")?;
        child.finish(Duration::from_secs_f64(watch + 15.0))
    });
    RtspViewer { thread }
}

impl RtspViewer {
    /// Waits for the viewer's end; its summary, or why there is none.
    pub fn join(self, parse: impl Fn(&str) -> Summary) -> Result<Summary, String> {
        let finished = self
            .thread
            .join()
            .map_err(|_| "the RTSP viewer's thread panicked".to_string())??;
        match finished.status.code() {
            Some(0) if !finished.json.is_empty() => Ok(parse(&finished.json)),
            Some(framecast::FATAL_LEAKS_EXIT_STATUS) => {
                Err(format!("the RTSP viewer leaked:\n{}", finished.log))
            }
            _ => Err(format!(
                "the RTSP viewer failed ({}):\n{}",
                finished.status, finished.log
            )),
        }
    }
}

/// The summary's line for the viewer.
pub fn describe(viewer: &Result<Summary, String>) -> String {
    match viewer {
        Ok(s) => format!(
            "  RTSP viewer       {} decoded in {:.1} s ({} packets, {} lost; framecast receive \
             rtsp://…, TCP interleaved, joined after the start)",
            s.frames, s.seconds, s.packets, s.lost
        ),
        Err(e) => format!("  RTSP viewer       {e}"),
    }
}
