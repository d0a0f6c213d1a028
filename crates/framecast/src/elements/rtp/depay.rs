//! The part every depayloader shares (GStreamer's `GstRTPBaseDepayload`):
//! reading an RTP packet out of a buffer, the counters the application
//! reads as properties, stamping the frames that come out, and the element
//! itself, [`Depayloader`], generic over a [`DepayloadFormat`]
//! (`rtph264depay`, `rtpjpegdepay`, `rtpvrawdepay` are its three formats).
//!
//! Nothing the network sends can make a depayloader fail the stream: a
//! buffer that is not an RTP packet, or whose payload does not parse, is
//! counted (`packets-malformed`) and dropped.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use framecast_core::{Buffer, BufferFlags, BufferPool, PoolConfig, ReferenceTimestampMeta};
use framecast_rtp::RtpPacket;

use crate::elements::codec::base::{
    codec_query, ExtraCounters, KeyframeRequests, MAX_EXTRA_COUNTERS,
};
use crate::pipeline::base::counters;
use crate::pipeline::base::Settings;
use crate::pipeline::{
    Caps, Element, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad, PropertySpec,
    PropertyValue, Query, StateChange, StateChangeSuccess,
};

/// The read-only counters of every depayloader.
pub(crate) fn depayloader_properties() -> Vec<PropertySpec> {
    counters! {
        "packets-received" => "RTP packets received",
        "packets-lost" => "Packets missing by sequence number (a jitter buffer upstream reorders)",
        "packets-late" => "Packets older than one already seen (dropped)",
        "packets-malformed" => "Buffers that were not RTP packets of this payload format (dropped)",
        "frames-out" => "Frames (access units) pushed downstream",
        "frames-discarded" => "Frames dropped because a packet of theirs was lost or malformed",
        "stream-restarts" => "Times the sender's stream restarted (a new SSRC, or a sequence number far from \
             the expected one); the frame in progress ended there",
    }
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

/// The [`DepayFigures`] of a `framecast-rtp` depayloader's stats `s`
/// (they share the field names), with `discarded` as the format counts
/// it.
macro_rules! depay_figures {
    ($s:expr, discarded: $discarded:expr) => {
        $crate::elements::rtp::depay::DepayFigures {
            received: $s.packets,
            lost: $s.lost_packets,
            late: $s.late_packets,
            malformed: $s.malformed_packets,
            discarded: $discarded,
            restarts: $s.restarts,
        }
    };
}
pub(crate) use depay_figures;

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

/// What one RTP payload format does on top of [`Depayloader`]: build its
/// depayloader when streaming starts, take sink caps, turn one packet into
/// frames, finish at end of stream and forget the sequence after a flush.
/// Everything else (the chain under the stream lock, buffers that are not
/// RTP, `DISCONT`, the counters, keyframe requests, queries, state
/// changes) is the base's.
pub(crate) trait DepayloadFormat: Sized + Send + 'static {
    /// Names of the format's own read-only counters, in the order
    /// [`DepayloadFormat::extra_figures`] gives them.
    const EXTRA_COUNTERS: &'static [&'static str] = &[];

    /// The format's own writable properties, typed (`()` for none).
    type Settings: Settings;

    /// The format's state for a new stream, with the settings as they are
    /// when streaming starts.
    fn start(element: &Element, settings: &Self::Settings) -> crate::Result<Self>;

    /// Takes new sink caps; the result is the caps event's.
    fn set_caps(&mut self, element: &Element, src: &Pad, caps: &Caps) -> bool;

    /// Upstream marked a discontinuity (`DISCONT`): packets were lost
    /// before this one.
    fn upstream_discont(&mut self);

    /// Depayloads `pkt` (from `buffer`) and pushes the frames it completes
    /// through `out`.
    fn depayload(&mut self, pkt: &RtpPacket<'_>, buf: &Buffer, out: &FrameOut<'_>) -> FlowResult;

    /// End of stream: sends the frame in progress, stamped from `last` (the
    /// last packet taken), if the format delivers unfinished frames.
    fn finish(&mut self, _last: Option<Buffer>, _out: &FrameOut<'_>) -> FlowResult {
        Ok(FlowSuccess::Ok)
    }

    /// After a flush: forgets the frame in progress and the sequence (what
    /// comes next does not continue what came before); counters stay.
    fn reset(&mut self);

    /// Leaving PAUSED: releases what the format holds (pools).
    fn stop(&mut self) {}

    /// The depayloader's counts (buffers that were not RTP are the
    /// base's).
    fn figures(&self) -> DepayFigures;

    /// The values of [`DepayloadFormat::EXTRA_COUNTERS`].
    fn extra_figures(&self) -> [u64; MAX_EXTRA_COUNTERS] {
        [0; MAX_EXTRA_COUNTERS]
    }

    /// Whether a decoder downstream lacks a keyframe to go on from (the
    /// base asks upstream for one, at most every
    /// [`KEYFRAME_REQUEST_INTERVAL`](crate::elements::codec::base::KEYFRAME_REQUEST_INTERVAL)).
    fn keyframe_wanted(&self) -> bool {
        false
    }
}

/// Where a [`DepayloadFormat`] sends the frames of one packet.
pub(crate) struct FrameOut<'a> {
    src: &'a Pad,
    counters: &'a DepayCounters,
}

impl FrameOut<'_> {
    /// Pushes a frame, counted in `frames-out`.
    pub(crate) fn push(&self, frame: Buffer) -> FlowResult {
        self.counters.frames.fetch_add(1, Ordering::Relaxed);
        self.src.push(frame)
    }

    /// Sends new output caps; `NotNegotiated` when downstream refuses them.
    pub(crate) fn push_caps(&self, caps: Caps) -> FlowResult {
        if self.src.push_event(Event::Caps(caps)) {
            Ok(FlowSuccess::Ok)
        } else {
            Err(FlowError::NotNegotiated)
        }
    }
}

/// A stream being depayloaded: the format's state and what the base keeps
/// around it.
struct Stream<F> {
    format: F,
    /// Buffers that were not RTP at all.
    not_rtp: u64,
    /// The last packet taken (a reference, not a copy): the timing and
    /// capture time of a frame finished at end of stream.
    last_packet: Option<Buffer>,
    /// When the last keyframe request went upstream.
    requests: KeyframeRequests,
}

/// A depayloader element: one [`DepayloadFormat`] on the shared machinery
/// (GStreamer's `GstRTPBaseDepayload` subclassing, as a generic).
pub(crate) struct Depayloader<F: DepayloadFormat> {
    settings: Mutex<F::Settings>,
    counters: DepayCounters,
    extra: ExtraCounters,
    requested: AtomicU64,
    stream: Mutex<Option<Stream<F>>>,
}

impl<F: DepayloadFormat> Default for Depayloader<F> {
    fn default() -> Self {
        Depayloader {
            settings: Mutex::default(),
            counters: DepayCounters::default(),
            extra: ExtraCounters::default(),
            requested: AtomicU64::new(0),
            stream: Mutex::new(None),
        }
    }
}

impl<F: DepayloadFormat> Depayloader<F> {
    /// The settings as they stand (what the next stream starts with).
    #[cfg(test)]
    pub(crate) fn settings(&self) -> F::Settings {
        self.settings.locked().clone()
    }

    /// Shows the stream's counts in the properties.
    fn publish(&self, st: &Stream<F>) {
        let outside = DepayFigures {
            received: st.not_rtp,
            malformed: st.not_rtp,
            ..DepayFigures::default()
        };
        self.counters.store(st.format.figures() + outside);
        self.extra.store(st.format.extra_figures());
    }
}

impl<F: DepayloadFormat> ElementImpl for Depayloader<F> {
    /// A property set lands in the typed settings.
    fn property_changed(&self, e: &Element, name: &str, v: &PropertyValue) -> crate::Result<()> {
        self.settings.locked().write(e.name(), name, v)
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        if name == "keyframes-requested" {
            return Some(PropertyValue::UInt(self.requested.load(Ordering::Relaxed)));
        }
        self.extra
            .read(F::EXTRA_COUNTERS, name)
            .or_else(|| self.counters.read(name))
    }

    fn chain(&self, element: &Element, pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        let mut guard = self.stream.locked();
        let Some(st) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        if buffer.flags().contains(BufferFlags::DISCONT) {
            st.format.upstream_discont();
        }
        let out = FrameOut {
            src: &src,
            counters: &self.counters,
        };
        let result = with_packet(&buffer, |p| match p {
            Ok(pkt) => Some(st.format.depayload(&pkt, &buffer, &out)),
            Err(_) => None,
        })?;
        let result = result.unwrap_or_else(|| {
            st.not_rtp += 1;
            Ok(FlowSuccess::Ok)
        });
        st.last_packet = Some(buffer);
        self.publish(st);
        let ask = st.format.keyframe_wanted() && st.requests.due();
        drop(guard);
        if ask && pad.push_event(Event::force_key_unit_upstream(true)) {
            self.requested.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => {
                let Some(src) = element.src_pad() else {
                    return false;
                };
                let mut guard = self.stream.locked();
                let Some(st) = guard.as_mut() else {
                    return false;
                };
                st.format.set_caps(element, &src, &caps)
            }
            Event::Eos => {
                // The last frame may lack its marker: finish it and send it
                // like any other (stamped from the last packet).
                if let Some(src) = element.src_pad() {
                    let mut guard = self.stream.locked();
                    if let Some(st) = guard.as_mut() {
                        let out = FrameOut {
                            src: &src,
                            counters: &self.counters,
                        };
                        let last = st.last_packet.take();
                        if let Err(e) = st.format.finish(last, &out) {
                            element.post_warning(
                                "the last frame could not be sent at end of stream",
                                Some(format!("{e:?}")),
                            );
                        }
                        self.publish(st);
                    }
                }
                element.forward_event(pad, Event::Eos)
            }
            flush @ Event::FlushStop { .. } => {
                // What comes after a flush does not continue what came
                // before it.
                if let Some(st) = self.stream.locked().as_mut() {
                    st.format.reset();
                    st.last_packet = None;
                    self.publish(st);
                }
                element.forward_event(pad, flush)
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        codec_query(element, pad, query)
    }

    fn change_state(
        &self,
        element: &Element,
        change: StateChange,
    ) -> crate::Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.counters.reset();
                self.extra.store(Default::default());
                self.requested.store(0, Ordering::Relaxed);
                let settings = self.settings.locked().clone();
                *self.stream.locked() = Some(Stream {
                    format: F::start(element, &settings)?,
                    not_rtp: 0,
                    last_packet: None,
                    requests: KeyframeRequests::default(),
                });
            }
            StateChange::PausedToReady => {
                let st = self.stream.locked().take();
                if let Some(mut st) = st {
                    st.format.stop();
                }
            }
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
