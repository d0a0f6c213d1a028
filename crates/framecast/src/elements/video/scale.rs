//! Bilinear scaling of every plane of a frame, same format in and out.
//!
//! Sample positions follow GStreamer's `videoscale` (and every other
//! resampler that keeps the image centred): output pixel `i` of `n` looks
//! at source position `(i + 0.5) * src / dst - 0.5`, clamped to the edges.
//! Weights are 8-bit fixed point, computed once per stream
//! ([`Scaler::new`]) so that a frame costs two multiply-adds per sample and
//! no allocation.

use framecast_core::{VideoFormat, VideoInfo};

use super::frame::{layout_error, Frame, FrameMut};
use crate::Result;

/// One axis: for each output index, the two source indices and the weight
/// (0..=256) of the second.
#[derive(Debug, Clone, Default)]
struct Axis {
    lo: Vec<u32>,
    hi: Vec<u32>,
    w: Vec<u16>,
}

impl Axis {
    fn new(src: u32, dst: u32) -> Axis {
        let mut axis = Axis {
            lo: Vec::with_capacity(dst as usize),
            hi: Vec::with_capacity(dst as usize),
            w: Vec::with_capacity(dst as usize),
        };
        let scale = f64::from(src) / f64::from(dst);
        let last = src.saturating_sub(1);
        for i in 0..dst {
            let pos = ((f64::from(i) + 0.5) * scale - 0.5).clamp(0.0, f64::from(last));
            let lo = pos.floor() as u32;
            let frac = ((pos - f64::from(lo)) * 256.0).round() as u16;
            let (lo, frac) = if frac >= 256 { (lo + 1, 0) } else { (lo, frac) };
            let lo = lo.min(last);
            axis.lo.push(lo);
            axis.hi.push((lo + 1).min(last));
            axis.w.push(frac);
        }
        axis
    }
}

/// The per-plane tables of one `src -> dst` size change.
#[derive(Debug, Clone)]
struct PlaneScaler {
    x: Axis,
    y: Axis,
    /// Bytes per sample group (3 for RGB, 2 for NV12's UV, 1 otherwise).
    bpp: usize,
    /// Scratch: one horizontally scaled source row (u16 per byte), twice.
    rows: [Vec<u16>; 2],
}

/// A bilinear scaler from one frame layout to another of the same format.
#[derive(Debug, Clone)]
pub struct Scaler {
    format: VideoFormat,
    src: (u32, u32),
    dst: (u32, u32),
    planes: Vec<PlaneScaler>,
}

impl Scaler {
    /// Tables for scaling `src` to `dst` (same format).
    ///
    /// # Errors
    ///
    /// When the formats differ.
    pub fn new(src: &VideoInfo, dst: &VideoInfo) -> Result<Scaler> {
        if src.format != dst.format {
            return Err(layout_error(format!(
                "videoscale keeps the format: {} in, {} out",
                src.format, dst.format
            )));
        }
        let planes = (0..src.n_planes)
            .map(|p| {
                let bpp = src.format.pixel_stride(p);
                let dw = dst.comp_width(p) as usize;
                PlaneScaler {
                    x: Axis::new(src.comp_width(p), dst.comp_width(p)),
                    y: Axis::new(src.comp_height(p), dst.comp_height(p)),
                    bpp,
                    rows: [vec![0; dw * bpp], vec![0; dw * bpp]],
                }
            })
            .collect();
        Ok(Scaler {
            format: src.format,
            src: (src.width, src.height),
            dst: (dst.width, dst.height),
            planes,
        })
    }

    /// Scales `src` into `dst`.
    ///
    /// # Errors
    ///
    /// When the frames are not the sizes and format the scaler was made for.
    pub fn scale(&mut self, src: &Frame<'_>, dst: &mut FrameMut<'_>) -> Result<()> {
        if src.format() != self.format
            || dst.format() != self.format
            || (src.info.width, src.info.height) != self.src
            || (dst.info.width, dst.info.height) != self.dst
        {
            return Err(layout_error(format!(
                "scaler made for {} {}x{} -> {}x{}, given {} {}x{} -> {} {}x{}",
                self.format,
                self.src.0,
                self.src.1,
                self.dst.0,
                self.dst.1,
                src.format(),
                src.info.width,
                src.info.height,
                dst.format(),
                dst.info.width,
                dst.info.height
            )));
        }
        for (p, ps) in self.planes.iter_mut().enumerate() {
            let ds = dst.stride(p);
            scale_plane(ps, src.plane(p), src.stride(p), dst.plane_mut(p), ds);
        }
        Ok(())
    }
}

/// Horizontal pass of one source row into `out` (values scaled by 256).
fn h_pass(x: &Axis, bpp: usize, row: &[u8], out: &mut [u16]) {
    for (i, ((&lo, &hi), &w)) in x.lo.iter().zip(&x.hi).zip(&x.w).enumerate() {
        let (lo, hi) = (lo as usize * bpp, hi as usize * bpp);
        let w = u32::from(w);
        for c in 0..bpp {
            let a = u32::from(row[lo + c]);
            let b = u32::from(row[hi + c]);
            // a * (256 - w) + b * w <= 255 * 256: fits u16.
            out[i * bpp + c] = (a * (256 - w) + b * w) as u16;
        }
    }
}

fn scale_plane(ps: &mut PlaneScaler, src: &[u8], ss: usize, dst: &mut [u8], ds: usize) {
    let bpp = ps.bpp;
    let width_bytes = ps.x.lo.len() * bpp;
    // Which source rows the two scratch rows hold now.
    let mut held: [Option<u32>; 2] = [None, None];
    let [r0, r1] = &mut ps.rows;
    for (oy, ((&lo, &hi), &wy)) in ps.y.lo.iter().zip(&ps.y.hi).zip(&ps.y.w).enumerate() {
        // Reuse a row computed for the previous output row when possible.
        if held[0] != Some(lo) {
            if held[1] == Some(lo) {
                std::mem::swap(r0, r1);
                held.swap(0, 1);
            } else {
                h_pass(&ps.x, bpp, &src[lo as usize * ss..], r0);
                held[0] = Some(lo);
            }
        }
        if held[1] != Some(hi) {
            h_pass(&ps.x, bpp, &src[hi as usize * ss..], r1);
            held[1] = Some(hi);
        }
        let out = &mut dst[oy * ds..oy * ds + width_bytes];
        let wy = u32::from(wy);
        for ((o, &a), &b) in out.iter_mut().zip(r0.iter()).zip(r1.iter()) {
            let v = u32::from(a) * (256 - wy) + u32::from(b) * wy;
            *o = ((v + (1 << 15)) >> 16) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> (VideoInfo, Vec<u8>) {
        let info = VideoInfo::new(VideoFormat::Gray8, w, h).unwrap();
        let mut data = vec![0u8; info.size];
        for y in 0..h {
            for x in 0..w {
                data[y as usize * info.stride[0] + x as usize] = f(x, y);
            }
        }
        (info, data)
    }

    /// `sd` (laid out as `si`) scaled into a new frame laid out as `di`.
    fn scaled(si: VideoInfo, sd: &[u8], di: VideoInfo) -> Vec<u8> {
        let mut dd = vec![0u8; di.size];
        Scaler::new(&si, &di)
            .unwrap()
            .scale(
                &Frame::new(si, sd).unwrap(),
                &mut FrameMut::new(di, &mut dd).unwrap(),
            )
            .unwrap();
        dd
    }

    #[test]
    fn flat_stays_flat_and_ramp_stays_ramp() {
        let (si, sd) = gray(64, 48, |x, _| (x * 4) as u8);
        let di = VideoInfo::new(VideoFormat::Gray8, 32, 24).unwrap();
        let dd = scaled(si, &sd, di);
        // Output x samples source 2x + 0.5: value 8x + 2.
        for x in 0..32u32 {
            assert_eq!(dd[x as usize], (8 * x + 2) as u8, "x={x}");
            assert_eq!(dd[23 * di.stride[0] + x as usize], (8 * x + 2) as u8);
        }
    }

    #[test]
    fn upscale_every_format() {
        for &f in VideoFormat::ALL {
            let si = VideoInfo::new(f, 5, 3).unwrap();
            let di = VideoInfo::new(f, 13, 9).unwrap();
            let sd = vec![77u8; si.size];
            let dd = scaled(si, &sd, di);
            let out = Frame::new(di, &dd).unwrap();
            for p in 0..di.n_planes {
                let n = di.comp_width(p) as usize * f.pixel_stride(p);
                for row in 0..di.comp_height(p) as usize {
                    let r = &out.plane(p)[row * di.stride[p]..row * di.stride[p] + n];
                    assert!(r.iter().all(|&v| v == 77), "{f} plane {p} row {row}: {r:?}");
                }
            }
        }
    }
}
