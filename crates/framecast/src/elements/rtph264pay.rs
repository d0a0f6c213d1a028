//! `rtph264pay`: H.264 access units (Annex B byte stream) into RTP
//! packets (RFC 6184, packetization-mode 1), through
//! [`framecast_rtp::H264Payloader`].
//!
//! Single NAL units, STAP-A for the parameter sets, FU-A above `mtu`, the
//! marker bit (and [`BufferFlags::MARKER`](framecast_core::BufferFlags))
//! on the last packet of each access unit. Defaults differ from GStreamer
//! where GStreamer's cost latency or a decodable stream (see
//! `gstreamer-semantics.md` §1.8):
//!
//! | property | framecast | GStreamer | why |
//! |---|---|---|---|
//! | `config-interval` | -1 (SPS/PPS before every IDR) | 0 (only in the SDP) | a receiver without the SDP, or one that joins late, decodes from the next IDR |
//! | `aggregate-mode` | `parameter-sets` (SPS+PPS in one STAP-A) | `none` | one packet fewer per IDR, no latency cost |
//!
//! Once SPS and PPS have been seen, the output caps carry
//! `sprop-parameter-sets` and `profile-level-id`, which `udpsink
//! sdp-file=` writes into the SDP.

use std::sync::Mutex;

use framecast_core::Buffer;
use framecast_rtp::h264::{nal_type, nal_unit_type, profile_level_id, sprop_parameter_sets};
use framecast_rtp::{
    Aggregation, ConfigInterval, H264Payloader, H264PayloaderConfig, NalUnits, RtpClock,
};

use super::net::pay::{
    codec_query, finish_src_caps, payloader_properties, InputStamp, PayBase, PayConfig,
};
use super::net::{prop_int, rtp_template};
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertySpec, PropertyType, PropertyValue, Query, StateChange,
    StateChangeSuccess,
};
use crate::{Error, Result};

const AGGREGATE: &[(&str, &str)] = &[
    ("none", "One NAL unit per packet"),
    (
        "zero-latency",
        "Aggregate NAL units up to the first slice of the access unit",
    ),
    (
        "max",
        "As zero-latency (framecast never holds NAL units back)",
    ),
    (
        "parameter-sets",
        "SPS and PPS share one STAP-A packet (framecast's default)",
    ),
];

/// Sink template: whole access units in Annex B.
pub const SINK_CAPS: &str = "video/x-h264,stream-format=byte-stream,alignment=au";

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = payloader_properties(96);
    properties.extend([
        prop_int(
            "config-interval",
            "Send SPS/PPS in band: -1 = before every IDR, 0 = never (SDP only), N = every N s",
            -1,
            3600,
            -1,
            false,
        ),
        PropertySpec {
            name: "aggregate-mode",
            blurb: "Which NAL units share a STAP-A packet",
            kind: PropertyType::Enum {
                values: AGGREGATE,
                default: "parameter-sets",
            },
            mutable_in_playing: false,
        },
    ]);
    ElementFactory::new(
        "rtph264pay",
        "RTP H264 payloader",
        "Codec/Payloader/Network/RTP",
        "Payload-encodes H.264 video into RTP packets (RFC 6184)",
        vec![
            PadTemplate::always(
                "sink",
                PadDirection::Sink,
                SINK_CAPS.parse().unwrap_or_else(|_| Caps::new_any()),
            ),
            PadTemplate::always("src", PadDirection::Src, rtp_template("H264")),
        ],
        properties,
        || Box::new(RtpH264Pay::default()),
    )
}

struct Stream {
    cfg: PayConfig,
    clock: RtpClock,
    pay: H264Payloader,
    input_caps: Option<Caps>,
    /// The SPS and PPS the output caps announce.
    advertised: Option<(Vec<u8>, Vec<u8>)>,
    caps_sent: bool,
}

impl Stream {
    fn src_caps(&self) -> Caps {
        let mut caps = rtp_template("H264");
        if let Some(s) = caps.structure_mut(0) {
            let _ = s.set("packetization-mode", "1");
            if let Some((sps, pps)) = &self.advertised {
                if let Some(pli) = profile_level_id(sps) {
                    let _ = s.set("profile-level-id", pli);
                }
                let _ = s.set("sprop-parameter-sets", sprop_parameter_sets(&[sps, pps]));
            }
        }
        finish_src_caps(caps, self.cfg.pt, self.input_caps.as_ref())
    }
}

/// The `rtph264pay` element.
#[derive(Default)]
pub struct RtpH264Pay {
    base: PayBase,
    stream: Mutex<Option<Stream>>,
}

impl RtpH264Pay {
    fn start(&self, element: &Element) -> Result<()> {
        let cfg = PayConfig::from_element(element);
        let aggregation = match element.prop("aggregate-mode").as_str() {
            Some("none") => Aggregation::None,
            Some("zero-latency") | Some("max") => Aggregation::ZeroLatency,
            _ => Aggregation::ParameterSets,
        };
        let interval = element.prop("config-interval").as_i64().unwrap_or(-1);
        let pay = H264Payloader::new(H264PayloaderConfig {
            mtu: cfg.mtu,
            payload_type: cfg.pt,
            ssrc: cfg.ssrc,
            initial_sequence_number: cfg.seqnum_offset,
            config_interval: ConfigInterval::from_gst(i32::try_from(interval).unwrap_or(-1)),
            aggregation,
            strip_aud: true,
        })
        .map_err(|e| Error::Element {
            element: element.name().to_string(),
            message: e.to_string(),
        })?;
        self.base.start(cfg.mtu)?;
        *self.stream.lock().unwrap_or_else(|e| e.into_inner()) = Some(Stream {
            clock: cfg.clock(),
            cfg,
            pay,
            input_caps: None,
            advertised: None,
            caps_sent: false,
        });
        Ok(())
    }
}

/// The first SPS and PPS of an access unit.
fn parameter_sets(data: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let (mut sps, mut pps) = (None, None);
    for nal in NalUnits::AnnexB(data).iter() {
        match nal_unit_type(nal[0]) {
            nal_type::SPS if sps.is_none() => sps = Some(nal),
            nal_type::PPS if pps.is_none() => pps = Some(nal),
            _ => {}
        }
    }
    (sps, pps)
}

impl ElementImpl for RtpH264Pay {
    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.base.read_property(name)
    }

    fn chain(&self, element: &Element, pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        let input = InputStamp::of(&buffer);
        let map = buffer.map_readable().map_err(|_| FlowError::Error)?;
        let data = map.contiguous();
        let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        let Some(st) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        if let (Some(sps), Some(pps)) = parameter_sets(&data) {
            let changed = st
                .advertised
                .as_ref()
                .is_none_or(|(s, p)| s[..] != *sps || p[..] != *pps);
            if changed {
                st.advertised = Some((sps.to_vec(), pps.to_vec()));
                st.caps_sent = false;
            }
        }
        if !st.caps_sent {
            if !src.push_event(Event::Caps(st.src_caps())) {
                return Err(FlowError::NotNegotiated);
            }
            st.caps_sent = true;
        }
        let ts = self.base.rtp_timestamp(pad, &buffer, &st.clock);
        let mtu = st.cfg.mtu;
        match st.pay.packetize(NalUnits::AnnexB(&data), ts) {
            Ok(mut packets) => self
                .base
                .push_packets(element, &src, &mut packets, &input, mtu),
            Err(e) => {
                if self.base.count_dropped() == 1 {
                    element.post_warning(
                        "dropping a buffer that holds no H.264 NAL unit",
                        Some(e.to_string()),
                    );
                }
                Ok(FlowSuccess::Ok)
            }
        }
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => {
                let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
                let Some(st) = guard.as_mut() else {
                    return false;
                };
                st.input_caps = Some(caps);
                let Some(src) = element.src_pad() else {
                    return false;
                };
                st.caps_sent = src.push_event(Event::Caps(st.src_caps()));
                st.caps_sent
            }
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        codec_query(element, pad, query)
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => self.start(element)?,
            StateChange::PausedToReady => {
                self.base.stop();
                *self.stream.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
