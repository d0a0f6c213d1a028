//! Frames as Python holds them: any object with the buffer protocol of
//! unsigned bytes (a numpy `uint8` array, an OpenCV image, `bytes`,
//! `bytearray`, `memoryview`), checked against the frame the sender takes.

use framecast::elements::video::frame::packed_size;
use framecast::VideoInfo;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The numpy shape of a packed frame of `info`, as OpenCV uses: `(H, W, C)`
/// for packed RGB-like formats, `(H, W)` for one byte a pixel, and
/// `(H * 3 / 2, W)` style (all planes' rows stacked) for planar YUV.
pub(crate) fn frame_shape(info: &VideoInfo) -> Vec<usize> {
    let (w, h) = (info.width as usize, info.height as usize);
    let pixel = info.format.pixel_stride(0);
    if info.n_planes == 1 {
        if pixel == 1 {
            vec![h, w]
        } else {
            vec![h, w, pixel]
        }
    } else {
        // Planar: the planes' rows one after another, each W bytes wide
        // for 4:2:0 (I420's two half-width chroma rows make one W row).
        let size = packed_size(info);
        if size % w == 0 {
            vec![size / w, w]
        } else {
            vec![size]
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
        python_shape(&frame_shape(info)),
        info.format,
        info.width,
        info.height,
        packed_size(info)
    )
}

/// A frame's bytes borrowed from a Python buffer, and the distance between
/// its rows when they are not packed (a crop of a larger image).
pub(crate) struct Pixels {
    buffer: PyBuffer<u8>,
    span: usize,
    stride: Option<usize>,
}

impl Pixels {
    /// Borrows `obj`'s bytes for a frame of `info`, or says what was
    /// expected: the shape (when the object has one), the byte count, and
    /// contiguous rows.
    pub(crate) fn borrow(obj: &Bound<'_, PyAny>, info: &VideoInfo) -> PyResult<Pixels> {
        let buffer = PyBuffer::<u8>::get(obj)
            .map_err(|e| PyValueError::new_err(format!("expected {}: {e}", describe(info))))?;
        let shape = buffer.shape().to_vec();
        let expected = frame_shape(info);
        let packed = packed_size(info);
        // A flat buffer is taken by size; one with a shape must have the
        // frame's (a transposed or resized image would otherwise be sent
        // as garbage of the right length).
        if shape.len() > 1 && shape != expected {
            return Err(PyValueError::new_err(format!(
                "expected {}, got shape {}",
                describe(info),
                python_shape(&shape)
            )));
        }
        if buffer.is_c_contiguous() {
            if buffer.len_bytes() != packed {
                return Err(PyValueError::new_err(format!(
                    "expected {}, got {} bytes",
                    describe(info),
                    buffer.len_bytes()
                )));
            }
            return Ok(Pixels {
                buffer,
                span: packed,
                stride: None,
            });
        }
        // A crop: rows apart by strides[0], each row's pixels contiguous.
        let strides = buffer.strides().to_vec();
        let row = info.width as usize * info.format.pixel_stride(0);
        let rows_contiguous = match (shape.len(), strides.as_slice()) {
            (2, [_, s1]) => *s1 == 1,
            (3, [_, s1, s2]) => *s2 == 1 && *s1 as usize == shape[2],
            _ => false,
        };
        let row_stride = strides.first().copied().unwrap_or(0);
        if info.n_planes != 1 || !rows_contiguous || row_stride < row as isize {
            return Err(PyValueError::new_err(format!(
                "expected {} with contiguous rows, got strides {strides:?} \
                 (numpy.ascontiguousarray makes one)",
                describe(info)
            )));
        }
        let stride = row_stride as usize;
        Ok(Pixels {
            buffer,
            span: stride * (info.height as usize - 1) + row,
            stride: Some(stride),
        })
    }

    /// The bytes from the first pixel to the last, and the row stride when
    /// rows are not packed. The GIL must stay held while they are used.
    pub(crate) fn bytes<'a>(&'a self, _py: Python<'a>) -> (&'a [u8], Option<usize>) {
        // SAFETY: the exporter keeps `span` bytes from `buf_ptr` valid
        // while `self.buffer` (the export) lives: a contiguous buffer is
        // exactly `span` bytes, and a crop's rows lie `stride` apart inside
        // the array it views, the last one `row` bytes long (checked
        // above, strides positive). The slice borrows `self` and the GIL
        // token, so it cannot outlive the export, and Python code that
        // could write to the array does not run while the GIL is held
        // here. Borrowing instead of copying saves a whole extra frame
        // copy per push (2.7 MB at 720p BGR).
        let bytes =
            unsafe { std::slice::from_raw_parts(self.buffer.buf_ptr() as *const u8, self.span) };
        (bytes, self.stride)
    }
}
