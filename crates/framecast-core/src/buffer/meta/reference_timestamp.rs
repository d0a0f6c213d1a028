//! [`ReferenceTimestampMeta`]: a timestamp in another clock's time.

use super::{Meta, MetaTransform};
use crate::ClockTime;

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

    /// A capture timestamp.
    pub fn capture(timestamp: ClockTime) -> Self {
        ReferenceTimestampMeta {
            reference: Self::CAPTURE,
            timestamp,
            duration: None,
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
