//! A viewer's own glass-to-glass latency, reported by the viewer page.
//!
//! Only the browser knows when a frame reached its screen. Chromium's
//! `requestVideoFrameCallback` gives, per presented frame, its
//! `captureTime` (the sender's capture instant, mapped onto the page's
//! clock through the RTCP sender reports' NTP ↔ RTP mapping, and the
//! `abs-capture-time` header extension the stream sends) and its
//! `expectedDisplayTime`; the difference is the frame's latency from
//! capture to glass. The viewer page collects those and posts them, about
//! once a second, to its WHEP session: `POST <session>/latency` with a
//! `text/plain` body of milliseconds separated by white space:
//!
//! ```text
//! 31.2 29.8 33.0
//! ```
//!
//! The body is network input: it is bounded ([`MAX_BODY`] bytes,
//! [`MAX_SAMPLES`] samples), and each sample must be a finite, non-negative
//! number of at most [`MAX_MS`]; anything else is refused as a whole with
//! what and where, and nothing of it is recorded.

use std::time::Duration;

use crate::{ErrorKind, WebrtcError};

/// The largest body taken: 240 samples of "1234.567 " with room to spare.
pub const MAX_BODY: usize = 4096;
/// The most samples in one report (8 s of 30 fps between two reports).
pub const MAX_SAMPLES: usize = 240;
/// The largest latency accepted, in milliseconds: a minute (a page whose
/// clock mapping is off by more reports nothing useful).
pub const MAX_MS: f64 = 60_000.0;

/// The samples of a report body, in order.
///
/// # Errors
///
/// [`ErrorKind::BadRequest`] naming the problem: a body over [`MAX_BODY`]
/// bytes or not UTF-8, more than [`MAX_SAMPLES`] samples, or a sample
/// (given by its position) that is not a number in `0..=MAX_MS`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use framecast_webrtc::latency_report::parse;
/// let s = parse(b"31.5 29\n33").unwrap();
/// assert_eq!(s, [Duration::from_micros(31_500), Duration::from_millis(29), Duration::from_millis(33)]);
/// assert!(parse(b"12 -1").unwrap_err().to_string().contains("sample 2"));
/// ```
pub fn parse(body: &[u8]) -> Result<Vec<Duration>, WebrtcError> {
    let bad = |m: String| WebrtcError::new(ErrorKind::BadRequest, format!("latency report: {m}"));
    if body.len() > MAX_BODY {
        return Err(bad(format!("{} bytes, more than {MAX_BODY}", body.len())));
    }
    let text = std::str::from_utf8(body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let mut samples = Vec::new();
    for (i, word) in text.split_ascii_whitespace().enumerate() {
        if i >= MAX_SAMPLES {
            return Err(bad(format!("more than {MAX_SAMPLES} samples")));
        }
        let ms: f64 = word
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && (0.0..=MAX_MS).contains(v))
            .ok_or_else(|| {
                let shown: String = word.chars().take(24).collect();
                bad(format!(
                    "sample {} ({shown:?}) is not milliseconds in 0..={MAX_MS}",
                    i + 1
                ))
            })?;
        samples.push(Duration::from_secs_f64(ms / 1e3));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_what_is_not_a_bounded_list_of_milliseconds() {
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"  \n ").unwrap().is_empty());
        for (body, says) in [
            (&b"12 NaN"[..], "sample 2"),
            (b"inf", "sample 1"),
            (b"1e9", "sample 1"),
            (b"12,5", "sample 1"),
            (b"\xff", "UTF-8"),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::BadRequest);
            assert!(e.to_string().contains(says), "{body:?}: {e}");
        }
        let many = "1 ".repeat(MAX_SAMPLES + 1);
        assert!(parse(many.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("more than 240"));
        assert_eq!(
            parse("1 ".repeat(MAX_SAMPLES).as_bytes()).unwrap().len(),
            MAX_SAMPLES
        );
        let long = vec![b' '; MAX_BODY + 1];
        assert!(parse(&long).unwrap_err().to_string().contains("bytes"));
    }

    proptest! {
        /// Any list of valid samples, joined by any white space, parses to
        /// the same durations (to the microsecond).
        #[test]
        fn written_samples_parse_back(ms in proptest::collection::vec(0.0f64..=MAX_MS, 0..MAX_SAMPLES),
                                      sep in prop::sample::select(vec![" ", "\n", "\t", "  \r\n"])) {
            let body: Vec<String> = ms.iter().map(|v| format!("{v:.3}")).collect();
            let body = body.join(sep);
            prop_assume!(body.len() <= MAX_BODY);
            let got = parse(body.as_bytes()).unwrap();
            prop_assert_eq!(got.len(), ms.len());
            for (g, want) in got.iter().zip(&ms) {
                prop_assert!((g.as_secs_f64() * 1e3 - want).abs() < 1e-3 + 1e-9);
            }
        }

        /// Arbitrary bytes parse or are refused, never a panic, and what
        /// parses is within the bounds.
        #[test]
        fn any_bytes_are_bounded_or_refused(body in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(s) = parse(&body) {
                prop_assert!(s.len() <= MAX_SAMPLES);
                prop_assert!(s.iter().all(|d| d.as_secs_f64() <= MAX_MS / 1e3 + 1e-9));
            }
        }
    }
}
