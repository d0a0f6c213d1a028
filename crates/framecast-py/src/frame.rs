//! `framecast.Frame`: a decoded frame with what the sender said of it.

use std::time::{Duration, UNIX_EPOCH};

use framecast::receiver::ReceivedFrame;
use framecast::sender::FrameInfo;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A frame from `Receiver.pull_frame()`: the pixels (`image`, a numpy
/// `uint8` array as `pull()` returns) and what the sender said of them.
///
/// - `capture_time`: when the sender's program captured it, seconds since
///   the Unix epoch on the sender's wall clock (as `time.time()`): what it
///   passed to `push(..., capture_time=)`, else the push time; None from a
///   sender that says neither (no header extension, no RTCP report yet).
/// - `frame_id`: the id it passed to `push(..., frame_id=)`, else None.
/// - `latency`: seconds from the capture to the pull, on the two wall
///   clocks (as exact as their synchronisation across machines).
#[pyclass(name = "Frame", module = "framecast", frozen, get_all)]
pub(crate) struct PyFrame {
    image: Py<PyAny>,
    capture_time: Option<f64>,
    frame_id: Option<u64>,
    latency: Option<f64>,
}

impl PyFrame {
    /// `frame`'s metadata around its pixels `image`.
    pub(crate) fn new(frame: &ReceivedFrame, image: Bound<'_, PyAny>) -> PyFrame {
        PyFrame {
            image: image.unbind(),
            capture_time: frame
                .capture_time()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64()),
            frame_id: frame.frame_id(),
            latency: frame.latency.map(|l| l.as_secs_f64()),
        }
    }
}

#[pymethods]
impl PyFrame {
    fn __repr__(&self) -> String {
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "None".into());
        format!(
            "Frame(frame_id={}, capture_time={}, latency={})",
            or_none(self.frame_id.map(|v| v.to_string())),
            or_none(self.capture_time.map(|v| format!("{v:.6}"))),
            or_none(self.latency.map(|v| format!("{v:.6}"))),
        )
    }
}

/// The [`FrameInfo`] of `push(..., capture_time=, frame_id=)`: the capture
/// time in seconds since the Unix epoch (`time.time()`).
pub(crate) fn frame_info(capture_time: Option<f64>, frame_id: Option<u64>) -> PyResult<FrameInfo> {
    let capture_time = capture_time
        .map(|t| {
            Duration::try_from_secs_f64(t)
                .ok()
                .and_then(|d| UNIX_EPOCH.checked_add(d))
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "capture_time {t}: seconds since the Unix epoch, as time.time() gives"
                    ))
                })
        })
        .transpose()?;
    Ok(FrameInfo {
        capture_time,
        frame_id,
    })
}
