//! The buffer protocol (PEP 3118) for a wheel built on the stable ABI of
//! Python 3.8.
//!
//! PyO3 offers `PyBuffer` on the stable ABI only from Python 3.11, the
//! release that added `PyObject_GetBuffer` and its helpers to the limited
//! API. The functions and the `Py_buffer` struct are the same in every
//! CPython 3 (3.11 only promised to keep them), so one abi3 wheel declares
//! them itself and runs on 3.8, 3.9 and 3.10 as well: one wheel for every
//! Python, instead of a wheel per version.

use std::ffi::{c_char, c_int, c_void, CStr};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi::{PyObject, Py_ssize_t};
use pyo3::prelude::*;

/// `Py_buffer` of CPython's `Include/pybuffer.h`, unchanged since 3.3.
#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: *mut PyObject,
    len: Py_ssize_t,
    itemsize: Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut Py_ssize_t,
    strides: *mut Py_ssize_t,
    suboffsets: *mut Py_ssize_t,
    internal: *mut c_void,
}

// The request flags of `pybuffer.h`.
const PYBUF_FORMAT: c_int = 0x0004;
const PYBUF_ND: c_int = 0x0008;
const PYBUF_STRIDES: c_int = 0x0010 | PYBUF_ND;
const PYBUF_INDIRECT: c_int = 0x0100 | PYBUF_STRIDES;
/// Any layout (strides, suboffsets), with the item format; whether writes
/// are allowed is read from the view (`readonly`), so one request serves
/// `push` and `pull(out=)`.
const PYBUF_FULL_RO: c_int = PYBUF_INDIRECT | PYBUF_FORMAT;

// Resolved against the interpreter that loads the module, as PyO3's own
// functions are (an extension module does not link libpython).
extern "C" {
    fn PyObject_GetBuffer(obj: *mut PyObject, view: *mut RawBuffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut RawBuffer);
    fn PyBuffer_ToContiguous(
        buf: *mut c_void,
        view: *const RawBuffer,
        len: Py_ssize_t,
        order: c_char,
    ) -> c_int;
    fn PyBuffer_FromContiguous(
        view: *const RawBuffer,
        buf: *const c_void,
        len: Py_ssize_t,
        order: c_char,
    ) -> c_int;
    fn PyBuffer_IsContiguous(view: *const RawBuffer, order: c_char) -> c_int;
}

/// An object's memory as unsigned bytes, held (the exporter keeps it
/// alive and its size fixed) until this is dropped. The view lives in a
/// [`ViewSlot`] the caller keeps on its stack: exporters may point the
/// shape and strides into the view, so it must not move while held, which
/// the borrow of the slot guarantees; nothing is allocated per frame.
pub(crate) struct ByteBuffer<'s>(&'s mut RawBuffer);

/// Room for one buffer view ([`ByteBuffer::get`] fills it).
pub(crate) struct ViewSlot(RawBuffer);

impl ViewSlot {
    /// An empty slot.
    pub(crate) fn new() -> ViewSlot {
        ViewSlot(RawBuffer {
            buf: std::ptr::null_mut(),
            obj: std::ptr::null_mut(),
            len: 0,
            itemsize: 0,
            readonly: 0,
            ndim: 0,
            format: std::ptr::null_mut(),
            shape: std::ptr::null_mut(),
            strides: std::ptr::null_mut(),
            suboffsets: std::ptr::null_mut(),
            internal: std::ptr::null_mut(),
        })
    }
}

/// Whether `format` (a `struct` module code) describes unsigned bytes:
/// `B` with or without a byte-order prefix (NULL means `B`).
fn is_bytes(format: *const c_char) -> bool {
    if format.is_null() {
        return true;
    }
    // SAFETY: a non-NULL format of a filled view is a NUL-terminated
    // string the exporter keeps until the view is released.
    let format = unsafe { CStr::from_ptr(format) }.to_bytes();
    matches!(format, [b'B'] | [b'@' | b'=' | b'<' | b'>' | b'!', b'B'])
}

impl<'s> ByteBuffer<'s> {
    /// `obj`'s buffer (any layout) in `slot`, refused unless its items are
    /// `uint8`.
    pub(crate) fn get(obj: &Bound<'_, PyAny>, slot: &'s mut ViewSlot) -> PyResult<ByteBuffer<'s>> {
        let raw = &mut slot.0;
        // SAFETY: `obj` is a live object (the GIL is held, as `Bound`
        // proves) and `raw` a writable `Py_buffer` that stays in place
        // while borrowed; on success the view is ours to release, which
        // `Drop` does exactly once.
        if unsafe { PyObject_GetBuffer(obj.as_ptr(), &mut *raw, PYBUF_FULL_RO) } != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        let buffer = ByteBuffer(raw);
        if buffer.0.itemsize != 1 || !is_bytes(buffer.0.format) {
            return Err(PyBufferError::new_err(
                "the items are not unsigned bytes (dtype uint8)",
            ));
        }
        Ok(buffer)
    }

    /// The dimensions (`(720, 1280, 3)`); empty for a scalar view.
    pub(crate) fn shape(&self) -> &[usize] {
        let ndim = usize::try_from(self.0.ndim).unwrap_or(0);
        if self.0.shape.is_null() || ndim == 0 {
            return &[];
        }
        // SAFETY: with PYBUF_ND requested, `shape` points at `ndim`
        // non-negative `Py_ssize_t`s (the size of `usize`) that live as
        // long as the view, which `self` holds.
        unsafe { std::slice::from_raw_parts(self.0.shape.cast::<usize>(), ndim) }
    }

    /// Bytes in the buffer.
    pub(crate) fn len_bytes(&self) -> usize {
        usize::try_from(self.0.len).unwrap_or(0)
    }

    /// Whether the exporter refuses writes (`bytes`, a read-only array).
    pub(crate) fn readonly(&self) -> bool {
        self.0.readonly != 0
    }

    /// Whether the bytes are one C-ordered run (rows packed).
    pub(crate) fn is_c_contiguous(&self) -> bool {
        // SAFETY: the view is filled and held.
        unsafe { PyBuffer_IsContiguous(&*self.0, b'C' as c_char) != 0 }
    }

    /// The bytes in place, when they are one C-ordered run (a whole numpy
    /// array, `bytes`): read straight from the exporter's memory, with no
    /// copy. None for any other layout (a crop, a flipped view).
    pub(crate) fn contiguous(&self) -> Option<&[u8]> {
        if !self.is_c_contiguous() || self.0.buf.is_null() {
            return None;
        }
        // SAFETY: a C-contiguous view's `len` bytes from `buf` are the
        // exporter's, kept alive and in place (numpy refuses to resize an
        // array with exports) until the view is released, which `self`
        // holds and the slice cannot outlive. Another thread may write
        // them meanwhile (an OpenCV capture running without the GIL), as
        // with rust-numpy's `as_slice`: the reader then sees a torn frame,
        // which is what a copy would have taken too.
        Some(unsafe { std::slice::from_raw_parts(self.0.buf.cast::<u8>(), self.len_bytes()) })
    }

    /// Copies the bytes, packed in C order, into `out` (exactly
    /// `len_bytes()`). CPython does the copy, following any strides; no
    /// Rust reference to the exporter's memory is made, so a thread
    /// writing it meanwhile (OpenCV's run without the GIL) can tear the
    /// frame but not break Rust's rules.
    pub(crate) fn copy_to_slice(&self, py: Python<'_>, out: &mut [u8]) -> PyResult<()> {
        self.check_len(out.len())?;
        // SAFETY: `out` holds `len` bytes, the view is held, and the GIL
        // is held (`py`).
        let status = unsafe {
            PyBuffer_ToContiguous(
                out.as_mut_ptr().cast(),
                &*self.0,
                self.0.len,
                b'C' as c_char,
            )
        };
        self.status(py, status)
    }

    /// Copies `source` (exactly `len_bytes()`, C order) into the buffer.
    pub(crate) fn copy_from_slice(&self, py: Python<'_>, source: &[u8]) -> PyResult<()> {
        if self.readonly() {
            return Err(PyBufferError::new_err("the buffer is read-only"));
        }
        self.check_len(source.len())?;
        // SAFETY: as `copy_to_slice`; the exporter allows writes (checked).
        let status = unsafe {
            PyBuffer_FromContiguous(&*self.0, source.as_ptr().cast(), self.0.len, b'C' as c_char)
        };
        self.status(py, status)
    }

    fn check_len(&self, len: usize) -> PyResult<()> {
        if len == self.len_bytes() {
            Ok(())
        } else {
            Err(PyBufferError::new_err(format!(
                "{len} bytes for a buffer of {}",
                self.len_bytes()
            )))
        }
    }

    fn status(&self, py: Python<'_>, status: c_int) -> PyResult<()> {
        if status == 0 {
            Ok(())
        } else {
            Err(PyErr::fetch(py))
        }
    }
}

impl Drop for ByteBuffer<'_> {
    fn drop(&mut self) {
        // Releasing calls into the exporter, which needs the GIL (held
        // already wherever these buffers live: attaching is then a check).
        Python::attach(|_| {
            // SAFETY: the view was filled by `PyObject_GetBuffer` and is
            // released once, here.
            unsafe { PyBuffer_Release(&mut *self.0) }
        });
    }
}
