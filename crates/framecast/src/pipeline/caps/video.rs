//! Raw video caps (`video/x-raw`): between [`VideoInfo`] and [`Caps`], and
//! the templates raw-video pads advertise (gst-plugins-base
//! `video-info.c`: `gst_video_info_to_caps`, `gst_video_info_from_caps`).

use crate::{Error, Fraction, Result, VideoFormat, VideoInfo};

use super::range::{FractionRange, IntRange};
use super::{fields, Caps, Structure, Value};

/// The media type of raw video.
pub const VIDEO_RAW: &str = "video/x-raw";

/// The only `interlace-mode` framecast handles.
const PROGRESSIVE: &str = "progressive";
/// The only `multiview-mode` framecast handles.
const MONO: &str = "mono";

impl Caps {
    /// The fixed caps of `info`, with the fields GStreamer's `videotestsrc`
    /// negotiates, in its order:
    ///
    /// ```text
    /// video/x-raw,format=I420,width=320,height=240,framerate=30/1,
    ///   multiview-mode=mono,pixel-aspect-ratio=1/1,interlace-mode=progressive
    /// ```
    ///
    /// so that `{:#}` prints what `gst-launch-1.0 -v` prints for the same
    /// video, and GStreamer peers find the fields they expect.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast::pipeline::Caps;
    /// use framecast::{Fraction, VideoFormat, VideoInfo};
    /// let info = VideoInfo::new(VideoFormat::I420, 320, 240)?.with_fps(Fraction::from_integer(30));
    /// let caps = Caps::from_video_info(&info);
    /// assert_eq!(caps.video_info()?, info);
    /// # Ok::<(), framecast::Error>(())
    /// ```
    #[doc(alias = "gst_video_info_to_caps")]
    pub fn from_video_info(info: &VideoInfo) -> Caps {
        // `VideoInfo::new` keeps sizes within `i32`; saturate for a struct
        // literal that did not.
        let dim = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let mut s = Structure::new_unchecked(VIDEO_RAW);
        s.push_unchecked("format", Value::from(info.format));
        s.push_unchecked("width", Value::Int(dim(info.width)));
        s.push_unchecked("height", Value::Int(dim(info.height)));
        s.push_unchecked("framerate", Value::Fraction(info.fps));
        s.push_unchecked("multiview-mode", Value::from(MONO));
        s.push_unchecked("pixel-aspect-ratio", Value::Fraction(info.par));
        s.push_unchecked("interlace-mode", Value::from(PROGRESSIVE));
        Caps::from_structure(s)
    }

    /// The template of a pad that takes or makes raw video in any of
    /// `formats`, at any size and rate:
    ///
    /// ```text
    /// video/x-raw,format={ I420, NV12 },width=[ 1, 2147483647 ],
    ///   height=[ 1, 2147483647 ],framerate=[ 0/1, 2147483647/1 ]
    /// ```
    ///
    /// (`GST_VIDEO_CAPS_MAKE`). One format gives a plain `format=I420`; an
    /// empty slice gives the empty list `format={  }`, which matches
    /// nothing.
    #[doc(alias = "GST_VIDEO_CAPS_MAKE")]
    pub fn video_raw_any(formats: &[VideoFormat]) -> Caps {
        let format = match formats {
            [one] => Value::from(*one),
            many => Value::list(many.iter().copied()),
        };
        let size = IntRange::new(1, i32::MAX).map_or(Value::Int(1), Value::IntRange);
        let mut s = Structure::new_unchecked(VIDEO_RAW);
        s.push_unchecked("format", format);
        s.push_unchecked("width", size.clone());
        s.push_unchecked("height", size);
        s.push_unchecked(
            "framerate",
            Value::FractionRange(FractionRange::ANY_FRAMERATE),
        );
        Caps::from_structure(s)
    }

    /// The [`VideoInfo`] these fixed `video/x-raw` caps describe
    /// (`gst_video_info_from_caps`): `format`, `width` and `height` are
    /// required; `framerate` defaults to `0/1` (variable) and
    /// `pixel-aspect-ratio` to `1/1`; `interlace-mode` and
    /// `multiview-mode`, when present, must be `progressive` and `mono`.
    /// Other fields (`colorimetry`, `chroma-site`) are ignored.
    ///
    /// # Errors
    ///
    /// [`Error::Core`] holding [`framecast_core::Error::InvalidVideoInfo`],
    /// whose message names the caps and the missing, unfixed or invalid
    /// field: caps that are `ANY`, `EMPTY`, not fixed, not raw video, or
    /// whose fields are missing, of the wrong type or out of range; or the
    /// layout error of [`VideoInfo::new`].
    #[doc(alias = "gst_video_info_from_caps")]
    pub fn video_info(&self) -> Result<VideoInfo> {
        let invalid = |why: String| {
            Error::Core(framecast_core::Error::InvalidVideoInfo(format!(
                "caps {self}: {why}"
            )))
        };
        let s = match self.structures() {
            [s] => s,
            [] if self.is_any() => {
                return Err(invalid("ANY caps are not fixed; fixate them first".into()))
            }
            [] => return Err(invalid("no format to describe".into())),
            many => {
                return Err(invalid(format!(
                    "{} alternatives, not one fixed format; fixate them first",
                    many.len()
                )))
            }
        };
        if !s.has_name(VIDEO_RAW) {
            return Err(invalid(format!(
                "media type {:?} is not {VIDEO_RAW}",
                s.name()
            )));
        }
        if let Some((name, value)) = s.fields().find(|(_, v)| !v.is_fixed()) {
            return Err(invalid(format!(
                "field {name} is {value}, not fixed; fixate the caps first"
            )));
        }
        // The same rules text is checked against when it is parsed; caps
        // built through the API meet them here.
        for (name, value) in s.fields() {
            fields::check(VIDEO_RAW, name, value).map_err(|v| invalid(v.message()))?;
        }
        let field = |name: &str, expected: &str| -> Result<Option<&Value>> {
            match s.value(name) {
                None => Ok(None),
                Some(v) if v.type_name() == expected && !matches!(v, Value::Array(_)) => {
                    Ok(Some(v))
                }
                Some(v) => {
                    let article = if expected.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    Err(invalid(format!(
                        "field {name} must be {article} {expected}, not {v} ({})",
                        v.type_name()
                    )))
                }
            }
        };
        let required = |name: &str, expected: &str| {
            field(name, expected)?
                .ok_or_else(|| invalid(format!("missing field {name} ({expected})")))
        };

        let format_name = required("format", "string")?.as_str().unwrap_or_default();
        let format = VideoFormat::from_name(format_name)
            .map_err(|e| invalid(format!("field format: {}", core_message(&e))))?;
        // The rules made these positive.
        let dimension = |name: &str| -> Result<u32> {
            let v = required(name, "int")?.as_int().unwrap_or_default();
            u32::try_from(v).map_err(|_| invalid(format!("field {name} must be positive, not {v}")))
        };
        let (width, height) = (dimension("width")?, dimension("height")?);
        let fraction = |name: &str, default: Fraction| -> Result<Fraction> {
            Ok(field(name, "fraction")?
                .and_then(Value::as_fraction)
                .unwrap_or(default))
        };
        let fps = fraction("framerate", Fraction::ZERO)?;
        let par = fraction("pixel-aspect-ratio", Fraction::ONE)?;
        for (name, only) in [("interlace-mode", PROGRESSIVE), ("multiview-mode", MONO)] {
            if let Some(mode) = field(name, "string")?.and_then(Value::as_str) {
                if mode != only {
                    return Err(invalid(format!(
                        "field {name}={mode} is not supported (only {only})"
                    )));
                }
            }
        }
        Ok(VideoInfo::new(format, width, height)?
            .with_fps(fps)
            .with_par(par))
    }
}

/// The message of a core `InvalidVideoInfo` without its "video layout:"
/// prefix, to nest in ours.
fn core_message(e: &framecast_core::Error) -> String {
    match e {
        framecast_core::Error::InvalidVideoInfo(m) => m.clone(),
        other => other.to_string(),
    }
}

impl From<&VideoInfo> for Caps {
    /// [`Caps::from_video_info`].
    fn from(info: &VideoInfo) -> Caps {
        Caps::from_video_info(info)
    }
}

impl TryFrom<&Caps> for VideoInfo {
    type Error = Error;

    /// [`Caps::video_info`].
    fn try_from(caps: &Caps) -> Result<VideoInfo> {
        caps.video_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn matches_gst_launch_verbose_output() {
        // gst-launch-1.0 -v videotestsrc num-buffers=1 !
        //   video/x-raw,format=I420,width=320,height=240 ! fakesink
        let info = VideoInfo::new(VideoFormat::I420, 320, 240)
            .unwrap()
            .with_fps(Fraction::from_integer(30));
        assert_eq!(
            Caps::from_video_info(&info).to_gst_string(),
            "video/x-raw, format=(string)I420, width=(int)320, height=(int)240, framerate=(fraction)30/1, \
             multiview-mode=(string)mono, pixel-aspect-ratio=(fraction)1/1, interlace-mode=(string)progressive"
        );
        assert_eq!(
            Caps::from(&info).to_string(),
            "video/x-raw,format=I420,width=320,height=240,framerate=30/1,multiview-mode=mono,\
             pixel-aspect-ratio=1/1,interlace-mode=progressive"
        );
    }

    #[test]
    fn every_format_round_trips() {
        for &format in VideoFormat::ALL {
            let info = VideoInfo::new(format, 1280, 720)
                .unwrap()
                .with_fps(Fraction::new(30000, 1001).unwrap())
                .with_par(Fraction::new(4, 3).unwrap());
            let caps = Caps::from_video_info(&info);
            assert!(caps.is_fixed());
            assert!(
                caps.is_subset(&Caps::video_raw_any(VideoFormat::ALL)),
                "{caps}"
            );
            assert_eq!(VideoInfo::try_from(&caps).unwrap(), info, "{caps}");
            // Through text too.
            let reparsed: Caps = caps.to_string().parse().unwrap();
            assert_eq!(reparsed.video_info().unwrap(), info);
            let reparsed: Caps = caps.to_gst_string().parse().unwrap();
            assert_eq!(reparsed.video_info().unwrap(), info);
        }
    }

    #[test]
    fn template() {
        assert_eq!(
            Caps::video_raw_any(&[VideoFormat::I420, VideoFormat::Nv12]).to_string(),
            "video/x-raw,format={ I420, NV12 },width=[ 1, 2147483647 ],height=[ 1, 2147483647 ],\
             framerate=[ 0/1, 2147483647/1 ]"
        );
        assert_eq!(
            Caps::video_raw_any(&[VideoFormat::Bgr])
                .structure(0)
                .and_then(|s| s.get_str("format")),
            Some("BGR")
        );
        let none = Caps::video_raw_any(&[]);
        assert!(!none.can_intersect(&Caps::video_raw_any(VideoFormat::ALL)));
        // A template fixates to a usable (if tiny) format.
        let fixed = Caps::video_raw_any(&[VideoFormat::Nv12]).fixate().unwrap();
        assert_eq!(
            fixed.video_info().unwrap(),
            VideoInfo::new(VideoFormat::Nv12, 1, 1).unwrap()
        );
    }

    #[test]
    fn minimal_caps_use_defaults() {
        let caps: Caps = "video/x-raw,format=BGR,width=64,height=48".parse().unwrap();
        let info = caps.video_info().unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (VideoFormat::Bgr, 64, 48)
        );
        assert_eq!((info.fps, info.par), (Fraction::ZERO, Fraction::ONE));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("ANY", "ANY caps are not fixed"),
            ("EMPTY", "no format"),
            (
                "video/x-raw,format=I420,width=2,height=2; video/x-raw",
                "2 alternatives",
            ),
            (
                "video/x-h264,width=2,height=2",
                "\"video/x-h264\" is not video/x-raw",
            ),
            (
                "video/x-raw,format=I420,width=[1,4096],height=2",
                "field width is [ 1, 4096 ], not fixed",
            ),
            ("video/x-raw,width=2,height=2", "missing field format"),
            ("video/x-raw,format=I420,height=2", "missing field width"),
            ("video/x-raw,format=I420,width=2", "missing field height"),
            (
                "video/x-raw,format=I420,width=2,height=2,interlace-mode=interleaved",
                "interlace-mode=interleaved is not supported",
            ),
            (
                "video/x-raw,format=I420,width=2,height=2,multiview-mode=left",
                "multiview-mode=left is not supported",
            ),
            (
                "video/x-raw,format=I420,width=2147483647,height=2147483647",
                "4 GiB",
            ),
        ];
        // Values that text may not hold (the parser refuses them) but the
        // API can set: the same rules catch them here.
        let base = "video/x-raw,format=I420,width=2,height=2";
        let set = [
            (
                "format",
                Value::from("XYZ"),
                "format of video/x-raw must be a known video format (I420, NV12",
            ),
            ("format", Value::Int(5), "not 5"),
            (
                "width",
                Value::Double(2.0),
                "width of video/x-raw must be an int of at least 1 (pixels), not 2.0",
            ),
            (
                "width",
                Value::Int(0),
                "width of video/x-raw must be an int of at least 1 (pixels), not 0",
            ),
            ("height", Value::Int(-2), "not -2"),
            (
                "framerate",
                Value::Fraction(Fraction::new(-1, 1).unwrap()),
                "framerate of video/x-raw must be a fraction of at least 0/1",
            ),
            ("framerate", Value::Int(30), "not 30"),
            (
                "pixel-aspect-ratio",
                Value::Fraction(Fraction::ZERO),
                "pixel-aspect-ratio of video/x-raw must be a positive fraction",
            ),
        ];
        let built = set.into_iter().map(|(field, value, expected)| {
            let mut caps: Caps = base.parse().unwrap();
            caps.structure_mut(0).unwrap().set(field, value).unwrap();
            (caps, expected)
        });
        let parsed = cases
            .into_iter()
            .map(|(text, expected)| (text.parse::<Caps>().unwrap(), expected));
        for (caps, expected) in parsed.chain(built) {
            let text = caps.to_string();
            let e = caps.video_info().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Core);
            let message = e.to_string();
            assert!(
                message.contains(expected),
                "{text:?}: {message:?} lacks {expected:?}"
            );
        }
    }
}
