//! One access unit's RTP packets, written once and shared by every viewer.
//!
//! The fan-out hands an `Arc<Frame>` to each TCP viewer's queue and sends
//! UDP straight from it, so the stream is packetized once however many
//! watch. Frames come from a pool ([`FramePool`]) and go back to it when
//! the last viewer has written them: once warm, a frame costs no heap
//! allocation.
//!
//! The packets lie back to back in one buffer, and a frame also keeps
//! them as *runs*: consecutive packets of one size (the last of a run may
//! be shorter), as an H.264 payloader cuts a NAL unit into full FU-A
//! packets and a short last one. A run is what UDP generic segmentation
//! offload sends in one go (`UDP_SEGMENT`: one send, the kernel cuts the
//! datagrams), so a UDP viewer costs a few sends a frame instead of one
//! per packet.

use framecast_core::sync::MutexExt;
use std::sync::{Arc, Mutex};

/// Most packets in one [`Run`]: what Linux's UDP GSO takes in one send
/// (`UDP_MAX_SEGMENTS`, 64 before Linux 6.2).
pub const RUN_MAX_PACKETS: usize = 64;

/// Most bytes in one [`Run`]: one UDP datagram's limit (65 507 bytes of
/// payload over IPv4), with room to spare.
pub const RUN_MAX_BYTES: usize = 65_000;

/// Consecutive packets of one frame, `segment` bytes each but the last,
/// which may be shorter: `bytes` cut every `segment` bytes gives them
/// back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run<'a> {
    /// The packets, back to back.
    pub bytes: &'a [u8],
    /// Every packet's size but the last's.
    pub segment: usize,
}

impl<'a> Run<'a> {
    /// The packets.
    pub fn packets(self) -> std::slice::Chunks<'a, u8> {
        self.bytes.chunks(self.segment.max(1))
    }
}

/// Packets of one access unit, back to back, with their extents.
#[derive(Debug, Default)]
pub struct Frame {
    data: Vec<u8>,
    packets: Vec<(usize, usize)>,
    /// (offset, bytes, segment, packets) of each run.
    runs: Vec<(usize, usize, usize, usize)>,
    open: Option<usize>,
    keyframe: bool,
}

impl Frame {
    /// Forgets the packets, keeping the memory.
    pub fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
        self.runs.clear();
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
            self.keep(off, len);
        }
    }

    /// Notes the packet at `off`: the end of the last run when it is as
    /// long as the run's others (or shorter, closing it), else a new run.
    fn keep(&mut self, off: usize, len: usize) {
        self.packets.push((off, len));
        if let Some(run) = self.runs.last_mut() {
            let (start, bytes, segment, count) = *run;
            // Open: every packet so far is `segment` long, and this one
            // starts where they end.
            let open = bytes == segment * count && start + bytes == off;
            if open && len <= segment && count < RUN_MAX_PACKETS && bytes + len <= RUN_MAX_BYTES {
                *run = (start, bytes + len, segment, count + 1);
                return;
            }
        }
        self.runs.push((off, len, len, 1));
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
        self.keep(off, packet.len());
    }

    /// The packets, in order.
    pub fn packets(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.packets.iter().map(|&(o, l)| &self.data[o..o + l])
    }

    /// The packets as runs of one size (see the module's doc), in order.
    pub fn runs(&self) -> impl ExactSizeIterator<Item = Run<'_>> + '_ {
        self.runs.iter().map(|&(o, l, segment, _)| Run {
            bytes: &self.data[o..o + l],
            segment,
        })
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
                inner.runs.reserve(packets);
                return f;
            }
        }
        Arc::new(Frame::default())
    }

    /// Grows the pool to `n` frames (free or held), the new ones empty
    /// and sized as the largest so far (64 KiB before any): done when a
    /// TCP viewer sets up, for what all TCP queues may hold, so the pool
    /// need not grow while frames flow. A target, not an increment:
    /// viewers that come and go leave the pool as it was.
    pub fn warm(&self, n: usize) {
        let (bytes, packets) = *self.largest.locked();
        let bytes = if bytes == 0 {
            64 * 1024
        } else {
            bytes + bytes / 4 + 2048
        };
        let mut frames = self.frames.locked();
        for _ in frames.len()..n.min(POOL_MAX) {
            frames.push(Arc::new(Frame {
                data: Vec::with_capacity(bytes),
                packets: Vec::with_capacity(packets.max(64)),
                runs: Vec::with_capacity(packets.max(64)),
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
        // "de" is shorter than "abc" and follows it: one run.
        assert_eq!(inner.runs().len(), 1);
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

    /// Warming is to a size: viewers setting up again and again (and
    /// leaving) do not grow the pool.
    #[test]
    fn warming_grows_the_pool_to_a_size_not_by_one() {
        let pool = FramePool::default();
        pool.warm(5);
        pool.warm(5);
        pool.warm(3);
        assert_eq!(pool.frames.locked().len(), 5);
        pool.warm(POOL_MAX + 10);
        assert_eq!(pool.frames.locked().len(), POOL_MAX);
    }

    /// Runs cut where a packet is longer than the run's, after a short
    /// one, and at the GSO limits; their packets are the frame's.
    #[test]
    fn runs_group_packets_of_one_size() {
        let mut f = Frame::default();
        let sizes = [20, 30, 30, 30, 12, 30, 5, 5, 40];
        for (i, &n) in sizes.iter().enumerate() {
            f.slot(64)[..n].fill(i as u8);
            f.commit(n);
        }
        let runs: Vec<(usize, usize)> = f.runs().map(|r| (r.bytes.len(), r.segment)).collect();
        // [20] [30 30 30 12] [30 5] [5] [40]
        assert_eq!(runs, [(20, 20), (102, 30), (35, 30), (5, 5), (40, 40)]);
        let again: Vec<&[u8]> = f.runs().flat_map(|r| r.packets()).collect();
        assert_eq!(again, f.packets().collect::<Vec<_>>());
        // A long NAL unit's FU-As: full runs of RUN_MAX_PACKETS.
        f.clear();
        for _ in 0..RUN_MAX_PACKETS + 3 {
            f.push(&[7; 100]);
        }
        let counts: Vec<usize> = f.runs().map(|r| r.packets().len()).collect();
        assert_eq!(counts, [RUN_MAX_PACKETS, 3]);
        f.clear();
        for _ in 0..60 {
            f.push(&[7; 1400]);
        }
        assert!(f.runs().all(|r| r.bytes.len() <= RUN_MAX_BYTES));
        assert_eq!(f.runs().map(|r| r.packets().len()).sum::<usize>(), 60);
    }
}
