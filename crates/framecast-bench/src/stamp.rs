//! The latency stamp: framecast's frame-counter stamp
//! ([`framecast::elements::video::counter`], the one `testsrc` writes and
//! the tests read) carrying the frame number and `CLOCK_MONOTONIC` in
//! nanoseconds, painted into each frame just before it is handed over and
//! read the moment it is decoded — by this program, or by the C receiver
//! `anchors/gst_latency_receiver.c`, which reads the same layout (160
//! 16x16 blocks, frame number, time, check value; see the counter's module
//! docs). One clock for every process on the machine, so sender and
//! receiver may be different programs.
//!
//! The benchmarks need 16-pixel blocks (macroblock-aligned, so an H.264
//! encoder at any sane bitrate keeps each block's mean far from mid-grey):
//! [`Stamp::rows`] says how many rows of the top of a frame it covers, and
//! a size whose stamp would need smaller blocks is refused.

use framecast::elements::video::{decode_counter, write_counter, CounterStamp, Frame, FrameMut};
use framecast::{ClockTime, VideoFormat, VideoInfo};

/// Side of one bit's block, in pixels (an H.264 macroblock).
pub const BLOCK: usize = 16;

/// Narrowest frame a stamp is painted in (8 blocks a row).
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

/// The layout of a tightly packed `format` frame of `width` x `height`
/// (the layout every sender reads on its stdin), with 16-pixel stamp
/// blocks; `None` for a size that is not one.
fn packed_info(format: VideoFormat, width: usize, height: usize) -> Option<VideoInfo> {
    let info = VideoInfo::new(
        format,
        u32::try_from(width).ok()?,
        u32::try_from(height).ok()?,
    )
    .ok()?;
    let packed = (0..info.n_planes)
        .all(|p| info.stride[p] == info.comp_width(p) as usize * format.pixel_stride(p));
    packed.then_some(info)
}

impl Stamp {
    /// A stamp of `frame` taken now.
    pub fn now(frame: u32) -> Stamp {
        Stamp {
            time_ns: monotonic_ns(),
            frame,
        }
    }

    /// Rows of pixels a stamp covers at the top of a `width` x `height`
    /// frame; `None` when it would need blocks smaller than [`BLOCK`].
    pub fn rows(width: usize, height: usize) -> Option<usize> {
        let (w, h) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
        if framecast::elements::video::counter_block_size(w, h) != Some(BLOCK as u32) {
            return None;
        }
        let per_row = width / BLOCK;
        Some((framecast::elements::video::COUNTER_BITS as usize).div_ceil(per_row) * BLOCK)
    }

    /// Paints the stamp into the top rows of a tightly packed `format`
    /// frame of `width` x `height`; false (nothing painted) when it does
    /// not fit.
    pub fn paint(
        &self,
        format: VideoFormat,
        frame: &mut [u8],
        width: usize,
        height: usize,
    ) -> bool {
        let (Some(info), Some(_)) = (
            packed_info(format, width, height),
            Self::rows(width, height),
        ) else {
            return false;
        };
        let Ok(mut frame) = FrameMut::new(info, frame) else {
            return false;
        };
        write_counter(
            &mut frame,
            CounterStamp {
                frame: u64::from(self.frame),
                timestamp: Some(ClockTime::from_nseconds(self.time_ns)),
            },
        )
    }

    /// Reads a stamp from a tightly packed `format` frame (decoded, so
    /// perhaps damaged); `None` when it has none or the check value does
    /// not match.
    pub fn read(format: VideoFormat, frame: &[u8], width: usize, height: usize) -> Option<Stamp> {
        let info = packed_info(format, width, height)?;
        let got = decode_counter(&Frame::new(info, frame).ok()?)?;
        Some(Stamp {
            time_ns: got.timestamp?.nseconds(),
            frame: u32::try_from(got.frame).ok()?,
        })
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
    fn a_painted_stamp_reads_back_in_both_formats() {
        for format in [VideoFormat::I420, VideoFormat::Bgr] {
            let (w, h) = (1280, 720);
            let info = VideoInfo::new(format, w as u32, h as u32).unwrap();
            let mut frame = vec![100u8; info.size];
            let stamp = Stamp {
                time_ns: 0x0123_4567_89ab_cdef,
                frame: 4242,
            };
            assert!(stamp.paint(format, &mut frame, w, h));
            assert_eq!(Stamp::read(format, &frame, w, h), Some(stamp), "{format}");
        }
        assert_eq!(Stamp::rows(1280, 720), Some(32));
        assert_eq!(Stamp::rows(640, 360), Some(64));
    }

    #[test]
    fn a_damaged_stamp_is_rejected() {
        let (w, h) = (640, 480);
        let mut y = vec![0u8; w * h * 3 / 2];
        assert!(Stamp::now(7).paint(VideoFormat::I420, &mut y, w, h));
        // Flip one block (bit 70) to the opposite level.
        let columns = w / BLOCK;
        let (bx, by) = (70 % columns * BLOCK, 70 / columns * BLOCK);
        let lit = y[by * w + bx] > 128;
        for row in by..by + BLOCK {
            y[row * w + bx..row * w + bx + BLOCK].fill(if lit { 16 } else { 235 });
        }
        assert_eq!(Stamp::read(VideoFormat::I420, &y, w, h), None);
    }

    #[test]
    fn too_small_frames_neither_paint_nor_read() {
        let mut y = vec![0u8; 64 * 64 * 3 / 2];
        assert_eq!(Stamp::rows(64, 64), None);
        assert!(!Stamp::now(1).paint(VideoFormat::I420, &mut y, 64, 64));
        assert!(y.iter().all(|&v| v == 0));
        assert_eq!(Stamp::read(VideoFormat::I420, &[0u8; 10], 64, 64), None);
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
