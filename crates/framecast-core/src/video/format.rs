//! [`VideoFormat`]: the raw pixel layouts framecast handles, with the
//! per-plane facts (pixel stride, subsampling) that GStreamer keeps in its
//! `GstVideoFormatInfo` table (`video-format.c`).

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A raw video pixel format, named as in GStreamer caps
/// (`video/x-raw,format=I420`).
///
/// Only 8-bit formats for now; the set will grow, so match with a wildcard
/// outside this crate.
///
/// # Examples
///
/// ```
/// use framecast_core::VideoFormat;
/// let f: VideoFormat = "nv12".parse().unwrap();
/// assert_eq!(f, VideoFormat::Nv12);
/// assert_eq!(f.to_string(), "NV12");
/// assert_eq!((f.n_planes(), f.pixel_stride(1), f.subsampling(1)), (2, 2, (1, 1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "GstVideoFormat")]
pub enum VideoFormat {
    /// Planar 4:2:0 YUV: a Y plane, then U and V planes at half width and
    /// half height. The usual input of H.264 encoders.
    I420,
    /// Semi-planar 4:2:0 YUV: a Y plane, then one plane of interleaved U,V
    /// pairs at half width and half height. What hardware codecs prefer.
    Nv12,
    /// Packed 24-bit R, G, B.
    Rgb,
    /// Packed 24-bit B, G, R: OpenCV's default channel order.
    Bgr,
    /// Packed 32-bit R, G, B, alpha.
    Rgba,
    /// Packed 32-bit B, G, R, alpha.
    Bgra,
    /// Packed 32-bit R, G, B and an unused byte.
    Rgbx,
    /// Packed 32-bit B, G, R and an unused byte.
    Bgrx,
    /// One 8-bit luma (gray) plane.
    Gray8,
}

/// The colour model of a format, as GStreamer's YUV / RGB / GRAY flags.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Model {
    Yuv,
    Rgb,
    Gray,
}

/// The static facts about one format, one entry per plane where they vary
/// by plane (GStreamer stores them per component; for these formats the
/// first component of each plane decides, as in `gst_video_info_align`).
struct Desc {
    name: &'static str,
    n_planes: usize,
    n_components: usize,
    model: Model,
    alpha: bool,
    /// Bytes from one pixel to the next within each plane.
    pstride: [usize; 4],
    /// log2 of the horizontal and vertical subsampling of each plane.
    sub: [(u32, u32); 4],
}

const NO_SUB: [(u32, u32); 4] = [(0, 0); 4];
const SUB_420: [(u32, u32); 4] = [(0, 0), (1, 1), (1, 1), (0, 0)];

const fn packed(
    name: &'static str,
    n_components: usize,
    model: Model,
    alpha: bool,
    pstride: usize,
) -> Desc {
    Desc {
        name,
        n_planes: 1,
        n_components,
        model,
        alpha,
        pstride: [pstride, 0, 0, 0],
        sub: NO_SUB,
    }
}

const I420: Desc = Desc {
    name: "I420",
    n_planes: 3,
    n_components: 3,
    model: Model::Yuv,
    alpha: false,
    pstride: [1, 1, 1, 0],
    sub: SUB_420,
};
const NV12: Desc = Desc {
    name: "NV12",
    n_planes: 2,
    n_components: 3,
    model: Model::Yuv,
    alpha: false,
    // Plane 1 interleaves U and V: 2 bytes per (subsampled) pixel.
    pstride: [1, 2, 0, 0],
    sub: SUB_420,
};
const RGB: Desc = packed("RGB", 3, Model::Rgb, false, 3);
const BGR: Desc = packed("BGR", 3, Model::Rgb, false, 3);
const RGBA: Desc = packed("RGBA", 4, Model::Rgb, true, 4);
const BGRA: Desc = packed("BGRA", 4, Model::Rgb, true, 4);
// The x byte is padding, not a component: GStreamer counts 3 components.
const RGBX: Desc = packed("RGBx", 3, Model::Rgb, false, 4);
const BGRX: Desc = packed("BGRx", 3, Model::Rgb, false, 4);
const GRAY8: Desc = packed("GRAY8", 1, Model::Gray, false, 1);

impl VideoFormat {
    /// Every format, in declaration order (for listing and for tests).
    /// The order is also a preference, I420 first: the video elements
    /// offer their formats in it, and a format list fixates to its first.
    pub const ALL: &'static [VideoFormat] = &[
        VideoFormat::I420,
        VideoFormat::Nv12,
        VideoFormat::Rgb,
        VideoFormat::Bgr,
        VideoFormat::Rgba,
        VideoFormat::Bgra,
        VideoFormat::Rgbx,
        VideoFormat::Bgrx,
        VideoFormat::Gray8,
    ];

    fn desc(self) -> &'static Desc {
        match self {
            VideoFormat::I420 => &I420,
            VideoFormat::Nv12 => &NV12,
            VideoFormat::Rgb => &RGB,
            VideoFormat::Bgr => &BGR,
            VideoFormat::Rgba => &RGBA,
            VideoFormat::Bgra => &BGRA,
            VideoFormat::Rgbx => &RGBX,
            VideoFormat::Bgrx => &BGRX,
            VideoFormat::Gray8 => &GRAY8,
        }
    }

    /// GStreamer's name for the format, as written in caps (`"I420"`,
    /// `"RGBx"`, `"GRAY8"`).
    #[doc(alias = "gst_video_format_to_string")]
    pub fn name(self) -> &'static str {
        self.desc().name
    }

    /// The format with GStreamer name `name`, ignoring ASCII case (so
    /// `"rgbx"` finds `RGBx`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVideoInfo`] naming the valid formats when `name` is
    /// none of them.
    #[doc(alias = "gst_video_format_from_string")]
    pub fn from_name(name: &str) -> Result<VideoFormat> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                Error::InvalidVideoInfo(format!(
                    "unknown video format {name:?}; valid formats: {}",
                    valid.join(", ")
                ))
            })
    }

    /// Number of planes: separately addressed regions with their own stride
    /// and offset (I420 3, NV12 2, packed formats 1).
    pub fn n_planes(self) -> usize {
        self.desc().n_planes
    }

    /// Number of colour components (padding bytes such as RGBx's `x` do not
    /// count, as in GStreamer).
    pub fn n_components(self) -> usize {
        self.desc().n_components
    }

    /// Whether the components are Y, U, V.
    pub fn is_yuv(self) -> bool {
        self.desc().model == Model::Yuv
    }

    /// Whether the components are R, G, B.
    pub fn is_rgb(self) -> bool {
        self.desc().model == Model::Rgb
    }

    /// Whether the only component is gray (luma).
    pub fn is_gray(self) -> bool {
        self.desc().model == Model::Gray
    }

    /// Whether the format carries an alpha component.
    pub fn has_alpha(self) -> bool {
        self.desc().alpha
    }

    /// Bytes from one pixel to the next within `plane` (GStreamer's
    /// `pixel_stride` of the plane's first component): RGB/BGR 3, the
    /// 32-bit packed formats 4, I420 1 on every plane, NV12 1 then 2,
    /// GRAY8 1. Zero for a plane the format does not have.
    #[doc(alias = "GST_VIDEO_FORMAT_INFO_PSTRIDE")]
    pub fn pixel_stride(self, plane: usize) -> usize {
        self.desc().pstride.get(plane).copied().unwrap_or(0)
    }

    /// How `plane` is subsampled, as shifts `(w_sub, h_sub)`: the plane
    /// holds `ceil(width / 2^w_sub)` by `ceil(height / 2^h_sub)` samples.
    /// `(1, 1)` for the chroma planes of 4:2:0 formats, `(0, 0)` otherwise
    /// and for a plane the format does not have.
    #[doc(alias = "GST_VIDEO_FORMAT_INFO_W_SUB")]
    #[doc(alias = "GST_VIDEO_FORMAT_INFO_H_SUB")]
    pub fn subsampling(self, plane: usize) -> (u32, u32) {
        self.desc().sub.get(plane).copied().unwrap_or((0, 0))
    }

    /// `ceil(width / 2^w_sub)` for `plane`: GStreamer's
    /// `GST_VIDEO_FORMAT_INFO_SCALE_WIDTH`, which rounds up so that an odd
    /// width still gets a chroma sample for its last column.
    pub(crate) fn scale_width(self, plane: usize, width: u64) -> u64 {
        scale_up(width, self.subsampling(plane).0)
    }

    /// `ceil(height / 2^h_sub)` for `plane` (`GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT`).
    pub(crate) fn scale_height(self, plane: usize, height: u64) -> u64 {
        scale_up(height, self.subsampling(plane).1)
    }

    /// Bytes per pixel over all components, rounded up to whole bytes: the
    /// `bpp` of GStreamer's frame-size overflow check in `fill_planes`.
    pub(crate) fn bytes_per_pixel(self) -> u64 {
        // Every component is 8 bits deep in the formats supported so far.
        self.n_components() as u64
    }
}

/// `ceil(v / 2^shift)`: GStreamer's `GST_VIDEO_SUB_SCALE`, `-((-v) >> shift)`.
fn scale_up(v: u64, shift: u32) -> u64 {
    v.div_ceil(1 << shift)
}

impl fmt::Display for VideoFormat {
    /// The GStreamer name, as [`VideoFormat::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for VideoFormat {
    type Err = Error;

    /// As [`VideoFormat::from_name`].
    fn from_str(s: &str) -> Result<VideoFormat> {
        VideoFormat::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_gstreamers() {
        let names: Vec<&str> = VideoFormat::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            ["I420", "NV12", "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "GRAY8"]
        );
    }

    #[test]
    fn from_name_round_trips_and_ignores_case() {
        for &f in VideoFormat::ALL {
            assert_eq!(VideoFormat::from_name(f.name()).unwrap(), f);
            assert_eq!(f.name().to_lowercase().parse::<VideoFormat>().unwrap(), f);
            assert_eq!(f.name().to_uppercase().parse::<VideoFormat>().unwrap(), f);
            assert_eq!(f.to_string().parse::<VideoFormat>().unwrap(), f);
        }
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let err = VideoFormat::from_name("YUY2").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
        let msg = err.to_string();
        assert!(msg.contains("\"YUY2\""), "{msg}");
        for &f in VideoFormat::ALL {
            assert!(msg.contains(f.name()), "{msg}");
        }
        assert!("".parse::<VideoFormat>().is_err());
        assert!(" I420".parse::<VideoFormat>().is_err());
    }

    #[test]
    fn planes_and_components() {
        use VideoFormat::*;
        let table = [
            (I420, 3, 3),
            (Nv12, 2, 3),
            (Rgb, 1, 3),
            (Bgr, 1, 3),
            (Rgba, 1, 4),
            (Bgra, 1, 4),
            (Rgbx, 1, 3),
            (Bgrx, 1, 3),
            (Gray8, 1, 1),
        ];
        for (f, planes, comps) in table {
            assert_eq!((f.n_planes(), f.n_components()), (planes, comps), "{f}");
        }
    }

    #[test]
    fn colour_model_flags() {
        use VideoFormat::*;
        for &f in VideoFormat::ALL {
            let models = [f.is_yuv(), f.is_rgb(), f.is_gray()];
            assert_eq!(models.iter().filter(|&&m| m).count(), 1, "{f}");
        }
        assert!(I420.is_yuv() && Nv12.is_yuv());
        assert!(Rgb.is_rgb() && Bgrx.is_rgb() && Rgba.is_rgb());
        assert!(Gray8.is_gray() && !Gray8.is_yuv() && !Gray8.is_rgb());
        let alpha: Vec<VideoFormat> = VideoFormat::ALL
            .iter()
            .copied()
            .filter(|f| f.has_alpha())
            .collect();
        assert_eq!(alpha, [Rgba, Bgra]);
    }

    #[test]
    fn pixel_strides_per_plane() {
        use VideoFormat::*;
        assert_eq!([0, 1, 2, 3].map(|p| I420.pixel_stride(p)), [1, 1, 1, 0]);
        assert_eq!([0, 1, 2, 3].map(|p| Nv12.pixel_stride(p)), [1, 2, 0, 0]);
        for f in [Rgb, Bgr] {
            assert_eq!(f.pixel_stride(0), 3);
        }
        for f in [Rgba, Bgra, Rgbx, Bgrx] {
            assert_eq!(f.pixel_stride(0), 4);
            assert_eq!(f.pixel_stride(1), 0);
        }
        assert_eq!(Gray8.pixel_stride(0), 1);
        assert_eq!(Gray8.pixel_stride(99), 0);
    }

    #[test]
    fn subsampling_per_plane() {
        use VideoFormat::*;
        assert_eq!(
            [0, 1, 2].map(|p| I420.subsampling(p)),
            [(0, 0), (1, 1), (1, 1)]
        );
        assert_eq!([0, 1].map(|p| Nv12.subsampling(p)), [(0, 0), (1, 1)]);
        assert_eq!(Rgb.subsampling(0), (0, 0));
        assert_eq!(I420.subsampling(7), (0, 0));
    }

    #[test]
    fn scaling_rounds_up_like_gst_video_sub_scale() {
        use VideoFormat::*;
        assert_eq!(I420.scale_width(1, 101), 51);
        assert_eq!(I420.scale_height(2, 99), 50);
        assert_eq!(I420.scale_width(1, 100), 50);
        assert_eq!(I420.scale_width(0, 101), 101);
        assert_eq!(Nv12.scale_height(1, 1), 1);
        assert_eq!(I420.scale_width(1, 0), 0);
    }
}
