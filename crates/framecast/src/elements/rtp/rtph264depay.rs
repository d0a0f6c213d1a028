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

use framecast_core::{Buffer, BufferFlags};
use framecast_rtp::h264::{nal_type, nal_unit_type, parse_sprop_parameter_sets, START_CODE};
use framecast_rtp::{H264Depayloader, H264DepayloaderConfig, NalUnits, RtpPacket};

use super::caps::rtp_template;
use super::depay::{
    depay_figures, depayloader_properties, frame_buffer, DepayFigures, DepayloadFormat,
    Depayloader, FrameOut, FramePool,
};
use super::rtph264pay::SINK_CAPS as H264_CAPS;
use crate::elements::codec::base::{Damaged, MAX_EXTRA_COUNTERS};
use crate::pipeline::base::counters;
use crate::pipeline::base::{settings, Settings};
use crate::pipeline::template_caps;
use crate::pipeline::PropertySpec;
use crate::pipeline::{Caps, Element, ElementFactory, FlowResult, FlowSuccess, Pad, PadTemplate};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = depayloader_properties();
    properties.extend(H264Settings::properties());
    properties.extend(counters! {
        "frames-skipped" => "Intact frames dropped while waiting for an IDR after a loss",
        "frames-damaged" => "Frames delivered with packets missing (damaged=conceal), flagged CORRUPTED",
        "keyframes-requested" => "Force-key-unit requests sent upstream",
    });
    ElementFactory::new(
        "rtph264depay",
        "RTP H264 depayloader",
        "Codec/Depayloader/Network/RTP",
        "Extracts H.264 video from RTP packets (RFC 6184)",
        PadTemplate::sink_src(rtp_template("H264"), template_caps(H264_CAPS)),
        properties,
        || Box::new(Depayloader::<H264>::default()),
    )
}

settings! {
    /// `rtph264depay`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct H264Settings {
        /// `damaged`: deliver access units that lost packets, or drop them.
        damaged: Damaged => Damaged::Conceal.property(),
        /// `wait-for-keyframe`: with `damaged=drop`, nothing after a loss
        /// until the next IDR.
        wait_for_keyframe: bool => PropertySpec::bool("wait-for-keyframe", "With damaged=drop: after a loss, drop frames until the next IDR", true),
        /// `request-keyframe`: ask upstream for an IDR while waiting for one.
        request_keyframe: bool => PropertySpec::bool("request-keyframe", "Ask upstream for a keyframe (GstForceKeyUnit) on joining mid-stream or after a \
            loss", true),
    }
}

/// RFC 6184, as a [`DepayloadFormat`].
pub(crate) struct H264 {
    depay: H264Depayloader,
    /// SPS then PPS from `sprop-parameter-sets`, each behind a start code.
    sprop: Vec<u8>,
    caps_sent: bool,
    frames: FramePool,
    /// An IDR has come out: a decoder downstream has a picture to start
    /// from.
    idr_seen: bool,
    /// Output is waiting for an IDR (joined mid-stream, or a loss).
    needs_keyframe: bool,
    /// A damaged access unit went out since the last intact IDR: the
    /// picture is concealed until a keyframe refreshes it.
    damaged_since_idr: bool,
    request_keyframe: bool,
}

impl H264 {
    /// Pushes every access unit the depayloader has completed, stamped
    /// from `packet` (the one that completed them).
    fn push_ready(&mut self, out: &FrameOut<'_>, packet: &Buffer) -> FlowResult {
        let mut result = Ok(FlowSuccess::Ok);
        // One packet completes at most two access units (READY_QUEUE_LEN
        // bounds this loop in any case).
        for _ in 0..framecast_rtp::h264::READY_QUEUE_LEN {
            let (frame, damaged) = {
                let Some(au) = self.depay.pull() else {
                    break;
                };
                // An IDR starts the picture only with its parameter sets
                // (in it, or from the SDP): one whose SPS/PPS packet was
                // lost is still "waiting for a keyframe".
                self.idr_seen |= au.is_idr && (!self.sprop.is_empty() || has_sps(au.data));
                self.needs_keyframe = !self.idr_seen;
                let prepend = au.is_idr && !self.sprop.is_empty() && !has_sps(au.data);
                let sprop: &[u8] = if prepend { &self.sprop } else { &[] };
                let frame = frame_buffer(
                    &mut self.frames,
                    &[sprop, au.data],
                    packet,
                    au.discontinuity,
                    !au.is_idr,
                );
                (frame, au.damaged)
            };
            let mut frame = frame?;
            let is_idr = !frame.flags().contains(BufferFlags::DELTA_UNIT);
            if is_idr && !damaged {
                self.damaged_since_idr = false;
            }
            self.damaged_since_idr |= damaged;
            if damaged {
                if let Some(b) = frame.get_mut() {
                    b.set_flags(BufferFlags::CORRUPTED);
                }
            }
            result = out.push(frame);
            if result.is_err() {
                break;
            }
        }
        result
    }
}

fn has_sps(au: &[u8]) -> bool {
    NalUnits::AnnexB(au)
        .iter()
        .any(|n| nal_unit_type(n[0]) == nal_type::SPS)
}

impl DepayloadFormat for H264 {
    const EXTRA_COUNTERS: &'static [&'static str] = &["frames-skipped", "frames-damaged"];

    type Settings = H264Settings;

    fn start(_element: &Element, settings: &H264Settings) -> Result<Self> {
        Ok(H264 {
            depay: H264Depayloader::new(H264DepayloaderConfig {
                wait_for_idr_after_loss: settings.wait_for_keyframe,
                deliver_damaged: settings.damaged == Damaged::Conceal,
                ..Default::default()
            }),
            sprop: Vec::new(),
            caps_sent: false,
            frames: FramePool::default(),
            idr_seen: false,
            needs_keyframe: false,
            damaged_since_idr: false,
            request_keyframe: settings.request_keyframe,
        })
    }

    fn set_caps(&mut self, _element: &Element, src: &Pad, caps: &Caps) -> bool {
        self.sprop.clear();
        let sets = caps
            .structure(0)
            .and_then(|s| s.get_str("sprop-parameter-sets"))
            .and_then(|v| parse_sprop_parameter_sets(v).ok())
            .unwrap_or_default();
        for set in sets {
            self.sprop.extend_from_slice(&START_CODE);
            self.sprop.extend_from_slice(&set);
        }
        self.caps_sent = src.push_event(crate::pipeline::Event::Caps(template_caps(H264_CAPS)));
        self.caps_sent
    }

    fn upstream_discont(&mut self) {
        self.depay.upstream_discont();
    }

    fn depayload(&mut self, pkt: &RtpPacket<'_>, buf: &Buffer, out: &FrameOut<'_>) -> FlowResult {
        // A payload error is counted by the depayloader, and the access
        // unit it belonged to is discarded there.
        let _ = self.depay.push(pkt);
        if !self.caps_sent {
            out.push_caps(template_caps(H264_CAPS))?;
            self.caps_sent = true;
        }
        self.push_ready(out, buf)
    }

    fn finish(&mut self, last: Option<Buffer>, out: &FrameOut<'_>) -> FlowResult {
        self.depay.flush();
        match last {
            Some(last) => self.push_ready(out, &last),
            None => Ok(FlowSuccess::Ok),
        }
    }

    fn reset(&mut self) {
        self.depay.reset();
    }

    fn figures(&self) -> DepayFigures {
        let s = self.depay.stats();
        depay_figures!(s, discarded: s.discarded_access_units + s.overflowed_access_units)
    }

    fn extra_figures(&self) -> [u64; MAX_EXTRA_COUNTERS] {
        let s = self.depay.stats();
        [s.skipped_waiting_for_idr, s.damaged_access_units]
    }

    fn keyframe_wanted(&self) -> bool {
        // Waiting for an IDR, or showing concealed pictures until one.
        self.request_keyframe
            && (self.needs_keyframe || self.depay.is_waiting_for_idr() || self.damaged_since_idr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{make_element, ElementImpl, PropertyValue};

    /// What the application sets lands in the typed settings the format
    /// starts from; a name the settings do not hold is refused.
    #[test]
    fn properties_set_are_the_settings_the_stream_starts_with() {
        let element = make_element("rtph264depay", None).expect("rtph264depay");
        let imp = Depayloader::<H264>::default();
        let set = |name: &str, value: PropertyValue| imp.property_changed(&element, name, &value);
        set("damaged", PropertyValue::Enum("drop")).expect("damaged");
        set("wait-for-keyframe", PropertyValue::Bool(false)).expect("wait-for-keyframe");
        set("request-keyframe", PropertyValue::Bool(false)).expect("request-keyframe");
        let err = set("no-such-setting", PropertyValue::Bool(true)).unwrap_err();
        assert!(err.to_string().contains("no-such-setting"), "{err}");
        let settings = imp.settings();
        assert_eq!(settings.damaged, Damaged::Drop);
        assert!(!settings.wait_for_keyframe);
        let format = H264::start(&element, &settings).expect("start");
        assert!(!format.request_keyframe);
        // Declared defaults are the struct's defaults.
        let d = H264Settings::default();
        let fresh = make_element("rtph264depay", None).expect("rtph264depay");
        assert_eq!(fresh.prop_enum("damaged"), d.damaged.nick());
        assert_eq!(fresh.prop_bool("wait-for-keyframe"), d.wait_for_keyframe);
        assert_eq!(fresh.prop_bool("request-keyframe"), d.request_keyframe);
    }
}
