//! `framecast.VideoWriter`: OpenCV's `cv2.VideoWriter`, pointed at the
//! network. A program ports by changing its constructor line only:
//! `cv2.VideoWriter("rtp://127.0.0.1:5000?sdp=cam.sdp", fourcc, 30, (w, h))`
//! takes the same arguments (fourcc, fps, frame size, `isColor` or
//! `params=[id, value, ...]`) and the same calls (`isOpened`, `write`,
//! `release`, `get`/`set`), over a framecast [`Sender`].
//!
//! Where OpenCV's habits are bad it does better: a failed open keeps its
//! reason (`error`, or `strict=True` raises it), a frame of the wrong shape
//! raises `ValueError` naming the shape expected (OpenCV writes nothing,
//! silently), and `write` never blocks the loop (the latest frame wins;
//! drops are counted in `stats()`) unless `block=True` asks it to wait for
//! the encoder, as a program reading a file at full speed wants.

use std::sync::{Arc, Mutex};

use framecast::sender::{Codec, Sender};
use framecast::sync::MutexExt;
use framecast::VideoFormat;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::destination::{Container, Destination};
use crate::sender::PySender;
use crate::FramecastError;

/// OpenCV's `cv2.VIDEOWRITER_PROP_QUALITY` (JPEG quality, 0-100).
pub(crate) const PROP_QUALITY: i64 = 1;
/// OpenCV's `cv2.VIDEOWRITER_PROP_NSTRIPES` (stripes encoded in
/// parallel; -1 or 0: one per core): the H.264 encoder's threads, one
/// slice each.
pub(crate) const PROP_NSTRIPES: i64 = 3;
/// OpenCV's `cv2.VIDEOWRITER_PROP_IS_COLOR`.
pub(crate) const PROP_IS_COLOR: i64 = 4;
/// OpenCV's `cv2.VIDEOWRITER_PROP_KEY_INTERVAL` (frames between IDRs).
pub(crate) const PROP_KEY_INTERVAL: i64 = 10;
/// framecast's own: H.264 bitrate in kbit/s (OpenCV has no id for it).
/// "FC" and 1, far from OpenCV's ids.
pub(crate) const PROP_BITRATE: i64 = 0x4643_0001;

/// A fourcc as OpenCV packs it (`cv2.VideoWriter_fourcc`): the first
/// character in the low byte.
fn fourcc_code(chars: [char; 4]) -> i64 {
    chars
        .iter()
        .rev()
        .fold(0, |code, c| (code << 8) | i64::from(u32::from(*c) as u8))
}

/// The codec a fourcc names, or what is accepted.
fn codec_for(fourcc: i64) -> Result<Codec, String> {
    let text: String = (0..4)
        .map(|i| char::from(((fourcc >> (8 * i)) & 0xff) as u8))
        .collect();
    match text.as_str() {
        "H264" | "h264" | "avc1" | "AVC1" | "X264" | "x264" => Ok(Codec::H264),
        "MJPG" | "mjpg" => Ok(Codec::Jpeg),
        _ => Err(format!(
            "fourcc {text:?} ({fourcc:#x}): framecast writes H264 (also avc1, X264) or MJPG"
        )),
    }
}

/// What `open` was given, checked.
struct Settings {
    destination: Destination,
    codec: Codec,
    fps: u32,
    width: u32,
    height: u32,
    is_color: bool,
    bitrate: u32,
    key_interval: u32,
    quality: Option<u32>,
    /// Encoder threads; 0 is one per core.
    stripes: u32,
}

/// The arguments of `VideoWriter(...)` and `open(...)`, in any of
/// OpenCV's forms: `(filename, fourcc, fps, frameSize[, isColor])`,
/// `(filename, apiPreference, fourcc, fps, frameSize[, isColor])`, either
/// with `params` (a list, last) in place of `isColor`.
fn parse_args(args: &Bound<'_, PyTuple>, params: Option<Vec<i64>>) -> PyResult<Settings> {
    let usage = "expected (filename, fourcc, fps, frameSize[, isColor | params]) \
                 or (filename, apiPreference, fourcc, fps, frameSize[, isColor | params])";
    let arg = |i: usize| args.get_item(i);
    if args.len() < 4 {
        return Err(PyValueError::new_err(format!(
            "VideoWriter: {} arguments, {usage}",
            args.len()
        )));
    }
    let filename: String = arg(0)?.extract()?;
    // frameSize is a pair: its place says whether apiPreference was given.
    let api_preference = arg(3)?.extract::<(u32, u32)>().is_err();
    let at = usize::from(api_preference);
    if args.len() < 4 + at {
        return Err(PyValueError::new_err(format!("VideoWriter: {usage}")));
    }
    let fourcc: i64 = arg(1 + at)?.extract()?;
    let fps: f64 = arg(2 + at)?.extract()?;
    let (width, height): (u32, u32) = arg(3 + at)?.extract().map_err(|_| {
        PyValueError::new_err(format!("frameSize: expected (width, height); {usage}"))
    })?;
    let mut is_color = true;
    let mut params = params.unwrap_or_default();
    if let Ok(last) = arg(4 + at) {
        if let Ok(color) = last.extract::<bool>() {
            is_color = color;
        } else {
            params = last
                .extract()
                .map_err(|_| PyValueError::new_err(format!("isColor or params: {usage}")))?;
        }
    }
    if !(fps.is_finite() && fps >= 1.0) {
        return Err(PyValueError::new_err(format!("fps {fps}: expected >= 1")));
    }
    let mut settings = Settings {
        destination: Destination::parse(&filename).map_err(PyValueError::new_err)?,
        codec: codec_for(fourcc).map_err(PyValueError::new_err)?,
        fps: fps.round() as u32,
        width,
        height,
        is_color,
        bitrate: 4000,
        key_interval: 0,
        quality: None,
        stripes: 0,
    };
    if params.len() % 2 != 0 {
        return Err(PyValueError::new_err(
            "params: expected [propId, value, propId, value, ...]",
        ));
    }
    for pair in params.chunks(2) {
        if pair[0] == PROP_NSTRIPES {
            // OpenCV's -1 is "detect": one per core, as 0.
            settings.stripes = u32::try_from(pair[1]).unwrap_or(0);
            continue;
        }
        let value = u32::try_from(pair[1])
            .map_err(|_| PyValueError::new_err(format!("params: value {} < 0", pair[1])))?;
        match pair[0] {
            PROP_QUALITY => settings.quality = Some(value.min(100)),
            PROP_IS_COLOR => settings.is_color = value != 0,
            PROP_KEY_INTERVAL => settings.key_interval = value,
            PROP_BITRATE => settings.bitrate = value.max(1),
            other => {
                return Err(PyValueError::new_err(format!(
                    "params: property {other} does not apply (framecast takes \
                     VIDEOWRITER_PROP_QUALITY, _IS_COLOR, _KEY_INTERVAL, _NSTRIPES and \
                     framecast.VIDEOWRITER_PROP_BITRATE)"
                )))
            }
        }
    }
    Ok(settings)
}

/// The writer's state: what it was opened with and the sender, or why
/// the last open failed.
#[derive(Default)]
struct State {
    /// The settings and the sender, shared so that `write` pushes with the
    /// state's lock released (see [`PyVideoWriter::opened`]).
    open: Option<(Settings, Arc<PySender>)>,
    error: Option<String>,
}

/// `cv2.VideoWriter`'s shape over a framecast sender: the filename is a
/// destination URL (`rtp://host:port[?sdp=FILE]`, `rtsp://...[?listen=1]`,
/// `http://host:port/path[?token=T]`) or a file to record.
#[pyclass(name = "VideoWriter", module = "framecast", frozen)]
pub(crate) struct PyVideoWriter {
    state: Mutex<State>,
    strict: bool,
    block: bool,
}

impl PyVideoWriter {
    /// Builds the sender the settings describe.
    fn start(py: Python<'_>, settings: &Settings, block: bool) -> PyResult<PySender> {
        let mut builder = Sender::builder()
            .codec(settings.codec)
            .size(settings.width, settings.height)
            .fps(settings.fps)
            .input_format(if settings.is_color {
                VideoFormat::Bgr
            } else {
                VideoFormat::Gray8
            })
            .bitrate(settings.bitrate)
            .key_interval(settings.key_interval)
            .encoder_threads(settings.stripes);
        match &settings.destination {
            Destination::Rtp { to, sdp } => {
                builder = builder.to(to);
                if let Some(sdp) = sdp {
                    builder = builder.sdp_file(sdp);
                }
            }
            Destination::RtspPublish { url } => builder = builder.to(url),
            Destination::RtspServe { url } => builder = builder.serve(url),
            Destination::Http { addr, path, token } => {
                builder = builder.http(addr).http_options(path, token.as_deref());
            }
            Destination::File { path, container } => {
                // The file's extension names what it holds; the fourcc
                // must agree with it (a .h264 file of JPEGs plays nowhere).
                let codec = match container {
                    Container::H264 => Codec::H264,
                    Container::Mjpeg => Codec::Jpeg,
                    Container::RawI420 => Codec::Raw,
                };
                if *container != Container::RawI420 && codec != settings.codec {
                    return Err(PyValueError::new_err(format!(
                        "{}: the fourcc asks for {:?} but the extension holds {codec:?}",
                        path.display(),
                        settings.codec
                    )));
                }
                builder = builder.codec(codec).record(path);
            }
        }
        let sender = PySender::build(py, builder, "VideoWriter")?;
        let inner = sender.sender()?;
        if block {
            if let Some(src) = inner.pipeline().by_name("src") {
                src.set_property("overflow", "block")
                    .map_err(crate::to_py_err)?;
            }
        }
        if let Some(quality) = settings.quality {
            set_quality(&inner, quality)?;
        }
        Ok(sender)
    }

    /// Runs `f` on the open sender, with the state's lock released: a
    /// push lets the GIL go while it converts, and a thread holding the
    /// GIL (a `repr(writer)` in another thread) would otherwise wait for
    /// the lock while the pushing thread waits for the GIL.
    fn opened<T>(&self, f: impl FnOnce(&PySender) -> PyResult<T>) -> PyResult<T> {
        let sender = {
            let state = self.state.locked();
            match &state.open {
                Some((_, sender)) => Arc::clone(sender),
                None => {
                    return Err(FramecastError::new_err(format!(
                        "the VideoWriter is not open{}",
                        state
                            .error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    )))
                }
            }
        };
        f(&sender)
    }
}

/// Sets the JPEG encoder's quality; false where there is none (H.264).
fn set_quality(sender: &Sender, quality: u32) -> PyResult<bool> {
    for element in sender.pipeline().elements() {
        if element.property("quality").is_ok() {
            element
                .set_property("quality", u64::from(quality.min(100)))
                .map_err(crate::to_py_err)?;
            return Ok(true);
        }
    }
    Ok(false)
}

#[pymethods]
impl PyVideoWriter {
    /// `VideoWriter()` (then `open`), or `VideoWriter(filename, fourcc,
    /// fps, frameSize, isColor=True)` and OpenCV's other forms. `strict`
    /// raises when opening fails (else `isOpened()` is False and `error`
    /// says why); `block` makes `write` wait for the encoder instead of
    /// dropping the oldest frame.
    #[new]
    #[pyo3(signature = (*args, params = None, strict = false, block = false))]
    fn new(
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        params: Option<Vec<i64>>,
        strict: bool,
        block: bool,
    ) -> PyResult<PyVideoWriter> {
        let writer = PyVideoWriter {
            state: Mutex::new(State::default()),
            strict,
            block,
        };
        if !args.is_empty() {
            writer.open(py, args, params)?;
        }
        Ok(writer)
    }

    /// Opens (after releasing what was open); False on failure, with the
    /// reason in `error` (raised instead with `strict=True`).
    #[pyo3(signature = (*args, params = None))]
    fn open(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        params: Option<Vec<i64>>,
    ) -> PyResult<bool> {
        self.release(py)?;
        let started = parse_args(args, params)
            .and_then(|settings| Ok((Self::start(py, &settings, self.block)?, settings)));
        let mut state = self.state.locked();
        match started {
            Ok((sender, settings)) => {
                state.open = Some((settings, Arc::new(sender)));
                state.error = None;
                Ok(true)
            }
            Err(e) if self.strict => Err(e),
            Err(e) => {
                state.error = Some(e.value(py).to_string());
                Ok(false)
            }
        }
    }

    /// Whether the writer is open.
    #[allow(non_snake_case)]
    fn isOpened(&self) -> bool {
        self.state.locked().open.is_some()
    }

    /// Why the last `open` failed; None after a good one.
    #[getter]
    fn error(&self) -> Option<String> {
        self.state.locked().error.clone()
    }

    /// Sends one frame (`(h, w, 3)` BGR uint8, `(h, w)` with
    /// `isColor=False`). ValueError names the shape expected.
    /// `capture_time` (seconds since the Unix epoch, as `time.time()`)
    /// and `frame_id` go to the receiver with it, as `Sender.push`'s.
    #[pyo3(signature = (image, capture_time = None, frame_id = None))]
    fn write(
        &self,
        image: &Bound<'_, PyAny>,
        capture_time: Option<f64>,
        frame_id: Option<u64>,
    ) -> PyResult<()> {
        self.opened(|sender| sender.push(image.py(), image, capture_time, frame_id))
    }

    /// Ends the stream (queued frames out, RTCP BYE); nothing when not open.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        let open = self.state.locked().open.take();
        if let Some((_, sender)) = open {
            sender.finish(py)?;
        }
        Ok(())
    }

    /// A property's value (0 where it does not apply, as OpenCV).
    fn get(&self, prop_id: i64) -> f64 {
        let state = self.state.locked();
        let Some((s, _)) = &state.open else {
            return 0.0;
        };
        match prop_id {
            PROP_QUALITY => s.quality.map_or(85.0, f64::from),
            PROP_IS_COLOR => f64::from(u8::from(s.is_color)),
            PROP_KEY_INTERVAL => f64::from(if s.key_interval == 0 {
                s.fps
            } else {
                s.key_interval
            }),
            PROP_BITRATE => f64::from(s.bitrate),
            PROP_NSTRIPES => f64::from(s.stripes),
            _ => 0.0,
        }
    }

    /// Changes a property while open; False where it cannot change (the
    /// H.264 encoder's bitrate and key interval are fixed once it runs:
    /// give them in `params`).
    fn set(&self, prop_id: i64, value: f64) -> PyResult<bool> {
        let mut state = self.state.locked();
        let Some((s, sender)) = &mut state.open else {
            return Ok(false);
        };
        if prop_id != PROP_QUALITY || !(0.0..=100.0).contains(&value) {
            return Ok(false);
        }
        let quality = value.round() as u32;
        if set_quality(&*sender.sender()?, quality)? {
            s.quality = Some(quality);
            return Ok(true);
        }
        Ok(false)
    }

    /// The sender's counters (`frames_in`, `dropped`, ...), as
    /// `framecast.Sender.stats()`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.opened(|sender| sender.stats(py))
    }

    /// `"framecast"`, as `cv2.VideoWriter.getBackendName()` names its own.
    #[allow(non_snake_case)]
    fn getBackendName(&self) -> &'static str {
        "framecast"
    }

    /// `VideoWriter.fourcc(*"H264")`: the code `cv2.VideoWriter_fourcc`
    /// gives.
    #[staticmethod]
    fn fourcc(c1: char, c2: char, c3: char, c4: char) -> i64 {
        fourcc_code([c1, c2, c3, c4])
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Releases; an exception from the block goes on, and a failure to
    /// release is not allowed to replace it.
    fn __exit__(
        &self,
        py: Python<'_>,
        ty: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let released = self.release(py);
        if ty.is_none() {
            released?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match &self.state.locked().open {
            Some((s, _)) => format!(
                "<framecast.VideoWriter {} {}x{} @ {}>",
                s.destination, s.width, s.height, s.fps
            ),
            None => "<framecast.VideoWriter not open>".to_string(),
        }
    }
}
