//! One access unit's RTP packets, written once and shared by every viewer.
//!
//! The fan-out hands an `Arc<Frame>` to each TCP viewer's queue and sends
//! UDP straight from it, so the stream is packetized once however many
//! watch. Frames come from a pool ([`FramePool`]) and go back to it when
//! the last viewer has written them: once warm, a frame costs no heap
//! allocation.

use framecast_core::sync::MutexExt;
use std::sync::{Arc, Mutex};

/// Packets of one access unit, back to back, with their extents.
#[derive(Debug, Default)]
pub struct Frame {
    data: Vec<u8>,
    packets: Vec<(usize, usize)>,
    open: Option<usize>,
    keyframe: bool,
}

impl Frame {
    /// Forgets the packets, keeping the memory.
    pub fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
        self.open = None;
        self.keyframe = false;
    }

    /// Marks it as a keyframe (an IDR access unit, JPEG: every frame): a
    /// viewer that just pressed PLAY starts on one.
    pub fn set_keyframe(&mut self, keyframe: bool) {
        self.keyframe = keyframe;
    }

    /// Whether a viewer can start decoding here.
    pub fn is_keyframe(&self) -> bool {
        self.keyframe
    }

    /// Room for the next packet, `mtu` bytes; [`Frame::commit`] keeps the
    /// first `len` of them.
    pub fn slot(&mut self, mtu: usize) -> &mut [u8] {
        let off = match self.open {
            Some(off) => off,
            None => {
                let off = self.data.len();
                self.data.resize(off + mtu, 0);
                self.open = Some(off);
                off
            }
        };
        &mut self.data[off..]
    }

    /// Keeps `len` bytes of the slot as a packet.
    pub fn commit(&mut self, len: usize) {
        if let Some(off) = self.open.take() {
            let len = len.min(self.data.len() - off);
            self.data.truncate(off + len);
            self.packets.push((off, len));
        }
    }

    /// Drops a slot that got no packet.
    pub fn abandon(&mut self) {
        if let Some(off) = self.open.take() {
            self.data.truncate(off);
        }
    }

    /// Adds a whole packet (a copy), e.g. one already written elsewhere.
    pub fn push(&mut self, packet: &[u8]) {
        self.abandon();
        let off = self.data.len();
        self.data.extend_from_slice(packet);
        self.packets.push((off, packet.len()));
    }

    /// The packets, in order.
    pub fn packets(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.packets.iter().map(|&(o, l)| &self.data[o..o + l])
    }

    /// How many packets.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Bytes of all packets.
    pub fn bytes(&self) -> usize {
        self.packets.iter().map(|p| p.1).sum()
    }
}

/// Most frames the pool keeps for reuse.
const POOL_MAX: usize = 256;

/// Frames to reuse: one is free when no viewer holds it any more.
#[derive(Debug)]
pub struct FramePool {
    frames: Mutex<Vec<Arc<Frame>>>,
    /// The most bytes and packets a frame has held: a reused frame is
    /// grown to them when taken, so that it never grows while being
    /// filled once they stop growing (an IDR in a frame that held only
    /// small ones).
    largest: Mutex<(usize, usize)>,
}

impl Default for FramePool {
    fn default() -> Self {
        FramePool {
            frames: Mutex::new(Vec::with_capacity(POOL_MAX)),
            largest: Mutex::new((0, 0)),
        }
    }
}

impl FramePool {
    /// An empty frame: a free pooled one, or a new one while the pool
    /// warms up (or every viewer still holds every frame).
    pub fn take(&self) -> Arc<Frame> {
        let mut frames = self.frames.locked();
        if let Some(i) = frames.iter().position(|f| Arc::strong_count(f) == 1) {
            let mut f = frames.swap_remove(i);
            drop(frames);
            if let Some(inner) = Arc::get_mut(&mut f) {
                inner.clear();
                let (bytes, packets) = *self.largest.locked();
                inner
                    .data
                    .reserve(bytes.saturating_add(bytes / 4).saturating_add(2048));
                inner.packets.reserve(packets);
                return f;
            }
        }
        Arc::new(Frame::default())
    }

    /// Adds `n` empty frames sized as the largest so far (64 KiB before
    /// any): done when a TCP viewer sets up, whose queue may hold that
    /// many, so the pool need not grow while frames flow.
    pub fn warm(&self, n: usize) {
        let (bytes, packets) = *self.largest.locked();
        let bytes = if bytes == 0 {
            64 * 1024
        } else {
            bytes + bytes / 4 + 2048
        };
        let mut frames = self.frames.locked();
        for _ in 0..n.min(POOL_MAX.saturating_sub(frames.len())) {
            frames.push(Arc::new(Frame {
                data: Vec::with_capacity(bytes),
                packets: Vec::with_capacity(packets.max(64)),
                ..Frame::default()
            }));
        }
    }

    /// Puts a sent frame back (viewers may still hold it).
    pub fn give(&self, frame: Arc<Frame>) {
        {
            let mut l = self.largest.locked();
            l.0 = l.0.max(frame.data.len());
            l.1 = l.1.max(frame.packets.len());
        }
        let mut frames = self.frames.locked();
        if frames.len() < POOL_MAX {
            frames.push(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_commit_and_the_pool_reuses_free_frames() {
        let pool = FramePool::default();
        let mut f = pool.take();
        let inner = Arc::get_mut(&mut f).unwrap();
        inner.slot(10)[..3].copy_from_slice(b"abc");
        inner.commit(3);
        let _ = inner.slot(10);
        inner.abandon();
        inner.push(b"de");
        assert_eq!(inner.packets().collect::<Vec<_>>(), [&b"abc"[..], b"de"]);
        let held = f.clone();
        let ptr = Arc::as_ptr(&f);
        pool.give(f);
        // Held by a viewer: a new one.
        assert_ne!(Arc::as_ptr(&pool.take()), ptr);
        drop(held);
        let again = pool.take();
        assert_eq!(Arc::as_ptr(&again), ptr);
        assert!(again.is_empty());
    }
}
