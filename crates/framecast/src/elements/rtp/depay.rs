//! The part every depayloader shares (GStreamer's `GstRTPBaseDepayload`):
//! reading an RTP packet out of a buffer, the counters the application
//! reads as properties, and stamping the frames that come out.
//!
//! Nothing the network sends can make a depayloader fail the stream: a
//! buffer that is not an RTP packet, or whose payload does not parse, is
//! counted (`packets-malformed`) and dropped.

use std::sync::atomic::{AtomicU64, Ordering};

use framecast_core::{Buffer, BufferFlags, BufferPool, PoolConfig, ReferenceTimestampMeta};
use framecast_rtp::RtpPacket;

use crate::pipeline::{FlowError, PropertySpec, PropertyValue};

/// The read-only counters of every depayloader.
pub(crate) fn depayloader_properties() -> Vec<PropertySpec> {
    vec![
        PropertySpec::counter("packets-received", "RTP packets received"),
        PropertySpec::counter(
            "packets-lost",
            "Packets missing by sequence number (a jitter buffer upstream reorders)",
        ),
        PropertySpec::counter(
            "packets-late",
            "Packets older than one already seen (dropped)",
        ),
        PropertySpec::counter(
            "packets-malformed",
            "Buffers that were not RTP packets of this payload format (dropped)",
        ),
        PropertySpec::counter("frames-out", "Frames (access units) pushed downstream"),
        PropertySpec::counter(
            "frames-discarded",
            "Frames dropped because a packet of theirs was lost or malformed",
        ),
        PropertySpec::counter(
            "stream-restarts",
            "Times the sender's stream restarted (a new SSRC, or a sequence number far from \
             the expected one); the frame in progress ended there",
        ),
    ]
}

/// What a depayloader counted, as the properties show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DepayFigures {
    /// Packets handed to the depayloader (and buffers that were not RTP).
    pub received: u64,
    pub lost: u64,
    pub late: u64,
    /// Payloads that did not parse, and buffers that were not RTP.
    pub malformed: u64,
    pub discarded: u64,
    pub restarts: u64,
}

impl std::ops::Add for DepayFigures {
    type Output = DepayFigures;

    fn add(self, o: DepayFigures) -> DepayFigures {
        DepayFigures {
            received: self.received + o.received,
            lost: self.lost + o.lost,
            late: self.late + o.late,
            malformed: self.malformed + o.malformed,
            discarded: self.discarded + o.discarded,
            restarts: self.restarts + o.restarts,
        }
    }
}

/// The counters, as atomics so that reading one never waits for a push.
#[derive(Debug, Default)]
pub(crate) struct DepayCounters {
    /// Packets handed to the depayloader.
    pub received: AtomicU64,
    /// Lost by sequence number.
    pub lost: AtomicU64,
    /// Late or duplicated.
    pub late: AtomicU64,
    /// Not RTP, or a payload that did not parse.
    pub malformed: AtomicU64,
    /// Frames pushed.
    pub frames: AtomicU64,
    /// Frames dropped as damaged.
    pub discarded: AtomicU64,
    /// Streams restarted.
    pub restarts: AtomicU64,
}

impl DepayCounters {
    /// Sets the counters the depayloader keeps itself (all but
    /// `frames-out`).
    pub(crate) fn store(&self, f: DepayFigures) {
        self.received.store(f.received, Ordering::Relaxed);
        self.lost.store(f.lost, Ordering::Relaxed);
        self.late.store(f.late, Ordering::Relaxed);
        self.malformed.store(f.malformed, Ordering::Relaxed);
        self.discarded.store(f.discarded, Ordering::Relaxed);
        self.restarts.store(f.restarts, Ordering::Relaxed);
    }

    /// Zeroes every counter (a new run).
    pub(crate) fn reset(&self) {
        self.store(DepayFigures::default());
        self.frames.store(0, Ordering::Relaxed);
    }

    /// The property named `name`.
    pub(crate) fn read(&self, name: &str) -> Option<PropertyValue> {
        let c = match name {
            "packets-received" => &self.received,
            "packets-lost" => &self.lost,
            "packets-late" => &self.late,
            "packets-malformed" => &self.malformed,
            "frames-out" => &self.frames,
            "frames-discarded" => &self.discarded,
            "stream-restarts" => &self.restarts,
            _ => return None,
        };
        Some(PropertyValue::UInt(c.load(Ordering::Relaxed)))
    }
}

/// Runs `f` on the RTP packet in `buffer`, or on the parse error. Only a
/// buffer that cannot be mapped is a flow error.
pub(crate) fn with_packet<R>(
    buffer: &Buffer,
    f: impl FnOnce(std::result::Result<RtpPacket<'_>, framecast_rtp::Error>) -> R,
) -> std::result::Result<R, FlowError> {
    let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
    let data = map.contiguous();
    Ok(f(RtpPacket::parse(&data)))
}

/// Pooled buffers for whole frames of varying size: one pool whose
/// buffers are as large as the largest frame so far (rounded up to a power
/// of two); a larger frame replaces it with a pool of larger buffers. Once
/// the largest frame (an IDR) has been seen, depayloading allocates
/// nothing.
#[derive(Default)]
pub(crate) struct FramePool(Option<(BufferPool, usize)>);

impl FramePool {
    /// Smallest buffer the pool makes.
    const MIN_SIZE: usize = 16 * 1024;

    /// A buffer of exactly `len` bytes.
    fn acquire(&mut self, len: usize) -> std::result::Result<Buffer, FlowError> {
        if self.0.as_ref().is_none_or(|(_, size)| *size < len) {
            let size = len.max(Self::MIN_SIZE).next_power_of_two();
            let pool = BufferPool::new();
            pool.set_config(PoolConfig::new(size, 2, 0))
                .and_then(|()| pool.set_active(true))
                .map_err(|_| FlowError::Error)?;
            if let Some((old, _)) = self.0.replace((pool, size)) {
                // Buffers still out go back to it and are freed.
                let _ = old.set_active(false);
            }
        }
        let Some((pool, _)) = &self.0 else {
            return Err(FlowError::Error);
        };
        let mut out = pool.acquire().map_err(|_| FlowError::Error)?;
        out.get_mut()
            .ok_or(FlowError::Error)?
            .set_size(len)
            .map_err(|_| FlowError::Error)?;
        Ok(out)
    }
}

impl Drop for FramePool {
    fn drop(&mut self) {
        if let Some((pool, _)) = self.0.take() {
            let _ = pool.set_active(false);
        }
    }
}

/// A frame buffer from `pool` holding `parts` one after another, stamped
/// from the packet `last` that completed it: its PTS (arrival running
/// time, or whatever upstream set), its capture meta, `discont` and, for
/// frames a decoder cannot start at, `DELTA_UNIT`.
pub(crate) fn frame_buffer(
    pool: &mut FramePool,
    parts: &[&[u8]],
    last: &Buffer,
    discont: bool,
    delta: bool,
) -> std::result::Result<Buffer, FlowError> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut out = pool.acquire(len)?;
    let Some(b) = out.get_mut() else {
        return Err(FlowError::Error);
    };
    {
        let mut map = b.map_writable().map_err(|_| FlowError::Error)?;
        let mut pos = 0;
        for p in parts {
            map.as_mut_slice()[pos..pos + p.len()].copy_from_slice(p);
            pos += p.len();
        }
    }
    stamp(b, last, discont, delta);
    Ok(out)
}

/// Stamps a frame from the packet that completed it.
pub(crate) fn stamp(b: &mut framecast_core::BufferRef, last: &Buffer, discont: bool, delta: bool) {
    b.set_pts(last.pts());
    b.set_dts(None);
    if discont {
        b.set_flags(BufferFlags::DISCONT);
    }
    if delta {
        b.set_flags(BufferFlags::DELTA_UNIT);
    }
    ReferenceTimestampMeta::copy_all(last, b);
}
