//! Events: serialized with the data (stream-start, caps, segment, eos) or
//! out of band (flushes, reconfigure).

use framecast_core::ClockTime;

use super::caps::{Caps, Structure, Value};

/// A TIME segment: maps buffer timestamps to running time.
///
/// `running_time(ts) = (ts - start) / rate + base` for `start <= ts <= stop`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Playback rate (1.0 normally).
    pub rate: f64,
    /// First timestamp in the segment.
    pub start: ClockTime,
    /// Last timestamp, if bounded.
    pub stop: Option<ClockTime>,
    /// Stream time of `start`.
    pub time: ClockTime,
    /// Running time already elapsed before this segment.
    pub base: ClockTime,
}

impl Default for Segment {
    fn default() -> Self {
        Segment {
            rate: 1.0,
            start: ClockTime::ZERO,
            stop: None,
            time: ClockTime::ZERO,
            base: ClockTime::ZERO,
        }
    }
}

impl Segment {
    /// The running time of timestamp `ts`, `None` outside the segment.
    pub fn to_running_time(&self, ts: ClockTime) -> Option<ClockTime> {
        if ts < self.start || self.stop.is_some_and(|stop| ts > stop) {
            return None;
        }
        let offset = ts - self.start;
        let scaled = if self.rate == 1.0 || self.rate <= 0.0 {
            offset
        } else {
            ClockTime::from_nseconds((offset.nseconds() as f64 / self.rate) as u64)
        };
        Some(scaled + self.base)
    }
}

/// An event travelling along a pad.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A new stream starts (first event of a stream).
    StreamStart {
        /// Identifies the stream.
        stream_id: String,
    },
    /// The format of the buffers that follow.
    Caps(Caps),
    /// The segment for the buffers that follow.
    Segment(Segment),
    /// No more data. Serialized: it follows the queued buffers.
    Eos,
    /// Drop everything in flight and refuse data until `FlushStop`.
    FlushStart,
    /// Flushing ends.
    FlushStop {
        /// Whether running time restarts at zero.
        reset_time: bool,
    },
    /// Upstream: renegotiate caps and allocation.
    Reconfigure,
    /// Upstream: the pipeline latency to apply.
    Latency(ClockTime),
    /// An application-defined event, serialized with the data.
    Custom(Structure),
    /// An application- or element-defined event travelling upstream, out
    /// of band (GStreamer's `GST_EVENT_CUSTOM_UPSTREAM`): a receiver's
    /// keyframe request ([`Event::force_key_unit_upstream`]) is one.
    CustomUpstream(Structure),
}

/// The structure name of a force-key-unit event (GStreamer's
/// `gst_video_event_new_upstream_force_key_unit`).
pub const FORCE_KEY_UNIT: &str = "GstForceKeyUnit";

/// The structure name of a retransmission request (GStreamer's
/// `GstRTPRetransmissionRequest`, which its `rtpjitterbuffer` sends
/// upstream with `do-retransmission=true`).
pub const RETRANSMISSION_REQUEST: &str = "GstRTPRetransmissionRequest";

impl Event {
    /// Whether the event travels in order with the buffers.
    pub fn is_serialized(&self) -> bool {
        !matches!(
            self,
            Event::FlushStart
                | Event::FlushStop { .. }
                | Event::Reconfigure
                | Event::Latency(_)
                | Event::CustomUpstream(_)
        )
    }

    /// Whether the event travels upstream.
    pub fn is_upstream(&self) -> bool {
        matches!(
            self,
            Event::Reconfigure | Event::Latency(_) | Event::CustomUpstream(_)
        )
    }

    /// An upstream request for a keyframe as soon as possible, with the
    /// headers (SPS/PPS) in front when `all_headers` (GStreamer's
    /// `gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE,
    /// all_headers, 0)`): a receiver that joined mid-stream or lost
    /// packets sends it instead of waiting for the next periodic IDR. The
    /// encoders honour it (rate-limited by `min-force-key-unit-interval`);
    /// other elements pass it on upstream.
    pub fn force_key_unit_upstream(all_headers: bool) -> Event {
        let mut s = Structure::new_unchecked(FORCE_KEY_UNIT);
        s.push_unchecked("all-headers", all_headers.into());
        s.push_unchecked("count", 0i32.into());
        Event::CustomUpstream(s)
    }

    /// Whether this is an upstream force-key-unit request
    /// (`gst_video_event_is_force_key_unit` on an upstream event).
    pub fn is_force_key_unit_upstream(&self) -> bool {
        matches!(self, Event::CustomUpstream(s) if s.has_name(FORCE_KEY_UNIT))
    }

    /// An upstream request to resend the packets `seqnums` of source
    /// `ssrc`: a jitter buffer with `do-retransmission` sends it for a
    /// gap, and `udpsrc` turns it into an RTCP Generic NACK (RFC 4585
    /// §6.2.1) to the sender. One event carries every sequence number due
    /// at once (GStreamer sends one event per packet).
    pub fn retransmission_request(ssrc: u32, seqnums: &[u16]) -> Event {
        let mut s = Structure::new_unchecked(RETRANSMISSION_REQUEST);
        // Bit for bit: caps integers are 32-bit signed.
        s.push_unchecked("ssrc", (ssrc as i32).into());
        s.push_unchecked(
            "seqnums",
            Value::array(seqnums.iter().map(|&n| i32::from(n))),
        );
        Event::CustomUpstream(s)
    }

    /// The source and sequence numbers of a retransmission request.
    pub fn as_retransmission_request(&self) -> Option<(u32, Vec<u16>)> {
        let Event::CustomUpstream(s) = self else {
            return None;
        };
        if !s.has_name(RETRANSMISSION_REQUEST) {
            return None;
        }
        let ssrc = s.get_int("ssrc")? as u32;
        let seqnums = match s.value("seqnums")? {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_int().and_then(|n| u16::try_from(n).ok()))
                .collect(),
            _ => return None,
        };
        Some((ssrc, seqnums))
    }

    /// A short name, for logs and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Event::StreamStart { .. } => "stream-start",
            Event::Caps(_) => "caps",
            Event::Segment(_) => "segment",
            Event::Eos => "eos",
            Event::FlushStart => "flush-start",
            Event::FlushStop { .. } => "flush-stop",
            Event::Reconfigure => "reconfigure",
            Event::Latency(_) => "latency",
            Event::Custom(_) => "custom",
            Event::CustomUpstream(_) => "custom-upstream",
        }
    }
}
