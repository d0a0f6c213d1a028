//! RTP caps as GStreamer writes them (`application/x-rtp,media=video,...`,
//! see [`crate::elements::net`] for their SDP form), the fields the
//! depayloaders read from them, and random stream identifiers.

use framecast_rtp::raw::RawFormat;

use crate::pipeline::template_caps;
use crate::pipeline::{Caps, Structure, Value};
use crate::VideoFormat;

/// Media type of RTP caps.
pub const RTP_MEDIA_TYPE: &str = "application/x-rtp";

/// The 90 kHz clock of every video payload format (RFC 3551 §5, RFC 6184
/// §5.1, RFC 2435 §3, RFC 4175 §6.1).
pub const VIDEO_CLOCK_RATE: i32 = 90_000;

/// `application/x-rtp,media=video,clock-rate=90000,encoding-name=<name>`:
/// the sink template of a depayloader, as GStreamer's.
pub(crate) fn rtp_template(encoding_name: &str) -> Caps {
    let s = format!(
        "{RTP_MEDIA_TYPE},media=video,clock-rate={VIDEO_CLOCK_RATE},encoding-name={encoding_name}"
    );
    template_caps(&s)
}

/// A random 32-bit value for SSRCs, initial sequence numbers and timestamp
/// offsets (RFC 3550 §5.1 and §8: random, so that streams do not collide
/// and known-plaintext attacks on encryption get harder). Not
/// cryptographic: it hashes the time, the process id and a per-process
/// random key (`std`'s `RandomState`).
pub fn random_u32() -> u32 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    let v = h.finish();
    (v >> 32) as u32 ^ v as u32
}

/// A caps field that GStreamer writes as a string (`width=(string)640`)
/// but people also write as an int.
pub(crate) fn field_text(s: &Structure, name: &str) -> Option<String> {
    match s.value(name)? {
        Value::String(v) => Some(v.clone()),
        Value::Int(v) => Some(v.to_string()),
        Value::Double(v) => Some(v.to_string()),
        Value::Fraction(f) => Some(f.to_string()),
        _ => None,
    }
}

/// A numeric caps field given as an int or a string.
pub(crate) fn field_usize(s: &Structure, name: &str) -> Option<usize> {
    field_text(s, name)?.trim().parse().ok()
}

/// `a-framerate` of RTP caps (`30`, `29.97`, `30000/1001`).
pub(crate) fn caps_framerate(s: &Structure) -> Option<f64> {
    let text = field_text(s, "a-framerate")?;
    match text.split_once('/') {
        Some((n, d)) => {
            let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
            (d != 0.0).then_some(n / d)
        }
        None => text.trim().parse().ok(),
    }
    .filter(|f: &f64| f.is_finite() && *f > 0.0)
}

/// The RFC 4175 format of a raw video format, if RTP can carry it here.
pub fn raw_format_of(format: VideoFormat) -> Option<RawFormat> {
    Some(match format {
        VideoFormat::I420 => RawFormat::I420,
        VideoFormat::Rgb => RawFormat::Rgb,
        VideoFormat::Bgr => RawFormat::Bgr,
        VideoFormat::Rgba => RawFormat::Rgba,
        VideoFormat::Bgra => RawFormat::Bgra,
        _ => return None,
    })
}

/// The raw video format of an RFC 4175 format, if framecast has it.
pub fn video_format_of(format: RawFormat) -> Option<VideoFormat> {
    Some(match format {
        RawFormat::I420 => VideoFormat::I420,
        RawFormat::Rgb => VideoFormat::Rgb,
        RawFormat::Bgr => VideoFormat::Bgr,
        RawFormat::Rgba => VideoFormat::Rgba,
        RawFormat::Bgra => VideoFormat::Bgra,
        _ => return None,
    })
}
