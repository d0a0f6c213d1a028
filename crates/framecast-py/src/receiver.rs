//! `framecast.Receiver`: the Rust [`Receiver`] for Python programs.

use framecast::sync::MutexExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use framecast::elements::video::frame::{frame_layout, is_packed, packed_size};
use framecast::receiver::{ReceivedFrame, Receiver, ReceiverStats};
use framecast::{VideoFormat, VideoInfo};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict};

use crate::buffer::{ByteBuffer, ViewSlot};
use crate::frame::PyFrame;
use crate::pixels::{frame_shape, python_shape};
use crate::sender::{parse_codec, parse_format};
use crate::shared::{Shared, Traced};
use crate::to_py_err;

/// Receives an RTP stream (H.264, JPEG or raw video) and hands out decoded
/// frames as numpy arrays, BGR by default as OpenCV wants them.
///
/// Give `port` (with `codec`, and `size=(w, h)` for raw video) or `sdp`, a
/// file as `framecast.Sender.sdp()`, `framecast send --sdp` or ffmpeg
/// write. Each frame's capture time comes in the packets' header
/// extension (framecast's senders), else from the RTCP read on port + 1,
/// so `last_latency` says how old the last frame was when it was pulled;
/// `pull_frame()` gives it per frame, with the sender's frame id.
/// With `drop_old=True`, frames a slow loop did not pull in time are
/// dropped (counted in `stats()["dropped"]`) so that each pull gets the
/// newest; by default none is lost and a slow loop falls behind.
///
/// `for frame in receiver:` yields frames until the stream ends (the
/// sender's BYE), waiting as long as it takes; `pull(timeout)` returns
/// None after `timeout` seconds without a frame, and at the end (`eos`).
#[pyclass(name = "Receiver", module = "framecast", frozen)]
pub(crate) struct PyReceiver {
    /// `stop` takes it out, which ends a `pull` waiting in another thread.
    inner: Shared<Receiver>,
    /// The last frame's latency, seconds.
    last_latency: Mutex<Option<f64>>,
    /// Packed bytes of the last frame, reused: `pull(out=...)` allocates
    /// nothing once it has grown to the frame size.
    scratch: Mutex<Vec<u8>>,
    /// Frames pulled.
    frames: AtomicU64,
}

fn stats_dict<'py>(
    py: Python<'py>,
    s: &ReceiverStats,
    frames: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("frames", frames)?;
    d.set_item("packets", s.packets)?;
    d.set_item("lost", s.lost)?;
    d.set_item("late", s.late)?;
    d.set_item("stray", s.stray)?;
    d.set_item("frames_damaged", s.frames_damaged)?;
    d.set_item("frames_concealed", s.frames_concealed)?;
    d.set_item("decode_errors", s.decode_errors)?;
    d.set_item("warnings", s.warnings)?;
    d.set_item("frames_discarded", s.frames_discarded)?;
    d.set_item("stream_restarts", s.stream_restarts)?;
    d.set_item("dropped", s.dropped)?;
    d.set_item("jitter", s.jitter.as_secs_f64())?;
    d.set_item("bye", s.bye)?;
    d.set_item("streamed", s.streamed.as_secs_f64())?;
    d.set_item("silent_for", s.silent_for.map(|d| d.as_secs_f64()))?;
    // Seconds the stream ran when it stopped without BYE (the sender
    // vanished), else None.
    d.set_item(
        "stopped_without_bye",
        s.stopped_without_bye().map(|d| d.as_secs_f64()),
    )?;
    Ok(d)
}

impl PyReceiver {
    fn with<T>(&self, f: impl FnOnce(&Receiver) -> PyResult<T>) -> PyResult<T> {
        f(&*self.inner.get()?)
    }

    /// The next frame within `timeout` (None: no limit), waiting without
    /// the GIL in slices so that Ctrl-C (a pending signal) interrupts it.
    fn next_frame(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
    ) -> PyResult<Option<ReceivedFrame>> {
        const SLICE: Duration = Duration::from_millis(100);
        let receiver = self.inner.get()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let wait = deadline.map_or(SLICE, |d| {
                d.saturating_duration_since(Instant::now()).min(SLICE)
            });
            let frame = py.detach(|| receiver.pull(Some(wait)).map_err(to_py_err))?;
            if frame.is_some()
                || receiver.is_eos()
                || deadline.is_some_and(|d| Instant::now() >= d)
                || !self.inner.is_open()
            {
                if let Some(frame) = &frame {
                    *self.last_latency.locked() = frame.latency.map(|l| l.as_secs_f64());
                    self.frames.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(frame);
            }
            py.check_signals()?;
        }
    }

    /// `pull`'s work: the next frame within `timeout` seconds, and its
    /// pixels in `out` (checked before a frame is taken and lost) or in a
    /// new array.
    fn pull_image<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
        out: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<(ReceivedFrame, Bound<'py, PyAny>)>> {
        let timeout = seconds(timeout)?;
        let mut slot = ViewSlot::new();
        let out_buffer = out
            .as_ref()
            .map(|o| Self::out_buffer(o, &mut slot))
            .transpose()?;
        let convert_to = self.inner.get()?.output_format();
        let Some(frame) = self.next_frame(py, timeout)? else {
            return Ok(None);
        };
        let image = Image::of(&frame, convert_to)?;
        let image = match (out, out_buffer) {
            (Some(out), Some(buffer)) => self.fill(py, &image, &buffer, out)?,
            _ => Self::new_array(py, &image)?,
        };
        Ok(Some((frame, image)))
    }

    /// The frame as a new numpy array (a `bytearray` underneath), its
    /// pixels written (converted, when the receiver converts in the pull)
    /// straight into it: one pass, where `videoconvert` and a copy made
    /// two.
    fn new_array<'py>(py: Python<'py>, image: &Image<'_>) -> PyResult<Bound<'py, PyAny>> {
        // Written without the GIL: nobody else can see the array yet.
        let bytes = PyByteArray::new_with(py, image.size(), |out| py.detach(|| image.write(out)))?;
        let numpy = py.import("numpy").map_err(|e| {
            PyErr::new::<pyo3::exceptions::PyImportError, _>(format!(
                "framecast.Receiver.pull returns numpy arrays: {e}"
            ))
        })?;
        numpy
            .call_method1("frombuffer", (bytes, numpy.getattr("uint8")?))?
            .call_method1("reshape", (frame_shape(&image.info).as_slice(),))
    }

    /// `out` checked to take frames: writable, C-contiguous bytes.
    fn out_buffer<'s>(out: &Bound<'_, PyAny>, slot: &'s mut ViewSlot) -> PyResult<ByteBuffer<'s>> {
        let buffer = ByteBuffer::get(out, slot)
            .map_err(|e| PyValueError::new_err(format!("out: expected a uint8 array: {e}")))?;
        if buffer.readonly() || !buffer.is_c_contiguous() {
            return Err(PyValueError::new_err(
                "out: expected a writable, C-contiguous uint8 array",
            ));
        }
        Ok(buffer)
    }

    /// The frame copied into `out`: straight from the frame when it is in
    /// the format wanted with its rows packed, else written (converted or
    /// packed) into a reused scratch buffer first: `out` is the program's
    /// memory, which CPython writes.
    fn fill<'py>(
        &self,
        py: Python<'py>,
        image: &Image<'_>,
        buffer: &ByteBuffer<'_>,
        out: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let expected = frame_shape(&image.info);
        if buffer.shape().len() > 1 && buffer.shape() != expected.as_slice()
            || buffer.len_bytes() != image.size()
        {
            return Err(PyValueError::new_err(format!(
                "out: expected a {} uint8 array ({} {}x{}), got shape {}",
                python_shape(expected.as_slice()),
                image.info.format,
                image.info.width,
                image.info.height,
                python_shape(buffer.shape())
            )));
        }
        let frame = image.frame;
        let layout = frame_layout(&frame.buffer, &frame.info).map_err(to_py_err)?;
        if image.convert_to.is_none() && is_packed(&layout) {
            let map = frame
                .buffer
                .map_readable()
                .map_err(|e| to_py_err(e.into()))?;
            buffer.copy_from_slice(py, &map.contiguous()[..image.size()])?;
        } else {
            // Taken out of its lock for the conversion, which runs
            // without the GIL: a second thread pulling meanwhile would
            // otherwise hold the GIL waiting for the lock while this one
            // waits for the GIL. That thread makes a scratch of its own.
            let mut scratch = std::mem::take(&mut *self.scratch.locked());
            scratch.resize(image.size(), 0);
            let converted = py.detach(|| image.write(&mut scratch));
            let copied = converted.and_then(|()| buffer.copy_from_slice(py, &scratch));
            *self.scratch.locked() = scratch;
            copied?;
        }
        Ok(out)
    }
}

/// A pulled frame as the program gets it: in the receiver's output format
/// when the pull converts
/// ([`ReceiverBuilder::convert_in_pull`](framecast::receiver::ReceiverBuilder::convert_in_pull)), else as
/// it came.
struct Image<'f> {
    frame: &'f ReceivedFrame,
    convert_to: Option<VideoFormat>,
    /// The format and size handed out.
    info: VideoInfo,
}

impl<'f> Image<'f> {
    fn of(frame: &'f ReceivedFrame, convert_to: Option<VideoFormat>) -> PyResult<Self> {
        let convert_to = convert_to.filter(|&f| f != frame.info.format);
        let info = match convert_to {
            Some(f) => VideoInfo::new(f, frame.info.width, frame.info.height)
                .map_err(|e| to_py_err(e.into()))?,
            None => frame.info,
        };
        Ok(Image {
            frame,
            convert_to,
            info,
        })
    }

    /// Bytes of the image, packed.
    fn size(&self) -> usize {
        packed_size(&self.info)
    }

    /// Writes the image, packed, into `out` (one pass: converted, or
    /// copied row by row).
    fn write(&self, out: &mut [u8]) -> PyResult<()> {
        match self.convert_to {
            Some(f) => self.frame.convert_packed_to(f, out),
            None => self.frame.copy_packed_to(out),
        }
        .map(|_| ())
        .map_err(to_py_err)
    }
}

/// A `timeout` in seconds, checked.
fn seconds(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| {
            Duration::try_from_secs_f64(t)
                .map_err(|_| PyValueError::new_err(format!("timeout {t}: seconds >= 0")))
        })
        .transpose()
}

#[pymethods]
impl PyReceiver {
    #[new]
    #[pyo3(signature = (port = None, *, sdp = None, codec = "h264", size = None,
                        address = "0.0.0.0", latency = 0.05, format = Some("BGR"),
                        max_buffers = 4, drop_old = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        port: Option<u16>,
        sdp: Option<std::path::PathBuf>,
        codec: &str,
        size: Option<(u32, u32)>,
        address: &str,
        latency: f64,
        format: Option<&str>,
        max_buffers: u32,
        drop_old: bool,
    ) -> PyResult<PyReceiver> {
        let wait = Duration::try_from_secs_f64(latency)
            .map_err(|_| PyValueError::new_err(format!("latency {latency}: seconds >= 0")))?;
        let mut builder = Receiver::builder()
            .address(address)
            .latency(wait)
            .max_buffers(max_buffers)
            .drop_old_frames(drop_old);
        match (port, sdp) {
            (_, Some(path)) => builder = builder.sdp_file(path),
            (Some(port), None) => builder = builder.port(port).codec(parse_codec(codec)?),
            (None, None) => {
                return Err(PyValueError::new_err(
                    "give a port (with codec, and size for raw) or sdp=FILE",
                ))
            }
        }
        if let Some((w, h)) = size {
            builder = builder.size(w, h);
        }
        if let Some(format) = format {
            // Converted as it is copied out into the array (one pass).
            builder = builder
                .output_format(parse_format(format)?)
                .convert_in_pull(true);
        }
        let traced = Traced::new(py, "Receiver");
        let receiver = py.detach(|| builder.build().map_err(to_py_err))?;
        let traced = traced.owns(receiver.pipeline().id());
        Ok(PyReceiver {
            inner: Shared::new(receiver, traced, "the receiver is stopped"),
            last_latency: Mutex::new(None),
            scratch: Mutex::new(Vec::new()),
            frames: AtomicU64::new(0),
        })
    }

    /// The next decoded frame as a numpy `uint8` array (`(h, w, 3)` for
    /// BGR), or None when none came within `timeout` seconds (None: wait
    /// as long as it takes) or the stream ended (see `eos`). With `out`, a
    /// writable array of the frame's shape, the frame is copied into it
    /// and `out` is returned: no new array per frame.
    ///
    /// Raises FramecastError when an element failed (the message names
    /// it), and again on every later call; KeyboardInterrupt on Ctrl-C.
    #[pyo3(signature = (timeout = 1.0, out = None))]
    fn pull<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
        out: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.pull_image(py, timeout, out)?.map(|(_, image)| image))
    }

    /// `pull`, as a `framecast.Frame`: the array (`image`) with the
    /// sender's `capture_time` (seconds since the Unix epoch), `frame_id`
    /// and the `latency` from capture to this pull (seconds); each None
    /// when the sender did not say. None when no frame came (as `pull`).
    #[pyo3(signature = (timeout = 1.0, out = None))]
    fn pull_frame<'py>(
        slf: &Bound<'py, Self>,
        timeout: Option<f64>,
        out: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<PyFrame>> {
        let pulled = slf.get().pull_image(slf.py(), timeout, out)?;
        Ok(pulled.map(|(frame, image)| PyFrame::new(&frame, image)))
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next frame, however long it takes; StopIteration at the end
    /// of the stream (or once stopped).
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let convert_to = self.inner.get()?.output_format();
        match self.next_frame(py, None)? {
            Some(frame) => {
                let image = Image::of(&frame, convert_to)?;
                Self::new_array(py, &image).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Seconds from the sender's capture of the last pulled frame to its
    /// pull, or None before the sender's first RTCP report.
    #[getter]
    fn last_latency(&self) -> Option<f64> {
        *self.last_latency.locked()
    }

    /// Whether the stream ended (the sender's BYE) and every frame was
    /// pulled.
    #[getter]
    fn eos(&self) -> PyResult<bool> {
        self.with(|r| Ok(r.is_eos()))
    }

    /// The UDP port the RTP socket is bound to (the SDP's, with sdp=).
    #[getter]
    fn port(&self) -> PyResult<Option<u16>> {
        self.with(|r| Ok(r.local_port()))
    }

    /// Counters: frames (pulled), packets, lost, late, stray,
    /// frames_damaged, frames_concealed, decode_errors, warnings,
    /// frames_discarded, stream_restarts, dropped, jitter (seconds); and
    /// the stream's end: bye (the sender
    /// said it ended), streamed (seconds from the first packet to the
    /// latest), silent_for (seconds since the latest, None before any),
    /// stopped_without_bye (the seconds it ran, when its packets stopped
    /// 2 s or more ago without a BYE: the sender vanished; else None).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let frames = self.frames.load(Ordering::Relaxed);
        self.with(|r| stats_dict(py, &r.stats(), frames))
    }

    /// The warnings the receiver's elements posted since the last call
    /// (`"element: message"`, oldest first, the latest 16 at most): a
    /// decoder meeting data it cannot decode goes on and says so here.
    fn warnings(&self) -> PyResult<Vec<String>> {
        self.with(|r| Ok(r.take_warnings()))
    }

    fn __repr__(&self) -> String {
        let frames = self.frames.load(Ordering::Relaxed);
        match self.inner.get() {
            Ok(r) => match r.local_port() {
                Some(port) => format!("<framecast.Receiver port {port}, {frames} frames>"),
                None => format!("<framecast.Receiver {frames} frames>"),
            },
            Err(_) => format!("<framecast.Receiver stopped, {frames} frames>"),
        }
    }

    /// Stops receiving and closes the sockets; returns the final counters.
    /// A `pull` waiting in another thread returns None.
    fn stop<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let receiver = self.inner.take()?;
        let stats = py.detach(|| receiver.close().map_err(to_py_err))?;
        stats_dict(py, &stats, self.frames.load(Ordering::Relaxed))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Stops (unless already stopped); an exception from the block goes
    /// on, and a failure to stop is not allowed to replace it.
    fn __exit__(
        &self,
        py: Python<'_>,
        ty: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.inner.exit(ty, || self.stop(py))
    }
}
