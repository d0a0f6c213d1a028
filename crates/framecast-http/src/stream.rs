//! The connection as a long-lived body writes to it.

use std::io::{IoSlice, Write};
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

    /// Writes `parts` in order (one part of a multipart body, one
    /// server-sent event) in as few `writev` calls as the socket takes:
    /// one, normally. `false` once the client is gone: the body should
    /// return.
    pub fn send(&mut self, parts: &[&[u8]]) -> bool {
        if self.failed {
            return false;
        }
        let mut slices = [IoSlice::new(&[]); 4];
        for chunk in parts.chunks(slices.len()) {
            let n = chunk.len();
            for (slot, part) in slices.iter_mut().zip(chunk) {
                *slot = IoSlice::new(part);
            }
            let mut rest = &mut slices[..n];
            while !rest.is_empty() {
                match self.stream.write_vectored(rest) {
                    Ok(0) | Err(_) => {
                        self.failed = true;
                        return false;
                    }
                    Ok(written) => IoSlice::advance_slices(&mut rest, written),
                }
            }
        }
        true
    }

    /// Whether the body should return without asking the socket: a write
    /// failed or the server is shutting down. For a loop that writes
    /// often (a closed tab fails the next write); [`Self::done`] also
    /// notices a client that went while nothing was written.
    pub fn stopped(&self) -> bool {
        self.failed || self.stop.load(Ordering::Relaxed)
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
