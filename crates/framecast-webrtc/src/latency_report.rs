//! A viewer's own latency, reported by the viewer page.
//!
//! Only the browser knows when a frame reached its screen. Chromium's
//! `requestVideoFrameCallback` gives, per presented frame, its
//! `receiveTime` (its last packet's arrival), its `expectedDisplayTime`,
//! and where the browser can map the sender's clock onto its own (the
//! RTCP sender reports, `abs-capture-time`) its `captureTime`. The viewer
//! page posts, about once a second, to its WHEP session
//! (`POST <session>/latency`) a `text/plain` body naming what it measured
//! and the samples in milliseconds, separated by white space:
//!
//! ```text
//! arrival 8.1 7.9 9.0
//! ```
//!
//! - `arrival`: from the frame's arrival to its display (the browser's
//!   jitter buffer, decode and compositor): the last stage of a frame's
//!   way, after the pipeline's (push → encoded → wire) and the network's
//!   (half the RTT).
//! - `capture`: from the frame's capture to its display: the whole way,
//!   glass to glass, as the browser's clock mapping has it.
//!
//! The body is network input: it is bounded ([`MAX_BODY`] bytes,
//! [`MAX_SAMPLES`] samples), and each sample must be a finite, non-negative
//! number of at most [`MAX_MS`]; anything else is refused as a whole with
//! what and where, and nothing of it is recorded.

use std::time::Duration;

use framecast_core::trace::{Histogram, Summary};

use crate::{ErrorKind, WebrtcError};

/// The largest body taken: 240 samples of "1234.567 " with room to spare.
pub const MAX_BODY: usize = 4096;
/// The most samples in one report (8 s of 30 fps between two reports).
pub const MAX_SAMPLES: usize = 240;
/// The largest latency accepted, in milliseconds: a minute (a page whose
/// clock mapping is off by more reports nothing useful).
pub const MAX_MS: f64 = 60_000.0;

/// What a report's samples measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measured {
    /// From a frame's arrival to its display: the viewer's own stage.
    ArrivalToDisplay,
    /// From a frame's capture to its display: glass to glass.
    CaptureToDisplay,
}

impl Measured {
    /// The word a report starts with.
    pub fn word(self) -> &'static str {
        match self {
            Measured::ArrivalToDisplay => "arrival",
            Measured::CaptureToDisplay => "capture",
        }
    }
}

/// One report: what it measures, and the samples in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// What the samples measure.
    pub measured: Measured,
    /// The samples.
    pub samples: Vec<Duration>,
}

/// What reports said so far, each kind in its own histogram (a viewer's
/// session keeps one, its stream another for all viewers).
#[derive(Debug, Default)]
pub(crate) struct Reported {
    arrival_to_display: Histogram,
    capture_to_display: Histogram,
}

impl Reported {
    fn of(&self, measured: Measured) -> &Histogram {
        match measured {
            Measured::ArrivalToDisplay => &self.arrival_to_display,
            Measured::CaptureToDisplay => &self.capture_to_display,
        }
    }

    /// Adds a report's samples.
    pub(crate) fn record(&mut self, report: &Report) {
        let h = match report.measured {
            Measured::ArrivalToDisplay => &mut self.arrival_to_display,
            Measured::CaptureToDisplay => &mut self.capture_to_display,
        };
        for &d in &report.samples {
            h.record(d);
        }
    }

    /// The figures of `measured` so far (empty ones before any report).
    pub(crate) fn summary(&self, measured: Measured) -> Summary {
        self.of(measured).summary()
    }

    /// The figures of `measured`, `None` before its first report.
    pub(crate) fn reported(&self, measured: Measured) -> Option<Summary> {
        let h = self.of(measured);
        (h.count() > 0).then(|| h.summary())
    }
}

/// Parses a report body.
///
/// # Errors
///
/// [`ErrorKind::TooLarge`] for a body over [`MAX_BODY`] bytes;
/// [`ErrorKind::BadRequest`] naming the problem: not UTF-8, no `arrival` or
/// `capture` first, more than [`MAX_SAMPLES`] samples, or a sample (given
/// by its position) that is not a number in `0..=MAX_MS`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use framecast_webrtc::latency_report::{parse, Measured};
/// let r = parse(b"arrival 31.5 29\n33").unwrap();
/// assert_eq!(r.measured, Measured::ArrivalToDisplay);
/// assert_eq!(r.samples, [Duration::from_micros(31_500), Duration::from_millis(29), Duration::from_millis(33)]);
/// assert!(parse(b"capture 12 -1").unwrap_err().to_string().contains("sample 2"));
/// ```
pub fn parse(body: &[u8]) -> Result<Report, WebrtcError> {
    let bad = |m: String| WebrtcError::new(ErrorKind::BadRequest, format!("latency report: {m}"));
    if body.len() > MAX_BODY {
        return Err(WebrtcError::new(
            ErrorKind::TooLarge,
            format!("latency report: {} bytes, more than {MAX_BODY}", body.len()),
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let mut words = text.split_ascii_whitespace();
    let measured = match words.next() {
        Some("arrival") => Measured::ArrivalToDisplay,
        Some("capture") => Measured::CaptureToDisplay,
        other => {
            let shown: String = other.unwrap_or("").chars().take(24).collect();
            return Err(bad(format!(
                "starts with {shown:?}, not \"arrival\" or \"capture\""
            )));
        }
    };
    let mut samples = Vec::new();
    for (i, word) in words.enumerate() {
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
    Ok(Report { measured, samples })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_what_is_not_a_bounded_list_of_milliseconds() {
        assert!(parse(b"arrival").unwrap().samples.is_empty());
        assert_eq!(
            parse(b" capture \n ").unwrap().measured,
            Measured::CaptureToDisplay
        );
        for (body, says) in [
            (&b"arrival 12 NaN"[..], "sample 2"),
            (b"arrival inf", "sample 1"),
            (b"capture 1e9", "sample 1"),
            (b"arrival 12,5", "sample 1"),
            (b"12 13", "starts with \"12\""),
            (b"", "starts with \"\""),
            (b"\xff", "UTF-8"),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::BadRequest);
            assert!(e.to_string().contains(says), "{body:?}: {e}");
        }
        let many = format!("arrival {}", "1 ".repeat(MAX_SAMPLES + 1));
        assert!(parse(many.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("more than 240"));
        let most = format!("arrival {}", "1 ".repeat(MAX_SAMPLES));
        assert_eq!(parse(most.as_bytes()).unwrap().samples.len(), MAX_SAMPLES);
        let long = vec![b' '; MAX_BODY + 1];
        assert_eq!(parse(&long).unwrap_err().kind(), ErrorKind::TooLarge);
    }

    proptest! {
        /// Any list of valid samples, joined by any white space, parses to
        /// the same durations (to the microsecond), under its word.
        #[test]
        fn written_samples_parse_back(ms in proptest::collection::vec(0.0f64..=MAX_MS, 0..MAX_SAMPLES),
                                      sep in prop::sample::select(vec![" ", "\n", "\t", "  \r\n"]),
                                      capture in any::<bool>()) {
            let measured = if capture { Measured::CaptureToDisplay } else { Measured::ArrivalToDisplay };
            let words: Vec<String> = std::iter::once(measured.word().to_string())
                .chain(ms.iter().map(|v| format!("{v:.3}")))
                .collect();
            let body = words.join(sep);
            prop_assume!(body.len() <= MAX_BODY);
            let got = parse(body.as_bytes()).unwrap();
            prop_assert_eq!(got.measured, measured);
            prop_assert_eq!(got.samples.len(), ms.len());
            for (g, want) in got.samples.iter().zip(&ms) {
                prop_assert!((g.as_secs_f64() * 1e3 - want).abs() < 1e-3 + 1e-9);
            }
        }

        /// Arbitrary bytes parse or are refused, never a panic, and what
        /// parses is within the bounds.
        #[test]
        fn any_bytes_are_bounded_or_refused(body in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(r) = parse(&body) {
                prop_assert!(r.samples.len() <= MAX_SAMPLES);
                prop_assert!(r.samples.iter().all(|d| d.as_secs_f64() <= MAX_MS / 1e3 + 1e-9));
            }
        }
    }
}
