//! [`ReferenceTimestampMeta`]: a timestamp in another clock's time.

use super::{Meta, MetaTransform};
use crate::{BufferRef, ClockTime};

/// A timestamp against a reference clock (`GstReferenceTimestampMeta`):
/// the capture time of a frame, an NTP or PTP time. framecast stamps the
/// capture time here so latency can be measured downstream.
///
/// `reference` names the clock, in GStreamer's caps form
/// (`"timestamp/x-framecast-capture"`, `"timestamp/x-ntp"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceTimestampMeta {
    /// Which clock the timestamp is in.
    pub reference: &'static str,
    /// The time.
    pub timestamp: ClockTime,
    /// The duration, if known.
    pub duration: Option<ClockTime>,
}

impl ReferenceTimestampMeta {
    /// Reference name of framecast's capture clock (monotonic, nanoseconds).
    pub const CAPTURE: &'static str = "timestamp/x-framecast-capture";

    /// Reference name of NTP wall-clock time (nanoseconds since
    /// 1900-01-01, as GStreamer's `rtpjitterbuffer` stamps it from the
    /// sender's RTCP reports): when the sender captured the frame.
    pub const NTP: &'static str = "timestamp/x-ntp";

    /// A capture timestamp.
    pub fn capture(timestamp: ClockTime) -> Self {
        ReferenceTimestampMeta {
            reference: Self::CAPTURE,
            timestamp,
            duration: None,
        }
    }

    /// An NTP timestamp (nanoseconds since 1900).
    pub fn ntp(timestamp: ClockTime) -> Self {
        ReferenceTimestampMeta {
            reference: Self::NTP,
            timestamp,
            duration: None,
        }
    }

    /// The timestamp of `buffer` against `reference`, if it has one.
    pub fn find(buffer: &BufferRef, reference: &str) -> Option<ClockTime> {
        buffer
            .metas::<Self>()
            .find(|m| m.reference == reference)
            .map(|m| m.timestamp)
    }

    /// Copies every reference timestamp of `from` (capture time, the
    /// sender's NTP time, ...) onto `to`: what an element that makes a new
    /// buffer out of an old one (an encoder, a decoder, a depayloader)
    /// carries across, so latency stays measurable end to end.
    pub fn copy_all(from: &BufferRef, to: &mut BufferRef) {
        for m in from.metas::<Self>() {
            to.add_meta(*m);
        }
    }
}

impl Meta for ReferenceTimestampMeta {
    const API: &'static str = "GstReferenceTimestampMetaAPI";

    /// Carried on every copy, regions included: a timestamp does not depend
    /// on the bytes.
    fn transform(&self, transform: &MetaTransform) -> Option<Self> {
        matches!(transform, MetaTransform::Copy { .. }).then_some(*self)
    }
}
