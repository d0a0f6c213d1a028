//! `framecast.Sender`: the Rust [`Sender`] for Python programs.

use framecast::sync::MutexExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use framecast::elements::video::frame::{packed_layout, packed_size};
use framecast::elements::video::Frame;
use framecast::sender::{Codec, Sender, SenderStats};
use framecast::VideoFormat;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::buffer::ViewSlot;
use crate::frame::frame_info;
use crate::pixels::{frame_shape, Pixels};
use crate::shared::{Shared, Traced};
use crate::{to_py_err, FramecastError};

pub(crate) fn parse_codec(name: &str) -> PyResult<Codec> {
    match name.to_ascii_lowercase().as_str() {
        "h264" => Ok(Codec::H264),
        "jpeg" => Ok(Codec::Jpeg),
        "raw" => Ok(Codec::Raw),
        _ => Err(PyValueError::new_err(format!(
            "codec {name:?}: expected \"h264\", \"jpeg\" or \"raw\""
        ))),
    }
}

pub(crate) fn parse_format(name: &str) -> PyResult<VideoFormat> {
    VideoFormat::from_name(name).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Sends frames to clients over RTP/UDP (H.264, JPEG or raw video).
///
/// `to` is one `"host:port"` or a list of them (RTCP goes to port + 1);
/// `serve="rtsp://127.0.0.1:8554/cam"` serves the stream over RTSP too
/// (or instead: `to` may then be `None`), viewers opening the URL.
/// Frames are numpy `uint8` arrays (or any buffer) shaped as `shape` says:
/// `(height, width, 3)` for BGR, as OpenCV makes them. The queue holds
/// `max_queued` frames and the latest wins: `push` never blocks behind a
/// slow encoder, and `stats()["dropped"]` counts what was skipped.
///
/// Use it in a `with` block (or call `finish()`): the stream ends with an
/// RTCP BYE, and nothing of it outlives the block.
#[pyclass(name = "Sender", module = "framecast", frozen)]
pub(crate) struct PySender {
    inner: Shared<Sender>,
    /// A strided frame's pixels, packed on their way into the conversion;
    /// reused, so steady-state pushes allocate nothing here.
    scratch: Mutex<Vec<u8>>,
}

impl PySender {
    /// Builds and starts the sender; `kind` names the Python class that
    /// made it, for the leak tracer. Building waits for the caps to be
    /// agreed (milliseconds); other Python threads may run meanwhile.
    #[track_caller]
    pub(crate) fn build(
        py: Python<'_>,
        builder: framecast::sender::SenderBuilder,
        kind: &'static str,
    ) -> PyResult<PySender> {
        let traced = Traced::new(py, kind);
        // `push` converts BGR (or any input) into the encoder's I420 as it
        // reads the caller's array: one pass, no copy for videoconvert.
        let builder = builder.convert_in_push(true);
        let sender = py.detach(|| builder.build().map_err(to_py_err))?;
        let traced = traced.owns(sender.pipeline().id());
        Ok(PySender {
            inner: Shared::new(sender, traced, "the sender is finished"),
            scratch: Mutex::new(Vec::new()),
        })
    }

    /// The sender, for one call; an error once finished.
    pub(crate) fn sender(&self) -> PyResult<Arc<Sender>> {
        self.inner.get()
    }

    fn with<T>(&self, f: impl FnOnce(&Sender) -> PyResult<T>) -> PyResult<T> {
        f(&*self.inner.get()?)
    }
}

fn stats_dict<'py>(py: Python<'py>, s: &SenderStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("frames_in", s.frames_in)?;
    d.set_item("frames_out", s.frames_out)?;
    d.set_item("dropped", s.dropped)?;
    d.set_item("packets", s.packets)?;
    d.set_item("bytes", s.bytes)?;
    d.set_item("bitrate", s.bitrate)?;
    d.set_item("encode_time", s.encode_time.as_secs_f64())?;
    d.set_item("latency", s.latency.as_secs_f64())?;
    d.set_item("latency_last", s.latency_last.as_secs_f64())?;
    d.set_item("latency_max", s.latency_max.as_secs_f64())?;
    Ok(d)
}

#[pymethods]
impl PySender {
    #[new]
    #[pyo3(signature = (to = None, *, serve = None, width = 1280, height = 720, fps = 30, codec = "h264",
                        format = "BGR", bitrate = 4000, max_queued = 2))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        to: Option<&Bound<'_, PyAny>>,
        serve: Option<String>,
        width: u32,
        height: u32,
        fps: u32,
        codec: &str,
        format: &str,
        bitrate: u32,
        max_queued: u32,
    ) -> PyResult<PySender> {
        let clients: Vec<String> = match to {
            None => Vec::new(),
            Some(to) => match to.extract::<String>() {
                Ok(one) => vec![one],
                Err(_) => to.extract::<Vec<String>>().map_err(|_| {
                    PyValueError::new_err("to: expected \"host:port\" or a list of them")
                })?,
            },
        };
        let mut builder = Sender::builder()
            .codec(parse_codec(codec)?)
            .size(width, height)
            .fps(fps)
            .input_format(parse_format(format)?)
            .bitrate(bitrate)
            .max_queued(max_queued);
        for client in &clients {
            builder = builder.to(client);
        }
        if let Some(url) = &serve {
            builder = builder.serve(url);
        }
        PySender::build(py, builder, "Sender")
    }

    /// Sends one frame: its pixels are converted into a pooled I420 frame
    /// in one pass (the encoder's format; without the GIL for a whole
    /// C-ordered array), stamped with the capture time now, and queued for
    /// the encoder. Any strides are taken: a crop of a larger image, a
    /// flipped view (packed first, then converted).
    ///
    /// `capture_time` (seconds since the Unix epoch, as `time.time()`: a
    /// camera's timestamp) and `frame_id` (an int >= 0) reach the
    /// receiver with the frame (`Receiver.pull_frame()`), in RTP header
    /// extensions.
    ///
    /// Raises ValueError when the frame's shape or size is not the
    /// sender's (the message gives the shape expected), and
    /// FramecastError when an element failed (naming it) or the sender is
    /// finished.
    // The closures return framecast's `Result`, whose error is the
    // crate's one (large) enum, as every framecast call does.
    #[allow(clippy::result_large_err)]
    #[pyo3(signature = (frame, capture_time = None, frame_id = None))]
    pub(crate) fn push(
        &self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        capture_time: Option<f64>,
        frame_id: Option<u64>,
    ) -> PyResult<()> {
        let info = frame_info(capture_time, frame_id)?;
        let sender = self.inner.get()?;
        let input = *sender.video_info();
        let mut slot = ViewSlot::new();
        let pixels = Pixels::borrow(frame, &input, &mut slot)?;
        let pushed = match pixels.in_place(&input) {
            // The view keeps the array alive and its size fixed while
            // other Python threads run (a blocking push waits here too).
            Some(src) => py.detach(|| sender.push_frame(&src, info)),
            None => {
                // Converted with the GIL held: a thread that waited for
                // it here would otherwise hold it while waiting for the
                // scratch lock.
                let mut scratch = self.scratch.locked();
                scratch.resize(packed_size(&input), 0);
                pixels.copy_into(py, &mut scratch)?;
                Frame::new(packed_layout(&input), &scratch)
                    .and_then(|src| sender.push_frame(&src, info))
            }
        };
        pushed.map(|_| ()).map_err(to_py_err)
    }

    /// The numpy shape a frame must have, e.g. `(720, 1280, 3)` for BGR.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.with(|s| PyTuple::new(py, frame_shape(s.video_info()).as_slice()))
    }

    /// Frame width in pixels.
    #[getter]
    fn width(&self) -> PyResult<u32> {
        self.with(|s| Ok(s.video_info().width))
    }

    /// Frame height in pixels.
    #[getter]
    fn height(&self) -> PyResult<u32> {
        self.with(|s| Ok(s.video_info().height))
    }

    /// The pixel format the frames are in ("BGR", "I420", ...).
    #[getter]
    fn format(&self) -> PyResult<&'static str> {
        self.with(|s| Ok(s.video_info().format.name()))
    }

    /// Counters: frames in and out, dropped, packets, bytes, bitrate
    /// (bit/s), encode time (s), and push-to-wire latency (s: average,
    /// last, max).
    pub(crate) fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.with(|s| stats_dict(py, &s.stats()))
    }

    /// The SDP a client opens to receive the stream (ffplay, GStreamer,
    /// `framecast receive --sdp`). It is known as soon as the sender is
    /// made, before any frame (after the first it also carries
    /// `sprop-parameter-sets`); this waits up to `timeout` seconds for it.
    #[pyo3(signature = (timeout = 2.0))]
    fn sdp(&self, py: Python<'_>, timeout: f64) -> PyResult<String> {
        let sender = self.inner.get()?;
        let deadline = Instant::now() + Duration::try_from_secs_f64(timeout).unwrap_or_default();
        py.detach(|| loop {
            match sender.sdp() {
                Ok(sdp) => return Ok(sdp),
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(to_py_err(e)),
            }
        })
    }

    /// Ends the stream: the queued frames go out, then an RTCP BYE, then
    /// the pipeline stops. Returns the final counters. Finishing twice is
    /// an error.
    pub(crate) fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let mut sender = self.inner.take()?;
        let stats = py.detach(|| {
            // A push in another thread holds the sender a moment longer
            // (it runs while this thread waits without the GIL).
            let deadline = Instant::now() + Duration::from_secs(5);
            let sender = loop {
                match Arc::try_unwrap(sender) {
                    Ok(sender) => break sender,
                    Err(shared) if Instant::now() < deadline => {
                        sender = shared;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(_) => {
                        return Err(FramecastError::new_err(
                            "another thread kept using the sender for 5 s after finish()",
                        ))
                    }
                }
            };
            sender.finish().map_err(to_py_err)
        })?;
        stats_dict(py, &stats)
    }

    /// Whether `finish()` was called.
    #[getter]
    fn finished(&self) -> bool {
        !self.inner.is_open()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Finishes the stream (unless already finished). When the block
    /// raised, that exception goes on and a failure to finish is not
    /// allowed to replace it.
    fn __exit__(
        &self,
        py: Python<'_>,
        ty: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.inner.exit(ty, || self.finish(py))
    }

    fn __repr__(&self) -> String {
        match self.inner.get() {
            Ok(s) => {
                let info = s.video_info();
                format!(
                    "<framecast.Sender {} {}x{} @ {}>",
                    info.format, info.width, info.height, info.fps
                )
            }
            Err(_) => "<framecast.Sender finished>".to_string(),
        }
    }
}
