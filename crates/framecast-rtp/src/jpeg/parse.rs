//! Reading a baseline JFIF image (ITU T.81 Annex B): the markers, and the
//! parts of the headers the payloader sends.

use super::*;
use crate::error::{Error, Result};

// JPEG markers (ITU T.81 Table B.1).
pub(super) const SOI: u8 = 0xd8;
pub(super) const EOI: u8 = 0xd9;
pub(super) const SOF0: u8 = 0xc0;
pub(super) const DHT: u8 = 0xc4;
pub(super) const DQT: u8 = 0xdb;
pub(super) const DRI: u8 = 0xdd;
pub(super) const SOS: u8 = 0xda;

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

pub(super) fn be16(b: &[u8], at: usize) -> u16 {
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
