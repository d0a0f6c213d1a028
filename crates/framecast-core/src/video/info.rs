//! [`VideoInfo`]: one video frame's geometry and byte layout, computed
//! exactly as GStreamer's `gst_video_info_set_format` computes it
//! (`fill_planes` in gst-plugins-base `video-info.c`).
//!
//! The layout must match GStreamer byte for byte: frames cross the boundary
//! to GStreamer elements, OpenCV and numpy with only offsets and strides to
//! describe them, and a pool sized by a different rule would hand out
//! buffers that are too small (or waste memory) for the peer's idea of a
//! frame.

use crate::{ClockTime, Error, Fraction, Result, VideoFormat};

/// The most planes any format has (`GST_VIDEO_MAX_PLANES`).
pub const VIDEO_MAX_PLANES: usize = 4;

/// The geometry and memory layout of one raw video frame: GStreamer's
/// `GstVideoInfo` for progressive video.
///
/// [`VideoInfo::new`] gives GStreamer's default layout: rows padded to 4
/// bytes, planes one after the other with no gaps beyond that rounding.
/// [`VideoInfo::align`] then adds padding and stride alignment for
/// consumers (encoders, GPUs, SIMD code) that need them.
///
/// The fields are public so that metas, pools and converters can read the
/// layout directly, as C code reads `GstVideoInfo`; change them only
/// through the methods, which keep them consistent.
///
/// # Examples
///
/// ```
/// use framecast_core::{Fraction, VideoFormat, VideoInfo};
/// let info = VideoInfo::new(VideoFormat::I420, 320, 240)?
///     .with_fps(Fraction::from_integer(30));
/// assert_eq!(info.stride[..3], [320, 160, 160]);
/// assert_eq!(info.offset[..3], [0, 76800, 96000]);
/// assert_eq!(info.size, 115200);
/// assert_eq!(info.frame_duration().unwrap().nseconds(), 33_333_333);
/// # Ok::<(), framecast_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[doc(alias = "GstVideoInfo")]
pub struct VideoInfo {
    /// The pixel format.
    pub format: VideoFormat,
    /// Visible width in pixels (without padding).
    pub width: u32,
    /// Visible height in pixels (without padding).
    pub height: u32,
    /// Frames per second; `0/1` (the default) means variable or unknown.
    pub fps: Fraction,
    /// Pixel aspect ratio; `1/1` (square pixels) by default.
    pub par: Fraction,
    /// Number of planes in use (`format.n_planes()`); entries of `offset`
    /// and `stride` past it are zero.
    pub n_planes: usize,
    /// Byte offset of each plane's first visible pixel from the start of
    /// the frame. After [`VideoInfo::align`] this includes the top and left
    /// padding of the plane.
    pub offset: [usize; VIDEO_MAX_PLANES],
    /// Bytes from the start of one row of a plane to the next.
    pub stride: [usize; VIDEO_MAX_PLANES],
    /// Bytes a whole frame takes, padding included.
    pub size: usize,
}

/// Strides, offsets and sizes of one frame as `fill_planes` computes them
/// for a given (possibly padded) width and height.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaneLayout {
    pub(crate) stride: [usize; VIDEO_MAX_PLANES],
    pub(crate) offset: [usize; VIDEO_MAX_PLANES],
    pub(crate) size: usize,
    /// `scale_height(plane, height) * stride[plane]`, as `fill_planes`
    /// reports through its `plane_size` argument.
    pub(crate) plane_size: [usize; VIDEO_MAX_PLANES],
}

/// GStreamer's `GST_ROUND_UP_N` for a power of two `n`.
fn round_up(v: u64, n: u64) -> u64 {
    v.next_multiple_of(n)
}

/// GStreamer's default plane layout for `format` at `width` x `height`
/// (`fill_planes` in `video-info.c`, progressive case).
///
/// Refuses, as GStreamer does, widths and heights that do not fit its
/// `gint` and frames for which `ROUND_UP_128(width) * height` reaches
/// `G_MAXUINT / bytes_per_pixel`; that check also keeps every product
/// below far from overflowing `u64`. Refuses in addition strides that do
/// not fit `gint` (GStreamer's stride type), where GStreamer would wrap.
pub(crate) fn fill_planes(format: VideoFormat, width: u64, height: u64) -> Result<PlaneLayout> {
    let too_big =
        |what: &str| Error::InvalidVideoInfo(format!("{format} {width}x{height}: {what}"));
    let int_max = i32::MAX as u64;
    if width > int_max || height > int_max {
        return Err(too_big("width and height must be at most 2147483647"));
    }
    let bpp = format.bytes_per_pixel();
    if round_up(width, 128) * height >= u64::from(u32::MAX) / bpp {
        return Err(too_big(
            "frame size would overflow (GStreamer's 4 GiB limit)",
        ));
    }

    let (w, h) = (width, height);
    let mut stride = [0u64; VIDEO_MAX_PLANES];
    let mut offset = [0u64; VIDEO_MAX_PLANES];
    let size;
    match format {
        VideoFormat::I420 => {
            stride[0] = round_up(w, 4);
            stride[1] = round_up(round_up(w, 2) / 2, 4);
            stride[2] = stride[1];
            offset[1] = stride[0] * round_up(h, 2);
            let cr_h = round_up(h, 2) / 2;
            offset[2] = offset[1] + stride[1] * cr_h;
            size = offset[2] + stride[2] * cr_h;
        }
        VideoFormat::Nv12 => {
            stride[0] = round_up(w, 4);
            stride[1] = stride[0];
            offset[1] = stride[0] * round_up(h, 2);
            let cr_h = round_up(h, 2) / 2;
            size = offset[1] + stride[0] * cr_h;
        }
        VideoFormat::Rgb | VideoFormat::Bgr => {
            stride[0] = round_up(w * 3, 4);
            size = stride[0] * h;
        }
        VideoFormat::Rgba | VideoFormat::Bgra | VideoFormat::Rgbx | VideoFormat::Bgrx => {
            stride[0] = w * 4;
            size = stride[0] * h;
        }
        VideoFormat::Gray8 => {
            stride[0] = round_up(w, 4);
            size = stride[0] * h;
        }
    }
    if stride.iter().any(|&s| s > int_max) {
        return Err(too_big("a row stride would not fit in 31 bits"));
    }

    let mut plane_size = [0u64; VIDEO_MAX_PLANES];
    for (plane, ps) in plane_size.iter_mut().enumerate().take(format.n_planes()) {
        *ps = format.scale_height(plane, h) * stride[plane];
    }
    let conv = |v: u64| usize::try_from(v).map_err(|_| too_big("frame does not fit in memory"));
    let conv4 = |a: [u64; VIDEO_MAX_PLANES]| -> Result<[usize; VIDEO_MAX_PLANES]> {
        Ok([conv(a[0])?, conv(a[1])?, conv(a[2])?, conv(a[3])?])
    };
    Ok(PlaneLayout {
        stride: conv4(stride)?,
        offset: conv4(offset)?,
        size: conv(size)?,
        plane_size: conv4(plane_size)?,
    })
}

impl VideoInfo {
    /// GStreamer's default layout for a `width` x `height` frame of
    /// `format`, with a `0/1` (unknown) framerate and square pixels.
    ///
    /// Rows are padded to a multiple of 4 bytes except in the 32-bit
    /// packed formats (already multiples of 4); the chroma planes of 4:2:0
    /// formats cover `ceil(width/2)` x `ceil(height/2)` samples, and the
    /// luma plane is followed by an even number of rows before the next
    /// plane starts (`GST_ROUND_UP_2(height)`), exactly as in GStreamer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVideoInfo`] when `width` or `height` is zero (which
    /// GStreamer accepts but no frame has), exceeds `i32::MAX`, or the frame
    /// would exceed GStreamer's size limit (about 4 GiB).
    #[doc(alias = "gst_video_info_set_format")]
    pub fn new(format: VideoFormat, width: u32, height: u32) -> Result<VideoInfo> {
        if width == 0 || height == 0 {
            return Err(Error::InvalidVideoInfo(format!(
                "{format} {width}x{height}: width and height must be non-zero"
            )));
        }
        let layout = fill_planes(format, width.into(), height.into())?;
        Ok(VideoInfo {
            format,
            width,
            height,
            fps: Fraction::ZERO,
            par: Fraction::ONE,
            n_planes: format.n_planes(),
            offset: layout.offset,
            stride: layout.stride,
            size: layout.size,
        })
    }

    /// The same info with framerate `fps` (builder style).
    pub fn with_fps(mut self, fps: Fraction) -> VideoInfo {
        self.fps = fps;
        self
    }

    /// The same info with pixel aspect ratio `par` (builder style).
    pub fn with_par(mut self, par: Fraction) -> VideoInfo {
        self.par = par;
        self
    }

    /// Width in samples of `plane`'s visible area: `ceil(width / 2^w_sub)`
    /// (GStreamer's `GST_VIDEO_INFO_COMP_WIDTH` of the plane's first
    /// component). Zero for a plane the format does not have.
    #[doc(alias = "GST_VIDEO_INFO_COMP_WIDTH")]
    pub fn comp_width(&self, plane: usize) -> u32 {
        if plane >= self.n_planes {
            return 0;
        }
        self.width.div_ceil(1 << self.format.subsampling(plane).0)
    }

    /// Height in rows of `plane`'s visible area: `ceil(height / 2^h_sub)`
    /// (`GST_VIDEO_INFO_COMP_HEIGHT`). Zero for a plane the format does not
    /// have.
    #[doc(alias = "GST_VIDEO_INFO_COMP_HEIGHT")]
    pub fn comp_height(&self, plane: usize) -> u32 {
        if plane >= self.n_planes {
            return 0;
        }
        self.height.div_ceil(1 << self.format.subsampling(plane).1)
    }

    /// Bytes spanned by `plane`'s visible rows: `comp_height(plane) *
    /// stride[plane]`, GStreamer's per-plane size for the default layout.
    /// Zero for a plane the format does not have.
    ///
    /// The bytes between planes that GStreamer's rounding leaves (the extra
    /// luma row of an odd-height I420 frame) are not counted, so the plane
    /// sizes can add up to less than [`VideoInfo::size`]. After
    /// [`VideoInfo::align`] this still covers visible rows only; the padded
    /// plane sizes are what [`VideoInfo::align_full`] returns.
    pub fn plane_size(&self, plane: usize) -> usize {
        let stride = self.stride.get(plane).copied().unwrap_or(0);
        // comp_height <= height <= i32::MAX and stride <= i32::MAX, so the
        // product fits; saturate rather than wrap on a 32-bit target.
        (self.comp_height(plane) as usize).saturating_mul(stride)
    }

    /// How long one frame lasts at [`VideoInfo::fps`]: `den / num` seconds,
    /// rounded down to the nanosecond as `gst_util_uint64_scale` does
    /// (`30000/1001` gives 33 366 666 ns). `None` for a variable or unknown
    /// (`0/1`) or negative framerate.
    pub fn frame_duration(&self) -> Option<ClockTime> {
        let num = u64::try_from(self.fps.num).ok().filter(|&n| n > 0)?;
        let den = u64::try_from(self.fps.den).ok().filter(|&d| d > 0)?;
        ClockTime::SECOND.mul_div_floor(den, num)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use VideoFormat::*;

    /// `(format, width, height, strides, offsets, size)`.
    type DefaultCase = (VideoFormat, u32, u32, [usize; 3], [usize; 3], usize);

    /// Layouts printed by GStreamer 1.22's `gst_video_info_set_format`
    /// (libgstvideo-1.0.so.0.2200.0, Debian 12), called through ctypes.
    #[rustfmt::skip]
    const GST_DEFAULTS: &[DefaultCase] = &[
        (I420, 320, 240, [320, 160, 160], [0, 76800, 96000], 115200),
        (I420, 1920, 1080, [1920, 960, 960], [0, 2073600, 2592000], 3110400),
        (I420, 101, 99, [104, 52, 52], [0, 10400, 13000], 15600),
        (I420, 100, 100, [100, 52, 52], [0, 10000, 12600], 15200),
        (I420, 1, 1, [4, 4, 4], [0, 8, 12], 16),
        (I420, 3, 5, [4, 4, 4], [0, 24, 36], 48),
        (Nv12, 1920, 1080, [1920, 1920, 0], [0, 2073600, 0], 3110400),
        (Nv12, 101, 99, [104, 104, 0], [0, 10400, 0], 15600),
        (Nv12, 1, 1, [4, 4, 0], [0, 8, 0], 12),
        (Rgb, 1, 1, [4, 0, 0], [0, 0, 0], 4),
        (Rgb, 5, 3, [16, 0, 0], [0, 0, 0], 48),
        (Bgr, 1280, 720, [3840, 0, 0], [0, 0, 0], 2764800),
        (Bgr, 1, 1, [4, 0, 0], [0, 0, 0], 4),
        (Rgba, 3, 3, [12, 0, 0], [0, 0, 0], 36),
        (Bgra, 7, 2, [28, 0, 0], [0, 0, 0], 56),
        (Rgbx, 3, 3, [12, 0, 0], [0, 0, 0], 36),
        (Bgrx, 5, 5, [20, 0, 0], [0, 0, 0], 100),
        (Gray8, 7, 7, [8, 0, 0], [0, 0, 0], 56),
        (Gray8, 1, 1, [4, 0, 0], [0, 0, 0], 4),
        // The largest I420 frame GStreamer accepts at this width.
        (I420, 32768, 43690, [32768, 16384, 16384], [0, 1431633920, 1789542400], 2147450880),
        (Gray8, 32768, 131071, [32768, 0, 0], [0, 0, 0], 4294934528),
    ];

    #[test]
    fn default_layouts_match_gstreamer() {
        for &(format, w, h, stride, offset, size) in GST_DEFAULTS {
            let info = VideoInfo::new(format, w, h).unwrap();
            let ctx = format!("{format} {w}x{h}");
            assert_eq!(info.stride[..3], stride, "{ctx}");
            assert_eq!(info.offset[..3], offset, "{ctx}");
            assert_eq!(info.size, size, "{ctx}");
            assert_eq!(info.stride[3], 0, "{ctx}");
            assert_eq!(info.offset[3], 0, "{ctx}");
            assert_eq!(info.n_planes, format.n_planes(), "{ctx}");
        }
    }

    #[test]
    fn i420_formulas_by_hand() {
        // 101x99: stride0 = ROUND_UP_4(101) = 104; stride1 =
        // ROUND_UP_4(ROUND_UP_2(101)/2) = ROUND_UP_4(51) = 52; offset1 =
        // 104 * ROUND_UP_2(99) = 104 * 100; chroma rows = 100/2 = 50.
        let info = VideoInfo::new(I420, 101, 99).unwrap();
        assert_eq!(info.stride[..3], [104, 52, 52]);
        assert_eq!(info.offset[1], 104 * 100);
        assert_eq!(info.offset[2], 104 * 100 + 52 * 50);
        assert_eq!(info.size, 104 * 100 + 2 * 52 * 50);
    }

    #[test]
    fn defaults_for_fps_and_par() {
        let info = VideoInfo::new(Rgb, 2, 2).unwrap();
        assert_eq!(info.fps, Fraction::ZERO);
        assert_eq!(info.par, Fraction::ONE);
        assert_eq!(info.frame_duration(), None);
        let info = info.with_par(Fraction::new(16, 15).unwrap());
        assert_eq!(info.par.to_string(), "16/15");
    }

    #[test]
    fn zero_sizes_are_refused() {
        for (w, h) in [(0, 10), (10, 0), (0, 0)] {
            let err = VideoInfo::new(I420, w, h).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.to_string().contains("non-zero"), "{err}");
        }
    }

    #[test]
    fn overflowing_sizes_are_refused_where_gstreamer_refuses() {
        // GStreamer 1.22 refuses exactly these (gst_video_info_set_format
        // returned FALSE), while accepting the ones in GST_DEFAULTS above.
        for (format, w, h) in [
            (I420, 32768, 43691),
            (Gray8, 32768, 131072),
            (Rgba, u32::MAX, 1),
            (Rgb, 1, u32::MAX),
            (Nv12, i32::MAX as u32 + 1, 1),
        ] {
            let err = VideoInfo::new(format, w, h).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{format} {w}x{h}");
            assert!(err.to_string().contains(&format!("{w}x{h}")), "{err}");
        }
    }

    #[test]
    fn strides_that_wrap_in_gstreamer_are_refused() {
        // GStreamer 1.22 accepts these (its size check counts 3 bytes per
        // pixel for BGRx) but its gint stride wraps: stride 0 and size 0 for
        // BGRx 2^30 x 1, stride -2^31 for RGBA 2^29 x 1. We refuse instead.
        for (format, w) in [(Bgrx, 1 << 30), (Rgba, 1 << 29)] {
            let err = VideoInfo::new(format, w, 1).unwrap_err();
            assert!(err.to_string().contains("stride"), "{err}");
        }
        // Just below: the stride fits.
        let info = VideoInfo::new(Rgba, (1 << 29) - 1, 1).unwrap();
        assert_eq!(info.stride[0], (1 << 31) - 4);
    }

    #[test]
    fn comp_sizes_round_up() {
        let info = VideoInfo::new(I420, 101, 99).unwrap();
        assert_eq!([0, 1, 2, 3].map(|p| info.comp_width(p)), [101, 51, 51, 0]);
        assert_eq!([0, 1, 2, 3].map(|p| info.comp_height(p)), [99, 50, 50, 0]);
        let info = VideoInfo::new(Nv12, 1, 1).unwrap();
        assert_eq!([0, 1, 2].map(|p| info.comp_width(p)), [1, 1, 0]);
        let info = VideoInfo::new(Bgr, 7, 3).unwrap();
        assert_eq!((info.comp_width(0), info.comp_height(0)), (7, 3));
    }

    #[test]
    fn plane_sizes_cover_visible_rows() {
        // GStreamer's fill_planes plane_size: scale_height * stride.
        let info = VideoInfo::new(I420, 101, 99).unwrap();
        assert_eq!(
            [0, 1, 2, 3].map(|p| info.plane_size(p)),
            [104 * 99, 52 * 50, 52 * 50, 0]
        );
        let info = VideoInfo::new(Nv12, 1920, 1080).unwrap();
        assert_eq!([0, 1, 2].map(|p| info.plane_size(p)), [2073600, 1036800, 0]);
        assert_eq!(info.plane_size(0) + info.plane_size(1), info.size);
        let info = VideoInfo::new(Bgr, 1280, 720).unwrap();
        assert_eq!(info.plane_size(0), info.size);
        assert_eq!(info.plane_size(usize::MAX), 0);
    }

    #[test]
    fn every_plane_fits_in_the_frame() {
        for &format in VideoFormat::ALL {
            for (w, h) in [(1, 1), (2, 2), (3, 7), (101, 99), (640, 480), (1921, 1081)] {
                let info = VideoInfo::new(format, w, h).unwrap();
                for p in 0..info.n_planes {
                    let row = info.comp_width(p) as usize * format.pixel_stride(p);
                    assert!(row <= info.stride[p], "{format} {w}x{h} plane {p}");
                    assert!(
                        info.offset[p] + info.plane_size(p) <= info.size,
                        "{format} {w}x{h} plane {p}"
                    );
                }
            }
        }
    }

    #[test]
    fn frame_durations() {
        let at = |n, d| {
            VideoInfo::new(Gray8, 4, 4)
                .unwrap()
                .with_fps(Fraction::new(n, d).unwrap())
                .frame_duration()
        };
        assert_eq!(at(30, 1), Some(ClockTime::from_nseconds(33_333_333)));
        assert_eq!(at(25, 1), Some(ClockTime::from_mseconds(40)));
        assert_eq!(at(30000, 1001), Some(ClockTime::from_nseconds(33_366_666)));
        assert_eq!(at(1, 2), Some(ClockTime::from_seconds(2)));
        assert_eq!(at(0, 1), None);
        assert_eq!(at(-30, 1), None);
    }
}
