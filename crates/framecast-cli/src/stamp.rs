//! Latency stamps painted into the picture itself.
//!
//! To measure latency from "frame handed over" to "frame decoded" across
//! any sender (framecast, GStreamer, FFmpeg) and any receiver, the
//! producer writes the monotonic clock and the frame number into the top
//! rows of the frame as 16x16 black or white blocks, one bit each. Blocks
//! are macroblock-aligned, so an H.264 or JPEG encoder at any sane bitrate
//! keeps each block's mean far from mid-grey; the reader averages the
//! centre 8x8 of each block's luma and thresholds at 128. A 32-bit check
//! value rejects stamps that did not survive (a damaged or concealed
//! frame), so a bad read is dropped, never counted as a latency.
//!
//! Layout: 128 bits (64 of `CLOCK_MONOTONIC` nanoseconds, 32 of frame
//! number, 32 of check), most significant first, left to right, then the
//! next 16-pixel row of blocks. A 1280-wide frame needs two block rows,
//! a 640-wide one four. The C receiver in
//! `anchors/gst_latency_receiver.c` reads exactly this layout.

/// Side of one bit's block, in pixels (an H.264 macroblock).
pub const BLOCK: usize = 16;

/// Bits in a stamp.
pub const BITS: usize = 128;

/// Narrowest frame a stamp fits in (8 blocks per row, 16 rows of blocks).
pub const MIN_WIDTH: usize = 8 * BLOCK;

/// One stamp: when the frame was handed over, and which frame it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// `CLOCK_MONOTONIC` in nanoseconds (shared by all processes).
    pub time_ns: u64,
    /// Frame number.
    pub frame: u32,
}

/// `CLOCK_MONOTONIC` now, in nanoseconds: one clock for every process on
/// the machine, so sender and receiver may be different programs.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The check value of a stamp (a 64-bit mix of both fields, folded).
fn check(time_ns: u64, frame: u32) -> u32 {
    let mut x = time_ns ^ (u64::from(frame) << 32 | u64::from(frame)) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x ^ (x >> 32)) as u32
}

impl Stamp {
    /// A stamp of `frame` taken now.
    pub fn now(frame: u32) -> Stamp {
        Stamp {
            time_ns: monotonic_ns(),
            frame,
        }
    }

    fn bits(&self) -> [bool; BITS] {
        let words = [
            (self.time_ns >> 32) as u32,
            self.time_ns as u32,
            self.frame,
            check(self.time_ns, self.frame),
        ];
        let mut bits = [false; BITS];
        for (i, bit) in bits.iter_mut().enumerate() {
            *bit = words[i / 32] >> (31 - i % 32) & 1 == 1;
        }
        bits
    }

    /// Block columns per row for a frame `width` pixels wide.
    fn columns(width: usize) -> usize {
        (width / BLOCK).min(BITS)
    }

    /// Rows of pixels a stamp covers in a frame `width` wide (0 if it does
    /// not fit).
    pub fn height(width: usize) -> usize {
        if width < MIN_WIDTH {
            return 0;
        }
        BITS.div_ceil(Self::columns(width)) * BLOCK
    }

    /// Paints the stamp into one plane: `pixel` bytes per pixel, `levels`
    /// the bytes of a lit and an unlit pixel. Does nothing if the plane is
    /// too small.
    fn paint(
        &self,
        plane: &mut [u8],
        (stride, width, rows): (usize, usize, usize),
        pixel: usize,
        (white, black): (u8, u8),
    ) {
        let columns = Self::columns(width);
        if width < MIN_WIDTH || rows < Self::height(width) {
            return;
        }
        for (i, bit) in self.bits().into_iter().enumerate() {
            let (bx, by) = (i % columns * BLOCK, i / columns * BLOCK);
            let value = if bit { white } else { black };
            for y in by..by + BLOCK {
                let start = y * stride + bx * pixel;
                if let Some(row) = plane.get_mut(start..start + BLOCK * pixel) {
                    row.fill(value);
                }
            }
        }
    }

    /// Paints the stamp into a packed 3-byte-per-pixel frame (BGR or RGB).
    pub fn paint_rgb24(&self, frame: &mut [u8], stride: usize, width: usize, rows: usize) {
        self.paint(frame, (stride, width, rows), 3, (255, 0));
    }

    /// Paints the stamp into a luma plane (video-range black and white).
    pub fn paint_luma(&self, plane: &mut [u8], stride: usize, width: usize, rows: usize) {
        self.paint(plane, (stride, width, rows), 1, (235, 16));
    }

    /// Reads a stamp from a decoded luma plane; `None` if the frame is too
    /// small or the check value does not match (a damaged picture).
    pub fn read_luma(plane: &[u8], stride: usize, width: usize, rows: usize) -> Option<Stamp> {
        if width < MIN_WIDTH || rows < Self::height(width) {
            return None;
        }
        let columns = Self::columns(width);
        let mut words = [0u32; 4];
        for i in 0..BITS {
            let (bx, by) = (i % columns * BLOCK, i / columns * BLOCK);
            let mut sum = 0u32;
            for y in by + 4..by + 12 {
                let start = y * stride + bx + 4;
                let row = plane.get(start..start + 8)?;
                sum += row.iter().map(|&v| u32::from(v)).sum::<u32>();
            }
            if sum / 64 >= 128 {
                words[i / 32] |= 1 << (31 - i % 32);
            }
        }
        let time_ns = u64::from(words[0]) << 32 | u64::from(words[1]);
        let frame = words[2];
        (check(time_ns, frame) == words[3]).then_some(Stamp { time_ns, frame })
    }
}

/// Percentile `p` (0..=100) of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_painted_luma_stamp_reads_back() {
        let (w, h) = (1280, 720);
        let mut y = vec![100u8; w * h];
        let stamp = Stamp {
            time_ns: 0x0123_4567_89ab_cdef,
            frame: 4242,
        };
        stamp.paint_luma(&mut y, w, w, h);
        assert_eq!(Stamp::read_luma(&y, w, w, h), Some(stamp));
        assert_eq!(Stamp::height(w), 32);
    }

    #[test]
    fn a_damaged_stamp_is_rejected() {
        let (w, h) = (640, 480);
        let mut y = vec![0u8; w * h];
        Stamp::now(7).paint_luma(&mut y, w, w, h);
        // Flip one block (bit 70) to the opposite level.
        let columns = w / BLOCK;
        let (bx, by) = (70 % columns * BLOCK, 70 / columns * BLOCK);
        let lit = y[by * w + bx] > 128;
        for row in by..by + BLOCK {
            y[row * w + bx..row * w + bx + BLOCK].fill(if lit { 16 } else { 235 });
        }
        assert_eq!(Stamp::read_luma(&y, w, w, h), None);
    }

    #[test]
    fn too_small_frames_neither_paint_nor_read() {
        let mut y = vec![0u8; 64 * 64];
        Stamp::now(1).paint_luma(&mut y, 64, 64, 64);
        assert!(y.iter().all(|&v| v == 0));
        assert_eq!(Stamp::read_luma(&y, 64, 64, 64), None);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
