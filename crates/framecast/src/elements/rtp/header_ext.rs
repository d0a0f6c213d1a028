//! A frame's capture time and id between the pipeline and the wire: the
//! metas a payloader writes into RTP header extensions (RFC 8285, see
//! [`framecast_rtp::header_ext`]), and the metas a jitter buffer stamps
//! back from them.
//!
//! In the pipeline both travel as `GstReferenceTimestampMeta`s, so every
//! element that carries reference timestamps (converters, encoders,
//! decoders, payloaders, depayloaders) carries them unchanged:
//!
//! - the capture time as `timestamp/x-ntp` (the sender's wall clock, as
//!   GStreamer's `rtpjitterbuffer` stamps it from RTCP), or as framecast's
//!   `timestamp/x-framecast-capture` on the pipeline clock, which the
//!   payloader turns into wall-clock time;
//! - the frame id as [`FRAME_ID`], whose "timestamp" is the id: a clock
//!   that counts frames, not nanoseconds.
//!
//! On the wire: `abs-capture-time` and framecast's frame id on every packet
//! of the frame, with the IDs the SDP announces (`a=extmap`, as
//! [`advertise_header_extensions`] writes them; in caps `extmap-<id>`
//! fields, as GStreamer keeps them).

use framecast_core::{Buffer, BufferRef, ClockTime, ReferenceTimestampMeta};
use framecast_rtp::header_ext::{ABS_CAPTURE_TIME_URI, FRAME_ID_URI};
use framecast_rtp::jitter::PacketInfo;
use framecast_rtp::rtcp::NtpTimestamp;
use framecast_rtp::sdp::SessionDescription;
use framecast_rtp::{ExtensionIds, FrameExtensions, RtpPacket};

use crate::pipeline::Caps;

/// Reference of the frame id meta: a `ReferenceTimestampMeta` whose
/// timestamp is the program's id of the frame.
pub const FRAME_ID: &str = "timestamp/x-framecast-frame-id";

/// The meta carrying frame id `id`.
pub fn frame_id_meta(id: u64) -> ReferenceTimestampMeta {
    ReferenceTimestampMeta {
        reference: FRAME_ID,
        timestamp: ClockTime::from_nseconds(id),
        duration: None,
    }
}

/// The frame id of `buffer`, if it has one.
pub fn frame_id(buffer: &BufferRef) -> Option<u64> {
    ReferenceTimestampMeta::find(buffer, FRAME_ID).map(ClockTime::nseconds)
}

/// What a payloader sends for `buffer`: its capture time on the wall clock
/// (its `timestamp/x-ntp`, or its pipeline-clock capture time moved to the
/// wall clock with `clock_now`, the pipeline clock's time now) and its
/// frame id.
pub(crate) fn extensions_of(buffer: &BufferRef, clock_now: Option<ClockTime>) -> FrameExtensions {
    let capture_time = ReferenceTimestampMeta::find(buffer, ReferenceTimestampMeta::NTP)
        .map(|t| NtpTimestamp::from_nanos(t.nseconds()))
        .or_else(|| {
            let captured = ReferenceTimestampMeta::find(buffer, ReferenceTimestampMeta::CAPTURE)?;
            let age = clock_now?.nseconds().saturating_sub(captured.nseconds());
            let now = NtpTimestamp::now().as_nanos();
            Some(NtpTimestamp::from_nanos(now.saturating_sub(age)))
        });
    FrameExtensions {
        capture_time,
        frame_id: frame_id(buffer),
    }
}

/// Announces framecast's two header extensions in the first medium of
/// `sdp` (`a=extmap:1 …abs-capture-time`, `a=extmap:2 …frame-id`).
pub fn advertise_header_extensions(sdp: &mut SessionDescription) {
    let Some(m) = sdp.media.first_mut() else {
        return;
    };
    let ids = ExtensionIds::FRAMECAST;
    for (id, uri) in [
        (ids.abs_capture_time, ABS_CAPTURE_TIME_URI),
        (ids.frame_id, FRAME_ID_URI),
    ] {
        m.attributes
            .push(("extmap".into(), Some(format!("{id} {uri}"))));
    }
}

/// The `(id, uri)` of an `a=extmap` value (`<id>[/<direction>] <uri>
/// [<attributes>]`, RFC 8285 §5), if it is one.
pub(crate) fn parse_extmap(value: &str) -> Option<(u8, &str)> {
    let mut words = value.split_whitespace();
    let id = words.next()?.split('/').next()?.parse().ok()?;
    Some((id, words.next()?))
}

/// The caps fields of framecast's extensions (`,extmap-1=(string)…`), for
/// a receiver told no SDP but expecting a framecast sender.
pub(crate) fn framecast_extmap_fields() -> String {
    let ids = ExtensionIds::FRAMECAST;
    format!(
        ",extmap-{}=(string){ABS_CAPTURE_TIME_URI},extmap-{}=(string){FRAME_ID_URI}",
        ids.abs_capture_time, ids.frame_id
    )
}

/// The IDs `caps` give the two extensions (`extmap-<id>` fields).
pub(crate) fn ids_of_caps(caps: &Caps) -> ExtensionIds {
    let Some(s) = caps.structure(0) else {
        return ExtensionIds::default();
    };
    ExtensionIds::from_extmap(s.fields().filter_map(|(name, _)| {
        let id = name.strip_prefix("extmap-")?.parse().ok()?;
        Some((id, s.get_str(name)?))
    }))
}

/// Stamps packets with the capture time and frame id their header
/// extension carries, as a jitter buffer lets them out (in order).
///
/// A packet of a frame that arrives without them (a retransmission, which
/// carries no extension, or a packet FEC rebuilt) gets the frame's from
/// another packet of the same frame (same SSRC and RTP timestamp), so the
/// depayloader, which stamps a frame from its last packet, finds them.
#[derive(Debug, Default)]
pub(crate) struct ExtensionStamper {
    /// The IDs agreed (caps); empty: nothing is read.
    pub ids: ExtensionIds,
    /// The last frame's: SSRC, RTP timestamp, what its packets said.
    last: Option<(u32, u32, FrameExtensions)>,
}

impl ExtensionStamper {
    /// What `packet` says (or its frame's other packets said); stamps
    /// nothing itself. `None` when nothing is known.
    pub(crate) fn frame_extensions(
        &mut self,
        packet: &[u8],
        info: &PacketInfo,
    ) -> Option<FrameExtensions> {
        if self.ids.is_empty() {
            return None;
        }
        // An extension that does not parse is treated as absent (the
        // frame's other packets may carry it); the jitter buffer counted
        // a packet that is not RTP at all already (`num-invalid`).
        let read = match RtpPacket::parse(packet).map(|p| FrameExtensions::read(&p, self.ids)) {
            Ok(Ok(ext)) => ext,
            _ => FrameExtensions::default(),
        };
        let same_frame =
            |&(ssrc, ts, _): &(u32, u32, FrameExtensions)| ssrc == info.ssrc && ts == info.rtp_ts;
        if read.is_empty() {
            return self.last.filter(same_frame).map(|(_, _, ext)| ext);
        }
        self.last = Some((info.ssrc, info.rtp_ts, read));
        Some(read)
    }

    /// Stamps `buffer` (packet `info`) with its frame's id, and with its
    /// capture time when `capture` (`add-reference-timestamp-meta`);
    /// returns whether a capture time was stamped. Allocates nothing: the
    /// metas are stored in the buffer.
    pub(crate) fn stamp_packet(
        &mut self,
        buffer: &mut Buffer,
        info: &PacketInfo,
        capture: bool,
    ) -> bool {
        if self.ids.is_empty() {
            return false;
        }
        let ext = match buffer.map_readable() {
            Ok(map) => self.frame_extensions(&map.contiguous(), info),
            Err(_) => None,
        };
        let Some(mut ext) = ext else {
            return false;
        };
        if !capture {
            ext.capture_time = None;
        }
        stamp(buffer.make_mut(), &ext)
    }

    /// Forgets the frame (a flush).
    pub(crate) fn reset(&mut self) {
        self.last = None;
    }
}

/// Adds `ext`'s capture time (as `timestamp/x-ntp`) and frame id metas to
/// `b`; returns whether it had a capture time.
pub(crate) fn stamp(b: &mut BufferRef, ext: &FrameExtensions) -> bool {
    if let Some(id) = ext.frame_id {
        b.add_meta(frame_id_meta(id));
    }
    match ext.capture_time {
        Some(t) => {
            b.add_meta(ReferenceTimestampMeta::ntp(ClockTime::from_nseconds(
                t.as_nanos(),
            )));
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extmap_values_parse_with_direction_and_attributes() {
        assert_eq!(
            parse_extmap("3/sendonly urn:x:y attr"),
            Some((3, "urn:x:y"))
        );
        assert_eq!(
            parse_extmap("1 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"),
            Some((1, ABS_CAPTURE_TIME_URI))
        );
        assert_eq!(parse_extmap("x urn:a"), None);
        assert_eq!(parse_extmap("4"), None);
    }

    #[test]
    fn framecast_caps_fields_give_framecast_ids() {
        let text = format!("application/x-rtp,payload=96{}", framecast_extmap_fields());
        let caps: Caps = text.parse().unwrap();
        assert_eq!(ids_of_caps(&caps), ExtensionIds::FRAMECAST);
    }

    #[test]
    fn a_packet_without_the_extension_takes_its_frames() {
        let mut st = ExtensionStamper {
            ids: ExtensionIds::FRAMECAST,
            ..Default::default()
        };
        let ext = FrameExtensions {
            capture_time: Some(NtpTimestamp(1 << 40)),
            frame_id: Some(77),
        };
        let header = framecast_rtp::RtpHeader {
            marker: false,
            payload_type: 96,
            sequence_number: 1,
            timestamp: 900,
            ssrc: 5,
        };
        let at = ext.len(st.ids);
        let mut with = vec![0u8; at + 14];
        header.write(&mut with[at..]).unwrap();
        let n = ext.insert(st.ids, &mut with, at, 14).unwrap();
        let mut plain = vec![0u8; 14];
        header.write(&mut plain).unwrap();
        let info = PacketInfo {
            seq: 1,
            ssrc: 5,
            rtp_ts: 900,
        };
        assert_eq!(st.frame_extensions(&with[..n], &info), Some(ext));
        assert_eq!(st.frame_extensions(&plain, &info), Some(ext));
        let next = PacketInfo {
            rtp_ts: 3900,
            ..info
        };
        assert_eq!(st.frame_extensions(&plain, &next), None);
        assert_eq!(st.frame_extensions(&[1, 2], &next), None);
    }
}
