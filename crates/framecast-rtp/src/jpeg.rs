//! JPEG over RTP (RFC 2435).
//!
//! RFC 2435 does not send a JPEG file: it sends the entropy-coded scan
//! and just enough numbers to rebuild the headers, which a receiver
//! regenerates with the standard Huffman tables (§3.1, Appendix B). Every
//! packet starts with the main JPEG header (§3.1):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Type-specific |              Fragment Offset                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Type     |       Q       |     Width     |     Height    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Types 64–127 (a restart interval is in use) add the restart marker
//! header (§3.1.7):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |       Restart Interval        |F|L|       Restart Count       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! and with Q ≥ 128 the first packet (fragment offset 0) carries the
//! quantization tables (§3.1.8):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      MBZ      |   Precision   |             Length            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Quantization Table Data                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Type 0 is YUV 4:2:2 (luma sampling factors 2×1), type 1 is YUV 4:2:0
//! (2×2); chroma is 1×1 in both (§4.1; GStreamer's rtpjpegpay maps SOF0
//! sampling 0x21 → 0 and 0x22 → 1 the same way).
//!
//! The payloader always sends Q = 255 with the encoder's own tables in
//! band, so the receiver dequantizes exactly as the encoder quantized.

use crate::error::{Error, Result};
use crate::h264::check_mtu_pt;
use crate::packet::{RtpHeader, RtpPacket, FIXED_HEADER_LEN};
use crate::packetizer::{PacketMeta, PacketSource};
use crate::seq::{SeqCheck, SeqTracker};

/// Static payload type of JPEG (RFC 3551 §6, Table 5).
pub const PAYLOAD_TYPE: u8 = 26;

/// Size of the main JPEG header (§3.1).
pub const MAIN_HEADER_LEN: usize = 8;
/// Size of the restart marker header (§3.1.7).
pub const RESTART_HEADER_LEN: usize = 4;
/// Size of the quantization table header before its data (§3.1.8).
pub const QUANT_HEADER_LEN: usize = 4;

/// Luminance quantization table of JPEG Annex K.1, in zig-zag order (the
/// order of a DQT segment); RFC 2435 Appendix A scales it by Q.
pub const STD_LUMA_QUANT: [u8; 64] = [
    16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37,
    29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81,
    87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];

/// Chrominance quantization table of JPEG Annex K.2, zig-zag order.
pub const STD_CHROMA_QUANT: [u8; 64] = [
    17, 18, 18, 24, 21, 24, 47, 26, 26, 47, 99, 66, 56, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

// Standard Huffman tables, JPEG Annex K.3 (RFC 2435 Appendix B): for each
// table the count of codes of length 1..=16, then the symbols.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// `(class << 4 | id, bits, values)` of the four standard tables.
fn std_huffman_tables() -> [(u8, &'static [u8; 16], &'static [u8]); 4] {
    [
        (0x00, &DC_LUMA_BITS, &DC_VALUES),
        (0x01, &DC_CHROMA_BITS, &DC_VALUES),
        (0x10, &AC_LUMA_BITS, &AC_LUMA_VALUES),
        (0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALUES),
    ]
}

/// The quantization tables a receiver derives from Q in 1..=99 (RFC 2435
/// Appendix A, `MakeTables`): the Annex K tables scaled as the IJG
/// library's quality setting does, clamped to 1..=255.
pub fn scaled_quant_tables(q: u8) -> [[u8; 64]; 2] {
    let factor = u32::from(q.clamp(1, 99));
    let scale = if factor < 50 {
        5000 / factor
    } else {
        200 - factor * 2
    };
    let mut out = [[0u8; 64]; 2];
    for (dst, src) in out.iter_mut().zip([&STD_LUMA_QUANT, &STD_CHROMA_QUANT]) {
        for (d, &s) in dst.iter_mut().zip(src.iter()) {
            *d = ((u32::from(s) * scale + 50) / 100).clamp(1, 255) as u8;
        }
    }
    out
}

// JPEG markers (ITU T.81 Table B.1).
const SOI: u8 = 0xd8;
const EOI: u8 = 0xd9;
const SOF0: u8 = 0xc0;
const DHT: u8 = 0xc4;
const DQT: u8 = 0xdb;
const DRI: u8 = 0xdd;
const SOS: u8 = 0xda;

/// What the payloader needs from a baseline JPEG.
#[derive(Clone, Copy)]
pub struct JpegInfo<'a> {
    /// RFC 2435 type: 0 (4:2:2) or 1 (4:2:0), plus 64 with restart markers.
    pub rtp_type: u8,
    /// Width in pixels (a multiple of 8, at most 2040).
    pub width: u16,
    /// Height in pixels (a multiple of 8, at most 2040).
    pub height: u16,
    /// Restart interval from DRI, 0 if none.
    pub restart_interval: u16,
    /// Luma quantization table, zig-zag order.
    pub luma_quant: &'a [u8; 64],
    /// Chroma quantization table, zig-zag order.
    pub chroma_quant: &'a [u8; 64],
    /// Entropy-coded scan data, from after SOS to before EOI.
    pub scan: &'a [u8],
}

impl std::fmt::Debug for JpegInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JpegInfo")
            .field("rtp_type", &self.rtp_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("restart_interval", &self.restart_interval)
            .field("scan_len", &self.scan.len())
            .finish_non_exhaustive()
    }
}

/// A SOF0 component: (id, sampling factors H<<4|V, quantization table).
type Component = (u8, u8, u8);

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads the headers of a baseline (SOF0), 3-component, 8-bit JPEG with
/// type 0 or type 1 sampling, as RFC 2435 can carry.
///
/// # Errors
///
/// [`Error::InvalidInput`] for anything else: not a JPEG, truncated
/// segments, progressive coding, other sampling, sizes not a multiple of
/// 8 or above 2040 (RFC 2435 §3.1.5–6 send them as a byte of 8-pixel
/// blocks), 16-bit quantization tables, or Huffman tables other than the
/// standard ones (the RFC sends none; the receiver assumes Annex K.3).
pub fn parse_jpeg(data: &[u8]) -> Result<JpegInfo<'_>> {
    const W: &str = "JPEG";
    if data.len() < 4 || data[0] != 0xff || data[1] != SOI {
        return Err(Error::input(W, 0, "does not start with SOI", 0));
    }
    let mut quant: [Option<&[u8; 64]>; 4] = [None; 4];
    let mut sof: Option<(u16, u16, [Component; 3])> = None;
    let mut restart_interval = 0u16;
    let mut pos = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes (B.1.1.2).
        if pos + 1 >= data.len() || data[pos] != 0xff {
            return Err(Error::input(W, pos, "expected a marker before SOS", 0));
        }
        while pos + 1 < data.len() && data[pos + 1] == 0xff {
            pos += 1;
        }
        if pos + 1 >= data.len() {
            return Err(Error::input(W, pos, "truncated marker", 0));
        }
        let marker = data[pos + 1];
        pos += 2;
        if marker == 0x01 || (0xd0..=0xd7).contains(&marker) {
            continue; // TEM and RSTn have no length
        }
        if marker == EOI || marker == SOI {
            return Err(Error::input(
                W,
                pos - 2,
                "EOI or SOI before SOS",
                u64::from(marker),
            ));
        }
        if pos + 2 > data.len() {
            return Err(Error::input(
                W,
                pos,
                "truncated segment length",
                u64::from(marker),
            ));
        }
        let len = usize::from(be16(data, pos));
        if len < 2 || pos + len > data.len() {
            return Err(Error::input(
                W,
                pos,
                "segment length out of range",
                len as u64,
            ));
        }
        let seg = &data[pos + 2..pos + len];
        match marker {
            SOF0 => {
                if seg.len() < 6 + 9 || seg[0] != 8 || seg[5] != 3 {
                    return Err(Error::input(
                        W,
                        pos,
                        "SOF0 must be 8-bit with 3 components",
                        u64::from(seg.get(5).copied().unwrap_or(0)),
                    ));
                }
                let height = be16(seg, 1);
                let width = be16(seg, 3);
                for (what, v) in [("width", width), ("height", height)] {
                    if v == 0 || v % 8 != 0 || v > 2040 {
                        let _ = what;
                        return Err(Error::input(
                            W,
                            pos,
                            "width and height must be multiples of 8 in 8..=2040 (RFC 2435 §3.1.5)",
                            u64::from(v),
                        ));
                    }
                }
                let c = |i: usize| (seg[6 + 3 * i], seg[7 + 3 * i], seg[8 + 3 * i]);
                sof = Some((width, height, [c(0), c(1), c(2)]));
            }
            DHT => check_std_huffman(seg, pos)?,
            DQT => {
                let mut p = 0;
                while p < seg.len() {
                    let (pq, tq) = (seg[p] >> 4, usize::from(seg[p] & 0x0f));
                    if pq != 0 || tq > 3 {
                        return Err(Error::input(
                            W,
                            pos + 2 + p,
                            "only 8-bit quantization tables 0..=3 are supported",
                            u64::from(seg[p]),
                        ));
                    }
                    let table = seg
                        .get(p + 1..p + 65)
                        .and_then(|t| <&[u8; 64]>::try_from(t).ok())
                        .ok_or(Error::input(W, pos + 2 + p, "truncated DQT", 0))?;
                    quant[tq] = Some(table);
                    p += 65;
                }
            }
            DRI => {
                if seg.len() < 2 {
                    return Err(Error::input(W, pos, "truncated DRI", 0));
                }
                restart_interval = be16(seg, 0);
            }
            SOS => {
                let Some((width, height, comps)) = sof else {
                    return Err(Error::input(W, pos, "SOS before SOF0", 0));
                };
                check_sos(seg, &comps, pos)?;
                let rtp_type =
                    match (comps[0].1, comps[1].1, comps[2].1) {
                        (0x21, 0x11, 0x11) => 0,
                        (0x22, 0x11, 0x11) => 1,
                        (s, _, _) => return Err(Error::input(
                            W,
                            pos,
                            "sampling must be Y 2x1 or 2x2 with chroma 1x1 (RFC 2435 types 0/1)",
                            u64::from(s),
                        )),
                    };
                let table = |tq: u8| {
                    quant
                        .get(usize::from(tq))
                        .copied()
                        .flatten()
                        .ok_or(Error::input(
                            W,
                            pos,
                            "component uses a missing DQT table",
                            u64::from(tq),
                        ))
                };
                let luma_quant = table(comps[0].2)?;
                let chroma_quant = table(comps[1].2)?;
                // RFC 2435 carries two tables: Cb and Cr must share one.
                if table(comps[2].2)? != chroma_quant {
                    return Err(Error::input(
                        W,
                        pos,
                        "Cb and Cr use different quantization tables",
                        u64::from(comps[2].2),
                    ));
                }
                let start = pos + len;
                let end = scan_end(data, start);
                return Ok(JpegInfo {
                    rtp_type: rtp_type + if restart_interval > 0 { 64 } else { 0 },
                    width,
                    height,
                    restart_interval,
                    luma_quant,
                    chroma_quant,
                    scan: &data[start..end],
                });
            }
            0xc1..=0xcf if marker != 0xc8 && marker != 0xcc => {
                return Err(Error::input(
                    W,
                    pos - 2,
                    "only baseline (SOF0) JPEG can be sent (RFC 2435 §3.1)",
                    u64::from(marker),
                ))
            }
            _ => {} // APPn, COM, ...: not sent
        }
        pos += len;
    }
}

/// Position of the marker that ends the scan (normally EOI): the first
/// 0xFF not followed by a stuffed 0x00, a fill 0xFF, or a restart marker.
fn scan_end(data: &[u8], start: usize) -> usize {
    let mut i = start;
    while i + 1 < data.len() {
        if data[i] == 0xff {
            let m = data[i + 1];
            if m != 0x00 && m != 0xff && !(0xd0..=0xd7).contains(&m) {
                return i;
            }
        }
        i += 1;
    }
    data.len()
}

fn check_sos(seg: &[u8], comps: &[Component; 3], pos: usize) -> Result<()> {
    const W: &str = "JPEG";
    if seg.len() != 1 + 2 * 3 + 3 || seg[0] != 3 {
        return Err(Error::input(
            W,
            pos,
            "SOS must interleave the 3 components in one scan",
            u64::from(seg.first().copied().unwrap_or(0)),
        ));
    }
    for i in 0..3 {
        let (id, tables) = (seg[1 + 2 * i], seg[2 + 2 * i]);
        let want = if i == 0 { 0x00 } else { 0x11 };
        if id != comps[i].0 || tables != want {
            return Err(Error::input(
                W,
                pos,
                "SOS must list Y, Cb, Cr with Huffman tables 0, 1, 1 (RFC 2435 Appendix B)",
                u64::from(tables),
            ));
        }
    }
    if seg[7..10] != [0, 63, 0] {
        return Err(Error::input(
            W,
            pos,
            "SOS spectral selection must be 0..63",
            0,
        ));
    }
    Ok(())
}

fn check_std_huffman(seg: &[u8], pos: usize) -> Result<()> {
    let mut p = 0;
    while p < seg.len() {
        let tc_th = seg[p];
        let bits = seg
            .get(p + 1..p + 17)
            .ok_or(Error::input("JPEG", pos, "truncated DHT", 0))?;
        let n: usize = bits.iter().map(|&b| usize::from(b)).sum();
        let values =
            seg.get(p + 17..p + 17 + n)
                .ok_or(Error::input("JPEG", pos, "truncated DHT", 0))?;
        let standard = std_huffman_tables()
            .iter()
            .any(|(id, b, v)| *id == tc_th && &b[..] == bits && *v == values);
        if !standard {
            return Err(Error::input(
                "JPEG",
                pos,
                "Huffman table differs from the standard one; RFC 2435 cannot carry it (encode with default, not optimized, tables)",
                u64::from(tc_th),
            ));
        }
        p += 17 + n;
    }
    Ok(())
}

/// Settings of a [`JpegPayloader`].
#[derive(Debug, Clone)]
pub struct JpegPayloaderConfig {
    /// Largest RTP packet, header included (default 1400).
    pub mtu: usize,
    /// Payload type, default [`PAYLOAD_TYPE`] (26, static).
    pub payload_type: u8,
    /// SSRC.
    pub ssrc: u32,
    /// Sequence number of the first packet.
    pub initial_sequence_number: u16,
}

impl Default for JpegPayloaderConfig {
    fn default() -> Self {
        Self {
            mtu: 1400,
            payload_type: PAYLOAD_TYPE,
            ssrc: 0,
            initial_sequence_number: 0,
        }
    }
}

/// Cuts baseline JPEG frames into RFC 2435 packets (Q = 255, tables in
/// band, restart header when the JPEG has a DRI), into caller slots like
/// every payloader here ([`PacketSource`]).
#[doc(alias = "rtpjpegpay")]
#[derive(Debug)]
pub struct JpegPayloader {
    cfg: JpegPayloaderConfig,
    seq: u16,
}

impl JpegPayloader {
    /// A payloader with `cfg`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if the MTU cannot hold the headers plus one
    /// byte of scan data in the first packet (12 + 8 + 4 + 4 + 128 + 1).
    pub fn new(cfg: JpegPayloaderConfig) -> Result<Self> {
        check_mtu_pt(cfg.mtu, cfg.payload_type)?;
        let min =
            FIXED_HEADER_LEN + MAIN_HEADER_LEN + RESTART_HEADER_LEN + QUANT_HEADER_LEN + 128 + 1;
        if cfg.mtu < min {
            return Err(Error::config(
                "mtu",
                "must hold the RTP/JPEG headers and in-band tables (157 bytes)",
                cfg.mtu as u64,
            ));
        }
        Ok(Self {
            seq: cfg.initial_sequence_number,
            cfg,
        })
    }

    /// Sequence number of the next packet.
    pub fn next_sequence_number(&self) -> u16 {
        self.seq
    }

    /// Starts packetizing `jpeg` (a complete JFIF/JPEG file) with RTP
    /// timestamp `timestamp`.
    ///
    /// # Errors
    ///
    /// As [`parse_jpeg`].
    pub fn packetize<'p>(&'p mut self, jpeg: &'p [u8], timestamp: u32) -> Result<JpegPackets<'p>> {
        let info = parse_jpeg(jpeg)?;
        Ok(JpegPackets {
            info,
            offset: 0,
            seq: &mut self.seq,
            cfg: &self.cfg,
            timestamp,
            done: false,
        })
    }
}

/// The packets of one JPEG frame; see [`PacketSource`].
#[derive(Debug)]
pub struct JpegPackets<'p> {
    info: JpegInfo<'p>,
    offset: usize,
    seq: &'p mut u16,
    cfg: &'p JpegPayloaderConfig,
    timestamp: u32,
    done: bool,
}

impl JpegPackets<'_> {
    /// The parsed frame.
    pub fn info(&self) -> &JpegInfo<'_> {
        &self.info
    }
}

impl PacketSource for JpegPackets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Result<Option<PacketMeta>> {
        if self.done {
            return Ok(None);
        }
        let mtu = self.cfg.mtu;
        if out.len() < mtu {
            return Err(Error::too_small("RTP/JPEG packet", mtu, out.len()));
        }
        let info = &self.info;
        if self.offset > 0xff_ffff {
            return Err(Error::input(
                "JPEG",
                self.offset,
                "scan longer than the 24-bit fragment offset (RFC 2435 §3.1.2)",
                self.offset as u64,
            ));
        }
        let mut pos = FIXED_HEADER_LEN;
        // Main header (§3.1): type-specific 0 = progressive frame.
        let off = (self.offset as u32).to_be_bytes();
        out[pos..pos + 8].copy_from_slice(&[
            0,
            off[1],
            off[2],
            off[3],
            info.rtp_type,
            255,
            (info.width / 8) as u8,
            (info.height / 8) as u8,
        ]);
        pos += MAIN_HEADER_LEN;
        if info.restart_interval > 0 {
            // §3.1.7: packets are not cut at restart boundaries, so F = L =
            // 1 and count 0x3FFF ("the packet contains no restart marker
            // alignment information").
            let ri = info.restart_interval.to_be_bytes();
            out[pos..pos + 4].copy_from_slice(&[ri[0], ri[1], 0xff, 0xff]);
            pos += RESTART_HEADER_LEN;
        }
        if self.offset == 0 {
            // §3.1.8, Q = 255: tables in every frame's first packet.
            out[pos..pos + 4].copy_from_slice(&[0, 0, 0, 128]);
            out[pos + 4..pos + 68].copy_from_slice(info.luma_quant);
            out[pos + 68..pos + 132].copy_from_slice(info.chroma_quant);
            pos += QUANT_HEADER_LEN + 128;
        }
        let room = mtu - pos;
        let end = (self.offset + room).min(info.scan.len());
        let last = end == info.scan.len();
        out[pos..pos + end - self.offset].copy_from_slice(&info.scan[self.offset..end]);
        pos += end - self.offset;
        let seq = *self.seq;
        RtpHeader {
            marker: last,
            payload_type: self.cfg.payload_type,
            sequence_number: seq,
            timestamp: self.timestamp,
            ssrc: self.cfg.ssrc,
        }
        .write(out)?;
        *self.seq = seq.wrapping_add(1);
        self.offset = end;
        self.done = last;
        Ok(Some(PacketMeta {
            len: pos,
            sequence_number: seq,
            timestamp: self.timestamp,
            marker: last,
        }))
    }
}

/// Counters of a [`JpegDepayloader`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JpegDepayStats {
    /// Packets pushed.
    pub packets: u64,
    /// Packets missing by sequence number.
    pub lost_packets: u64,
    /// Packets out of sequence, dropped: late, duplicated, or a lone stray
    /// far from the sequence or from another SSRC.
    pub late_packets: u64,
    /// Times the stream restarted (a new SSRC, or a sequence number far
    /// from the expected one): the frame in progress was dropped.
    pub restarts: u64,
    /// Packets that failed to parse.
    pub malformed_packets: u64,
    /// Frames delivered.
    pub frames: u64,
    /// Frames dropped as incomplete or damaged.
    pub discarded_frames: u64,
}

/// One rebuilt JPEG file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegFrame<'a> {
    /// A complete JFIF: SOI … EOI.
    pub data: &'a [u8],
    /// RTP timestamp.
    pub timestamp: u32,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Frames were dropped just before this one.
    pub discontinuity: bool,
}

/// Rebuilds JFIF files from RFC 2435 packets.
///
/// Packets must arrive in order. A frame with a missing or broken packet is
/// dropped and counted ([`JpegDepayStats`]). Memory: one frame buffer,
/// reused, plus the tables of Q values 128–254 seen so far (§3.1.8 lets a
/// sender send them once).
#[doc(alias = "rtpjpegdepay")]
#[derive(Debug)]
pub struct JpegDepayloader {
    frame: Vec<u8>,
    header_len: usize,
    in_frame: bool,
    damaged: bool,
    ts: u32,
    width: u16,
    height: u16,
    seq: SeqTracker,
    discont_pending: bool,
    q_cache: Vec<(u8, [u8; 128])>,
    max_frame_size: usize,
    stats: JpegDepayStats,
}

impl Default for JpegDepayloader {
    fn default() -> Self {
        Self::new()
    }
}

impl JpegDepayloader {
    /// A depayloader accepting frames up to 32 MiB.
    pub fn new() -> Self {
        Self {
            frame: Vec::new(),
            header_len: 0,
            in_frame: false,
            damaged: false,
            ts: 0,
            width: 0,
            height: 0,
            seq: SeqTracker::default(),
            discont_pending: false,
            q_cache: Vec::new(),
            max_frame_size: 32 << 20,
            stats: JpegDepayStats::default(),
        }
    }

    /// The next packet follows a discontinuity the jitter buffer upstream
    /// has judged (it marked the buffer `DISCONT`: a gap given up, or a
    /// restarted sender adopted): it is taken wherever its sequence number
    /// lies, instead of being held to probation a second time.
    pub fn upstream_discont(&mut self) {
        self.seq.vouch_next();
    }

    /// The counters.
    pub fn stats(&self) -> JpegDepayStats {
        self.stats
    }

    /// Forgets the frame in progress and the sequence (after a flush:
    /// what comes next is not a continuation); the counters stay. The
    /// next frame out is a discontinuity.
    pub fn reset(&mut self) {
        self.seq = SeqTracker::default();
        self.in_frame = false;
        self.damaged = false;
        self.discont_pending = true;
    }

    fn drop_frame(&mut self) {
        if self.in_frame {
            self.stats.discarded_frames += 1;
            self.discont_pending = true;
        }
        self.in_frame = false;
        self.damaged = false;
    }

    /// Handles one packet; returns the frame its marker bit completed.
    ///
    /// # Errors
    ///
    /// Malformed or unsupported payloads, with sequence number and SSRC;
    /// the frame in progress is then dropped.
    pub fn push(&mut self, pkt: &RtpPacket<'_>) -> Result<Option<JpegFrame<'_>>> {
        self.stats.packets += 1;
        let seq = pkt.sequence_number();
        match self.seq.check(seq, pkt.ssrc()) {
            SeqCheck::Late | SeqCheck::Stray => {
                self.stats.late_packets += 1;
                return Ok(None);
            }
            SeqCheck::Next { lost: 0 } => {}
            SeqCheck::Next { lost } => {
                self.stats.lost_packets += u64::from(lost);
                self.damaged = true;
                // Between frames the loss may have taken whole frames:
                // the next frame delivered follows a discontinuity either
                // way.
                self.discont_pending = true;
            }
            SeqCheck::Restart => {
                self.stats.restarts += 1;
                self.drop_frame();
                self.discont_pending = true;
            }
        }
        if self.in_frame && pkt.timestamp() != self.ts {
            // The previous frame's last packet never came.
            self.drop_frame();
        }
        match self.handle(pkt.payload(), pkt.timestamp()) {
            Ok(()) => {}
            Err(e) => {
                self.stats.malformed_packets += 1;
                self.damaged = true;
                self.drop_frame();
                return Err(e.in_packet(seq, pkt.ssrc()));
            }
        }
        if self.damaged {
            self.drop_frame();
        }
        if !pkt.marker() || !self.in_frame {
            return Ok(None);
        }
        self.in_frame = false;
        if !self.frame.ends_with(&[0xff, EOI]) {
            // GStreamer's payloader sends the file's EOI; RFC 2435 does not.
            self.frame.extend_from_slice(&[0xff, EOI]);
        }
        self.stats.frames += 1;
        Ok(Some(JpegFrame {
            data: &self.frame,
            timestamp: self.ts,
            width: self.width,
            height: self.height,
            discontinuity: std::mem::take(&mut self.discont_pending),
        }))
    }

    fn handle(&mut self, p: &[u8], ts: u32) -> Result<()> {
        if p.len() < MAIN_HEADER_LEN {
            return Err(Error::truncated(
                "RTP/JPEG main header",
                0,
                MAIN_HEADER_LEN,
                p.len(),
            ));
        }
        let offset = (usize::from(p[1]) << 16) | (usize::from(p[2]) << 8) | usize::from(p[3]);
        let (ty, q, w, h) = (p[4], p[5], p[6], p[7]);
        let mut pos = MAIN_HEADER_LEN;
        let mut restart_interval = 0;
        if (64..128).contains(&ty) {
            let r = p.get(pos..pos + 4).ok_or(Error::truncated(
                "RTP/JPEG restart marker header",
                pos,
                4,
                p.len() - pos,
            ))?;
            restart_interval = be16(r, 0);
            pos += RESTART_HEADER_LEN;
        }
        if ty & 63 > 1 || ty >= 128 {
            return Err(Error::unsupported(
                "RTP/JPEG type",
                "only types 0, 1, 64, 65 are defined (RFC 2435 §4.1)",
                u64::from(ty),
            ));
        }
        if w == 0 || h == 0 {
            return Err(Error::malformed(
                "RTP/JPEG main header",
                6,
                "zero width or height",
                0,
            ));
        }
        if offset != 0 {
            if !self.in_frame || self.damaged {
                // Its first packet is gone.
                self.damaged = true;
                return Ok(());
            }
            if offset != self.frame.len() - self.header_len {
                self.damaged = true;
                return Ok(());
            }
            if self.frame.len() + p.len() - pos > self.max_frame_size {
                self.damaged = true;
                return Ok(());
            }
            self.frame.extend_from_slice(&p[pos..]);
            return Ok(());
        }

        // First packet of a frame: work out the tables, write the headers.
        self.drop_frame();
        self.damaged = false;
        let tables: [[u8; 64]; 2] = match q {
            1..=99 => scaled_quant_tables(q),
            0 | 100..=127 => {
                return Err(Error::malformed(
                    "RTP/JPEG main header",
                    5,
                    "reserved Q value",
                    u64::from(q),
                ))
            }
            _ => {
                let hdr = p.get(pos..pos + 4).ok_or(Error::truncated(
                    "RTP/JPEG quantization table header",
                    pos,
                    4,
                    p.len() - pos,
                ))?;
                let (precision, len) = (hdr[1], usize::from(be16(hdr, 2)));
                pos += QUANT_HEADER_LEN;
                if precision != 0 {
                    return Err(Error::unsupported(
                        "RTP/JPEG quantization tables",
                        "16-bit tables",
                        u64::from(precision),
                    ));
                }
                let data = p.get(pos..pos + len).ok_or(Error::truncated(
                    "RTP/JPEG quantization tables",
                    pos,
                    len,
                    p.len() - pos,
                ))?;
                pos += len;
                let mut t = [[0u8; 64]; 2];
                match len {
                    0 => {
                        let cached = self.q_cache.iter().find(|(cq, _)| *cq == q && q != 255);
                        let Some((_, c)) = cached else {
                            return Err(Error::malformed(
                                "RTP/JPEG quantization table header",
                                pos - 4,
                                "length 0 but no tables known for this Q",
                                u64::from(q),
                            ));
                        };
                        t[0].copy_from_slice(&c[..64]);
                        t[1].copy_from_slice(&c[64..]);
                    }
                    64 => {
                        t[0].copy_from_slice(data);
                        t[1].copy_from_slice(data);
                    }
                    128 => {
                        t[0].copy_from_slice(&data[..64]);
                        t[1].copy_from_slice(&data[64..]);
                    }
                    _ => {
                        return Err(Error::unsupported(
                            "RTP/JPEG quantization tables",
                            "length must be 64 or 128 (one or two 8-bit tables)",
                            len as u64,
                        ))
                    }
                }
                if q < 255 && len > 0 && !self.q_cache.iter().any(|(cq, _)| *cq == q) {
                    let mut both = [0u8; 128];
                    both[..64].copy_from_slice(&t[0]);
                    both[64..].copy_from_slice(&t[1]);
                    self.q_cache.push((q, both));
                }
                t
            }
        };
        self.width = u16::from(w) * 8;
        self.height = u16::from(h) * 8;
        self.ts = ts;
        self.frame.clear();
        write_jfif_header(
            &mut self.frame,
            ty & 1,
            self.width,
            self.height,
            &tables,
            restart_interval,
        );
        self.header_len = self.frame.len();
        self.frame.extend_from_slice(&p[pos..]);
        self.in_frame = true;
        Ok(())
    }
}

fn put_marker(out: &mut Vec<u8>, marker: u8, len: usize) {
    out.extend_from_slice(&[0xff, marker]);
    out.extend_from_slice(&((len + 2) as u16).to_be_bytes());
}

/// Writes SOI, APP0 (JFIF), DQT, DRI, SOF0, DHT and SOS for an RFC 2435
/// frame (Appendix B's `MakeHeaders`): component 1 is Y with table 0,
/// components 2 and 3 are Cb and Cr with table 1.
fn write_jfif_header(
    out: &mut Vec<u8>,
    ty: u8,
    width: u16,
    height: u16,
    tables: &[[u8; 64]; 2],
    restart_interval: u16,
) {
    out.extend_from_slice(&[0xff, SOI]);
    put_marker(out, 0xe0, 14);
    out.extend_from_slice(b"JFIF\0");
    out.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
    put_marker(out, DQT, 2 * 65);
    for (i, t) in tables.iter().enumerate() {
        out.push(i as u8);
        out.extend_from_slice(t);
    }
    if restart_interval > 0 {
        put_marker(out, DRI, 2);
        out.extend_from_slice(&restart_interval.to_be_bytes());
    }
    put_marker(out, SOF0, 15);
    out.push(8);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    // Type 0: Y 2x1 (4:2:2); type 1: Y 2x2 (4:2:0) (RFC 2435 §4.1).
    out.extend_from_slice(&[
        3,
        1,
        if ty == 0 { 0x21 } else { 0x22 },
        0,
        2,
        0x11,
        1,
        3,
        0x11,
        1,
    ]);
    let dht_len: usize = std_huffman_tables()
        .iter()
        .map(|(_, _, v)| 17 + v.len())
        .sum();
    put_marker(out, DHT, dht_len);
    for (id, bits, values) in std_huffman_tables() {
        out.push(id);
        out.extend_from_slice(bits);
        out.extend_from_slice(values);
    }
    put_marker(out, SOS, 10);
    out.extend_from_slice(&[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_tables_are_consistent() {
        for (_, bits, values) in std_huffman_tables() {
            let n: usize = bits.iter().map(|&b| usize::from(b)).sum();
            assert_eq!(n, values.len());
        }
        // Q = 50 is the unscaled Annex K table.
        assert_eq!(scaled_quant_tables(50)[0], STD_LUMA_QUANT);
        assert_eq!(scaled_quant_tables(50)[1], STD_CHROMA_QUANT);
        assert!(scaled_quant_tables(99)[0].iter().all(|&v| v == 1 || v == 2));
        assert!(scaled_quant_tables(1)[1].iter().all(|&v| v == 255));
    }

    #[test]
    fn rejects_non_jpeg_and_bad_sizes() {
        assert!(parse_jpeg(b"nope").is_err());
        assert!(parse_jpeg(&[0xff, 0xd8, 0xff, 0xd9]).is_err());
        // SOF0 with width 20 (not a multiple of 8).
        let mut j = vec![0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 16, 0, 20, 3];
        j.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        let e = parse_jpeg(&j).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("multiples of 8"), "{e}");
    }
}
