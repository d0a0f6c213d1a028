//! Just enough H.264 Annex B parsing for the encoder and decoder elements:
//! walk the NAL units of a byte-stream access unit, tell parameter sets and
//! IDR slices apart, and read the profile out of an SPS
//! (ITU-T H.264 §7.3.1 NAL unit syntax, §7.4.1 Table 7-1 NAL unit types,
//! §7.3.2.1.1 SPS syntax, Annex B byte stream format).
//!
//! ```text
//!  00 00 00 01 | F NRI  Type | payload ... | 00 00 01 | ...
//!  start code  | 1  2    5   |
//! ```
//!
//! Nothing here allocates or panics, whatever the bytes.

/// `nal_unit_type` of a coded slice of a non-IDR picture.
pub const NAL_SLICE: u8 = 1;
/// `nal_unit_type` of a coded slice of an IDR picture.
pub const NAL_IDR: u8 = 5;
/// `nal_unit_type` of a sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// `nal_unit_type` of a picture parameter set.
pub const NAL_PPS: u8 = 8;

/// The NAL units of an Annex B byte stream, without their start codes
/// (the first byte of each item is the NAL header). Bytes before the first
/// start code are skipped.
pub fn nal_units(data: &[u8]) -> NalUnits<'_> {
    let start = find_start_code(data, 0).map_or(data.len(), |(_, payload)| payload);
    NalUnits { data, pos: start }
}

/// Iterator returned by [`nal_units`].
#[derive(Debug, Clone)]
pub struct NalUnits<'a> {
    data: &'a [u8],
    pos: usize,
}

/// `(start of the start code, start of the NAL after it)` of the first
/// start code at or after `from`.
fn find_start_code(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i + 3 <= data.len() {
        if data[i + 2] > 1 {
            i += 3;
            continue;
        }
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let begin = if i > from && data[i - 1] == 0 {
                i - 1
            } else {
                i
            };
            return Some((begin, i + 3));
        }
        i += 1;
    }
    None
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.pos < self.data.len() {
            let start = self.pos;
            let (end, next) =
                find_start_code(self.data, start).unwrap_or((self.data.len(), self.data.len()));
            self.pos = next;
            // Trailing zero bytes belong to the next start code (or are padding).
            let mut stop = end;
            while stop > start && self.data[stop - 1] == 0 {
                stop -= 1;
            }
            if stop > start {
                return Some(&self.data[start..stop]);
            }
        }
        None
    }
}

/// The `nal_unit_type` of a NAL unit (its first byte's low 5 bits).
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| b & 0x1f)
}

/// What an access unit holds, as far as the elements care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessUnitKind {
    /// An SPS or PPS is present.
    pub parameter_sets: bool,
    /// A slice of an IDR picture is present.
    pub idr: bool,
    /// Any coded slice (IDR or not) is present.
    pub slice: bool,
}

/// Scans the NAL headers of an Annex B access unit.
pub fn classify(data: &[u8]) -> AccessUnitKind {
    let mut kind = AccessUnitKind::default();
    for nal in nal_units(data) {
        match nal_type(nal) {
            Some(NAL_SPS | NAL_PPS) => kind.parameter_sets = true,
            Some(NAL_IDR) => {
                kind.idr = true;
                kind.slice = true;
            }
            Some(NAL_SLICE..=4) => kind.slice = true,
            _ => {}
        }
    }
    kind
}

/// The caps `profile` name (GStreamer's codec-utils spelling) of the first
/// SPS in `data`, from `profile_idc` and the constraint flags
/// (H.264 §A.2).
pub fn sps_profile(data: &[u8]) -> Option<&'static str> {
    let sps = nal_units(data).find(|n| nal_type(n) == Some(NAL_SPS))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_nal_units_with_both_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0x00,
        ];
        let nals: Vec<&[u8]> = nal_units(&data).collect();
        assert_eq!(nals.len(), 3);
        assert_eq!(nals[0], &[0x67, 0x42, 0xc0, 0x1e]);
        assert_eq!(nals[1], &[0x68, 0xce]);
        assert_eq!(nals[2], &[0x65, 0x88]);
        let kind = classify(&data);
        assert!(kind.parameter_sets && kind.idr && kind.slice);
        assert_eq!(sps_profile(&data), Some("constrained-baseline"));
    }

    #[test]
    fn garbage_is_harmless() {
        for data in [
            &[][..],
            &[0],
            &[0, 0],
            &[0, 0, 1],
            &[0, 0, 0, 1],
            &[1, 2, 3, 0, 0],
        ] {
            let _ = nal_units(data).count();
            let _ = classify(data);
            let _ = sps_profile(data);
        }
        let kind = classify(&[0, 0, 1, 0x41, 0x9a]);
        assert!(!kind.idr && kind.slice && !kind.parameter_sets);
    }
}
