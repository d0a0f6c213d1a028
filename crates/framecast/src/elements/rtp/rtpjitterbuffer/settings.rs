//! `rtpjitterbuffer`'s writable properties, typed (the `Settings`
//! pattern of `pipeline/base/settings.rs`).

use super::*;

/// `rtpjitterbuffer`'s writable properties.
#[derive(Debug, Clone)]
pub(crate) struct JitterBufferSettings {
    /// `latency`: longest wait for a missing packet (may change while
    /// playing).
    pub(super) latency: Duration,
    /// `add-reference-timestamp-meta` (may change while playing).
    pub(super) stamp_ntp: bool,
    /// `do-retransmission`: NACK missing packets.
    pub(super) do_retransmission: bool,
    /// `rtx-payload-type`, `fec-payload-type` (0: none).
    pub(super) rtx_pt: u8,
    pub(super) fec_pt: u8,
    /// `eos-on-bye` (may change while playing).
    pub(super) eos_on_bye: bool,
}

impl Default for JitterBufferSettings {
    fn default() -> Self {
        JitterBufferSettings {
            latency: Duration::from_millis(DEFAULT_LATENCY_MS),
            stamp_ntp: true,
            do_retransmission: false,
            rtx_pt: 0,
            fec_pt: 0,
            eos_on_bye: false,
        }
    }
}

impl Settings for JitterBufferSettings {
    fn properties() -> Vec<PropertySpec> {
        let d = JitterBufferSettings::default();
        let ms = u64::try_from(d.latency.as_millis()).unwrap_or(DEFAULT_LATENCY_MS);
        vec![
            PropertySpec::uint(
                "latency",
                "Longest wait for a missing packet, in ms",
                0..=60_000,
                ms,
            )
            .mutable_in_playing(),
            PropertySpec::bool(
                "add-reference-timestamp-meta",
                "Stamp packets with the sender's NTP capture time (timestamp/x-ntp) once an RTCP \
                 sender report maps RTP time to it",
                d.stamp_ntp,
            )
            .mutable_in_playing(),
            PropertySpec::bool(
                "do-retransmission",
                "Ask the sender to resend missing packets (RTCP Generic NACK through udpsrc), \
                 retried while the latency allows",
                d.do_retransmission,
            ),
            PropertySpec::uint(
                "rtx-payload-type",
                "Payload type of RTX packets (RFC 4588) to take as the resent originals (0: none)",
                0..=127,
                u64::from(d.rtx_pt),
            ),
            PropertySpec::uint(
                "fec-payload-type",
                "Payload type of ULPFEC packets (RFC 5109) to rebuild lost packets from (0: none)",
                0..=127,
                u64::from(d.fec_pt),
            ),
            PropertySpec::bool(
                "eos-on-bye",
                "End the stream when the sender says RTCP BYE (its stream ended)",
                d.eos_on_bye,
            )
            .mutable_in_playing(),
        ]
    }

    fn set(&mut self, name: &str, value: &PropertyValue) -> bool {
        match (name, value) {
            ("latency", PropertyValue::UInt(ms)) => self.latency = Duration::from_millis(*ms),
            ("add-reference-timestamp-meta", PropertyValue::Bool(b)) => self.stamp_ntp = *b,
            ("do-retransmission", PropertyValue::Bool(b)) => self.do_retransmission = *b,
            ("rtx-payload-type" | "fec-payload-type", v) => match integer(v) {
                Some(pt) if name == "rtx-payload-type" => self.rtx_pt = pt,
                Some(pt) => self.fec_pt = pt,
                None => return false,
            },
            ("eos-on-bye", PropertyValue::Bool(b)) => self.eos_on_bye = *b,
            _ => return false,
        }
        true
    }
}
