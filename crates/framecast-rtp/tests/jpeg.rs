//! JPEG round trips (RFC 2435): the scan survives byte for byte and the
//! rebuilt JFIF decodes to the same pixels as the original.

mod common;

use framecast_rtp::jpeg::{parse_jpeg, JpegDepayStats};
use framecast_rtp::*;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

fn test_image(w: u16, h: u16) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[(x * 4) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8]);
        }
    }
    rgb
}

fn encode(w: u16, h: u16, sampling: SamplingFactor, restart: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 85);
    enc.set_sampling_factor(sampling);
    if restart > 0 {
        enc.set_restart_interval(restart);
    }
    enc.encode(&test_image(w, h), w, h, ColorType::Rgb).unwrap();
    out
}

fn decode(jpeg: &[u8]) -> (Vec<u8>, usize, usize) {
    let mut d = zune_jpeg::JpegDecoder::new(zune_jpeg::zune_core::bytestream::ZCursor::new(jpeg));
    let pixels = d.decode().unwrap();
    let (w, h) = d.dimensions().unwrap();
    (pixels, w, h)
}

fn round_trip(jpeg: &[u8], mtu: usize) -> (Vec<u8>, JpegDepayStats) {
    let mut pay = JpegPayloader::new(JpegPayloaderConfig {
        mtu,
        ssrc: 9,
        ..Default::default()
    })
    .unwrap();
    let packets = common::collect(pay.packetize(jpeg, 4500).unwrap(), mtu);
    let mut d = JpegDepayloader::new();
    let mut out = None;
    for (i, p) in packets.iter().enumerate() {
        let r = RtpPacket::parse(p).unwrap();
        assert_eq!(r.payload_type(), 26);
        if let Some(f) = d.push(&r).unwrap() {
            assert_eq!(i, packets.len() - 1);
            assert_eq!(f.timestamp, 4500);
            out = Some(f.data.to_vec());
        }
    }
    (out.expect("a frame"), d.stats())
}

#[test]
fn round_trip_types_0_1_64_65_at_many_mtus() {
    for (sampling, restart, ty) in [
        (SamplingFactor::R_4_2_0, 0, 1),
        (SamplingFactor::R_4_2_2, 0, 0),
        (SamplingFactor::R_4_2_0, 4, 65),
        (SamplingFactor::R_4_2_2, 2, 64),
    ] {
        let jpeg = encode(64, 48, sampling, restart);
        let info = parse_jpeg(&jpeg).unwrap();
        assert_eq!(info.rtp_type, ty);
        assert_eq!((info.width, info.height), (64, 48));
        let original = decode(&jpeg);
        for mtu in [157, 158, 200, 333, 700, 1400, 1500] {
            let (rebuilt, stats) = round_trip(&jpeg, mtu);
            assert_eq!(stats.frames, 1);
            let again = parse_jpeg(&rebuilt).unwrap();
            assert_eq!(again.scan, info.scan, "scan data must be identical");
            assert_eq!(again.rtp_type, ty);
            assert_eq!(again.luma_quant, info.luma_quant);
            assert_eq!(again.chroma_quant, info.chroma_quant);
            assert_eq!(decode(&rebuilt), original, "type {ty} mtu {mtu}");
        }
    }
}

#[test]
fn lost_packet_drops_the_frame() {
    let jpeg = encode(128, 64, SamplingFactor::R_4_2_0, 0);
    let mut pay = JpegPayloader::new(JpegPayloaderConfig {
        mtu: 300,
        ..Default::default()
    })
    .unwrap();
    let a = common::collect(pay.packetize(&jpeg, 0).unwrap(), 300);
    let b = common::collect(pay.packetize(&jpeg, 3000).unwrap(), 300);
    assert!(a.len() > 3);
    let mut d = JpegDepayloader::new();
    let mut frames = vec![];
    for (i, p) in a.iter().chain(&b).enumerate() {
        if i == 2 {
            continue;
        }
        if let Some(f) = d.push(&RtpPacket::parse(p).unwrap()).unwrap() {
            frames.push((f.timestamp, f.discontinuity));
        }
    }
    assert_eq!(frames, [(3000, true)]);
    assert_eq!(d.stats().lost_packets, 1);
    assert_eq!(d.stats().discarded_frames, 1);
}

#[test]
fn rejects_what_rfc2435_cannot_carry() {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 85);
    enc.set_optimized_huffman_tables(true);
    enc.encode(&test_image(32, 32), 32, 32, ColorType::Rgb)
        .unwrap();
    let e = parse_jpeg(&out).unwrap_err();
    assert!(e.to_string().contains("Huffman"), "{e}");
    let odd = encode(36, 32, SamplingFactor::R_4_2_0, 0);
    assert!(parse_jpeg(&odd).is_err());
    let gray = {
        let mut o = Vec::new();
        Encoder::new(&mut o, 80)
            .encode(&[128u8; 64], 8, 8, ColorType::Luma)
            .unwrap();
        o
    };
    assert!(parse_jpeg(&gray).is_err());
    let e444 = encode(16, 16, SamplingFactor::R_4_4_4, 0);
    assert_eq!(
        parse_jpeg(&e444).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

/// Q in 1..=99: the receiver derives the tables (RFC 2435 Appendix A).
#[test]
fn depayloads_q50_frames_with_standard_tables() {
    let jpeg = encode(16, 16, SamplingFactor::R_4_2_0, 0);
    let info = parse_jpeg(&jpeg).unwrap();
    let mut p = vec![0u8; 12];
    RtpHeader {
        marker: true,
        payload_type: 26,
        sequence_number: 0,
        timestamp: 0,
        ssrc: 0,
    }
    .write(&mut p)
    .unwrap();
    p.extend_from_slice(&[0, 0, 0, 0, 1, 50, 2, 2]);
    p.extend_from_slice(info.scan);
    let mut d = JpegDepayloader::new();
    let f = d.push(&RtpPacket::parse(&p).unwrap()).unwrap().unwrap();
    let again = parse_jpeg(f.data).unwrap();
    assert_eq!(again.luma_quant, &framecast_rtp::jpeg::STD_LUMA_QUANT);
    assert_eq!((f.width, f.height), (16, 16));
    // Decodes (to different pixels: other tables), without error.
    decode(f.data);
}

/// A real capture: GStreamer 1.22 `jpegenc quality=80 ! rtpjpegpay
/// mtu=700`, 3 frames of 176×144 I420. GStreamer sends the file's EOI
/// inside the scan data; the rebuilt JFIF must still decode.
#[test]
fn gstreamer_capture_decodes() {
    let mut d = JpegDepayloader::new();
    let mut frames = 0;
    for p in common::read_capture("gst_jpeg_176x144.rtpcap") {
        if let Some(f) = d.push(&RtpPacket::parse(&p).unwrap()).unwrap() {
            let (px, w, h) = decode(f.data);
            assert_eq!((w, h), (176, 144));
            assert_eq!(px.len(), 176 * 144 * 3);
            // And our payloader can re-send what we rebuilt.
            let (again, _) = round_trip(f.data, 1400);
            assert_eq!(decode(&again).0, px);
            frames += 1;
        }
    }
    assert_eq!(frames, 3);
}

#[test]
fn a_frame_lost_whole_marks_the_next_one_discontinuous() {
    let jpeg = encode(128, 64, SamplingFactor::R_4_2_0, 0);
    let mut pay = JpegPayloader::new(JpegPayloaderConfig {
        mtu: 300,
        ..Default::default()
    })
    .unwrap();
    let frames: Vec<Vec<Vec<u8>>> = (0..3)
        .map(|i| common::collect(pay.packetize(&jpeg, i * 3000).unwrap(), 300))
        .collect();
    let mut d = JpegDepayloader::new();
    let mut got = vec![];
    // Frame 1 is lost entirely: no packet of a frame in progress is
    // missing, so only the sequence gap tells.
    for p in frames[0].iter().chain(&frames[2]) {
        if let Some(f) = d.push(&RtpPacket::parse(p).unwrap()).unwrap() {
            got.push((f.timestamp, f.discontinuity));
        }
    }
    assert_eq!(got, [(0, false), (6000, true)]);
    assert_eq!(d.stats().lost_packets, frames[1].len() as u64);
}
