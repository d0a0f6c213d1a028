//! Any datagram as repair input: as RTCP, keyframe requests (PLI, FIR)
//! recognised and a Generic NACK's entries read
//! and written back; as RTX, unwrapped; as a FEC packet, used to rebuild
//! packets around it from media packets cut from the same bytes. Nothing
//! reads outside the buffer or panics, and a rebuilt packet is RTP.
#![no_main]

use framecast_rtp::fec::FecDecoder;
use framecast_rtp::nack::{write_generic_nack, GenericNack, MAX_ENTRIES};
use framecast_rtp::rtcp::parse_compound;
use framecast_rtp::{rtx, RtpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for packet in parse_compound(data).map_while(|p| p.ok()) {
        // PLI / FIR (keyframe requests) are recognised without reading
        // past the packet.
        let _ = packet.is_keyframe_request();
        if let Some(nack) = GenericNack::from_packet(&packet) {
            let lost: Vec<u16> = nack.lost().take(17 * MAX_ENTRIES).collect();
            let mut buf = vec![0u8; 12 + 4 * MAX_ENTRIES];
            let _ = write_generic_nack(&mut buf, nack.sender_ssrc, nack.media_ssrc, lost);
        }
    }
    let mut out = vec![0u8; 4096];
    if let Ok(n) = rtx::unwrap(data, 96, 1, &mut out) {
        assert!(n <= data.len());
    }
    let mut fec = FecDecoder::new(16, 2);
    for chunk in data.chunks(64) {
        fec.on_media(chunk);
    }
    fec.on_fec(data);
    if let Ok(p) = RtpPacket::parse(data) {
        for d in 0..4u16 {
            if let Some(n) = fec.recover(p.sequence_number().wrapping_add(d), &mut out) {
                assert!(RtpPacket::parse(&out[..n]).is_ok());
            }
        }
    }
});
