//! Frames as Python holds them: any object with the buffer protocol of
//! unsigned bytes (a numpy `uint8` array, an OpenCV image, `bytes`,
//! `bytearray`, `memoryview`), checked against the frame the sender takes.

use framecast::elements::video::frame::{packed_layout, packed_size};
use framecast::elements::video::Frame;
use framecast::VideoInfo;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::buffer::{ByteBuffer, ViewSlot};

/// The numpy shape of a packed frame (one to three dimensions), kept
/// inline: checking every pushed frame's shape allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameShape {
    dims: [usize; 3],
    len: usize,
}

impl FrameShape {
    fn of(dims: &[usize]) -> FrameShape {
        let mut shape = FrameShape {
            dims: [0; 3],
            len: dims.len().min(3),
        };
        shape.dims[..shape.len].copy_from_slice(&dims[..shape.len]);
        shape
    }

    /// The dimensions, as numpy's `shape`.
    pub(crate) fn as_slice(&self) -> &[usize] {
        &self.dims[..self.len]
    }
}

/// The numpy shape of a packed frame of `info`, as OpenCV uses: `(H, W, C)`
/// for packed RGB-like formats, `(H, W)` for one byte a pixel, and
/// `(H * 3 / 2, W)` style (all planes' rows stacked) for planar YUV.
pub(crate) fn frame_shape(info: &VideoInfo) -> FrameShape {
    let (w, h) = (info.width as usize, info.height as usize);
    let pixel = info.format.pixel_stride(0);
    if info.n_planes == 1 {
        if pixel == 1 {
            FrameShape::of(&[h, w])
        } else {
            FrameShape::of(&[h, w, pixel])
        }
    } else {
        // Planar: the planes' rows one after another, each W bytes wide
        // for 4:2:0 (I420's two half-width chroma rows make one W row).
        let size = packed_size(info);
        if w > 0 && size % w == 0 {
            FrameShape::of(&[size / w, w])
        } else {
            FrameShape::of(&[size])
        }
    }
}

/// A shape as Python writes it: `(240, 320, 3)`, `(5,)`.
pub(crate) fn python_shape(shape: &[usize]) -> String {
    let items: Vec<String> = shape.iter().map(usize::to_string).collect();
    match items.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", items.join(", ")),
    }
}

fn describe(info: &VideoInfo) -> String {
    format!(
        "a {} uint8 array ({} {}x{}, {} bytes)",
        python_shape(frame_shape(info).as_slice()),
        info.format,
        info.width,
        info.height,
        packed_size(info)
    )
}

/// A Python buffer checked to hold one frame of `info`: the frame's shape
/// (when it has more than one dimension) and byte count. Any strides are
/// taken, a crop of a larger image or a flipped view included:
/// [`copy_into`](Self::copy_into) packs them as it copies.
pub(crate) struct Pixels<'s> {
    buffer: ByteBuffer<'s>,
}

impl<'s> Pixels<'s> {
    /// Takes `obj`'s buffer (its view in `slot`) for a frame of `info`, or
    /// says what was expected: the shape, the byte count, the element type.
    pub(crate) fn borrow(
        obj: &Bound<'_, PyAny>,
        info: &VideoInfo,
        slot: &'s mut ViewSlot,
    ) -> PyResult<Pixels<'s>> {
        let buffer = ByteBuffer::get(obj, slot)
            .map_err(|e| PyValueError::new_err(format!("expected {}: {e}", describe(info))))?;
        let shape = buffer.shape();
        // A flat buffer is taken by size; one with a shape must have the
        // frame's (a transposed or resized image would otherwise be sent
        // as garbage of the right length).
        if shape.len() > 1 && shape != frame_shape(info).as_slice() {
            return Err(PyValueError::new_err(format!(
                "expected {}, got shape {}",
                describe(info),
                python_shape(shape)
            )));
        }
        if buffer.len_bytes() != packed_size(info) {
            return Err(PyValueError::new_err(format!(
                "expected {}, got {} bytes",
                describe(info),
                buffer.len_bytes()
            )));
        }
        Ok(Pixels { buffer })
    }

    /// The pixels in place, when packed (a whole C-ordered array), laid
    /// out as `info` packed; None for strides (a crop, a flipped view):
    /// [`copy_into`](Self::copy_into) packs those.
    pub(crate) fn in_place(&self, info: &VideoInfo) -> Option<Frame<'_>> {
        Frame::new(packed_layout(info), self.buffer.contiguous()?).ok()
    }

    /// Copies the pixels, packed, into `out` (exactly the frame's packed
    /// size). CPython does the copy (`PyBuffer_ToContiguous`), following
    /// the buffer's strides; no Rust reference to the array's memory is
    /// made, so another thread writing the array (OpenCV capture threads
    /// run without the GIL) can only tear the frame, not break Rust's
    /// rules.
    pub(crate) fn copy_into(&self, py: Python<'_>, out: &mut [u8]) -> PyResult<()> {
        self.buffer.copy_to_slice(py, out)
    }
}
