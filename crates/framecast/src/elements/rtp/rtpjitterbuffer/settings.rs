//! `rtpjitterbuffer`'s writable properties, typed (the `Settings`
//! pattern of `pipeline/base/settings.rs`).

use super::*;
use crate::pipeline::base::settings;

settings! {
    /// `rtpjitterbuffer`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct JitterBufferSettings {
        /// `latency`: longest wait for a missing packet (may change while
        /// playing).
        pub(super) latency: Duration as Duration::from_millis => PropertySpec::uint("latency", "Longest wait for a missing packet, in ms", 0..=60_000, DEFAULT_LATENCY_MS).mutable_in_playing(),
        /// `add-reference-timestamp-meta` (may change while playing).
        pub(super) stamp_ntp: bool => PropertySpec::bool("add-reference-timestamp-meta", "Stamp packets with the sender's NTP capture time (timestamp/x-ntp) once an RTCP \
            sender report maps RTP time to it", true).mutable_in_playing(),
        /// `do-retransmission`: NACK missing packets.
        pub(super) do_retransmission: bool => PropertySpec::bool("do-retransmission", "Ask the sender to resend missing packets (RTCP Generic NACK through udpsrc), \
            retried while the latency allows", false),
        /// `rtx-payload-type`, `fec-payload-type` (0: none).
        pub(super) rtx_pt: u8 => PropertySpec::uint("rtx-payload-type", "Payload type of RTX packets (RFC 4588) to take as the resent originals (0: none)", 0..=127, 0),
        pub(super) fec_pt: u8 => PropertySpec::uint("fec-payload-type", "Payload type of ULPFEC packets (RFC 5109) to rebuild lost packets from (0: none)", 0..=127, 0),
        /// `eos-on-bye` (may change while playing).
        pub(super) eos_on_bye: bool => PropertySpec::bool("eos-on-bye", "End the stream when the sender says RTCP BYE (its stream ended)", false).mutable_in_playing(),
    }
}
