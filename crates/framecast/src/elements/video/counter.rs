//! The frame-counter stamp: a frame number and a timestamp written into a
//! frame as big black and white blocks, readable back after conversion,
//! scaling-free transport and lossy encoding.
//!
//! Layout: 160 bits, most significant first — the frame number (64 bits),
//! the timestamp in nanoseconds (64 bits, all ones for "none") and a 32-bit
//! check value mixing both — one bit per square block, white for 1, black
//! for 0, in raster order from the top-left corner, as many blocks per row
//! as fit the width. Blocks are 16x16 (macroblock-aligned, so an H.264
//! encoder codes each one as a flat block and it survives quantisation)
//! whenever 160 of them fit the frame; smaller frames use 8, 4, 2 or 1
//! pixels, so even a 64x48 test frame carries a stamp.
//!
//! Reading averages the luma of each block's inner half and compares it
//! with mid-grey; a stamp whose check value does not match is rejected, so
//! a damaged or missing stamp reads as `None`, not as a wrong number.
//!
//! Latency is measured with it the same way for framecast, GStreamer and
//! FFmpeg: the producer writes the monotonic capture time and the frame
//! number into the frame just before handing it over; the consumer reads
//! them the moment the frame is decoded and subtracts, on one clock, the
//! first second excluded and damaged stamps rejected. (The benchmark
//! chapter of this repository, BENCHMARKS.md, lists the anchors measured
//! this way.)

use framecast_core::{BufferRef, ClockTime, VideoFormat, VideoInfo};

use super::frame::{frame_layout, Frame, FrameMut};
use crate::Result;

/// Bits in a stamp: frame number, timestamp, check value.
pub const COUNTER_BITS: u32 = 64 + 64 + 32;

/// What a stamp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterStamp {
    /// The frame number.
    pub frame: u64,
    /// A timestamp (capture time, running time), if any.
    pub timestamp: Option<ClockTime>,
}

/// The side of a stamp block for a `width` x `height` frame: the largest of
/// 16, 8, 4, 2, 1 for which [`COUNTER_BITS`] blocks fit; `None` when not
/// even 1-pixel blocks fit.
pub fn counter_block_size(width: u32, height: u32) -> Option<u32> {
    [16u32, 8, 4, 2, 1]
        .into_iter()
        .find(|b| u64::from(width / b) * u64::from(height / b) >= u64::from(COUNTER_BITS))
}

fn check_value(frame: u64, ts: u64) -> u32 {
    // splitmix64's finaliser over both words: every input bit moves about
    // half the output bits, so a flipped block fails the check.
    let mut h = frame.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ts.rotate_left(29);
    h ^= h >> 31;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    // The constant keeps an all-black or all-white frame from passing.
    ((h >> 32) as u32 ^ h as u32) ^ 0x5A3C_C3A5
}

fn bits_of(stamp: CounterStamp) -> [bool; COUNTER_BITS as usize] {
    let ts = stamp.timestamp.map_or(u64::MAX, |t| t.nseconds());
    let check = check_value(stamp.frame, ts);
    let mut bits = [false; COUNTER_BITS as usize];
    for i in 0..64 {
        bits[i] = stamp.frame >> (63 - i) & 1 == 1;
        bits[64 + i] = ts >> (63 - i) & 1 == 1;
    }
    for i in 0..32 {
        bits[128 + i] = check >> (31 - i) & 1 == 1;
    }
    bits
}

/// Levels of black and white in `format`: limited range for YUV (as a
/// camera or encoder would produce), full range otherwise.
fn levels(format: VideoFormat) -> (u8, u8) {
    if format.is_yuv() {
        (16, 235)
    } else {
        (0, 255)
    }
}

/// Fills the rectangle `x0..x1, y0..y1` (in pixels) of `frame` with grey
/// `value` (neutral chroma).
fn fill_rect(frame: &mut FrameMut<'_>, x0: u32, y0: u32, x1: u32, y1: u32, value: u8) {
    let info = frame.info;
    for plane in 0..info.n_planes {
        let (ws, hs) = info.format.subsampling(plane);
        let bpp = info.format.pixel_stride(plane);
        let (px0, px1) = ((x0 >> ws) as usize, (x1.div_ceil(1 << ws)) as usize);
        let (py0, py1) = ((y0 >> hs) as usize, (y1.div_ceil(1 << hs)) as usize);
        let stride = info.stride[plane];
        let v = if plane == 0 { value } else { 128 };
        let data = frame.plane_mut(plane);
        for row in py0..py1 {
            let line = &mut data[row * stride + px0 * bpp..row * stride + px1 * bpp];
            if info.format.is_rgb() {
                for px in line.chunks_exact_mut(bpp) {
                    px[..3].fill(value);
                    if bpp == 4 {
                        px[3] = 255;
                    }
                }
            } else {
                line.fill(v);
            }
        }
    }
}

/// Writes `stamp` into the top rows of `frame`. Returns false (writing
/// nothing) when the frame is too small for a stamp.
pub fn write_counter(frame: &mut FrameMut<'_>, stamp: CounterStamp) -> bool {
    let (w, h) = (frame.info.width, frame.info.height);
    let Some(b) = counter_block_size(w, h) else {
        return false;
    };
    let per_row = w / b;
    let (black, white) = levels(frame.info.format);
    for (k, bit) in bits_of(stamp).into_iter().enumerate() {
        let k = k as u32;
        let (bx, by) = (k % per_row * b, k / per_row * b);
        fill_rect(
            frame,
            bx,
            by,
            bx + b,
            by + b,
            if bit { white } else { black },
        );
    }
    true
}

/// Mean luma (0..=255) of the pixels `x0..x1, y0..y1`.
fn mean_luma(frame: &Frame<'_>, x0: u32, y0: u32, x1: u32, y1: u32) -> u32 {
    let info = &frame.info;
    let stride = info.stride[0];
    let data = frame.plane(0);
    let bpp = info.format.pixel_stride(0);
    let (r, g, b) = match info.format {
        VideoFormat::Bgr | VideoFormat::Bgra | VideoFormat::Bgrx => (2, 1, 0),
        _ => (0, 1, 2),
    };
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in y0..y1 {
        let row = &data[y as usize * stride..];
        for x in x0..x1 {
            let p = &row[x as usize * bpp..x as usize * bpp + bpp];
            sum += if info.format.is_rgb() {
                (u64::from(p[r]) + 2 * u64::from(p[g]) + u64::from(p[b])) / 4
            } else {
                u64::from(p[0])
            };
            n += 1;
        }
    }
    sum.checked_div(n).unwrap_or(0) as u32
}

/// Reads a stamp written by [`write_counter`] (possibly converted to
/// another format or through a lossy codec since); `None` when the frame
/// has none or it is damaged (check value mismatch).
pub fn decode_counter(frame: &Frame<'_>) -> Option<CounterStamp> {
    let (w, h) = (frame.info.width, frame.info.height);
    let b = counter_block_size(w, h)?;
    let per_row = w / b;
    let (black, white) = levels(frame.info.format);
    let threshold = (u32::from(black) + u32::from(white)) / 2;
    let inset = b / 4;
    let mut frame_no = 0u64;
    let mut ts = 0u64;
    let mut check = 0u32;
    for k in 0..COUNTER_BITS {
        let (bx, by) = (k % per_row * b, k / per_row * b);
        let bit = mean_luma(
            frame,
            bx + inset,
            by + inset,
            bx + b - inset,
            by + b - inset,
        ) > threshold;
        let bit = u64::from(bit);
        match k {
            0..64 => frame_no = frame_no << 1 | bit,
            64..128 => ts = ts << 1 | bit,
            _ => check = check << 1 | bit as u32,
        }
    }
    (check == check_value(frame_no, ts)).then_some(CounterStamp {
        frame: frame_no,
        timestamp: (ts != u64::MAX).then(|| ClockTime::from_nseconds(ts)),
    })
}

/// [`decode_counter`] on a buffer holding a frame of `info` (honouring the
/// buffer's video meta).
pub fn decode_counter_buffer(buffer: &BufferRef, info: &VideoInfo) -> Option<CounterStamp> {
    let layout = frame_layout(buffer, info).ok()?;
    let map = buffer.map_readable().ok()?;
    let data = map.contiguous();
    let frame = Frame::new(layout, &data).ok()?;
    decode_counter(&frame)
}

/// [`write_counter`] on a writable buffer holding a frame of `info`
/// (honouring its video meta); `Ok(false)` when the frame is too small.
///
/// # Errors
///
/// When the buffer cannot be mapped or is too small for `info`.
pub fn write_counter_buffer(
    buffer: &mut BufferRef,
    info: &VideoInfo,
    stamp: CounterStamp,
) -> Result<bool> {
    let layout = frame_layout(buffer, info)?;
    let mut map = buffer.map_writable()?;
    let mut frame = FrameMut::new(layout, &mut map)?;
    Ok(write_counter(&mut frame, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_every_format_and_size() {
        for &format in VideoFormat::ALL {
            for (w, h) in [(320, 240), (64, 48), (1280, 720), (33, 17)] {
                let info = VideoInfo::new(format, w, h).unwrap();
                let mut data = vec![100u8; info.size];
                let stamp = CounterStamp {
                    frame: 0x0123_4567_89AB_CDEF ^ u64::from(w),
                    timestamp: Some(ClockTime::from_nseconds(987_654_321)),
                };
                assert!(write_counter(
                    &mut FrameMut::new(info, &mut data).unwrap(),
                    stamp
                ));
                let got = decode_counter(&Frame::new(info, &data).unwrap());
                assert_eq!(got, Some(stamp), "{format} {w}x{h}");
            }
        }
    }

    #[test]
    fn blank_or_damaged_frames_read_none() {
        let info = VideoInfo::new(VideoFormat::Gray8, 320, 240).unwrap();
        let mut data = vec![0u8; info.size];
        assert_eq!(decode_counter(&Frame::new(info, &data).unwrap()), None);
        let white = vec![255u8; info.size];
        assert_eq!(decode_counter(&Frame::new(info, &white).unwrap()), None);
        let stamp = CounterStamp {
            frame: 42,
            timestamp: None,
        };
        write_counter(&mut FrameMut::new(info, &mut data).unwrap(), stamp);
        assert_eq!(
            decode_counter(&Frame::new(info, &data).unwrap()),
            Some(stamp)
        );
        // Flip one block (bit 70, in the timestamp).
        let (bx, by) = (70 % 20 * 16, 70 / 20 * 16);
        for y in by..by + 16 {
            for x in bx..bx + 16 {
                data[y * info.stride[0] + x] ^= 0xff;
            }
        }
        assert_eq!(decode_counter(&Frame::new(info, &data).unwrap()), None);
        assert_eq!(counter_block_size(12, 12), None);
        assert_eq!(counter_block_size(1920, 1080), Some(16));
    }
}
