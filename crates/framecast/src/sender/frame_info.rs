//! [`FrameInfo`]: a frame's capture time and id, stamped as metas for the
//! header extensions to carry.

use std::time::SystemTime;

use framecast_core::{Buffer, ClockTime, ReferenceTimestampMeta};
use framecast_rtp::rtcp::NtpTimestamp;

use crate::elements::rtp::header_ext::frame_id_meta;
use crate::pipeline::SystemClock;

/// What a program knows of a frame beyond its pixels, for
/// [`Sender::push_info`]: carried to the receiver in RTP header extensions
/// (`abs-capture-time` and framecast's frame id, on every packet) and
/// handed out there ([`ReceivedFrame`](crate::receiver::ReceivedFrame)'s
/// `capture_time()` and `frame_id()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// When the frame was captured, on this machine's wall clock (a
    /// camera's timestamp); `None`: now, as the frame is pushed. The RTP
    /// timestamp stays the push time on the pipeline clock.
    pub capture_time: Option<SystemTime>,
    /// The program's id of the frame (a frame counter, a camera's
    /// sequence number); `None`: none is sent.
    pub frame_id: Option<u64>,
}

impl FrameInfo {
    /// Stamps `frame` with the capture time (on the pipeline clock, for
    /// the sender's latency, and as given on the wall clock) and the id.
    pub(super) fn stamp(&self, frame: &mut Buffer) {
        if self.capture_time.is_none() && self.frame_id.is_none() {
            // appsrc stamps the capture time now, as for any frame.
            return;
        }
        let b = frame.make_mut();
        let now = SystemClock.time();
        let captured = match self.capture_time {
            Some(t) => {
                let age = SystemTime::now().duration_since(t).unwrap_or_default();
                now.saturating_sub(ClockTime::from(age))
            }
            None => now,
        };
        // The pipeline-clock capture time first: latency tracing takes the
        // first reference timestamp.
        b.add_meta(ReferenceTimestampMeta::capture(captured));
        if let Some(t) = self.capture_time {
            let ntp = NtpTimestamp::from_system_time(t).as_nanos();
            b.add_meta(ReferenceTimestampMeta::ntp(ClockTime::from_nseconds(ntp)));
        }
        if let Some(id) = self.frame_id {
            b.add_meta(frame_id_meta(id));
        }
    }
}
