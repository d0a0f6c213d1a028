//! Plane access to a raw video frame held in a buffer: the layout comes from
//! the buffer's [`VideoMeta`] when it has one (a pool that pads or aligns
//! frames), else from the negotiated [`VideoInfo`]'s default layout, as
//! `gst_video_frame_map` does.
//!
//! Every plane is handed out as a slice of exactly `stride * rows` bytes:
//! the SIMD conversion code walks rows in pairs by stride, and a slice
//! that runs past the plane (into the next one, or past an odd height)
//! would make it process rows that are not there.

use framecast_core::{BufferRef, VideoFormat, VideoInfo, VideoMeta, VIDEO_MAX_PLANES};
use smallvec::SmallVec;

use crate::{Error, Result};

/// A layout problem, as the crate's error.
pub(crate) fn layout_error(message: String) -> Error {
    Error::Core(framecast_core::Error::InvalidVideoInfo(message))
}

/// The layout of the frame in `buffer`: `info` with the offsets and strides
/// of the buffer's [`VideoMeta`] when it has one for the same format and
/// size (a meta for another format or size means the buffer does not hold
/// what the caps say, and is refused).
pub fn frame_layout(buffer: &BufferRef, info: &VideoInfo) -> Result<VideoInfo> {
    let Some(meta) = buffer.meta::<VideoMeta>() else {
        return Ok(*info);
    };
    if meta.format != info.format || meta.width != info.width || meta.height != info.height {
        return Err(layout_error(format!(
            "buffer's video meta says {} {}x{}, the caps say {} {}x{}",
            meta.format, meta.width, meta.height, info.format, info.width, info.height
        )));
    }
    let mut layout = *info;
    layout.offset = meta.offset;
    layout.stride = meta.stride;
    Ok(layout)
}

/// Bytes of one row of visible pixels in `plane`.
pub fn row_bytes(info: &VideoInfo, plane: usize) -> usize {
    info.comp_width(plane) as usize * info.format.pixel_stride(plane)
}

/// The byte range of `plane` in a frame of `len` bytes: `stride * rows`
/// from its offset, checked to fit and to hold a visible row.
fn plane_range(info: &VideoInfo, plane: usize, len: usize) -> Result<std::ops::Range<usize>> {
    let stride = info.stride[plane];
    let rows = info.comp_height(plane) as usize;
    let start = info.offset[plane];
    let end = stride
        .checked_mul(rows)
        .and_then(|n| n.checked_add(start))
        .filter(|&end| end <= len);
    match end {
        Some(end) if stride >= row_bytes(info, plane) => Ok(start..end),
        _ => Err(layout_error(format!(
            "{} {}x{}: plane {plane} (offset {start}, stride {stride}, {rows} rows) does not fit \
             in a {len}-byte frame",
            info.format, info.width, info.height
        ))),
    }
}

/// A read-only view of one frame's planes.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The layout (with the buffer's strides and offsets).
    pub info: VideoInfo,
    planes: SmallVec<[&'a [u8]; VIDEO_MAX_PLANES]>,
}

impl<'a> Frame<'a> {
    /// The planes of a frame laid out as `info` in `data`.
    pub fn new(info: VideoInfo, data: &'a [u8]) -> Result<Frame<'a>> {
        let mut planes = SmallVec::new();
        for plane in 0..info.n_planes {
            planes.push(&data[plane_range(&info, plane, data.len())?]);
        }
        Ok(Frame { info, planes })
    }

    /// Plane `i` (`stride * rows` bytes); empty for a plane the format lacks.
    pub fn plane(&self, i: usize) -> &'a [u8] {
        self.planes.get(i).copied().unwrap_or(&[])
    }

    /// Stride of plane `i`.
    pub fn stride(&self, i: usize) -> usize {
        self.info.stride[i]
    }

    /// The pixel format.
    pub fn format(&self) -> VideoFormat {
        self.info.format
    }
}

/// A writable view of one frame's planes (disjoint slices).
#[derive(Debug)]
pub struct FrameMut<'a> {
    /// The layout (with the buffer's strides and offsets).
    pub info: VideoInfo,
    planes: SmallVec<[&'a mut [u8]; VIDEO_MAX_PLANES]>,
}

impl<'a> FrameMut<'a> {
    /// The planes of a frame laid out as `info` in `data`; planes must not
    /// overlap.
    pub fn new(info: VideoInfo, data: &'a mut [u8]) -> Result<FrameMut<'a>> {
        let len = data.len();
        let mut ranges: SmallVec<[(usize, std::ops::Range<usize>); VIDEO_MAX_PLANES]> =
            SmallVec::new();
        for plane in 0..info.n_planes {
            ranges.push((plane, plane_range(&info, plane, len)?));
        }
        ranges.sort_by_key(|(_, r)| r.start);
        let mut planes: SmallVec<[(usize, &'a mut [u8]); VIDEO_MAX_PLANES]> = SmallVec::new();
        let mut rest: &'a mut [u8] = data;
        let mut consumed = 0usize;
        for (plane, range) in ranges {
            if range.start < consumed {
                return Err(layout_error(format!(
                    "{} {}x{}: plane {plane} overlaps the plane before it",
                    info.format, info.width, info.height
                )));
            }
            let taken = std::mem::take(&mut rest);
            let (_, tail) = taken.split_at_mut(range.start - consumed);
            let (slice, tail) = tail.split_at_mut(range.end - range.start);
            rest = tail;
            consumed = range.end;
            planes.push((plane, slice));
        }
        planes.sort_by_key(|(plane, _)| *plane);
        Ok(FrameMut {
            info,
            planes: planes.into_iter().map(|(_, s)| s).collect(),
        })
    }

    /// Plane `i`, writable; empty for a plane the format lacks.
    pub fn plane_mut(&mut self, i: usize) -> &mut [u8] {
        match self.planes.get_mut(i) {
            Some(p) => p,
            None => &mut [],
        }
    }

    /// Plane `i`, read-only.
    pub fn plane(&self, i: usize) -> &[u8] {
        self.planes.get(i).map(|p| &**p).unwrap_or(&[])
    }

    /// All planes at once, writable (for converters that write several).
    pub fn planes_mut(&mut self) -> &mut [&'a mut [u8]] {
        &mut self.planes
    }

    /// Stride of plane `i`.
    pub fn stride(&self, i: usize) -> usize {
        self.info.stride[i]
    }

    /// The pixel format.
    pub fn format(&self) -> VideoFormat {
        self.info.format
    }
}

/// Bytes of a frame laid out as `info` with no padding: rows of visible
/// pixels only, planes one after another. This is how OpenCV's `Mat` and a
/// C-contiguous numpy array hold an image (I420 as `H * 3 / 2` rows).
pub fn packed_size(info: &VideoInfo) -> usize {
    (0..info.n_planes)
        .map(|p| row_bytes(info, p) * info.comp_height(p) as usize)
        .sum()
}

/// `info` laid out packed, as [`packed_size`] counts it: strides of the
/// visible rows, planes back to back from offset 0 (a numpy array's or a
/// `Mat`'s layout), for reading such pixels as a [`Frame`].
pub fn packed_layout(info: &VideoInfo) -> VideoInfo {
    let mut layout = *info;
    let mut at = 0;
    for p in 0..info.n_planes {
        layout.offset[p] = at;
        layout.stride[p] = row_bytes(info, p);
        at += layout.stride[p] * info.comp_height(p) as usize;
    }
    layout.size = at;
    layout
}

/// Whether a frame laid out as `layout` is already packed (no row padding,
/// planes back to back from offset 0): its first [`packed_size`] bytes can
/// then be filled or read in one copy.
pub fn is_packed(layout: &VideoInfo) -> bool {
    let mut at = 0;
    (0..layout.n_planes).all(|p| {
        let row = row_bytes(layout, p);
        let ok = layout.offset[p] == at && (layout.stride[p] == row || layout.comp_height(p) == 1);
        at += row * layout.comp_height(p) as usize;
        ok
    })
}

/// Copies packed pixels into the frame `frame`, laid out as `layout` (from
/// [`frame_layout`]; strides may pad rows).
///
/// `pixels` holds the frame as [`packed_size`] describes, or, for a
/// one-plane format given `src_stride`, rows `src_stride` bytes apart
/// (a crop of a larger image); the last row may stop at its visible
/// pixels. Nothing is allocated.
///
/// # Errors
///
/// An error that says what size was expected, when `pixels` is too short
/// or too long for the frame, or when a stride is given for a format with
/// several planes or is shorter than a row.
pub fn copy_packed_into(
    frame: &mut [u8],
    layout: &VideoInfo,
    pixels: &[u8],
    src_stride: Option<usize>,
) -> Result<()> {
    let mut dst = FrameMut::new(*layout, frame)?;
    let what = || format!("{} {}x{}", layout.format, layout.width, layout.height);
    if let Some(stride) = src_stride {
        let row = row_bytes(layout, 0);
        let rows = layout.comp_height(0) as usize;
        if layout.n_planes != 1 || stride < row {
            return Err(layout_error(format!(
                "{}: a source stride of {stride} bytes needs a one-plane format and at least \
                 {row} bytes a row",
                what()
            )));
        }
        // Rows `stride` apart, the last one ending at its pixels; a stride
        // too large to address is as wrong as a short buffer.
        let needed = stride
            .checked_mul(rows - 1)
            .and_then(|n| n.checked_add(row))
            .filter(|&needed| needed <= pixels.len());
        let Some(needed) = needed else {
            return Err(layout_error(format!(
                "{}: {} bytes of pixels, {} needed for {rows} rows {stride} bytes apart",
                what(),
                pixels.len(),
                stride
                    .checked_mul(rows - 1)
                    .and_then(|n| n.checked_add(row))
                    .map_or("more than memory holds".to_string(), |n| n.to_string())
            )));
        };
        debug_assert!(needed <= pixels.len());
        let d_stride = dst.stride(0);
        let plane = dst.plane_mut(0);
        for y in 0..rows {
            plane[y * d_stride..y * d_stride + row]
                .copy_from_slice(&pixels[y * stride..y * stride + row]);
        }
        return Ok(());
    }
    let expected = packed_size(layout);
    if pixels.len() != expected {
        return Err(layout_error(format!(
            "{}: {} bytes of pixels, a packed frame is {expected}",
            what(),
            pixels.len()
        )));
    }
    let mut at = 0;
    for p in 0..layout.n_planes {
        let (row, rows, stride) = (
            row_bytes(layout, p),
            layout.comp_height(p) as usize,
            dst.stride(p),
        );
        let plane = dst.plane_mut(p);
        if stride == row {
            plane[..row * rows].copy_from_slice(&pixels[at..at + row * rows]);
        } else {
            for (y, src) in pixels[at..at + row * rows].chunks_exact(row).enumerate() {
                plane[y * stride..y * stride + row].copy_from_slice(src);
            }
        }
        at += row * rows;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_pixels_land_in_padded_rows() {
        // I420 6x5 pads luma rows to 8 bytes and chroma rows to 4.
        let info = VideoInfo::new(VideoFormat::I420, 6, 5).unwrap();
        assert_eq!(packed_size(&info), 6 * 5 + 2 * (3 * 3));
        assert!(!is_packed(&info));
        assert!(is_packed(&VideoInfo::new(VideoFormat::I420, 8, 4).unwrap()));
        assert!(is_packed(
            &VideoInfo::new(VideoFormat::Bgr, 320, 240).unwrap()
        ));
        let packed = packed_layout(&info);
        assert!(is_packed(&packed));
        assert_eq!(
            (packed.size, packed.stride[0], packed.offset[2]),
            (48, 6, 39)
        );
        let pixels: Vec<u8> = (0..packed_size(&info) as u8).collect();
        let mut data = vec![0xEEu8; info.size];
        copy_packed_into(&mut data, &info, &pixels, None).unwrap();
        let frame = Frame::new(info, &data).unwrap();
        assert_eq!(&frame.plane(0)[8..14], &pixels[6..12]);
        assert_eq!(frame.plane(0)[6], 0xEE, "padding untouched");
        assert_eq!(&frame.plane(2)[4..7], &pixels[30 + 9 + 3..30 + 9 + 6]);
        drop(frame);
        let err = copy_packed_into(&mut data, &info, &pixels[1..], None).unwrap_err();
        assert!(err.to_string().contains("a packed frame is 48"), "{err}");
        let err = copy_packed_into(&mut data, &info, &pixels, Some(10)).unwrap_err();
        assert!(err.to_string().contains("one-plane"), "{err}");
    }

    #[test]
    fn strided_rows_are_cropped_into_the_frame() {
        // A 2x2 BGR crop out of rows 10 bytes apart; the last row stops at
        // its pixels.
        let info = VideoInfo::new(VideoFormat::Bgr, 2, 2).unwrap();
        let pixels: Vec<u8> = (0..16).collect();
        let mut data = vec![0u8; info.size];
        copy_packed_into(&mut data, &info, &pixels, Some(10)).unwrap();
        let stride = info.stride[0];
        assert_eq!(&data[..6], &pixels[..6]);
        assert_eq!(&data[stride..stride + 6], &pixels[10..16]);
        let err = copy_packed_into(&mut data, &info, &pixels[..15], Some(10)).unwrap_err();
        assert!(err.to_string().contains("16 needed"), "{err}");
        let err = copy_packed_into(&mut data, &info, &pixels, Some(usize::MAX)).unwrap_err();
        assert!(err.to_string().contains("more than memory holds"), "{err}");
    }

    #[test]
    fn planes_are_exact_and_disjoint() {
        // Odd height: I420's luma plane is followed by one spare row that
        // must not be part of the luma slice.
        let info = VideoInfo::new(VideoFormat::I420, 6, 5).unwrap();
        let mut data = vec![0u8; info.size];
        let mut frame = FrameMut::new(info, &mut data).unwrap();
        assert_eq!(frame.plane(0).len(), 8 * 5);
        assert_eq!(frame.plane(1).len(), 4 * 3);
        assert_eq!(frame.plane(2).len(), 4 * 3);
        frame.plane_mut(2).fill(7);
        drop(frame);
        assert_eq!(data[info.offset[2]], 7);
        assert_eq!(data[info.offset[2] - 1], 0);
    }

    #[test]
    fn short_buffer_is_an_error() {
        let info = VideoInfo::new(VideoFormat::Bgr, 10, 10).unwrap();
        let data = vec![0u8; info.size - 1];
        let err = Frame::new(info, &data).unwrap_err().to_string();
        assert!(err.contains("does not fit"), "{err}");
    }
}
