//! A stream's pages: `/<path>/` (the viewer: WebRTC through
//! `/<path>/whep` first, MJPEG when that is absent or fails) and
//! `/<path>/mjpeg` (`multipart/x-mixed-replace` JPEG frames, flushed per
//! part).
//!
//! One [`MjpegStream`] per path holds the latest-wins
//! [`Fanout`](crate::Fanout) its viewers read: the producer (the
//! `httpserversink` element's JPEG branch) encodes each frame once for all
//! of them, and only while [`MjpegStream::viewers`] is non-zero. Publishing
//! a frame and writing it to a warm viewer allocate nothing.

mod multipart;

use framecast_core::sync::MutexExt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::stats::{self, metric, Registered, StatsSource};
use crate::{Fanout, HttpServer, Mounted, Next, Request, Response, Route, StreamOut};

pub use multipart::{PartHeader, BOUNDARY, CONTENT_TYPE};

/// The viewer page, shipped inside the binary.
pub const PAGE: &str = include_str!("page.html");

/// How long a viewer waits for a frame before checking its connection.
const POLL: Duration = Duration::from_millis(200);

/// A JPEG frame as the stream holds it: cheap to clone (a reference
/// count), its bytes readable without copying.
pub trait Jpeg: Clone + Send + Sync + 'static {
    /// Calls `f` with the JPEG's bytes; `false` when they cannot be read
    /// (the frame is skipped) or `f` says so.
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8]) -> bool) -> bool;
}

impl Jpeg for Arc<[u8]> {
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        f(self)
    }
}

impl Jpeg for Arc<Vec<u8>> {
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        f(self)
    }
}

impl Jpeg for framecast_core::Buffer {
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        match self.map_readable() {
            // One memory (as jpegenc writes it): borrowed, no copy.
            Ok(map) => f(&map.contiguous()),
            Err(_) => false,
        }
    }
}

/// One connected MJPEG viewer, for the stats.
struct Viewer {
    id: u64,
    peer: SocketAddr,
    since: Instant,
    sent: AtomicU64,
    dropped: AtomicU64,
}

/// The MJPEG side of one stream path.
pub struct MjpegStream<T: Jpeg> {
    path: String,
    frames: Arc<Fanout<T>>,
    published: AtomicU64,
    viewers: Mutex<Vec<Arc<Viewer>>>,
    next_id: AtomicU64,
}

impl<T: Jpeg> std::fmt::Debug for MjpegStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MjpegStream(/{}, {} viewers)", self.path, self.viewers())
    }
}

impl<T: Jpeg> MjpegStream<T> {
    /// A stream for `path` (no viewers yet).
    pub fn new(path: &str) -> Arc<MjpegStream<T>> {
        Arc::new(MjpegStream {
            path: path.trim_matches('/').to_string(),
            frames: Fanout::new(),
            published: AtomicU64::new(0),
            viewers: Mutex::new(Vec::with_capacity(8)),
            next_id: AtomicU64::new(1),
        })
    }

    /// Its path, without slashes.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// MJPEG viewers connected now: 0 means nobody needs frames encoded.
    pub fn viewers(&self) -> usize {
        self.frames.subscribers()
    }

    /// Frames published so far.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Hands a frame to every viewer (each keeps only the newest it has not
    /// sent yet).
    pub fn publish(&self, frame: &T) {
        self.published.fetch_add(1, Ordering::Relaxed);
        self.frames.publish(frame);
    }

    /// Ends every viewer's stream (the sink stopped).
    pub fn close(&self) {
        self.frames.close();
    }

    /// Writes frames to one viewer until it goes.
    fn serve_viewer(&self, out: &mut StreamOut, peer: SocketAddr) {
        let sub = self.frames.subscribe();
        let viewer = Arc::new(Viewer {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            peer,
            since: Instant::now(),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        self.viewers.locked().push(viewer.clone());
        let mut header = PartHeader::default();
        // While frames flow a closed tab fails the next write; the socket
        // is asked (a `peek`) only when none came within `POLL`.
        while !out.stopped() {
            match sub.next(POLL) {
                Next::Item(frame) => {
                    let ok = frame.with_bytes(&mut |jpeg| {
                        out.send(&[header.for_len(jpeg.len()), jpeg, b"\r\n"])
                    });
                    if ok {
                        viewer.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    viewer.dropped.store(sub.dropped(), Ordering::Relaxed);
                }
                Next::Timeout if out.done() => break,
                Next::Timeout => {}
                Next::Closed => break,
            }
        }
        self.viewers.locked().retain(|v| v.id != viewer.id);
    }
}

impl<T: Jpeg> StatsSource for MjpegStream<T> {
    fn json(&self) -> serde_json::Value {
        let viewers: Vec<_> = self
            .viewers
            .locked()
            .iter()
            .map(|v| {
                json!({
                    "viewer": v.peer.to_string(), "transport": "mjpeg",
                    "sent": v.sent.load(Ordering::Relaxed),
                    "dropped": v.dropped.load(Ordering::Relaxed),
                    "connected_s": v.since.elapsed().as_secs_f64(),
                })
            })
            .collect();
        json!({"path": self.path, "frames": self.published(), "viewers": viewers})
    }

    fn metrics(&self, name: &str, out: &mut String) {
        let l = [("source", name)];
        metric(
            out,
            "framecast_mjpeg_frames_total",
            &l,
            self.published() as f64,
        );
        metric(out, "framecast_mjpeg_viewers", &l, self.viewers() as f64);
        for v in self.viewers.locked().iter() {
            let peer = v.peer.to_string();
            let l = [("source", name), ("viewer", peer.as_str())];
            metric(
                out,
                "framecast_mjpeg_viewer_sent_total",
                &l,
                v.sent.load(Ordering::Relaxed) as f64,
            );
            let dropped = v.dropped.load(Ordering::Relaxed) as f64;
            metric(out, "framecast_mjpeg_viewer_dropped_total", &l, dropped);
        }
    }
}

/// The route of a stream path: the viewer page and the MJPEG stream.
pub struct StreamRoute<T: Jpeg> {
    stream: Arc<MjpegStream<T>>,
}

impl<T: Jpeg> Route for StreamRoute<T> {
    fn handle(&self, req: &Request) -> Response {
        match (req.method(), req.subpath()) {
            ("GET" | "HEAD", "") if !req.trailing_slash() => {
                let q = req
                    .head
                    .query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                Response::redirect(&format!("/{}/{q}", self.stream.path))
            }
            ("GET" | "HEAD", "") => Response::html(PAGE),
            ("GET", "mjpeg") => {
                let (stream, peer) = (self.stream.clone(), req.peer);
                Response::stream(
                    CONTENT_TYPE,
                    Box::new(move |out| stream.serve_viewer(out, peer)),
                )
            }
            (m, "" | "mjpeg") => Response::method_not_allowed(m, "GET"),
            _ => Response::not_found(req.path()),
        }
    }
}

/// A stream served: its mount and its stats registration; dropping it
/// ends the viewers' streams and unmounts the path.
#[derive(Debug)]
pub struct ServedStream<T: Jpeg> {
    stream: Arc<MjpegStream<T>>,
    mounted: Mounted,
    _stats: Registered,
}

impl<T: Jpeg> ServedStream<T> {
    /// Serves `stream` at `/<path>/` on `server`.
    ///
    /// # Errors
    ///
    /// [`Error::PathTaken`](crate::Error::PathTaken) when the path is
    /// mounted already.
    pub fn mount(server: &Arc<HttpServer>, stream: Arc<MjpegStream<T>>) -> crate::Result<Self> {
        let route = Arc::new(StreamRoute {
            stream: stream.clone(),
        });
        let mounted = server.mount(&stream.path, route)?;
        let source: Arc<dyn StatsSource> = stream.clone();
        let stats = stats::register(&format!("mjpeg:/{}", stream.path), &source);
        Ok(ServedStream {
            stream,
            mounted,
            _stats: stats,
        })
    }

    /// The stream.
    pub fn stream(&self) -> &Arc<MjpegStream<T>> {
        &self.stream
    }

    /// The viewer page's URL.
    pub fn url(&self) -> String {
        self.mounted.url()
    }
}

impl<T: Jpeg> Drop for ServedStream<T> {
    fn drop(&mut self) {
        self.stream.close();
    }
}
