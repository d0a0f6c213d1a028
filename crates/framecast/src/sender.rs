//! [`Sender`]: send frames from a program to clients, in a few lines.
//!
//! A thin layer over a pipeline (`appsrc ! videoconvert ! <encoder> !
//! <payloader> ! udpsink`), not a second engine: the appsrc is live with a
//! latest-frame-wins queue, frames are written into pooled buffers
//! ([`Sender::frame`]), the encoder is tuned for latency, and every RTP
//! output can describe itself as SDP ([`Sender::sdp`]).
//!
//! ```no_run
//! use framecast::sender::{Codec, Sender};
//! use framecast::VideoFormat;
//! let sender = Sender::builder()
//!     .to("127.0.0.1:5000")
//!     .codec(Codec::H264)
//!     .size(1280, 720)
//!     .fps(30)
//!     .input_format(VideoFormat::Bgr)
//!     .build()?;
//! let mut frame = sender.frame()?;
//! // ... write BGR pixels into frame.get_mut().unwrap().map_writable()? ...
//! sender.push(frame).map_err(|e| e.flow_error())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use framecast_core::{Buffer, ClockTime, Fraction, ReferenceTimestampMeta, VideoFormat, VideoInfo};
use framecast_rtp::rtcp::NtpTimestamp;

use crate::elements::appsrc::{AppSrc, PushError};
use crate::elements::net::{
    advertise_fec, advertise_feedback, parse_clients, sdp_for_caps, FEC_PAYLOAD_TYPE,
};
use crate::elements::rtp::header_ext::{advertise_header_extensions, frame_id_meta};
use crate::elements::video::frame::{copy_packed_into, frame_layout};
use crate::pipeline::{Element, FirstError, FlowError, FlowSuccess, Pipeline, State, SystemClock};
use crate::receiver::RTX_PAYLOAD_TYPE;
use crate::{parse_launch, Error, Result};
/// One RTSP viewer's session and figures ([`Sender::viewers`]).
pub use framecast_rtsp::server::ViewerInfo;

/// What the frames are encoded as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// H.264 over RTP (RFC 6184), the best encoder available (`h264enc`).
    H264,
    /// Motion JPEG over RTP (RFC 2435).
    Jpeg,
    /// Uncompressed I420 over RTP (RFC 4175), for LAN links.
    Raw,
}

/// Builds a [`Sender`].
#[derive(Debug, Clone)]
pub struct SenderBuilder {
    to: Vec<String>,
    codec: Codec,
    width: u32,
    height: u32,
    fps: u32,
    input_format: VideoFormat,
    bitrate_kbps: u32,
    max_queued: u32,
    sdp_file: Option<std::path::PathBuf>,
    fec_group: u32,
    key_interval: u32,
    serve: Option<String>,
    record: Option<std::path::PathBuf>,
    /// `ADDR:PORT`, path and token of the HTTP viewer page and MJPEG.
    http: Option<(String, String, Option<String>)>,
}

impl Default for SenderBuilder {
    fn default() -> Self {
        SenderBuilder {
            to: Vec::new(),
            codec: Codec::H264,
            width: 1280,
            height: 720,
            fps: 30,
            input_format: VideoFormat::Bgr,
            bitrate_kbps: 4000,
            max_queued: 2,
            sdp_file: None,
            fec_group: 0,
            key_interval: 0,
            serve: None,
            record: None,
            http: None,
        }
    }
}

impl SenderBuilder {
    /// Adds a client `host:port` (repeatable), or publishes into an RTSP
    /// server at `rtsp://[user:pass@]host:port/path` (ANNOUNCE/RECORD
    /// through `rtspclientsink`, H.264 or JPEG, reconnecting by itself).
    pub fn to(mut self, address: &str) -> Self {
        self.to.push(address.to_string());
        self
    }
    /// Also (or only) serves the stream over RTSP at `url`
    /// (`rtsp://127.0.0.1:8554/cam`): viewers open the URL and come and go
    /// (`rtspserversink`; H.264 or JPEG). Combinable with [`Self::to`]: one
    /// encode feeds both.
    pub fn serve(mut self, url: &str) -> Self {
        self.serve = Some(url.to_string());
        self
    }
    /// Also (or only) serves the stream to browsers at
    /// `http://ADDR:PORT/stream/` (`httpserversink`: a viewer page, MJPEG
    /// encoded only while someone watches, the dashboard at `/`). Beyond
    /// loopback a token is required (generated and printed unless
    /// [`Self::http_options`] sets it).
    pub fn http(mut self, addr: &str) -> Self {
        self.http = Some((addr.to_string(), "stream".into(), None));
        self
    }
    /// The path (default `stream`) and Bearer token of [`Self::http`].
    pub fn http_options(mut self, path: &str, token: Option<&str>) -> Self {
        if let Some(h) = self.http.as_mut() {
            h.1 = path.to_string();
            h.2 = token.map(str::to_string);
        }
        self
    }
    /// Records into the file at `path` instead of sending: the encoded
    /// stream as it is (an H.264 Annex B byte stream, concatenated JPEGs
    /// for [`Codec::Jpeg`] as ffmpeg's `mjpeg` demuxer reads them, raw
    /// I420 frames for [`Codec::Raw`]). The only output when given.
    pub fn record(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }
    /// The codec (default H.264).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
    /// Frame size (default 1280x720).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }
    /// Frames per second (default 30).
    pub fn fps(mut self, fps: u32) -> Self {
        self.fps = fps;
        self
    }
    /// The pixel format the program writes (default BGR, as OpenCV).
    pub fn input_format(mut self, format: VideoFormat) -> Self {
        self.input_format = format;
        self
    }
    /// H.264 bitrate in kbit/s (default 4000).
    pub fn bitrate(mut self, kbps: u32) -> Self {
        self.bitrate_kbps = kbps;
        self
    }
    /// H.264: an IDR (with SPS/PPS) every `frames` frames (`h264enc
    /// gop-size`); 0, the default, is one second of frames.
    pub fn key_interval(mut self, frames: u32) -> Self {
        self.key_interval = frames;
        self
    }
    /// Forward error correction for links without feedback (multicast,
    /// one-way radio): one ULPFEC parity packet (RFC 5109) per `group`
    /// media packets and at the end of every frame, so a receiver rebuilds
    /// any one packet lost in a group with no round trip. 0 (the default)
    /// sends none; 10 costs about 10 %.
    pub fn fec(mut self, group: u32) -> Self {
        self.fec_group = group.min(48);
        self
    }
    /// Most frames waiting to be encoded (default 2; beyond it the oldest
    /// is dropped: the latest frame wins).
    pub fn max_queued(mut self, frames: u32) -> Self {
        self.max_queued = frames.max(1);
        self
    }

    /// Keeps the stream's SDP (as [`Sender::sdp`]) in this file: written
    /// when `build` returns, before any frame, and rewritten (through a
    /// rename, so a player never reads half of it) when the stream's
    /// description grows, as with H.264's `sprop-parameter-sets` after the
    /// first frame (`udpsink sdp-file=`).
    pub fn sdp_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.sdp_file = Some(path.into());
        self
    }

    /// Builds and starts the pipeline.
    pub fn build(self) -> Result<Sender> {
        // One parser for every client list (the CLI's, udpsink's): a
        // missing :PORT and port 0 are said so, and names prefer IPv4.
        let mut clients = Vec::new();
        let (rtsp, udp): (Vec<&String>, Vec<&String>) = self
            .to
            .iter()
            .partition(|t| t.trim().starts_with("rtsp://"));
        for to in udp {
            clients.extend(parse_clients(to)?);
        }
        // Publishing into a server (rtsp:// in `to`) is the only output
        // when given: the server fans out, not this process.
        let publish = match (rtsp.as_slice(), self.codec) {
            ([], _) => None,
            ([url], Codec::H264 | Codec::Jpeg) if clients.is_empty() && self.serve.is_none() => {
                Some(format!(
                    "rtspclientsink name=sink location=\"{}\"",
                    url.trim().replace('"', "%22")
                ))
            }
            _ => {
                return Err(Error::InvalidPropertyValue {
                    element: "sender".into(),
                    property: "to".into(),
                    value: self.to.join(","),
                    reason: "an rtsp:// destination takes H.264 or JPEG and is the only output \
                             (no UDP clients, no serving)"
                        .into(),
                })
            }
        };
        let record = match &self.record {
            None => None,
            Some(path) if clients.is_empty() && publish.is_none() && self.serve.is_none() => {
                // The location is set on the element below, not spelt
                // into the launch line (no quoting to get wrong).
                let text = path.to_str().ok_or_else(|| Error::InvalidPropertyValue {
                    element: "sender".into(),
                    property: "record".into(),
                    value: path.display().to_string(),
                    reason: "the path is not UTF-8".into(),
                })?;
                Some(("filesink name=sink".to_string(), text.to_string()))
            }
            Some(path) => {
                return Err(Error::InvalidPropertyValue {
                    element: "sender".into(),
                    property: "record".into(),
                    value: path.display().to_string(),
                    reason: "recording to a file is the only output (no clients, no RTSP)".into(),
                })
            }
        };
        let http = match &self.http {
            Some((addr, path, token)) => Some(crate::elements::net::http::httpserversink::branch(
                addr,
                path,
                token.as_deref(),
            )?),
            None => None,
        };
        let http_only = http.is_some()
            && clients.is_empty()
            && publish.is_none()
            && self.serve.is_none()
            && record.is_none();
        if clients.is_empty()
            && publish.is_none()
            && self.serve.is_none()
            && record.is_none()
            && !http_only
        {
            return Err(Error::InvalidPropertyValue {
                element: "sender".into(),
                property: "to".into(),
                value: String::new(),
                reason: "give at least one client host:port, or an rtsp:// URL to serve".into(),
            });
        }
        let serve = match &self.serve {
            Some(url) if matches!(self.codec, Codec::H264 | Codec::Jpeg) => {
                Some(crate::elements::net::rtsp::rtspserversink::server_properties(url)?)
            }
            Some(url) => {
                return Err(Error::InvalidPropertyValue {
                    element: "sender".into(),
                    property: "serve".into(),
                    value: url.clone(),
                    reason: "RTSP serving takes H.264 or JPEG".into(),
                })
            }
            None => None,
        };
        let (encoder, payloader) = match self.codec {
            Codec::H264 => (
                format!(
                    "h264enc bitrate={} gop-size={}",
                    self.bitrate_kbps, self.key_interval
                ),
                "rtph264pay",
            ),
            Codec::Jpeg => (
                "video/x-raw,format=I420 ! jpegenc".to_string(),
                "rtpjpegpay",
            ),
            Codec::Raw => ("video/x-raw,format=I420".to_string(), "rtpvrawpay"),
        };
        let rtsp = publish.is_some();
        let list: Vec<String> = clients.iter().map(SocketAddr::to_string).collect();
        let udp = format!(
            "{payloader} ! udpsink name=sink clients={clients} rtx-payload-type={RTX_PAYLOAD_TYPE} fec-group={fec}",
            fec = if self.fec_group >= 2 { self.fec_group } else { 0 },
            clients = list.join(","),
        );
        // rtspclientsink and rtspserversink packetize themselves and take
        // the encoder's output; with RTP/UDP clients beside a server, one
        // encode feeds both through a tee.
        let record_location = record.as_ref().map(|(_, location)| location.clone());
        let tail = match (publish.or(record.map(|(sink, _)| sink)), &serve, clients.is_empty()) {
            (Some(output), _, _) => format!("{encoder} ! {output}"),
            (None, Some(rtsp), true) => format!("{encoder} ! rtspserversink name=sink {rtsp}"),
            (None, Some(rtsp), false) => format!(
                "{encoder} ! tee name=t ! queue ! rtspserversink name=rtsp {rtsp} t. ! queue ! {udp}"
            ),
            (None, None, _) => format!("{encoder} ! {udp}"),
        };
        // The browser branch takes the raw frames (its own JPEG encode).
        let tail = match &http {
            Some(h) if http_only => h.replace("name=http", "name=sink"),
            Some(h) => format!("tee name=raw ! queue ! {tail} raw. ! {h}"),
            None => tail,
        };
        let description = format!(
            "appsrc name=src is-live=true do-timestamp=true max-buffers={queued} \
             caps=\"video/x-raw,format={format},width={w},height={h},framerate={fps}/1\" \
             ! videoconvert ! {tail}",
            queued = self.max_queued,
            format = self.input_format.name(),
            w = self.width,
            h = self.height,
            fps = self.fps,
        );
        let info = VideoInfo::new(self.input_format, self.width, self.height)?.with_fps(
            Fraction::from_integer(i32::try_from(self.fps).unwrap_or(i32::MAX)),
        );
        let pipeline = parse_launch(&description)?;
        let failed = FirstError::watch(&pipeline.bus());
        let src = pipeline.by_name("src").ok_or_else(|| missing("src"))?;
        let sink = pipeline.by_name("sink").ok_or_else(|| missing("sink"))?;
        if let Some(location) = &record_location {
            sink.set_property("location", location.as_str())?;
        }
        if let Some(path) = self.sdp_file.as_ref().filter(|_| !clients.is_empty()) {
            let text = path.to_str().ok_or_else(|| Error::InvalidPropertyValue {
                element: "sender".into(),
                property: "sdp-file".into(),
                value: path.display().to_string(),
                reason: "the path is not UTF-8".into(),
            })?;
            sink.set_property("sdp-file", text)?;
        }
        let encoders = pipeline
            .elements()
            .into_iter()
            .filter(|e| e.property("encode-time-us").is_ok())
            .collect();
        pipeline.set_state(State::Playing)?;
        // Wait for the first pooled frame: the caps are agreed then, and a
        // size or format the chain refuses (odd heights for raw 4:2:0
        // video) is an error here, with the element's words, not a
        // refused frame later.
        let appsrc = AppSrc::from_element(&src).ok_or_else(|| missing("src"))?;
        if let Err(e) = wait_for_negotiation(&pipeline, appsrc) {
            let _ = pipeline.set_state(State::Null);
            return Err(e);
        }
        Ok(Sender {
            pipeline,
            src,
            sink,
            encoders,
            clients,
            info,
            failed,
            started: Instant::now(),
            fec: self.fec_group >= 2,
            rtsp,
        })
    }
}

/// Waits up to 5 s for the appsrc's pool (the caps agreed down to the
/// sink), returning the first error an element posts meanwhile, with its
/// detail.
fn wait_for_negotiation(pipeline: &Pipeline, appsrc: &AppSrc) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(e) = bus_error(pipeline, Duration::ZERO) {
            return Err(e);
        }
        match appsrc.acquire_buffer_timeout(Duration::from_millis(20)) {
            Ok(_) => return Ok(()),
            Err(FlowError::NotNegotiated) if Instant::now() < deadline => {}
            // The element that failed usually says why at the same moment.
            Err(flow) => {
                return Err(
                    bus_error(pipeline, Duration::from_millis(100)).unwrap_or_else(|| {
                        Error::Element {
                            element: "sender".into(),
                            message: match flow {
                                FlowError::NotNegotiated => {
                                    "the caps were not agreed within 5 s".into()
                                }
                                other => format!("no frame to write into: {other:?}"),
                            },
                        }
                    }),
                )
            }
        }
    }
}

/// The first error message on the bus within `wait`, as the element's
/// error (with its detail).
fn bus_error(pipeline: &Pipeline, wait: Duration) -> Option<Error> {
    match pipeline
        .bus()
        .timed_pop_filtered(Some(wait), |m| matches!(m, crate::Message::Error { .. }))
    {
        Some(crate::Message::Error {
            source,
            message,
            debug,
        }) => Some(Error::Element {
            element: source,
            message: match debug {
                Some(debug) => format!("{message} ({debug})"),
                None => message,
            },
        }),
        _ => None,
    }
}

fn missing(name: &str) -> Error {
    Error::Element {
        element: name.into(),
        message: "missing from the sender pipeline".into(),
    }
}

/// What a program knows of a frame beyond its pixels, for
/// [`Sender::push_info`]: carried to the receiver in RTP header extensions
/// (`abs-capture-time` and framecast's frame id, on every packet) and
/// handed out there ([`ReceivedFrame`](crate::receiver::ReceivedFrame)'s
/// `capture_time()` and `frame_id()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// When the frame was captured, on this machine's wall clock (a
    /// camera's timestamp); `None`: now, as the frame is pushed. The RTP
    /// timestamp stays the push time on the pipeline clock.
    pub capture_time: Option<SystemTime>,
    /// The program's id of the frame (a frame counter, a camera's
    /// sequence number); `None`: none is sent.
    pub frame_id: Option<u64>,
}

impl FrameInfo {
    /// Stamps `frame` with the capture time (on the pipeline clock, for
    /// the sender's latency, and as given on the wall clock) and the id.
    fn stamp(&self, frame: &mut Buffer) {
        if self.capture_time.is_none() && self.frame_id.is_none() {
            // appsrc stamps the capture time now, as for any frame.
            return;
        }
        let b = frame.make_mut();
        let now = SystemClock.time();
        let captured = match self.capture_time {
            Some(t) => {
                let age = SystemTime::now().duration_since(t).unwrap_or_default();
                now.saturating_sub(ClockTime::from(age))
            }
            None => now,
        };
        // The pipeline-clock capture time first: latency tracing takes the
        // first reference timestamp.
        b.add_meta(ReferenceTimestampMeta::capture(captured));
        if let Some(t) = self.capture_time {
            let ntp = NtpTimestamp::from_system_time(t).as_nanos();
            b.add_meta(ReferenceTimestampMeta::ntp(ClockTime::from_nseconds(ntp)));
        }
        if let Some(id) = self.frame_id {
            b.add_meta(frame_id_meta(id));
        }
    }
}

/// Counters of a [`Sender`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SenderStats {
    /// Frames accepted by [`Sender::push`].
    pub frames_in: u64,
    /// Frames handed to the encoder.
    pub frames_out: u64,
    /// Frames dropped because the encoder fell behind (latest wins).
    pub dropped: u64,
    /// RTP packets sent.
    pub packets: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Average bitrate since the start, bit/s.
    pub bitrate: f64,
    /// Total encode time (H.264 only).
    pub encode_time: Duration,
    /// From `push` to the frame's last packet on the wire, averaged over
    /// the frames sent.
    pub latency: Duration,
    /// The same, for the last frame sent.
    pub latency_last: Duration,
    /// The same, for the slowest frame.
    pub latency_max: Duration,
    /// Packets resent as RTX, answering receivers' NACKs.
    pub retransmissions: u64,
    /// Keyframe requests (RTCP PLI/FIR) from receivers.
    pub keyframe_requests: u64,
    /// Publishing to RTSP: times the server refused or went away.
    pub outages: u64,
    /// Publishing to RTSP: frames dropped while disconnected or waiting
    /// for the keyframe that resumes the stream.
    pub frames_dropped_disconnected: u64,
}

/// Sends frames to clients over RTP/UDP. Dropping it stops the pipeline.
#[derive(Debug)]
pub struct Sender {
    pipeline: Pipeline,
    src: Element,
    sink: Element,
    /// Elements that report `encode-time-us` (found once, so that
    /// [`Sender::stats`] allocates nothing).
    encoders: Vec<Element>,
    clients: Vec<SocketAddr>,
    /// What the program writes: format, size and rate of every frame.
    info: VideoInfo,
    /// The first error an element posted: every later
    /// [`push_with`](Sender::push_with) and [`finish`](Sender::finish)
    /// returns it.
    failed: std::sync::Arc<FirstError>,
    started: Instant,
    /// FEC is sent (the SDP says so).
    fec: bool,
    /// Publishing into an RTSP server (`rtspclientsink`).
    rtsp: bool,
}

impl Sender {
    /// A builder, defaulting to H.264 1280x720 at 30 fps from BGR.
    pub fn builder() -> SenderBuilder {
        SenderBuilder::default()
    }

    fn appsrc(&self) -> std::result::Result<&AppSrc, FlowError> {
        AppSrc::from_element(&self.src).ok_or(FlowError::Error)
    }

    /// A frame to write into: a pooled buffer laid out for the input
    /// format (see its `VideoMeta` for strides).
    pub fn frame(&self) -> std::result::Result<Buffer, FlowError> {
        self.appsrc()?.acquire_buffer()
    }

    /// Sends a frame; it is stamped with the capture time now. A frame that
    /// cannot be taken comes back in the error.
    pub fn push(&self, frame: Buffer) -> std::result::Result<FlowSuccess, PushError> {
        self.push_info(frame, FrameInfo::default())
    }

    /// [`push`](Self::push) with the frame's capture time and id, which the
    /// receiver gets with the frame. Allocates nothing (the metas are
    /// stored in the buffer).
    pub fn push_info(
        &self,
        mut frame: Buffer,
        info: FrameInfo,
    ) -> std::result::Result<FlowSuccess, PushError> {
        info.stamp(&mut frame);
        match self.appsrc() {
            Ok(appsrc) => appsrc.push_buffer(frame),
            Err(_) => Err(PushError::Flushing(frame)),
        }
    }

    /// Copies a frame of packed pixels into a pooled frame and sends it,
    /// for programs whose frames live in their own memory (an OpenCV
    /// `Mat`, a numpy array, a camera's buffer). `pixels` is packed as
    /// [`packed_size`](crate::elements::video::frame::packed_size) says, or
    /// for a one-plane format (BGR, RGB, GRAY8, ...) rows `src_stride`
    /// bytes apart (a crop of a larger image). The copy is the only cost
    /// over [`Sender::frame`]; nothing is allocated.
    ///
    /// # Errors
    ///
    /// A size or stride that does not match the sender's frames (the
    /// message gives the size expected), or the push's flow error when the
    /// sender is stopping ([`Error::Element`]).
    pub fn push_packed(&self, pixels: &[u8], src_stride: Option<usize>) -> Result<FlowSuccess> {
        self.push_with(|frame, layout| copy_packed_into(frame, layout, pixels, src_stride))
    }

    /// Fills a pooled frame with `fill` and sends it: `fill` gets the
    /// frame's bytes and their layout (strides may pad rows; see
    /// [`frame_layout`] and [`is_packed`](crate::elements::video::frame::is_packed)).
    /// For copying from memory Rust cannot borrow as a slice, such as a
    /// Python buffer another thread may be writing.
    ///
    /// # Errors
    ///
    /// `fill`'s error; an element's error posted earlier (kept, and
    /// returned by every later call); the push's flow error when the
    /// sender is stopping ([`Error::Element`]).
    pub fn push_with(
        &self,
        fill: impl FnOnce(&mut [u8], &VideoInfo) -> Result<()>,
    ) -> Result<FlowSuccess> {
        self.push_with_info(FrameInfo::default(), fill)
    }

    /// [`push_with`](Self::push_with), with the frame's capture time and
    /// id (see [`push_info`](Self::push_info)).
    ///
    /// # Errors
    ///
    /// As [`push_with`](Self::push_with).
    pub fn push_with_info(
        &self,
        info: FrameInfo,
        fill: impl FnOnce(&mut [u8], &VideoInfo) -> Result<()>,
    ) -> Result<FlowSuccess> {
        let refused = |e: FlowError| Error::Element {
            element: "sender".into(),
            message: format!("the frame was refused: {e:?}"),
        };
        self.failed.check()?;
        let mut frame = self.frame().map_err(refused)?;
        {
            let f = frame.get_mut().ok_or_else(|| Error::Element {
                element: "sender".into(),
                message: "a pooled frame was shared".into(),
            })?;
            let layout = frame_layout(f, &self.info)?;
            let mut map = f.map_writable()?;
            fill(&mut map, &layout)?;
        }
        self.push_info(frame, info)
            .map_err(|e| refused(e.flow_error()))
    }

    /// The URL viewers open when serving RTSP ([`SenderBuilder::serve`]),
    /// and how many are playing now.
    pub fn rtsp(&self) -> Option<(String, u64)> {
        let e = self.server_sink();
        let imp = crate::elements::net::rtsp::rtspserversink::RtspServerSink::from_element(&e)?;
        Some((imp.url()?, e.counter("viewers")))
    }

    /// The URL of the browser viewer page when serving HTTP
    /// ([`SenderBuilder::http`]), with the token if one is required.
    pub fn http(&self) -> Option<String> {
        let e = self
            .pipeline
            .by_name("http")
            .unwrap_or_else(|| self.sink.clone());
        crate::elements::net::http::httpserversink::HttpServerSink::from_element(&e)?.url()
    }

    /// When serving RTSP, every viewer's session and figures (packets,
    /// drops, and loss, jitter and round-trip time from its RTCP receiver
    /// reports); `None` when not serving. Allocates: for a stats line,
    /// not for every frame.
    pub fn viewers(&self) -> Option<Vec<ViewerInfo>> {
        let e = self.server_sink();
        let imp = crate::elements::net::rtsp::rtspserversink::RtspServerSink::from_element(&e)?;
        Some(imp.viewers())
    }

    /// The `rtspserversink` when serving (`rtsp` beside UDP clients, else
    /// the sink itself); which one it is, the callers check.
    fn server_sink(&self) -> Element {
        self.pipeline
            .by_name("rtsp")
            .unwrap_or_else(|| self.sink.clone())
    }

    /// The frames this sender takes: format, size and rate.
    pub fn video_info(&self) -> &VideoInfo {
        &self.info
    }

    /// Counters (cheap: no allocation, no lock held across a push).
    pub fn stats(&self) -> SenderStats {
        let levels = self.appsrc().map(|a| a.levels()).unwrap_or_default();
        let bytes = self.sink.counter("bytes-sent");
        let encode_us = self
            .encoders
            .iter()
            .map(|e| e.counter("encode-time-us"))
            .sum::<u64>();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        SenderStats {
            frames_in: levels.pushed,
            frames_out: levels.popped,
            dropped: levels.dropped,
            packets: self.sink.counter("packets-sent"),
            bytes,
            bitrate: bytes as f64 * 8.0 / secs,
            encode_time: Duration::from_micros(encode_us),
            latency: Duration::from_micros(self.sink.counter("latency-avg-us")),
            latency_last: Duration::from_micros(self.sink.counter("latency-last-us")),
            latency_max: Duration::from_micros(self.sink.counter("latency-max-us")),
            retransmissions: self.sink.counter("retransmissions"),
            keyframe_requests: self.sink.counter("keyframe-requests"),
            // Only rtspclientsink has them: asking udpsink for a property
            // it lacks builds an error (allocations on every call).
            outages: if self.rtsp {
                self.sink.counter("outages")
            } else {
                0
            },
            frames_dropped_disconnected: if self.rtsp {
                self.sink.counter("frames-dropped")
            } else {
                0
            },
        }
    }

    /// The SDP a client opens to receive this stream (ffplay, GStreamer,
    /// `framecast receive`), for the first client. Known as soon as
    /// [`build`](SenderBuilder::build) returns, before any frame: the
    /// caps are agreed then, and H.264's SPS and PPS travel in-band before
    /// every IDR anyway; after the first frame it also carries
    /// `sprop-parameter-sets` (and `profile-level-id`). A viewer started
    /// from it mid-GOP asks for a keyframe (an RTCP PLI, which framecast's
    /// receiver sends) instead of waiting for the next one.
    pub fn sdp(&self) -> Result<String> {
        let caps = self
            .sink
            .sink_pad()
            .and_then(|p| p.caps())
            .ok_or_else(|| Error::Element {
                element: "sender".into(),
                message: "the stream's caps are not agreed yet".into(),
            })?;
        let Some(&client) = self.clients.first() else {
            return Err(Error::Element {
                element: "sender".into(),
                message: "an RTSP server describes the stream it is published to".into(),
            });
        };
        let mut sdp = sdp_for_caps(&caps, client.ip(), client.port())?;
        advertise_feedback(&mut sdp, Some(RTX_PAYLOAD_TYPE));
        advertise_header_extensions(&mut sdp);
        if self.fec {
            advertise_fec(&mut sdp, FEC_PAYLOAD_TYPE);
        }
        Ok(sdp.to_string())
    }

    /// The pipeline underneath (bus, elements).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Ends the stream: EOS after the queued frames (udpsink says RTCP BYE),
    /// then stops. Returns the final counters, every frame sent.
    ///
    /// # Errors
    ///
    /// The pipeline's error when an element failed before the queued
    /// frames were out, or [`Error::Element`] when end-of-stream did not
    /// come within 5 s (frames may be lost); the pipeline is stopped in
    /// every case.
    pub fn finish(self) -> Result<SenderStats> {
        let ended = self.failed.check().and_then(|()| match self.appsrc() {
            Ok(appsrc) => match appsrc.end_of_stream() {
                Ok(_) => self.wait_for_eos(),
                Err(e) => Err(Error::Element {
                    element: "sender".into(),
                    message: format!("end of stream refused: {e:?}"),
                }),
            },
            Err(_) => Err(Error::Element {
                element: "sender".into(),
                message: "the sender's appsrc is gone".into(),
            }),
        });
        let stats = self.stats();
        let stopped = self.pipeline.set_state(State::Null);
        ended?;
        stopped?;
        Ok(stats)
    }

    /// Waits up to 5 s for end-of-stream to reach the sink.
    fn wait_for_eos(&self) -> Result<()> {
        let message = self
            .pipeline
            .bus()
            .timed_pop_filtered(Some(Duration::from_secs(5)), |m| {
                matches!(m, crate::Message::Eos | crate::Message::Error { .. })
            });
        match message {
            Some(crate::Message::Eos) => Ok(()),
            Some(crate::Message::Error {
                source, message, ..
            }) => Err(Error::Element {
                element: source,
                message,
            }),
            _ => Err(Error::Element {
                element: "sender".into(),
                message: "end of stream did not reach the network within 5 s".into(),
            }),
        }
    }
}
