//! The rules for the fields of well-known media types: what a `width`, a
//! raw-video `format` or an RTP `payload` may hold.
//!
//! GStreamer accepts `video/x-raw,format=NOPE` or `width=0` as text and
//! fails later, in negotiation, with "downstream accepts EMPTY" and no hint
//! of which token was wrong. framecast checks caps read from text against
//! these rules (the parser calls [`check`]), so the error points at the
//! value, and [`Caps::video_info`](super::Caps::video_info) checks fixed
//! caps against the same rules. Fields and media types not listed are free,
//! as in GStreamer.
//!
//! Every alternative a field allows must obey its rule: each item of a
//! list `{ I420, NOPE }`, both ends of a range `[ 0, 100 ]`.

use crate::error::closest;
use crate::{Fraction, VideoFormat};

use super::video::VIDEO_RAW;
use super::Value;

/// What the values of a field must be.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A raw-video format framecast knows, spelt as in GStreamer.
    VideoFormat,
    /// An int in `min..=max`; `what` says what it counts.
    Int {
        min: i32,
        max: i32,
        what: &'static str,
    },
    /// A fraction, at least `0/1` (`framerate`: `0/1` means variable), or
    /// above it when `positive`.
    Fraction { positive: bool },
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// Sizes of coded and raw video, in pixels.
const PIXELS: Rule = Rule::Int {
    min: 1,
    max: i32::MAX,
    what: "pixels",
};
const RATE: Rule = Rule::Fraction { positive: false };
const ASPECT: Rule = Rule::Fraction { positive: true };
const H26X_ALIGNMENT: Rule = Rule::OneOf(&["au", "nal"]);

/// Media types whose pictures have a size and a rate.
const VIDEO: &[&str] = &[
    VIDEO_RAW,
    "video/x-h264",
    "video/x-h265",
    "video/x-vp8",
    "video/x-vp9",
    "video/x-av1",
    "image/jpeg",
];
const RTP: &[&str] = &["application/x-rtp"];

/// `(media types, field, rule)`.
const RULES: &[(&[&str], &str, Rule)] = &[
    (&[VIDEO_RAW], "format", Rule::VideoFormat),
    (
        &[VIDEO_RAW],
        "interlace-mode",
        // GStreamer's `GstVideoInterlaceMode` nicks.
        Rule::OneOf(&["progressive", "interleaved", "mixed", "fields", "alternate"]),
    ),
    (VIDEO, "width", PIXELS),
    (VIDEO, "height", PIXELS),
    (VIDEO, "framerate", RATE),
    (VIDEO, "max-framerate", RATE),
    (VIDEO, "pixel-aspect-ratio", ASPECT),
    (
        &["video/x-h264"],
        "stream-format",
        Rule::OneOf(&["avc", "avc3", "byte-stream"]),
    ),
    (&["video/x-h264"], "alignment", H26X_ALIGNMENT),
    (
        &["video/x-h265"],
        "stream-format",
        Rule::OneOf(&["hvc1", "hev1", "byte-stream"]),
    ),
    (&["video/x-h265"], "alignment", H26X_ALIGNMENT),
    // RFC 3550 §5.1: a 7-bit payload type; RFC 4566 §5.14: the media.
    (
        RTP,
        "payload",
        Rule::Int {
            min: 0,
            max: 127,
            what: "an RTP payload type",
        },
    ),
    (
        RTP,
        "clock-rate",
        Rule::Int {
            min: 1,
            max: i32::MAX,
            what: "Hz",
        },
    ),
    (
        RTP,
        "media",
        Rule::OneOf(&["audio", "video", "text", "application", "message"]),
    ),
];

/// A field value that breaks its media type's rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    /// The offending alternative (an item of a list, a range), as it
    /// reads in compact caps text, to point at inside the field's value.
    pub bad: String,
    /// The rule broken: "format of video/x-raw must be a known video
    /// format (…)"; [`message`](Self::message) adds the value.
    pub rule: String,
    /// The likely intended value ("NV12" for "nv12").
    pub suggestion: Option<String>,
}

/// Checks field `field` of a `media_type` structure against the rules;
/// fields without a rule pass.
pub(crate) fn check(media_type: &str, field: &str, value: &Value) -> Result<(), Violation> {
    let Some(&(_, _, rule)) = RULES
        .iter()
        .find(|(types, name, _)| *name == field && types.contains(&media_type))
    else {
        return Ok(());
    };
    check_value(rule, value).map_err(|(bad, expected, suggestion)| Violation {
        rule: format!("{field} of {media_type} must be {expected}"),
        bad: bad.to_string(),
        suggestion,
    })
}

impl Violation {
    /// The rule and the value that broke it, for messages that do not
    /// show the value otherwise.
    pub fn message(&self) -> String {
        format!("{}, not {}", self.rule, self.bad)
    }
}

/// `Err((the bad alternative, what was expected, a suggestion))`.
fn check_value(rule: Rule, value: &Value) -> Result<(), (&Value, String, Option<String>)> {
    if let Value::List(items) = value {
        return items.iter().try_for_each(|item| check_value(rule, item));
    }
    let fail = |suggestion| Err((value, expectation(rule), suggestion));
    match (rule, value) {
        (Rule::VideoFormat, Value::String(name)) => {
            if VideoFormat::ALL.iter().any(|f| f.name() == name) {
                return Ok(());
            }
            // Case matters in negotiation (`i420` meets no `I420`).
            let suggestion = VideoFormat::from_name(name)
                .map(|f| f.name().to_string())
                .ok()
                .or_else(|| closest(name, VideoFormat::ALL.iter().map(|f| f.name())));
            fail(suggestion)
        }
        (Rule::Int { min, max, .. }, Value::Int(v)) if (min..=max).contains(v) => Ok(()),
        (Rule::Int { min, max, .. }, Value::IntRange(r)) if r.min() >= min && r.max() <= max => {
            Ok(())
        }
        (Rule::Fraction { positive }, Value::Fraction(f)) if fraction_ok(*f, positive) => Ok(()),
        (Rule::Fraction { positive }, Value::FractionRange(r))
            if fraction_ok(r.min(), positive) =>
        {
            Ok(())
        }
        (Rule::Fraction { .. }, Value::Int(n)) => fail(Some(format!("{n}/1"))),
        (Rule::OneOf(words), Value::String(word)) => {
            if words.contains(&word.as_str()) {
                return Ok(());
            }
            fail(closest(word, words.iter().copied()))
        }
        _ => fail(None),
    }
}

fn fraction_ok(f: Fraction, positive: bool) -> bool {
    if positive {
        f > Fraction::ZERO
    } else {
        f >= Fraction::ZERO
    }
}

fn expectation(rule: Rule) -> String {
    match rule {
        Rule::VideoFormat => {
            let names: Vec<&str> = VideoFormat::ALL.iter().map(|f| f.name()).collect();
            format!("a known video format ({})", names.join(", "))
        }
        Rule::Int {
            min,
            max: i32::MAX,
            what,
        } => format!("an int of at least {min} ({what})"),
        Rule::Int { min, max, what } => format!("an int from {min} to {max} ({what})"),
        Rule::Fraction { positive: false } => {
            "a fraction of at least 0/1, such as 30/1 (0/1: variable)".into()
        }
        Rule::Fraction { positive: true } => "a positive fraction, such as 1/1".into(),
        Rule::OneOf(words) => format!("one of {}", words.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(media: &str, field: &str, text: &str) -> Option<Violation> {
        let caps: super::super::Caps = format!("{media},x={text}").parse().unwrap();
        let value = caps.structure(0).and_then(|s| s.value("x")).unwrap();
        check(media, field, value).err()
    }

    #[test]
    fn rules_accept_what_negotiation_can_meet() {
        for (media, field, text) in [
            ("video/x-raw", "format", "I420"),
            ("video/x-raw", "format", "{ I420, NV12, GRAY8 }"),
            ("video/x-raw", "width", "1"),
            ("video/x-raw", "width", "[ 1, max ]"),
            ("video/x-raw", "framerate", "0/1"),
            ("video/x-raw", "framerate", "[ 0/1, 2147483647/1 ]"),
            ("image/jpeg", "height", "{ 480, 720 }"),
            ("video/x-h264", "stream-format", "byte-stream"),
            ("application/x-rtp", "payload", "[ 96, 127 ]"),
            ("video/x-raw", "colorimetry", "whatever"),
            ("audio/x-raw", "format", "S16LE"),
        ] {
            assert_eq!(
                violation(media, field, text),
                None,
                "{media},{field}={text}"
            );
        }
    }

    #[test]
    fn rules_name_the_bad_alternative() {
        let cases = [
            ("video/x-raw", "format", "NOPE", "NOPE", None),
            (
                "video/x-raw",
                "format",
                "{ I420, i42O }",
                "i42O",
                Some("I420"),
            ),
            ("video/x-raw", "format", "nv12", "nv12", Some("NV12")),
            ("video/x-raw", "format", "5", "5", None),
            ("video/x-raw", "width", "0", "0", None),
            ("video/x-raw", "height", "[ 0, 100 ]", "[ 0, 100 ]", None),
            ("video/x-raw", "width", "abc", "abc", None),
            ("video/x-raw", "framerate", "-1/1", "-1/1", None),
            ("video/x-raw", "framerate", "30", "30", Some("30/1")),
            ("video/x-raw", "pixel-aspect-ratio", "0/1", "0/1", None),
            ("video/x-h264", "alignment", "frame", "frame", None),
            ("application/x-rtp", "payload", "128", "128", None),
            (
                "application/x-rtp",
                "media",
                "vidoe",
                "vidoe",
                Some("video"),
            ),
        ];
        for (media, field, text, bad, suggestion) in cases {
            let v = violation(media, field, text).unwrap_or_else(|| panic!("{field}={text}"));
            assert_eq!(v.bad, bad, "{field}={text}");
            assert_eq!(v.suggestion.as_deref(), suggestion, "{field}={text}");
            assert!(
                v.rule.starts_with(&format!("{field} of {media} must be ")),
                "{}",
                v.rule
            );
        }
        let v = violation("video/x-raw", "width", "0").unwrap();
        assert_eq!(
            v.message(),
            "width of video/x-raw must be an int of at least 1 (pixels), not 0"
        );
    }
}
