//! Pixel-format conversion between every pair of the supported raw formats
//! (I420, NV12, RGB, BGR, RGBA, BGRA, RGBx, BGRx, GRAY8).
//!
//! RGB <-> YUV goes through the `yuv` crate (formerly yuvutils-rs): SIMD
//! (AVX2/SSE/NEON picked at run time), 13-bit fixed point, about 10 GB/s
//! for BGR -> I420 at 1080p on one core where GStreamer's `videoconvert`
//! manages 2-3. The rest (channel swizzles, plane (de)interleaving, gray)
//! are plain loops the compiler vectorises well enough.
//!
//! # What the numbers mean (GStreamer's choices, checked against
//! `gst-launch-1.0 ... ! videoconvert ! ...` 1.22)
//!
//! - YUV is limited range ("TV", Y 16..235, UV 16..240), with the matrix
//!   GStreamer assumes for caps without `colorimetry` (`video-info.c`,
//!   `set_default_colorimetry`): BT.601 up to 576 lines, BT.709 above,
//!   BT.2020 from 2160 lines. See [`Matrix::for_height`].
//! - 4:2:0 chroma is the average of each 2x2 block (GStreamer's output is
//!   within +-1 of that at SD; at HD it sites chroma on the left sample and
//!   filters [1 2 1], +-2). Upsampling for YUV -> RGB repeats each chroma
//!   sample over its 2x2 block (GStreamer interpolates and rounds its 8-bit
//!   coefficients down: its output is up to 6 levels below ours on smooth
//!   chroma). Luma below 16 is taken as 16 (the `yuv` crate saturates).
//! - GRAY8 is full-range luma: RGB -> GRAY8 is BT.601
//!   `0.299 R + 0.587 G + 0.114 B` and GRAY8 -> RGB copies the value into R,
//!   G and B, as GStreamer does. YUV <-> GRAY8 copies Y unchanged, as
//!   GStreamer does at SD (at HD it converts BT.709 limited to BT.601 full
//!   range through RGB; we keep the cheaper, consistent copy).
//! - Alpha: from a format without alpha, A = 255; the `x` byte of RGBx and
//!   BGRx is written as 255.
//!
//! `tests/video_elements.rs` checks every pair against a floating-point
//! reference (+-1) and the main pairs against `gst-launch-1.0` itself.

use framecast_core::VideoFormat;
use yuv::{
    BufferStoreMut, YuvBiPlanarImage, YuvBiPlanarImageMut, YuvConversionMode, YuvError,
    YuvGrayImageMut, YuvPlanarImage, YuvPlanarImageMut, YuvRange, YuvStandardMatrix,
};

use super::frame::{layout_error, row_bytes, Frame, FrameMut};
use crate::Result;

/// The YUV matrix (colour primaries' luma coefficients) of a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    /// ITU-R BT.601 (SD).
    Bt601,
    /// ITU-R BT.709 (HD).
    Bt709,
    /// ITU-R BT.2020 (UHD).
    Bt2020,
}

impl Matrix {
    /// GStreamer's default for a YUV frame `height` lines tall with no
    /// `colorimetry` in its caps: BT.601 up to 576 lines, BT.709 above,
    /// BT.2020 from 2160. Following it means a GStreamer (or any decoder
    /// using the same rule) shows our colours right.
    pub fn for_height(height: u32) -> Matrix {
        if height >= 2160 {
            Matrix::Bt2020
        } else if height > 576 {
            Matrix::Bt709
        } else {
            Matrix::Bt601
        }
    }

    /// `(kr, kb)`: luma weights of red and blue.
    pub fn kr_kb(self) -> (f64, f64) {
        match self {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        }
    }

    fn yuv(self) -> YuvStandardMatrix {
        match self {
            Matrix::Bt601 => YuvStandardMatrix::Bt601,
            Matrix::Bt709 => YuvStandardMatrix::Bt709,
            Matrix::Bt2020 => YuvStandardMatrix::Bt2020,
        }
    }
}

/// Byte positions of the channels of a packed RGB format.
#[derive(Debug, Clone, Copy)]
struct Packed {
    /// Bytes per pixel (3 or 4).
    bpp: usize,
    r: usize,
    g: usize,
    b: usize,
    /// Position of the fourth byte (alpha or padding), if any.
    fourth: Option<usize>,
    /// Whether the fourth byte is real alpha.
    alpha: bool,
}

fn packed(format: VideoFormat) -> Option<Packed> {
    let p = |bpp, r, g, b, fourth, alpha| {
        Some(Packed {
            bpp,
            r,
            g,
            b,
            fourth,
            alpha,
        })
    };
    match format {
        VideoFormat::Rgb => p(3, 0, 1, 2, None, false),
        VideoFormat::Bgr => p(3, 2, 1, 0, None, false),
        VideoFormat::Rgba => p(4, 0, 1, 2, Some(3), true),
        VideoFormat::Bgra => p(4, 2, 1, 0, Some(3), true),
        VideoFormat::Rgbx => p(4, 0, 1, 2, Some(3), false),
        VideoFormat::Bgrx => p(4, 2, 1, 0, Some(3), false),
        _ => None,
    }
}

fn yuv_error(what: &str, e: YuvError) -> crate::Error {
    layout_error(format!("{what}: {e}"))
}

fn dim(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| layout_error(format!("stride {v} does not fit 32 bits")))
}

/// Converts `src` into `dst` (same width and height, any two supported
/// formats) with YUV matrix `matrix`.
///
/// # Errors
///
/// When the sizes differ or a plane does not fit its buffer.
pub fn convert(src: &Frame<'_>, dst: &mut FrameMut<'_>, matrix: Matrix) -> Result<()> {
    let (w, h) = (src.info.width, src.info.height);
    if (w, h) != (dst.info.width, dst.info.height) {
        return Err(layout_error(format!(
            "cannot convert {w}x{h} into {}x{}: sizes differ",
            dst.info.width, dst.info.height
        )));
    }
    use VideoFormat::*;
    let (sf, df) = (src.format(), dst.format());
    if sf == df {
        copy_planes(src, dst);
        return Ok(());
    }
    let range = YuvRange::Limited;
    let m = matrix.yuv();
    let mode = YuvConversionMode::Balanced;
    match (sf, df) {
        // ---- RGB family among themselves -------------------------------
        (s, d) if packed(s).is_some() && packed(d).is_some() => {
            if let (Some(sp), Some(dp)) = (packed(s), packed(d)) {
                swizzle(src, dst, sp, dp);
            }
            Ok(())
        }
        // ---- RGB -> I420 ------------------------------------------------
        (s, I420) if packed(s).is_some() => {
            let stride = dim(src.stride(0))?;
            let rgb = src.plane(0);
            let (ys, us, vs) = (
                dim(dst.stride(0))?,
                dim(dst.stride(1))?,
                dim(dst.stride(2))?,
            );
            let planes = dst.planes_mut();
            let [y, u, v] = planes else {
                return Err(layout_error("I420 needs three planes".into()));
            };
            let mut image = YuvPlanarImageMut {
                y_plane: BufferStoreMut::Borrowed(y),
                y_stride: ys,
                u_plane: BufferStoreMut::Borrowed(u),
                u_stride: us,
                v_plane: BufferStoreMut::Borrowed(v),
                v_stride: vs,
                width: w,
                height: h,
            };
            let f = match s {
                Rgb => yuv::rgb_to_yuv420,
                Bgr => yuv::bgr_to_yuv420,
                Rgba | Rgbx => yuv::rgba_to_yuv420,
                _ => yuv::bgra_to_yuv420,
            };
            f(&mut image, rgb, stride, range, m, mode).map_err(|e| yuv_error("RGB to I420", e))
        }
        // ---- RGB -> NV12 ------------------------------------------------
        (s, Nv12) if packed(s).is_some() => {
            let stride = dim(src.stride(0))?;
            let rgb = src.plane(0);
            let (ys, uvs) = (dim(dst.stride(0))?, dim(dst.stride(1))?);
            let planes = dst.planes_mut();
            let [y, uv] = planes else {
                return Err(layout_error("NV12 needs two planes".into()));
            };
            let mut image = YuvBiPlanarImageMut {
                y_plane: BufferStoreMut::Borrowed(y),
                y_stride: ys,
                uv_plane: BufferStoreMut::Borrowed(uv),
                uv_stride: uvs,
                width: w,
                height: h,
            };
            let f = match s {
                Rgb => yuv::rgb_to_yuv_nv12,
                Bgr => yuv::bgr_to_yuv_nv12,
                Rgba | Rgbx => yuv::rgba_to_yuv_nv12,
                _ => yuv::bgra_to_yuv_nv12,
            };
            f(&mut image, rgb, stride, range, m, mode).map_err(|e| yuv_error("RGB to NV12", e))
        }
        // ---- RGB -> GRAY8 (full-range BT.601 luma, as GStreamer) ---------
        (s, Gray8) if packed(s).is_some() => {
            let stride = dim(src.stride(0))?;
            let gs = dim(dst.stride(0))?;
            let mut image = YuvGrayImageMut {
                y_plane: BufferStoreMut::Borrowed(dst.plane_mut(0)),
                y_stride: gs,
                width: w,
                height: h,
            };
            let f = match s {
                Rgb => yuv::rgb_to_yuv400,
                Bgr => yuv::bgr_to_yuv400,
                Rgba | Rgbx => yuv::rgba_to_yuv400,
                _ => yuv::bgra_to_yuv400,
            };
            f(
                &mut image,
                src.plane(0),
                stride,
                YuvRange::Full,
                YuvStandardMatrix::Bt601,
            )
            .map_err(|e| yuv_error("RGB to GRAY8", e))
        }
        // ---- I420 -> RGB ------------------------------------------------
        (I420, d) if packed(d).is_some() => {
            let image = YuvPlanarImage {
                y_plane: src.plane(0),
                y_stride: dim(src.stride(0))?,
                u_plane: src.plane(1),
                u_stride: dim(src.stride(1))?,
                v_plane: src.plane(2),
                v_stride: dim(src.stride(2))?,
                width: w,
                height: h,
            };
            let stride = dim(dst.stride(0))?;
            let f = match d {
                Rgb => yuv::yuv420_to_rgb,
                Bgr => yuv::yuv420_to_bgr,
                Rgba | Rgbx => yuv::yuv420_to_rgba,
                _ => yuv::yuv420_to_bgra,
            };
            f(&image, dst.plane_mut(0), stride, range, m).map_err(|e| yuv_error("I420 to RGB", e))
        }
        // ---- NV12 -> RGB ------------------------------------------------
        (Nv12, d) if packed(d).is_some() => {
            let image = YuvBiPlanarImage {
                y_plane: src.plane(0),
                y_stride: dim(src.stride(0))?,
                uv_plane: src.plane(1),
                uv_stride: dim(src.stride(1))?,
                width: w,
                height: h,
            };
            let stride = dim(dst.stride(0))?;
            let f = match d {
                Rgb => yuv::yuv_nv12_to_rgb,
                Bgr => yuv::yuv_nv12_to_bgr,
                Rgba | Rgbx => yuv::yuv_nv12_to_rgba,
                _ => yuv::yuv_nv12_to_bgra,
            };
            f(&image, dst.plane_mut(0), stride, range, m, mode)
                .map_err(|e| yuv_error("NV12 to RGB", e))
        }
        // ---- GRAY8 -> RGB: replicate --------------------------------------
        (Gray8, d) => match packed(d) {
            Some(dp) => {
                gray_to_packed(src, dst, dp);
                Ok(())
            }
            None => {
                // GRAY8 -> I420 / NV12: Y copied, neutral chroma.
                copy_plane(src, dst, 0);
                for plane in 1..dst.info.n_planes {
                    dst.plane_mut(plane).fill(128);
                }
                Ok(())
            }
        },
        // ---- YUV -> GRAY8: Y copied ---------------------------------------
        (I420 | Nv12, Gray8) => {
            copy_plane(src, dst, 0);
            Ok(())
        }
        (I420, Nv12) => {
            copy_plane(src, dst, 0);
            interleave_chroma(src, dst);
            Ok(())
        }
        (Nv12, I420) => {
            copy_plane(src, dst, 0);
            deinterleave_chroma(src, dst);
            Ok(())
        }
        (s, d) => Err(layout_error(format!("no conversion from {s} to {d}"))),
    }
}

/// Copies the visible rows of `plane`.
fn copy_plane(src: &Frame<'_>, dst: &mut FrameMut<'_>, plane: usize) {
    let n = row_bytes(&src.info, plane);
    let (ss, ds) = (src.stride(plane), dst.stride(plane));
    let rows = src.info.comp_height(plane) as usize;
    let s = src.plane(plane);
    let d = dst.plane_mut(plane);
    for row in 0..rows {
        d[row * ds..row * ds + n].copy_from_slice(&s[row * ss..row * ss + n]);
    }
}

fn copy_planes(src: &Frame<'_>, dst: &mut FrameMut<'_>) {
    for plane in 0..src.info.n_planes {
        copy_plane(src, dst, plane);
    }
}

/// Rows of `plane` of both frames, paired, each cut to the visible bytes.
fn rows<'s, 'd>(
    src: &'s Frame<'_>,
    dst: &'d mut FrameMut<'_>,
    plane: usize,
) -> impl Iterator<Item = (&'s [u8], &'d mut [u8])> {
    let (sn, dn) = (row_bytes(&src.info, plane), row_bytes(&dst.info, plane));
    let (ss, ds) = (src.stride(plane), dst.stride(plane));
    src.plane(plane)
        .chunks(ss)
        .zip(dst.plane_mut(plane).chunks_mut(ds))
        .map(move |(s, d)| (&s[..sn], &mut d[..dn]))
}

fn swizzle(src: &Frame<'_>, dst: &mut FrameMut<'_>, s: Packed, d: Packed) {
    match (s.bpp, d.bpp) {
        (3, 3) => swizzle_rows::<3, 3>(src, dst, s, d),
        (3, 4) => swizzle_rows::<3, 4>(src, dst, s, d),
        (4, 3) => swizzle_rows::<4, 3>(src, dst, s, d),
        _ => swizzle_rows::<4, 4>(src, dst, s, d),
    }
}

/// Reorders channels pixel by pixel; constant pixel sizes let the compiler
/// unroll and vectorise the inner loop.
fn swizzle_rows<const SB: usize, const DB: usize>(
    src: &Frame<'_>,
    dst: &mut FrameMut<'_>,
    s: Packed,
    d: Packed,
) {
    let src_alpha = if s.alpha { s.fourth } else { None };
    let (dr, dg, db) = (d.r, d.g, d.b);
    let (sr, sg, sb) = (s.r, s.g, s.b);
    let d4 = d.fourth.unwrap_or(0);
    for (srow, drow) in rows(src, dst, 0) {
        for (sp, dp) in srow.chunks_exact(SB).zip(drow.chunks_exact_mut(DB)) {
            dp[dr] = sp[sr];
            dp[dg] = sp[sg];
            dp[db] = sp[sb];
            if DB == 4 {
                dp[d4] = match src_alpha {
                    Some(a) if d.alpha => sp[a],
                    _ => 255,
                };
            }
        }
    }
}

fn gray_to_packed(src: &Frame<'_>, dst: &mut FrameMut<'_>, d: Packed) {
    let bpp = d.bpp;
    for (srow, drow) in rows(src, dst, 0) {
        for (&g, dp) in srow.iter().zip(drow.chunks_exact_mut(bpp)) {
            dp[..3].fill(g);
            if bpp == 4 {
                dp[3] = 255;
            }
        }
    }
}

/// I420's U and V planes into NV12's UV plane.
fn interleave_chroma(src: &Frame<'_>, dst: &mut FrameMut<'_>) {
    let cw = src.info.comp_width(1) as usize;
    let rows_n = src.info.comp_height(1) as usize;
    let (us, vs, ds) = (src.stride(1), src.stride(2), dst.stride(1));
    let (u, v) = (src.plane(1), src.plane(2));
    let uv = dst.plane_mut(1);
    for row in 0..rows_n {
        let ur = &u[row * us..row * us + cw];
        let vr = &v[row * vs..row * vs + cw];
        let out = &mut uv[row * ds..row * ds + 2 * cw];
        for ((pair, &a), &b) in out.chunks_exact_mut(2).zip(ur).zip(vr) {
            pair[0] = a;
            pair[1] = b;
        }
    }
}

/// NV12's UV plane into I420's U and V planes.
fn deinterleave_chroma(src: &Frame<'_>, dst: &mut FrameMut<'_>) {
    let cw = src.info.comp_width(1) as usize;
    let rows_n = src.info.comp_height(1) as usize;
    let (ss, us, vs) = (src.stride(1), dst.stride(1), dst.stride(2));
    let uv = src.plane(1);
    let planes = dst.planes_mut();
    let [_, u, v] = planes else {
        return;
    };
    for row in 0..rows_n {
        let inp = &uv[row * ss..row * ss + 2 * cw];
        let ur = &mut u[row * us..row * us + cw];
        let vr = &mut v[row * vs..row * vs + cw];
        for ((pair, a), b) in inp.chunks_exact(2).zip(ur.iter_mut()).zip(vr.iter_mut()) {
            *a = pair[0];
            *b = pair[1];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use framecast_core::VideoInfo;

    #[test]
    fn matrix_follows_gstreamer_defaults() {
        assert_eq!(Matrix::for_height(480), Matrix::Bt601);
        assert_eq!(Matrix::for_height(576), Matrix::Bt601);
        assert_eq!(Matrix::for_height(720), Matrix::Bt709);
        assert_eq!(Matrix::for_height(2160), Matrix::Bt2020);
    }

    /// Padded and aligned frames (a pool with video meta and alignment)
    /// convert to the same pixels as tightly packed ones.
    #[test]
    fn padded_layouts_give_the_same_pixels() {
        use framecast_core::VideoAlignment;
        let aligned = |f: VideoFormat| {
            let mut info = VideoInfo::new(f, 37, 21).unwrap();
            let mut a = VideoAlignment {
                padding_top: 2,
                padding_left: 3,
                padding_right: 11,
                padding_bottom: 3,
                stride_align: [63, 31, 31, 0],
            };
            info.align(&mut a).unwrap();
            info
        };
        for &sf in VideoFormat::ALL {
            for &df in VideoFormat::ALL {
                let (si, di) = (
                    VideoInfo::new(sf, 37, 21).unwrap(),
                    VideoInfo::new(df, 37, 21).unwrap(),
                );
                let (sa, da) = (aligned(sf), aligned(df));
                // The same picture in both source layouts.
                let sdata: Vec<u8> = (0..si.size).map(|i| (i * 7 % 253) as u8).collect();
                let mut sadata = vec![0u8; sa.size];
                {
                    let packed = Frame::new(si, &sdata).unwrap();
                    let mut padded = FrameMut::new(sa, &mut sadata).unwrap();
                    copy_planes(&packed, &mut padded);
                }
                let mut plain = vec![0u8; di.size];
                let mut padded = vec![0u8; da.size];
                convert(
                    &Frame::new(si, &sdata).unwrap(),
                    &mut FrameMut::new(di, &mut plain).unwrap(),
                    Matrix::Bt601,
                )
                .unwrap();
                convert(
                    &Frame::new(sa, &sadata).unwrap(),
                    &mut FrameMut::new(da, &mut padded).unwrap(),
                    Matrix::Bt601,
                )
                .unwrap();
                let (p, q) = (
                    Frame::new(di, &plain).unwrap(),
                    Frame::new(da, &padded).unwrap(),
                );
                for plane in 0..di.n_planes {
                    let n = row_bytes(&di, plane);
                    for row in 0..di.comp_height(plane) as usize {
                        assert_eq!(
                            &p.plane(plane)[row * di.stride[plane]..][..n],
                            &q.plane(plane)[row * da.stride[plane]..][..n],
                            "{sf} -> {df} plane {plane} row {row}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_pair_converts_odd_sizes() {
        for &sf in VideoFormat::ALL {
            for &df in VideoFormat::ALL {
                let si = VideoInfo::new(sf, 7, 5).unwrap();
                let di = VideoInfo::new(df, 7, 5).unwrap();
                let sdata: Vec<u8> = (0..si.size).map(|i| (i * 37 % 251) as u8).collect();
                let mut ddata = vec![0u8; di.size];
                let src = Frame::new(si, &sdata).unwrap();
                let mut dst = FrameMut::new(di, &mut ddata).unwrap();
                convert(&src, &mut dst, Matrix::Bt601)
                    .unwrap_or_else(|e| panic!("{sf}->{df}: {e}"));
            }
        }
    }
}
