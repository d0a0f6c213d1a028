//! H.264 NAL units (H.264 §7.3.1, Table 7-1; Annex B byte stream): their types,
//! walking an access unit's NAL units, and what an access unit holds.
//!
//! ```text
//!  00 00 00 01 | F NRI  Type | payload ... | 00 00 01 | ...
//!  start code  | 1  2    5   |
//! ```
//!
//! The one NAL scanner of the workspace: the payloader, the depayloader and
//! the encoder and decoder elements all walk access units with
//! [`NalUnits`]. Nothing here panics, whatever the bytes, and nothing but
//! [`access_units`] (for whole files, not the per-frame path) allocates.

/// NAL unit type numbers (H.264 Table 7-1, RFC 6184 Table 1).
pub mod nal_type {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: u8 = 1;
    /// Coded slice of an IDR picture: a decoder can start here.
    pub const IDR: u8 = 5;
    /// Supplemental enhancement information.
    pub const SEI: u8 = 6;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
    /// Single-time aggregation packet (RFC 6184 §5.7.1).
    pub const STAP_A: u8 = 24;
    /// Fragmentation unit A (RFC 6184 §5.8).
    pub const FU_A: u8 = 28;
}

/// The 4-byte Annex B start code the depayloader writes before every NAL
/// unit (H.264 Annex B: `zero_byte` + `start_code_prefix_one_3bytes`;
/// decoders and muxers all accept it for every NAL unit).
pub const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Type of a NAL unit from its first byte.
pub fn nal_unit_type(header: u8) -> u8 {
    header & 0x1f
}

pub(super) fn is_vcl(t: u8) -> bool {
    (1..=5).contains(&t)
}

/// Finds the next `00 00 01` at or after `from`; returns its position.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 2 < data.len() {
        // Skip by three when the third byte cannot end a start code.
        if data[i + 2] > 1 {
            i += 3;
        } else if data[i + 2] == 1 && data[i] == 0 && data[i + 1] == 0 {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// Splits a whole Annex B byte stream (a `.h264` file) into access
/// units: after a VCL NAL unit, the next AUD, SEI, SPS, PPS, or slice
/// with `first_mb_in_slice == 0` (its first bit after the header is 1)
/// starts a new one (H.264 §7.4.1.2.3). An encoder hands over one access
/// unit at a time; this is for streams read from files.
pub fn access_units(es: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut aus: Vec<Vec<&[u8]>> = Vec::new();
    let mut cur: Vec<&[u8]> = Vec::new();
    let mut has_vcl = false;
    for n in NalUnits::AnnexB(es).iter() {
        let t = nal_unit_type(n[0]);
        let vcl = is_vcl(t);
        let first_slice = vcl && n.get(1).is_some_and(|b| b & 0x80 != 0);
        if has_vcl && (first_slice || (nal_type::SEI..=nal_type::AUD).contains(&t)) {
            aus.push(std::mem::take(&mut cur));
            has_vcl = false;
        }
        has_vcl |= vcl;
        cur.push(n);
    }
    if !cur.is_empty() {
        aus.push(cur);
    }
    aus
}

/// Where an access unit's NAL units come from.
#[derive(Debug, Clone, Copy)]
pub enum NalUnits<'a> {
    /// An Annex B byte stream: NAL units behind 3- or 4-byte start codes,
    /// as x264, openh264 and hardware encoders emit. Bytes before the
    /// first start code and trailing zero bytes of each NAL unit are
    /// ignored.
    AnnexB(&'a [u8]),
    /// NAL units already split, each starting with its header byte.
    List(&'a [&'a [u8]]),
}

impl<'a> NalUnits<'a> {
    /// Iterates over the non-empty NAL units.
    pub fn iter(&self) -> NalIter<'a> {
        match *self {
            NalUnits::AnnexB(data) => NalIter::AnnexB {
                data,
                next: find_start_code(data, 0).map(|p| p + 3),
            },
            NalUnits::List(list) => NalIter::List(list.iter()),
        }
    }

    /// The first SPS and the first PPS (with their header byte), when
    /// both are there: what an SDP's `sprop-parameter-sets` and an
    /// `ANNOUNCE` describe the stream with.
    pub fn parameter_sets(&self) -> Option<(&'a [u8], &'a [u8])> {
        let (mut sps, mut pps) = (None, None);
        for nal in self.iter() {
            match nal_unit_type(nal[0]) {
                nal_type::SPS if sps.is_none() => sps = Some(nal),
                nal_type::PPS if pps.is_none() => pps = Some(nal),
                _ => {}
            }
        }
        Some((sps?, pps?))
    }
}

/// Iterator over the NAL units of [`NalUnits`]; never allocates.
#[derive(Clone)]
pub enum NalIter<'a> {
    #[doc(hidden)]
    AnnexB { data: &'a [u8], next: Option<usize> },
    #[doc(hidden)]
    List(std::slice::Iter<'a, &'a [u8]>),
}

impl std::fmt::Debug for NalIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Positions, not the access unit's bytes.
        match self {
            NalIter::AnnexB { data, next } => f
                .debug_struct("NalIter::AnnexB")
                .field("len", &data.len())
                .field("next", next)
                .finish(),
            NalIter::List(it) => f
                .debug_struct("NalIter::List")
                .field("left", &it.len())
                .finish(),
        }
    }
}

impl<'a> Iterator for NalIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            NalIter::AnnexB { data, next } => loop {
                let start = (*next)?;
                let end = match find_start_code(data, start) {
                    Some(sc) => {
                        *next = Some(sc + 3);
                        sc
                    }
                    None => {
                        *next = None;
                        data.len()
                    }
                };
                let mut nal = &data[start..end];
                // trailing_zero_8bits, and the leading zero of a 4-byte
                // start code, belong to no NAL unit (H.264 B.1.1).
                while let [rest @ .., 0] = nal {
                    nal = rest;
                }
                if !nal.is_empty() {
                    return Some(nal);
                }
            },
            NalIter::List(it) => it.by_ref().copied().find(|n| !n.is_empty()),
        }
    }
}

/// What an access unit holds, as far as encoders, decoders and keyframe
/// handling care: see [`NalUnits::classify`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessUnitKind {
    /// An SPS or PPS is present.
    pub parameter_sets: bool,
    /// A slice of an IDR picture is present: a decoder can start here.
    pub idr: bool,
    /// Any coded slice (IDR or not) is present.
    pub slice: bool,
}

impl NalUnits<'_> {
    /// Scans the NAL headers: parameter sets, IDR and other slices.
    pub fn classify(&self) -> AccessUnitKind {
        let mut kind = AccessUnitKind::default();
        for nal in self.iter() {
            match nal_unit_type(nal[0]) {
                nal_type::SPS | nal_type::PPS => kind.parameter_sets = true,
                nal_type::IDR => {
                    kind.idr = true;
                    kind.slice = true;
                }
                t if is_vcl(t) => kind.slice = true,
                _ => {}
            }
        }
        kind
    }

    /// The caps `profile` name (GStreamer's codec-utils spelling) of the
    /// first SPS, from `profile_idc` and the constraint flags (H.264
    /// §7.3.2.1.1, §A.2). `None` without an SPS, or for a profile with no
    /// name here.
    pub fn sps_profile(&self) -> Option<&'static str> {
        let sps = self.iter().find(|n| nal_unit_type(n[0]) == nal_type::SPS)?;
        let (&profile_idc, &constraints) = (sps.get(1)?, sps.get(2)?);
        let set1 = constraints & 0x40 != 0;
        let set3 = constraints & 0x10 != 0;
        Some(match profile_idc {
            66 if set1 => "constrained-baseline",
            66 => "baseline",
            77 => "main",
            88 => "extended",
            100 => "high",
            110 if set3 => "high-10-intra",
            110 => "high-10",
            122 => "high-4:2:2",
            244 => "high-4:4:4",
            _ => return None,
        })
    }
}
