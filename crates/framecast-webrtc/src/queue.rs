//! A viewer's bounded, latest-wins queue of access units.
//!
//! The pipeline's thread pushes each access unit into every viewer's queue
//! and never waits; the stream's thread takes them out and writes them into
//! that viewer's `Rtc`. A viewer the thread cannot keep up with loses its
//! oldest frames (counted), never slows the encoder or another viewer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use framecast_core::sync::MutexExt;

/// One access unit, shared by every viewer's queue (cloning it is a
/// reference count).
#[derive(Debug, Clone)]
pub struct Frame {
    /// The access unit in Annex B.
    pub data: Arc<[u8]>,
    /// Its presentation time, for the RTP timestamp.
    pub pts: Duration,
    /// When it was captured, on this process's clock (the push when its
    /// capture time is not known): str0m's wallclock, from which the sender
    /// reports map RTP time to NTP time, so a browser's `captureTime` is
    /// the capture.
    pub wallclock: Instant,
    /// Its capture time on the wall clock, when known: sent in the
    /// `abs-capture-time` header extension where the browser negotiated it.
    pub captured: Option<SystemTime>,
    /// Whether it holds an IDR (a viewer starts on one).
    pub keyframe: bool,
}

/// A bounded queue of frames that drops its oldest when full.
#[derive(Debug)]
pub struct ViewerQueue {
    frames: Mutex<VecDeque<Frame>>,
    capacity: usize,
    dropped: AtomicU64,
}

impl ViewerQueue {
    /// A queue of at most `capacity` frames (at least one), its storage
    /// allocated now so pushing never allocates.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        ViewerQueue {
            frames: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds a frame; when full the oldest goes (and is counted). Returns
    /// whether one was dropped.
    pub fn push(&self, frame: Frame) -> bool {
        let mut q = self.frames.locked();
        let dropped = q.len() >= self.capacity;
        if dropped {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(frame);
        dropped
    }

    /// The oldest frame, if any.
    pub fn pop(&self) -> Option<Frame> {
        self.frames.locked().pop_front()
    }

    /// Frames dropped for being late.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Frames waiting now.
    pub fn len(&self) -> usize {
        self.frames.locked().len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> Frame {
        Frame {
            data: Arc::from(&[n][..]),
            pts: Duration::from_millis(u64::from(n)),
            wallclock: Instant::now(),
            captured: None,
            keyframe: false,
        }
    }

    #[test]
    fn a_full_queue_drops_its_oldest_and_counts_it() {
        let q = ViewerQueue::new(2);
        assert!(!q.push(frame(1)));
        assert!(!q.push(frame(2)));
        assert!(q.push(frame(3)));
        assert_eq!(q.dropped(), 1);
        assert_eq!(q.pop().map(|f| f.data[0]), Some(2));
        assert_eq!(q.pop().map(|f| f.data[0]), Some(3));
        assert!(q.pop().is_none());
    }
}
