//! The connection as a long-lived body writes to it.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest one write to a streaming client may block: a client that reads
/// nothing for this long is dropped (a slow one only loses frames, see
/// [`Fanout`](crate::Fanout)).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a [`StreamBody`](crate::StreamBody) writes: the client's socket,
/// and whether the client or the server has gone.
#[derive(Debug)]
pub struct StreamOut {
    stream: TcpStream,
    stop: Arc<AtomicBool>,
    failed: bool,
}

impl StreamOut {
    pub(crate) fn new(stream: TcpStream, stop: Arc<AtomicBool>) -> StreamOut {
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        StreamOut {
            stream,
            stop,
            failed: false,
        }
    }

    /// Writes `parts` in order and flushes (one part of a multipart body,
    /// one server-sent event). `false` once the client is gone: the body
    /// should return.
    pub fn send(&mut self, parts: &[&[u8]]) -> bool {
        if self.failed {
            return false;
        }
        for p in parts {
            if self.stream.write_all(p).is_err() {
                self.failed = true;
                return false;
            }
        }
        if self.stream.flush().is_err() {
            self.failed = true;
        }
        !self.failed
    }

    /// Whether the body should stop: the client closed its side, a write
    /// failed, or the server is shutting down. Costs one non-blocking
    /// `peek` (a closed tab is noticed without waiting for a write to
    /// fail).
    pub fn done(&mut self) -> bool {
        if self.failed || self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if self.stream.set_nonblocking(true).is_err() {
            self.failed = true;
            return true;
        }
        let mut b = [0u8; 1];
        let gone = match self.stream.peek(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        };
        if self.stream.set_nonblocking(false).is_err() || gone {
            self.failed = true;
        }
        self.failed
    }
}
