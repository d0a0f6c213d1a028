//! What a [`Receiver`](super::Receiver) counts, and what its stream's end
//! says.

use std::time::Duration;

/// Counters of a [`Receiver`](super::Receiver), from its jitter buffer and depayloader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverStats {
    /// RTP packets the depayloader received.
    pub packets: u64,
    /// Packets the jitter buffer declared lost (not there when their wait
    /// ran out).
    pub lost: u64,
    /// Packets that came after their slot was given up or pushed.
    pub late: u64,
    /// Packets of another source, or far outside the window: dropped
    /// without moving it.
    pub stray: u64,
    /// Frames delivered to the decoder with packets missing (concealed).
    pub frames_damaged: u64,
    /// Pictures the decoder output with missing data filled in.
    pub frames_concealed: u64,
    /// Access units the decoder rejected (each counted and warned about;
    /// the stream goes on).
    pub decode_errors: u64,
    /// Warnings the pipeline posted ([`Receiver::take_warnings`](super::Receiver::take_warnings)).
    pub warnings: u64,
    /// Times the stream went 5 s (`openh264dec`'s `UNDECODABLE_AFTER`)
    /// with packets but no picture: a stream this receiver cannot decode.
    /// Reported, not fatal; an application that wants to give up reads it.
    pub undecodable: u64,
    /// Frames the depayloader dropped as damaged (a packet of them lost).
    pub frames_discarded: u64,
    /// Times the sender's stream restarted (a new SSRC or sequence).
    pub stream_restarts: u64,
    /// Decoded frames dropped unpulled, with
    /// [`drop_old_frames`](super::ReceiverBuilder::drop_old_frames).
    pub dropped: u64,
    /// Interarrival jitter (RFC 3550 §6.4.1), the latest estimate.
    pub jitter: Duration,
    /// The sender said RTCP BYE: its stream ended.
    pub bye: bool,
    /// From the first RTP packet to the latest (zero before any).
    pub streamed: Duration,
    /// Since the latest RTP packet, when this was read (`None` before
    /// any).
    pub silent_for: Option<Duration>,
}

impl ReceiverStats {
    /// Packets silent this long, with no BYE, mean the sender is gone: two
    /// RTCP intervals of a framecast sender (it reports every second while
    /// it sends) and 60 frame times at 30 fps. A stream slower than one
    /// frame in 2 s looks stopped between its frames.
    pub const STOPPED_AFTER: Duration = Duration::from_secs(2);

    /// How long the stream ran (first to latest packet) when its packets
    /// stopped without the sender's BYE, [`STOPPED_AFTER`](Self::STOPPED_AFTER)
    /// or more ago: the sender vanished instead of ending it. `None` for a
    /// stream that ended with BYE, one still arriving, and no stream.
    pub fn stopped_without_bye(&self) -> Option<Duration> {
        let silent = self.silent_for?;
        (!self.bye && silent >= Self::STOPPED_AFTER).then_some(self.streamed)
    }
}
