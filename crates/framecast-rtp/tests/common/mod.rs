//! Helpers shared by the integration tests.
#![allow(dead_code)]

use framecast_rtp::{PacketSource, RtpHeader, RtpPacket};

/// Reads a capture in testdata/: each datagram behind a big-endian u16
/// length (written by a 15-line UDP receiver; see testdata/README.md).
pub fn read_capture(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 2 <= data.len() {
        let n = usize::from(u16::from_be_bytes([data[pos], data[pos + 1]]));
        out.push(data[pos + 2..pos + 2 + n].to_vec());
        pos += 2 + n;
    }
    out
}

pub fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Collects every packet of a packet source, checking the invariants all
/// payloaders share: size ≤ mtu, consecutive sequence numbers, one
/// timestamp, marker exactly on the last packet.
pub fn collect<S: PacketSource>(mut src: S, mtu: usize) -> Vec<Vec<u8>> {
    let mut slot = vec![0xeeu8; mtu];
    let mut v: Vec<Vec<u8>> = Vec::new();
    while let Some(meta) = src.next_into(&mut slot).unwrap() {
        assert!(meta.len <= mtu, "packet {} > mtu {mtu}", meta.len);
        let p = RtpPacket::parse(&slot[..meta.len]).unwrap();
        assert_eq!(p.sequence_number(), meta.sequence_number);
        assert_eq!(p.marker(), meta.marker);
        assert_eq!(p.timestamp(), meta.timestamp);
        if let Some(prev) = v.last() {
            let prev = RtpPacket::parse(prev).unwrap();
            assert!(!prev.marker(), "marker before the last packet");
            assert_eq!(prev.sequence_number().wrapping_add(1), p.sequence_number());
            assert_eq!(prev.timestamp(), p.timestamp());
        }
        v.push(slot[..meta.len].to_vec());
    }
    if let Some(last) = v.last() {
        assert!(
            RtpPacket::parse(last).unwrap().marker(),
            "last packet lacks the marker"
        );
    }
    v
}

/// An RTP packet (payload type 96) around `payload`.
pub fn rtp(seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 12];
    RtpHeader {
        marker,
        payload_type: 96,
        sequence_number: seq,
        timestamp: ts,
        ssrc,
    }
    .write(&mut p)
    .unwrap();
    p.extend_from_slice(payload);
    p
}
