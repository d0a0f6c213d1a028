//! Forward error correction beside the media: the ULPFEC stream
//! (RFC 5109) a sink with `fec-group` sends, one parity packet per group
//! and at every frame's end, on its own SSRC and payload type.

use std::sync::atomic::Ordering;

use framecast_rtp::fec::FecEncoder;
use framecast_rtp::RtpHeader;

use super::{Stream, UdpSink, UdpSinkSettings};
use crate::elements::net::sys;

/// The FEC stream a sink sends beside the media.
#[derive(Debug)]
pub(super) struct FecSend {
    pub(super) encoder: FecEncoder,
    pub(super) payload_type: u8,
    pub(super) ssrc: u32,
    pub(super) seq: u16,
    /// The timestamp of the last packet protected (the FEC packet's own).
    pub(super) timestamp: u32,
    pub(super) out: Vec<u8>,
}

/// `fec-group` and `fec-payload-type` when FEC is on.
pub(super) fn fec_settings_of(settings: &UdpSinkSettings) -> Option<(u8, u8)> {
    let group = Some(settings.fec_group).filter(|&g| g >= 2)?;
    Some((group, settings.fec_pt))
}

/// Largest FEC packet: RTP and FEC headers, a long mask, the largest
/// protected packet.
pub(super) const FEC_PACKET_MAX: usize =
    12 + framecast_rtp::fec::FEC_HEADER_LEN + 8 + framecast_rtp::fec::MAX_PROTECTED;

impl UdpSink {
    /// Feeds the batch to the FEC encoder and sends each parity packet it
    /// completes to every client (RFC 5109 on its own SSRC and payload
    /// type); at a frame's end the group in progress is closed, so a
    /// receiver can repair a frame as soon as it has arrived.
    pub(super) fn protect(&self, st: &mut Stream, frame_end: bool) {
        let Stream {
            socket,
            slab,
            packets,
            fec,
            ..
        } = st;
        let (Some(sock), Some(fec)) = (socket.as_ref(), fec.as_mut()) else {
            return;
        };
        let clients = self.clients.load();
        let send = |fec: &mut FecSend| {
            let header = RtpHeader {
                marker: false,
                payload_type: fec.payload_type,
                sequence_number: fec.seq,
                timestamp: fec.timestamp,
                ssrc: fec.ssrc,
            };
            let Ok(n) = fec.encoder.write(header, &mut fec.out) else {
                return;
            };
            if n == 0 {
                return;
            }
            fec.seq = fec.seq.wrapping_add(1);
            for client in clients.iter() {
                let out = sys::send_batch(sock, &[(&fec.out[..n], &client.rtp)]);
                self.counters.fec.fetch_add(out.sent, Ordering::Relaxed);
            }
        };
        for &(off, len) in packets.iter() {
            let packet = &slab[off..off + len];
            if let Some(ts) = packet.get(4..8) {
                fec.timestamp = u32::from_be_bytes([ts[0], ts[1], ts[2], ts[3]]);
            }
            if fec.encoder.push(packet) {
                send(fec);
            }
        }
        if frame_end {
            send(fec);
        }
    }
}
