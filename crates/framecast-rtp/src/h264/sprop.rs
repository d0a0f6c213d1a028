//! The H.264 SDP parameters (RFC 6184 §8.1): `sprop-parameter-sets` and
//! `profile-level-id`.

use super::*;
use crate::error::{Error, Result};

/// The SDP `sprop-parameter-sets` value (RFC 6184 §8.1): base64 of each
/// parameter set NAL unit, comma-separated.
///
/// # Examples
///
/// ```
/// assert_eq!(framecast_rtp::h264::sprop_parameter_sets(&[&[0x67, 0x42], &[0x68]]), "Z0I=,aA==");
/// ```
pub fn sprop_parameter_sets(sets: &[&[u8]]) -> String {
    let mut s = String::new();
    for (i, set) in sets.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&crate::base64::encode(set));
    }
    s
}

/// Decodes `sprop-parameter-sets` into NAL units.
///
/// # Errors
///
/// [`Error::Malformed`] on bad base64 or an empty set.
pub fn parse_sprop_parameter_sets(value: &str) -> Result<Vec<Vec<u8>>> {
    value
        .split(',')
        .enumerate()
        .map(|(i, part)| match crate::base64::decode(part) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(Error::malformed(
                "sprop-parameter-sets",
                i,
                "not base64 or empty (index in value)",
                i as u64,
            )),
        })
        .collect()
}

/// The SDP `profile-level-id` (RFC 6184 §8.1): the SPS bytes after the
/// NAL header — `profile_idc`, the constraint flags, `level_idc` — in
/// hex. `None` if `sps` is shorter than 4 bytes or not an SPS.
pub fn profile_level_id(sps: &[u8]) -> Option<String> {
    if sps.len() < 4 || nal_unit_type(sps[0]) != nal_type::SPS {
        return None;
    }
    Some(format!("{:02X}{:02X}{:02X}", sps[1], sps[2], sps[3]))
}
