//! The `framecast` Python module: send frames from a program (numpy arrays,
//! OpenCV images) to clients over RTP, receive them back as arrays, and
//! ask the leaks tracer what is alive.
//!
//! ```python
//! import framecast, numpy as np
//! with framecast.Sender("127.0.0.1:5000", width=1280, height=720) as tx:
//!     tx.push(np.zeros((720, 1280, 3), np.uint8))   # BGR, as OpenCV
//! ```
//!
//! The bindings are thin: every frame goes through the Rust
//! [`framecast::sender::Sender`] and [`framecast::receiver::Receiver`],
//! so the promises hold from Python too: bounded queues (latest frame
//! wins), pooled frames (the only per-frame cost of `push` is one copy
//! out of the array), errors that say what and where.
//!
//! The tracers are set up from `FRAMECAST_TRACERS` when the module is
//! imported, and give their final reports when the interpreter exits
//! (`leaks(fatal=true)` then makes the exit status 3).

use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

mod buffer;
mod destination;
mod frame;
mod heap;
mod leaks;
mod pixels;
mod receiver;
mod sender;
mod shared;
mod video_writer;

create_exception!(
    framecast,
    FramecastError,
    PyRuntimeError,
    "A pipeline or element failed (the message names the element)."
);

/// A framecast error as the Python exception users would catch: bad
/// arguments are `ValueError`, OS failures `OSError`, the rest
/// `framecast.FramecastError`.
pub(crate) fn to_py_err(e: framecast::Error) -> PyErr {
    use framecast::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidArgument | ErrorKind::Parse => PyValueError::new_err(e.to_string()),
        ErrorKind::Io => PyOSError::new_err(e.to_string()),
        _ => FramecastError::new_err(e.to_string()),
    }
}

/// Ends the tracers at interpreter exit (registered with `atexit`). A
/// `leaks(fatal=true)` that found leaks exits the process with status 3
/// here, so Python's own buffered output is flushed first.
#[pyfunction]
fn _deinit(py: Python<'_>) {
    if let Ok(sys) = py.import("sys") {
        for stream in ["stdout", "stderr"] {
            if let Ok(stream) = sys.getattr(stream) {
                let _ = stream.call_method0("flush");
            }
        }
    }
    framecast::deinit();
}

/// Serves the live dashboard (live objects by creation site, checkpoints,
/// pools, queues, latency) at `http://addr/` for the rest of the process;
/// returns its URL. `FRAMECAST_DASHBOARD=addr` does the same at import.
#[pyfunction]
#[pyo3(signature = (addr = "127.0.0.1:8080", token = None))]
fn dashboard(addr: &str, token: Option<&str>) -> PyResult<String> {
    framecast::dashboard::start(addr, token).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymodule(name = "framecast")]
fn framecast_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    framecast::init().map_err(|e| PyValueError::new_err(format!("FRAMECAST_TRACERS: {e}")))?;
    m.add("FramecastError", py.get_type::<FramecastError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<sender::PySender>()?;
    m.add_class::<receiver::PyReceiver>()?;
    m.add_class::<frame::PyFrame>()?;
    m.add_class::<video_writer::PyVideoWriter>()?;
    m.add("VIDEOWRITER_PROP_QUALITY", video_writer::PROP_QUALITY)?;
    m.add("VIDEOWRITER_PROP_IS_COLOR", video_writer::PROP_IS_COLOR)?;
    m.add(
        "VIDEOWRITER_PROP_KEY_INTERVAL",
        video_writer::PROP_KEY_INTERVAL,
    )?;
    m.add("VIDEOWRITER_PROP_BITRATE", video_writer::PROP_BITRATE)?;
    m.add("VIDEOWRITER_PROP_NSTRIPES", video_writer::PROP_NSTRIPES)?;
    m.add_function(wrap_pyfunction!(_deinit, m)?)?;
    m.add_function(wrap_pyfunction!(dashboard, m)?)?;
    // The wheel's package re-exports `from .framecast import *`, which
    // takes exactly these (`__version__` included).
    m.add(
        "__all__",
        vec![
            "FramecastError",
            "Receiver",
            "Sender",
            "VideoWriter",
            "VIDEOWRITER_PROP_BITRATE",
            "VIDEOWRITER_PROP_IS_COLOR",
            "VIDEOWRITER_PROP_KEY_INTERVAL",
            "VIDEOWRITER_PROP_NSTRIPES",
            "VIDEOWRITER_PROP_QUALITY",
            "__version__",
            "dashboard",
            "leaks",
        ],
    )?;
    let leaks = PyModule::new(py, "leaks")?;
    leaks::register(&leaks)?;
    m.add_submodule(&leaks)?;
    // `import framecast.leaks` finds the submodule too.
    py.import("sys")?
        .getattr("modules")?
        .set_item("framecast.leaks", &leaks)?;
    py.import("atexit")?
        .call_method1("register", (m.getattr("_deinit")?,))?;
    Ok(())
}
