//! Test frames for the zero-allocation tests: a bar that moves with the
//! frame number over a vertical gradient, written into the first plane of
//! a pooled frame in place (so every frame differs and an encoder has
//! work, and nothing is allocated to make it).

#![allow(dead_code)]

use framecast::{Buffer, VideoMeta};

/// Paints frame `n` into plane 0 of `frame` (`width` x `height` pixels of
/// `pixel` bytes; the strides from its `VideoMeta`).
pub fn paint_moving_bar(frame: &mut Buffer, width: usize, height: usize, pixel: usize, n: u64) {
    let f = frame.get_mut().expect("a unique frame");
    let (offset, stride) = f
        .meta::<VideoMeta>()
        .map_or((0, width * pixel), |m| (m.offset[0], m.stride[0]));
    let mut map = f.map_writable().expect("map");
    for (y, row) in map[offset..].chunks_mut(stride).take(height).enumerate() {
        for (x, px) in row[..width * pixel].chunks_mut(pixel).enumerate() {
            let lit = (x + n as usize * 4) % 64 < 16;
            px.fill(if lit { 235 } else { (y % 200) as u8 + 16 });
        }
    }
}
