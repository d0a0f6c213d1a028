//! `rtph264depay`: RTP packets (RFC 6184, packetization-mode 1) back into
//! H.264 access units, Annex B with 4-byte start codes
//! (`video/x-h264,stream-format=byte-stream,alignment=au`), through
//! [`framecast_rtp::H264Depayloader`].
//!
//! Packets must come in order (put `rtpjitterbuffer` before it on a
//! network that reorders). What happens to an access unit that lost a
//! packet is the `damaged` property:
//!
//! - `conceal` (the default, for live viewing): it goes on with what
//!   arrived (whole NAL units, and the fragments of a split one up to the
//!   loss), flagged `CORRUPTED`, and the decoder conceals the rest
//!   (`frames-damaged` counts them). At a few percent loss nearly every
//!   frame still shows, as with FFmpeg; dropping them would freeze the
//!   picture until the next keyframe, and at 5 % loss almost no keyframe
//!   of 50 packets arrives whole.
//! - `drop`: it is dropped, never delivered half-built; with
//!   `wait-for-keyframe` (the default, unlike GStreamer's) nothing is
//!   delivered after it until the next IDR, so a decoder never shows the
//!   smeared pictures that predict from a frame it did not get.
//!
//! The next frame out after a loss carries `DISCONT`; frames a decoder
//! cannot start at carry `DELTA_UNIT`.
//!
//! When the sink caps carry `sprop-parameter-sets` (from an SDP), SPS and
//! PPS are put in front of every IDR access unit that lacks them, so a
//! stream whose sender sends them only out of band still decodes.
//!
//! With `request-keyframe` (the default; GStreamer's is off) a receiver
//! that joins a stream between IDRs (its first access unit is not one),
//! waits for an IDR after a loss, or shows concealed pictures after one
//! (`damaged=conceal`) sends an upstream force-key-unit event,
//! at most once a second while the wait lasts: `udpsrc` turns it into an
//! RTCP PLI to the sender, whose encoder sends an IDR at once, so the
//! first picture comes in a round trip instead of up to a GOP later.
//!
//! Counters (read-only properties): `packets-received`, `packets-lost`,
//! `packets-late`, `packets-malformed`, `frames-out`, `frames-discarded`,
//! `stream-restarts`, `frames-skipped` (intact frames dropped while
//! waiting for an IDR), `frames-damaged` (delivered with packets missing),
//! `keyframes-requested`.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use framecast_core::{Buffer, BufferFlags};
use framecast_rtp::h264::{nal_type, nal_unit_type, parse_sprop_parameter_sets, START_CODE};
use framecast_rtp::{H264Depayloader, H264DepayloaderConfig, NalUnits};

use super::caps::rtp_template;
use super::depay::{
    depayloader_properties, frame_buffer, with_packet, DepayCounters, DepayFigures, FramePool,
};
use super::rtph264pay::SINK_CAPS as H264_CAPS;
use crate::elements::codec::base::{codec_query, damaged_property};
use crate::pipeline::template_caps;
use crate::pipeline::PropertySpec;
use crate::pipeline::{
    Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertyValue, Query, StateChange, StateChangeSuccess,
};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = depayloader_properties();
    properties.extend([
        damaged_property(),
        PropertySpec::bool(
            "wait-for-keyframe",
            "With damaged=drop: after a loss, drop frames until the next IDR",
            true,
        ),
        PropertySpec::bool(
            "request-keyframe",
            "Ask upstream for a keyframe (GstForceKeyUnit) on joining mid-stream or after a loss",
            true,
        ),
        PropertySpec::counter(
            "frames-skipped",
            "Intact frames dropped while waiting for an IDR after a loss",
        ),
        PropertySpec::counter(
            "frames-damaged",
            "Frames delivered with packets missing (damaged=conceal), flagged CORRUPTED",
        ),
        PropertySpec::counter(
            "keyframes-requested",
            "Force-key-unit requests sent upstream",
        ),
    ]);
    ElementFactory::new(
        "rtph264depay",
        "RTP H264 depayloader",
        "Codec/Depayloader/Network/RTP",
        "Extracts H.264 video from RTP packets (RFC 6184)",
        vec![
            PadTemplate::always("sink", PadDirection::Sink, rtp_template("H264")),
            PadTemplate::always("src", PadDirection::Src, template_caps(H264_CAPS)),
        ],
        properties,
        || Box::new(RtpH264Depay::default()),
    )
}

struct Stream {
    depay: H264Depayloader,
    /// SPS then PPS from `sprop-parameter-sets`, each behind a start code.
    sprop: Vec<u8>,
    caps_sent: bool,
    /// Buffers that were not RTP at all.
    not_rtp: u64,
    frames: FramePool,
    /// The last packet taken (a reference, not a copy): the timing and
    /// capture time of an access unit finished at end of stream.
    last_packet: Option<Buffer>,
    /// An IDR has come out: a decoder downstream has a picture to start
    /// from.
    idr_seen: bool,
    /// Output is waiting for an IDR (joined mid-stream, or a loss).
    needs_keyframe: bool,
    /// A damaged access unit went out since the last intact IDR: the
    /// picture is concealed until a keyframe refreshes it.
    damaged_since_idr: bool,
    /// When the last keyframe request went upstream.
    requested_at: Option<std::time::Instant>,
    request_keyframe: bool,
}

/// Least time between two keyframe requests while the wait lasts (a PLI
/// may be lost on the way).
const KEYFRAME_REQUEST_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The `rtph264depay` element.
#[derive(Default)]
pub struct RtpH264Depay {
    counters: DepayCounters,
    skipped: AtomicU64,
    damaged: AtomicU64,
    requested: AtomicU64,
    stream: Mutex<Option<Stream>>,
}

impl RtpH264Depay {
    /// Pushes every access unit the depayloader has completed, stamped
    /// from `packet` (the one that completed them).
    fn push_ready(&self, st: &mut Stream, src: &Pad, packet: &Buffer) -> FlowResult {
        let mut result = Ok(FlowSuccess::Ok);
        // One packet completes at most two access units (READY_QUEUE_LEN
        // bounds this loop in any case).
        for _ in 0..framecast_rtp::h264::READY_QUEUE_LEN {
            let out = {
                let Some(au) = st.depay.pull() else {
                    break;
                };
                // An IDR starts the picture only with its parameter sets
                // (in it, or from the SDP): one whose SPS/PPS packet was
                // lost is still "waiting for a keyframe".
                st.idr_seen |= au.is_idr && (!st.sprop.is_empty() || has_sps(au.data));
                st.needs_keyframe = !st.idr_seen;
                let prepend = au.is_idr && !st.sprop.is_empty() && !has_sps(au.data);
                let sprop: &[u8] = if prepend { &st.sprop } else { &[] };
                let out = frame_buffer(
                    &mut st.frames,
                    &[sprop, au.data],
                    packet,
                    au.discontinuity,
                    !au.is_idr,
                );
                (out, au.damaged)
            };
            let (out, damaged) = out;
            let mut out = out?;
            let is_idr = !out.flags().contains(BufferFlags::DELTA_UNIT);
            if is_idr && !damaged {
                st.damaged_since_idr = false;
            }
            st.damaged_since_idr |= damaged;
            if damaged {
                if let Some(b) = out.get_mut() {
                    b.set_flags(BufferFlags::CORRUPTED);
                }
            }
            self.counters.frames.fetch_add(1, Ordering::Relaxed);
            result = src.push(out);
            if result.is_err() {
                break;
            }
        }
        self.publish(st);
        result
    }

    /// Whether to ask upstream for a keyframe now: output waits for an
    /// IDR (none yet, or one lost) and no request went in the last
    /// [`KEYFRAME_REQUEST_INTERVAL`].
    fn keyframe_request_due(&self, st: &mut Stream) -> bool {
        // Waiting for an IDR, or showing concealed pictures until one.
        let waiting = st.needs_keyframe || st.depay.is_waiting_for_idr() || st.damaged_since_idr;
        if !st.request_keyframe || !waiting {
            return false;
        }
        let now = std::time::Instant::now();
        if st
            .requested_at
            .is_some_and(|t| now.duration_since(t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return false;
        }
        st.requested_at = Some(now);
        true
    }

    fn publish(&self, st: &Stream) {
        let s = st.depay.stats();
        self.counters.store(DepayFigures {
            received: s.packets + st.not_rtp,
            lost: s.lost_packets,
            late: s.late_packets,
            malformed: s.malformed_packets + st.not_rtp,
            discarded: s.discarded_access_units + s.overflowed_access_units,
            restarts: s.restarts,
        });
        self.skipped
            .store(s.skipped_waiting_for_idr, Ordering::Relaxed);
        self.damaged
            .store(s.damaged_access_units, Ordering::Relaxed);
    }
}

fn has_sps(au: &[u8]) -> bool {
    NalUnits::AnnexB(au)
        .iter()
        .any(|n| nal_unit_type(n[0]) == nal_type::SPS)
}

impl ElementImpl for RtpH264Depay {
    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        match name {
            "frames-skipped" => Some(PropertyValue::UInt(self.skipped.load(Ordering::Relaxed))),
            "frames-damaged" => Some(PropertyValue::UInt(self.damaged.load(Ordering::Relaxed))),
            "keyframes-requested" => {
                Some(PropertyValue::UInt(self.requested.load(Ordering::Relaxed)))
            }
            _ => self.counters.read(name),
        }
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
            st.depay.upstream_discont();
        }
        let is_rtp = with_packet(&buffer, |p| match p {
            Ok(pkt) => {
                // A payload error is counted by the depayloader, and the
                // access unit it belonged to is discarded there.
                let _ = st.depay.push(&pkt);
                true
            }
            Err(_) => false,
        })?;
        if !is_rtp {
            st.not_rtp += 1;
        }
        if !st.caps_sent {
            if !src.push_event(Event::Caps(template_caps(H264_CAPS))) {
                return Err(FlowError::NotNegotiated);
            }
            st.caps_sent = true;
        }
        let result = self.push_ready(st, &src, &buffer);
        st.last_packet = Some(buffer);
        let ask = self.keyframe_request_due(st);
        drop(guard);
        if ask && pad.push_event(Event::force_key_unit_upstream(true)) {
            self.requested.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => {
                let mut guard = self.stream.locked();
                let Some(st) = guard.as_mut() else {
                    return false;
                };
                st.sprop.clear();
                let sets = caps
                    .structure(0)
                    .and_then(|s| s.get_str("sprop-parameter-sets"))
                    .and_then(|v| parse_sprop_parameter_sets(v).ok())
                    .unwrap_or_default();
                for set in sets {
                    st.sprop.extend_from_slice(&START_CODE);
                    st.sprop.extend_from_slice(&set);
                }
                let Some(src) = element.src_pad() else {
                    return false;
                };
                st.caps_sent = src.push_event(Event::Caps(template_caps(H264_CAPS)));
                st.caps_sent
            }
            Event::Eos => {
                // The last access unit may lack its marker: finish it and
                // send it like any other (stamped from the last packet).
                if let Some(src) = element.src_pad() {
                    let mut guard = self.stream.locked();
                    if let Some(st) = guard.as_mut() {
                        st.depay.flush();
                        if let Some(last) = st.last_packet.take() {
                            if let Err(e) = self.push_ready(st, &src, &last) {
                                element.post_warning(
                                    "the last access unit could not be sent at end of stream",
                                    Some(format!("{e:?}")),
                                );
                            }
                        }
                    }
                }
                element.forward_event(pad, Event::Eos)
            }
            flush @ Event::FlushStop { .. } => {
                // What comes after a flush does not continue what came
                // before it.
                let mut guard = self.stream.locked();
                if let Some(st) = guard.as_mut() {
                    st.depay.reset();
                    st.last_packet = None;
                }
                drop(guard);
                element.forward_event(pad, flush)
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        codec_query(element, pad, query)
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.counters.reset();
                self.skipped.store(0, Ordering::Relaxed);
                self.damaged.store(0, Ordering::Relaxed);
                self.requested.store(0, Ordering::Relaxed);
                let wait = element.prop_bool("wait-for-keyframe");
                let conceal = element.prop("damaged").as_str() != Some("drop");
                *self.stream.locked() = Some(Stream {
                    depay: H264Depayloader::new(H264DepayloaderConfig {
                        wait_for_idr_after_loss: wait,
                        deliver_damaged: conceal,
                        ..Default::default()
                    }),
                    sprop: Vec::new(),
                    caps_sent: false,
                    not_rtp: 0,
                    frames: FramePool::default(),
                    last_packet: None,
                    idr_seen: false,
                    needs_keyframe: false,
                    damaged_since_idr: false,
                    requested_at: None,
                    request_keyframe: element.prop_bool("request-keyframe"),
                });
            }
            StateChange::PausedToReady => {
                *self.stream.locked() = None;
            }
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
