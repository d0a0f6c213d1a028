//! The demo's browser side: the sender also serves HTTP at
//! `http://127.0.0.1:PORT/` — the live dashboard at `/`, the viewer page
//! at `/demo/` (WebRTC through WHEP, taking the sender's own H.264
//! encode, and MJPEG when WebRTC fails) — and an MJPEG viewer in this
//! process watches `/demo/mjpeg` for a few seconds mid-run, as a browser
//! tab would, then reads the dashboard's `/api/objects`, so the summary
//! shows both working. The URLs are printed: a browser opens them while
//! the demo runs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The stream's path.
pub const PATH: &str = "demo";

/// Longest wait for the server to listen once the demo starts.
const SERVER_WAIT: Duration = Duration::from_secs(10);

/// Longest wait for one read from the server.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// Most bytes of an `/api/objects` answer read (it holds at most 50
/// groups: far less).
const MAX_API_BYTES: usize = 1 << 20;

/// What every MJPEG part's head says (framecast-http's multipart writer).
const PART_MARK: &[u8] = b"Content-Type: image/jpeg";

/// `127.0.0.1:PORT` to serve at, on `port` or a free one.
pub fn address(port: Option<u16>) -> Result<SocketAddr, String> {
    let port = crate::demo::tcp_port(port, "HTTP")?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// What the in-process browser stand-in saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    /// MJPEG parts (JPEG frames) received.
    pub frames: u64,
    /// Bytes of the multipart stream received.
    pub bytes: u64,
    /// Over how long.
    pub seconds: f64,
    /// `total` of `/api/objects`: live objects the leaks tracer names.
    pub live_objects: Option<u64>,
}

/// The MJPEG viewer, watching in a thread of its own.
#[derive(Debug)]
pub struct HttpViewer {
    thread: JoinHandle<Result<Watched, String>>,
}

/// Starts the viewer of the server at `addr`: once it listens (waiting at
/// most [`SERVER_WAIT`]), it waits until a third of a demo of `seconds`
/// has passed, watches `/demo/mjpeg` for up to 2 s, then reads
/// `/api/objects`.
pub fn watch(addr: SocketAddr, seconds: f64) -> HttpViewer {
    let start = Instant::now();
    let thread = std::thread::spawn(move || {
        let deadline = start + SERVER_WAIT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if Instant::now() >= deadline {
                return Err(format!("the HTTP server at {addr} never listened"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let begin = Duration::from_secs_f64(seconds / 3.0);
        if let Some(wait) = begin.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let span = Duration::from_secs_f64((seconds / 3.0).clamp(0.5, 2.0));
        let mut watched = watch_mjpeg(addr, span)?;
        let objects = get(addr, "/api/objects")?;
        watched.live_objects = crate::demo::json_number(&objects, "total").map(|n| n as u64);
        Ok(watched)
    });
    HttpViewer { thread }
}

/// Opens a connection to `addr` and sends a `GET path`.
fn request(addr: SocketAddr, path: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("GET {path}: {e}"))?;
    Ok(stream)
}

/// Reads `/demo/mjpeg` for `span`, counting the parts; checks the answer
/// is `200` with a multipart body.
fn watch_mjpeg(addr: SocketAddr, span: Duration) -> Result<Watched, String> {
    let path = format!("/{PATH}/mjpeg");
    let mut stream = request(addr, &path)?;
    let start = Instant::now();
    let mut chunk = vec![0u8; 64 * 1024];
    // The tail of the previous read: a mark may straddle two reads.
    let mut carry: Vec<u8> = Vec::with_capacity(PART_MARK.len());
    let (mut frames, mut bytes) = (0u64, 0u64);
    let mut head_checked = false;
    while start.elapsed() < span {
        let n = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return Err(format!("reading {path}: {e}")),
        };
        if !head_checked {
            let head = String::from_utf8_lossy(&chunk[..n.min(256)]);
            if !head.starts_with("HTTP/1.1 200") || !head.contains("multipart/x-mixed-replace") {
                let line = head.lines().next().unwrap_or_default().to_string();
                return Err(format!("GET {path} answered {line:?}, not an MJPEG stream"));
            }
            head_checked = true;
        }
        bytes += n as u64;
        carry.extend_from_slice(&chunk[..n]);
        frames += carry
            .windows(PART_MARK.len())
            .filter(|w| *w == PART_MARK)
            .count() as u64;
        let keep = carry.len().min(PART_MARK.len() - 1);
        carry.drain(..carry.len() - keep);
    }
    Ok(Watched {
        frames,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
        live_objects: None,
    })
}

/// `GET path` on `addr`: the body of a `200` answer.
fn get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let stream = request(addr, path)?;
    let mut answer = Vec::new();
    stream
        .take(MAX_API_BYTES as u64)
        .read_to_end(&mut answer)
        .map_err(|e| format!("reading {path}: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no complete answer"))?;
    if !head.starts_with("HTTP/1.1 200") {
        let line = head.lines().next().unwrap_or_default();
        return Err(format!("GET {path} answered {line:?}"));
    }
    Ok(body.to_string())
}

impl HttpViewer {
    /// Waits for the viewer's end: what it saw, or why it saw nothing.
    pub fn join(self) -> Result<Watched, String> {
        self.thread
            .join()
            .map_err(|_| "the HTTP viewer's thread panicked".to_string())?
    }
}

/// The summary's line for the viewer.
pub fn describe(addr: SocketAddr, watched: &Result<Watched, String>) -> String {
    match watched {
        Ok(w) => format!(
            "  browser (HTTP)    MJPEG viewer {} frames in {:.1} s ({:.0} KiB) at \
             http://{addr}/{PATH}/mjpeg; dashboard /api/objects: {} live objects",
            w.frames,
            w.seconds,
            w.bytes as f64 / 1024.0,
            w.live_objects
                .map_or("unknown".to_string(), |n| n.to_string())
        ),
        Err(e) => format!("  browser (HTTP)    {e}"),
    }
}
