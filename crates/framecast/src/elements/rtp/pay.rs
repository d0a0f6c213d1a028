//! The part every payloader shares (GStreamer's `GstRTPBasePayload`): the
//! `mtu`/`pt`/`ssrc`/`seqnum-offset`/`timestamp-offset` properties, the
//! 90 kHz timestamps from running time, and the loop that pulls packets
//! out of a [`PacketSource`] into pooled buffers and pushes them.
//!
//! Each packet is written straight into a buffer of the payloader's pool
//! (`mtu` bytes each): no copy after packetizing and no allocation per
//! packet once the pool is warm. The packet that carries the RTP marker bit
//! (the last of an access unit or frame) also gets
//! [`BufferFlags::MARKER`], which is how `udpsink` knows an access unit is
//! complete and sends its packets in one batch. Every packet keeps the
//! input's PTS, DTS and [`ReferenceTimestampMeta`] (the capture time), so
//! latency tracing sees through the payloader.
//!
//! A frame's capture time and id go on every one of its packets as RTP
//! header extensions (RFC 8285, `abs-capture-time` and framecast's frame id,
//! see [`header_ext`](super::header_ext)): the packetizer writes each packet
//! that many bytes into its slot, and the fixed header moves 12 bytes to the
//! front to make room. The packetizers are given `mtu` less the most the
//! extensions take ([`FrameExtensions::MAX_LEN`], 24 bytes), so a packet
//! never exceeds `mtu` with them.
//!
//! [`Payloader`] is the element itself, generic over a [`PayloadFormat`]
//! (`rtph264pay`, `rtpjpegpay`, `rtpvrawpay` are its three formats).

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use framecast_core::{
    Buffer, BufferFlags, BufferPool, ClockTime, PoolConfig, ReferenceTimestampMeta,
};
use framecast_rtp::{ExtensionIds, FrameExtensions, PacketSource, RtpClock};

use super::caps::random_u32;
use super::header_ext;
use crate::elements::codec::base::codec_query;
use crate::pipeline::base::counters;
use crate::pipeline::base::{integer, Settings, SettingsLock};
use crate::pipeline::{
    Caps, Element, FlowError, FlowResult, FlowSuccess, Pad, PropertySpec, PropertyValue, Query,
};

/// Default `mtu`: GStreamer's, below the 1500-byte Ethernet MTU with room
/// for IP, UDP and tunnel headers.
pub const DEFAULT_MTU: u64 = 1400;

/// Buffers the payloader's pool preallocates: one access unit's worth at
/// small sizes; it grows to the largest burst in flight and stays there.
const POOL_MIN_BUFFERS: u32 = 16;

/// The properties of payloader `F`: the settings every payloader has, the
/// format's own, and the read-only counters.
pub(crate) fn payloader_properties<F: PayloadFormat>() -> Vec<PropertySpec> {
    let mut properties = PaySettings::<F>::properties();
    properties.extend(counters! {
        "seqnum" => "Sequence number of the last packet sent",
        "timestamp" => "RTP timestamp of the last packet sent",
        "packets-sent" => "Packets pushed since the start",
        "frames-dropped" => "Input frames that could not be packetized",
    });
    properties
}

/// A payloader's writable properties: the ones every payloader has, then
/// the format's own (`F::Settings`).
pub(crate) struct PaySettings<F: PayloadFormat> {
    /// `mtu`: largest packet, header included.
    mtu: usize,
    /// `pt`: payload type ([`PayloadFormat::DEFAULT_PT`] by default).
    pt: u8,
    /// `ssrc`, `seqnum-offset`, `timestamp-offset`: -1 = random.
    ssrc: i64,
    seqnum_offset: i64,
    timestamp_offset: i64,
    /// The format's own properties.
    pub(crate) format: F::Settings,
}

impl<F: PayloadFormat> Clone for PaySettings<F> {
    fn clone(&self) -> Self {
        PaySettings {
            mtu: self.mtu,
            pt: self.pt,
            ssrc: self.ssrc,
            seqnum_offset: self.seqnum_offset,
            timestamp_offset: self.timestamp_offset,
            format: self.format.clone(),
        }
    }
}

impl<F: PayloadFormat> Default for PaySettings<F> {
    fn default() -> Self {
        PaySettings {
            mtu: DEFAULT_MTU as usize,
            pt: F::DEFAULT_PT,
            ssrc: -1,
            seqnum_offset: -1,
            timestamp_offset: -1,
            format: F::Settings::default(),
        }
    }
}

impl<F: PayloadFormat> Settings for PaySettings<F> {
    fn properties() -> Vec<PropertySpec> {
        let d = PaySettings::<F>::default();
        let mut properties = vec![
            PropertySpec::uint(
                "mtu",
                "Largest RTP packet in bytes, header included",
                28..=65_507,
                d.mtu as u64,
            ),
            PropertySpec::uint(
                "pt",
                "Payload type (0-127; 96-127 are dynamic)",
                0..=127,
                u64::from(d.pt),
            ),
            PropertySpec::int(
                "ssrc",
                "SSRC of the stream (-1 = random)",
                -1..=i64::from(u32::MAX),
                d.ssrc,
            ),
            PropertySpec::int(
                "seqnum-offset",
                "Sequence number of the first packet (-1 = random)",
                -1..=i64::from(u16::MAX),
                d.seqnum_offset,
            ),
            PropertySpec::int(
                "timestamp-offset",
                "RTP timestamp of running time 0 (-1 = random)",
                -1..=i64::from(u32::MAX),
                d.timestamp_offset,
            ),
        ];
        properties.extend(F::Settings::properties());
        properties
    }

    fn set(&mut self, name: &str, value: &PropertyValue) -> bool {
        match (name, value) {
            ("mtu", v) => match integer(v) {
                Some(n) => self.mtu = n,
                None => return false,
            },
            ("pt", v) => match integer(v) {
                Some(n) => self.pt = n,
                None => return false,
            },
            ("ssrc", PropertyValue::Int(n)) => self.ssrc = *n,
            ("seqnum-offset", PropertyValue::Int(n)) => self.seqnum_offset = *n,
            ("timestamp-offset", PropertyValue::Int(n)) => self.timestamp_offset = *n,
            _ => return self.format.set(name, value),
        }
        true
    }
}

/// The stream identity chosen when streaming starts: properties, with
/// random values where they say -1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PayConfig {
    /// Largest packet the packetizer writes: `mtu` less the room kept for
    /// the header extensions.
    pub mtu: usize,
    /// Largest packet on the wire (the `mtu` property).
    pub wire_mtu: usize,
    /// Payload type.
    pub pt: u8,
    /// SSRC.
    pub ssrc: u32,
    /// First sequence number.
    pub seqnum_offset: u16,
    /// RTP timestamp at running time 0.
    pub timestamp_offset: u32,
}

impl PayConfig {
    /// The identity `settings` ask for, drawing the random ones.
    pub(crate) fn from_settings<F: PayloadFormat>(settings: &PaySettings<F>) -> PayConfig {
        let random_if_neg = |v: i64| match v {
            v if v >= 0 => u32::try_from(v).unwrap_or_else(|_| random_u32()),
            _ => random_u32(),
        };
        // Small MTUs (tests of fragmenting) keep every byte for payload.
        let room = if settings.mtu >= 256 {
            FrameExtensions::MAX_LEN
        } else {
            0
        };
        PayConfig {
            mtu: settings.mtu - room,
            wire_mtu: settings.mtu,
            pt: settings.pt.min(127),
            ssrc: random_if_neg(settings.ssrc),
            seqnum_offset: random_if_neg(settings.seqnum_offset) as u16,
            timestamp_offset: random_if_neg(settings.timestamp_offset),
        }
    }

    /// The 90 kHz media clock starting at the timestamp offset.
    pub(crate) fn clock(&self) -> RtpClock {
        RtpClock::video(self.timestamp_offset)
    }
}

/// What the packets of one input buffer inherit from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputStamp {
    pts: Option<ClockTime>,
    dts: Option<ClockTime>,
    discont: bool,
    capture: Option<ReferenceTimestampMeta>,
    /// What the packets' header extensions say.
    ext: FrameExtensions,
}

impl InputStamp {
    /// The stamp of `buffer`.
    pub(crate) fn of(buffer: &Buffer) -> InputStamp {
        InputStamp {
            pts: buffer.pts(),
            dts: buffer.dts(),
            discont: buffer.flags().contains(BufferFlags::DISCONT),
            capture: buffer.meta::<ReferenceTimestampMeta>().copied(),
            ext: FrameExtensions::default(),
        }
    }
}

/// Shared payloader state: the packet pool and the counters the
/// application may read while streaming (atomics, so that reading a
/// property never waits for a push).
#[derive(Debug, Default)]
pub(crate) struct PayBase {
    pool: Mutex<Option<BufferPool>>,
    last_seqnum: AtomicU32,
    last_timestamp: AtomicU32,
    packets: AtomicU64,
    dropped: AtomicU64,
    /// Last RTP timestamp, for buffers without a PTS.
    last_rtp: Mutex<Option<u32>>,
}

impl PayBase {
    /// Makes and activates the packet pool for `mtu`-byte packets, owned
    /// by `element` (leak reports nest it there).
    pub(crate) fn start(&self, element: &Element, mtu: usize) -> crate::Result<()> {
        let pool = BufferPool::new();
        pool.set_config(PoolConfig::new(mtu, POOL_MIN_BUFFERS, 0))?;
        pool.set_active(true)?;
        framecast_core::trace::object_linked(pool.id(), element.id());
        let old = self.pool.locked().replace(pool);
        if let Some(old) = old {
            let _ = old.set_active(false);
        }
        Ok(())
    }

    /// Deactivates the pool (waking a push blocked on it) and resets the
    /// counters.
    pub(crate) fn stop(&self) {
        let pool = self.pool.locked().take();
        if let Some(pool) = pool {
            let _ = pool.set_active(false);
        }
        *self.last_rtp.locked() = None;
    }

    /// Counts an input frame that could not be packetized.
    pub(crate) fn count_dropped(&self) -> u64 {
        self.dropped.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The read-only properties.
    pub(crate) fn read_property(&self, name: &str) -> Option<PropertyValue> {
        Some(PropertyValue::UInt(match name {
            "seqnum" => u64::from(self.last_seqnum.load(Ordering::Relaxed)),
            "timestamp" => u64::from(self.last_timestamp.load(Ordering::Relaxed)),
            "packets-sent" => self.packets.load(Ordering::Relaxed),
            "frames-dropped" => self.dropped.load(Ordering::Relaxed),
            _ => return None,
        }))
    }

    /// The RTP timestamp of `buffer` on `pad`: its PTS as running time in
    /// the pad's segment, on `clock` (RFC 3550 §5.1: the sampling instant;
    /// framecast's sources stamp the capture time). A buffer without a PTS
    /// (or outside the segment) gets the previous timestamp, as
    /// GStreamer's payloaders do.
    pub(crate) fn rtp_timestamp(&self, pad: &Pad, buffer: &Buffer, clock: &RtpClock) -> u32 {
        let mut last = self.last_rtp.locked();
        let rt = buffer
            .pts()
            .and_then(|pts| pad.segment().to_running_time(pts));
        let ts = match (rt, *last) {
            (Some(rt), _) => clock.to_rtp(Duration::from(rt)),
            (None, Some(prev)) => prev,
            (None, None) => clock.to_rtp(Duration::ZERO),
        };
        *last = Some(ts);
        ts
    }

    /// Pulls every packet out of `packets` into pooled buffers and pushes
    /// them on `src`, stamped from `input`.
    ///
    /// A packetizer error mid-frame drops the rest of the frame (counted in
    /// `frames-dropped`, a warning on the bus the first time): the packets
    /// already sent lack their marker, which a receiver treats as a loss.
    pub(crate) fn push_packets<P: PacketSource>(
        &self,
        element: &Element,
        src: &Pad,
        packets: &mut P,
        input: &InputStamp,
        cfg: &PayConfig,
    ) -> FlowResult {
        // Room for the extensions only when they fit in what was kept.
        let ids = ExtensionIds::FRAMECAST;
        let room = Some(input.ext.len(ids)).filter(|&r| r <= cfg.wire_mtu - cfg.mtu);
        let Some(pool) = self.pool.locked().clone() else {
            return Err(FlowError::Flushing);
        };
        let mut first = true;
        loop {
            let mut out = pool.acquire().map_err(FlowError::from_acquire)?;
            let Some(b) = out.get_mut() else {
                return Err(FlowError::Error);
            };
            let written = {
                let mut map = b.map_writable().map_err(|_| FlowError::Error)?;
                let slot = map.as_mut_slice();
                let n = slot.len().min(cfg.wire_mtu);
                let at = room.unwrap_or(0);
                match packets.next_into(&mut slot[at..n]) {
                    Ok(Some(mut meta)) if at > 0 => input
                        .ext
                        .insert(ids, &mut slot[..n], at, meta.len)
                        .map(|len| {
                            meta.len = len;
                            Some(meta)
                        }),
                    other => other,
                }
            };
            let meta = match written {
                Ok(Some(meta)) => meta,
                Ok(None) => return Ok(FlowSuccess::Ok),
                Err(e) => {
                    if self.count_dropped() == 1 {
                        element.post_warning(
                            "could not packetize a frame; dropping it",
                            Some(e.to_string()),
                        );
                    }
                    return Ok(FlowSuccess::Ok);
                }
            };
            b.set_size(meta.len).map_err(|_| FlowError::Error)?;
            b.set_pts(input.pts);
            b.set_dts(input.dts);
            if meta.marker {
                b.set_flags(BufferFlags::MARKER);
            }
            if first && input.discont {
                b.set_flags(BufferFlags::DISCONT);
            }
            if let Some(capture) = input.capture {
                b.add_meta(capture);
            }
            first = false;
            self.last_seqnum
                .store(u32::from(meta.sequence_number), Ordering::Relaxed);
            self.last_timestamp.store(meta.timestamp, Ordering::Relaxed);
            self.packets.fetch_add(1, Ordering::Relaxed);
            src.push(out)?;
        }
    }
}

/// Adds the fields every payloader's output caps carry to `caps`' first
/// structure: `payload`, and `a-framerate` when the input has a framerate.
pub(crate) fn finish_src_caps(mut caps: Caps, pt: u8, input: Option<&Caps>) -> Caps {
    let fps = input
        .and_then(|c| c.structure(0))
        .and_then(|s| s.get_fraction("framerate"))
        .filter(|f| f.num > 0 && f.den > 0);
    if let Some(s) = caps.structure_mut(0) {
        let _ = s.set("payload", i32::from(pt));
        if let Some(f) = fps {
            let text = if f.den == 1 {
                f.num.to_string()
            } else {
                format!("{:.6}", f64::from(f.num) / f64::from(f.den))
                    .trim_end_matches('0')
                    .to_string()
            };
            let _ = s.set("a-framerate", text);
        }
    }
    caps
}

/// What one RTP payload format does on top of [`Payloader`]: build its
/// packetizer when streaming starts, turn input caps into packet caps, and
/// packetize one input buffer. Everything else (properties, timestamps,
/// the packet pool, caps events, state changes, queries) is shared.
pub(crate) trait PayloadFormat: Sized + Send + 'static {
    /// `pt`'s default.
    const DEFAULT_PT: u8;

    /// The format's own writable properties (`()`: none).
    type Settings: Settings;

    /// The format's state for a stream with identity `cfg`, with its
    /// settings as they were when streaming started.
    fn start(element: &Element, cfg: &PayConfig, settings: &Self::Settings) -> crate::Result<Self>;

    /// Caps of the packets before any input caps arrived (`None`: wait
    /// for them).
    fn initial_caps(&self, cfg: &PayConfig) -> Option<Caps>;

    /// Takes new input caps; returns the caps of the packets.
    fn set_caps(&mut self, element: &Element, cfg: &PayConfig, caps: &Caps) -> crate::Result<Caps>;

    /// Packetizes `buffer` (RTP timestamp `ts`) and pushes the packets
    /// through `out`.
    fn payload(&mut self, buffer: &Buffer, ts: u32, out: &mut PacketOut<'_>) -> FlowResult;
}

/// Where a [`PayloadFormat`] sends the packets of one input buffer.
pub(crate) struct PacketOut<'a> {
    base: &'a PayBase,
    element: &'a Element,
    src: &'a Pad,
    input: InputStamp,
    /// The stream identity.
    pub cfg: &'a PayConfig,
    caps: &'a mut Option<Caps>,
    caps_sent: &'a mut bool,
}

impl PacketOut<'_> {
    /// The element (for messages).
    pub(crate) fn element(&self) -> &Element {
        self.element
    }

    /// New caps for the packets (e.g. H.264 parameter sets changed): sent
    /// before the next packet.
    pub(crate) fn set_caps(&mut self, caps: Caps) {
        *self.caps = Some(caps);
        *self.caps_sent = false;
    }

    /// Sends the caps if they are not sent yet, then every packet of
    /// `packets`.
    pub(crate) fn push<P: PacketSource>(&mut self, packets: &mut P) -> FlowResult {
        if !*self.caps_sent {
            let Some(caps) = self.caps.clone() else {
                return Err(FlowError::NotNegotiated);
            };
            if !self.src.push_event(crate::pipeline::Event::Caps(caps)) {
                return Err(FlowError::NotNegotiated);
            }
            *self.caps_sent = true;
        }
        self.base
            .push_packets(self.element, self.src, packets, &self.input, self.cfg)
    }

    /// Drops an input frame the format cannot carry: counted in
    /// `frames-dropped`, a warning on the bus the first time.
    pub(crate) fn drop_frame(&self, what: &str, why: impl std::fmt::Display) -> FlowResult {
        if self.base.count_dropped() == 1 {
            self.element.post_warning(what, Some(why.to_string()));
        }
        Ok(FlowSuccess::Ok)
    }
}

/// A stream being payloaded: identity, media clock, format state, and the
/// packet caps.
struct Stream<F> {
    cfg: PayConfig,
    clock: RtpClock,
    format: F,
    caps: Option<Caps>,
    caps_sent: bool,
}

/// A payloader element: one [`PayloadFormat`] on the shared machinery
/// (GStreamer's `GstRTPBasePayload` subclassing, as a generic).
pub(crate) struct Payloader<F: PayloadFormat> {
    settings: SettingsLock<PaySettings<F>>,
    base: PayBase,
    stream: Mutex<Option<Stream<F>>>,
}

impl<F: PayloadFormat> Default for Payloader<F> {
    fn default() -> Self {
        Payloader {
            settings: SettingsLock::default(),
            base: PayBase::default(),
            stream: Mutex::new(None),
        }
    }
}

impl<F: PayloadFormat> Payloader<F> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stream<F>>> {
        self.stream.locked()
    }

    fn start(&self, element: &Element) -> crate::Result<()> {
        let settings = self.settings.get();
        let cfg = PayConfig::from_settings(&settings);
        let format = F::start(element, &cfg, &settings.format)?;
        self.base.start(element, cfg.wire_mtu)?;
        *self.lock() = Some(Stream {
            clock: cfg.clock(),
            caps: format.initial_caps(&cfg),
            cfg,
            format,
            caps_sent: false,
        });
        Ok(())
    }
}

impl<F: PayloadFormat> crate::pipeline::ElementImpl for Payloader<F> {
    fn property_changed(
        &self,
        element: &Element,
        name: &str,
        value: &PropertyValue,
    ) -> crate::Result<()> {
        self.settings.write(element, name, value)
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.base.read_property(name)
    }

    fn chain(&self, element: &Element, pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        let mut guard = self.lock();
        let Some(st) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        let ts = self.base.rtp_timestamp(pad, &buffer, &st.clock);
        let mut out = PacketOut {
            base: &self.base,
            element,
            src: &src,
            input: InputStamp {
                ext: header_ext::extensions_of(&buffer, element.context().map(|c| c.clock.time())),
                ..InputStamp::of(&buffer)
            },
            cfg: &st.cfg,
            caps: &mut st.caps,
            caps_sent: &mut st.caps_sent,
        };
        st.format.payload(&buffer, ts, &mut out)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: crate::pipeline::Event) -> bool {
        let crate::pipeline::Event::Caps(caps) = event else {
            return element.forward_event(pad, event);
        };
        let mut guard = self.lock();
        let Some(st) = guard.as_mut() else {
            return false;
        };
        let out = match st.format.set_caps(element, &st.cfg, &caps) {
            Ok(out) => out,
            Err(e) => {
                element.post_error(format!("cannot payload {caps}"), Some(e.to_string()));
                return false;
            }
        };
        let Some(src) = element.src_pad() else {
            return false;
        };
        st.caps = Some(out.clone());
        st.caps_sent = src.push_event(crate::pipeline::Event::Caps(out));
        st.caps_sent
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        codec_query(element, pad, query)
    }

    fn change_state(
        &self,
        element: &Element,
        change: crate::pipeline::StateChange,
    ) -> crate::Result<crate::pipeline::StateChangeSuccess> {
        match change {
            crate::pipeline::StateChange::ReadyToPaused => self.start(element)?,
            crate::pipeline::StateChange::PausedToReady => {
                self.base.stop();
                *self.lock() = None;
            }
            _ => {}
        }
        Ok(crate::pipeline::StateChangeSuccess::Success)
    }
}
