//! [`Receiver`]: decoded frames from an RTP/UDP stream, in a few lines.
//!
//! The receiving twin of [`Sender`](crate::sender::Sender), and the engine
//! of `framecast receive`. A thin layer over a pipeline, not a second
//! engine:
//!
//! ```text
//! udpsrc (RTP) ! rtpjitterbuffer ! <depayloader> ! <decoder> [! videoconvert ! format] ! appsink
//! udpsrc (port + 1, RTCP) ! rtpjitterbuffer.sink_rtcp
//! ```
//!
//! The jitter buffer puts packets back in order and waits a bounded time
//! for a missing one ([`ReceiverBuilder::latency`]); the sender's RTCP
//! sender reports (RFC 3550 §6.4.1) map RTP time to its wall clock, so
//! every frame carries the time it was captured and
//! [`ReceivedFrame::latency`] is the end-to-end delay. The sender's RTCP
//! BYE (§6.6) ends the stream: [`Receiver::pull`] then returns `Ok(None)`
//! and [`Receiver::is_eos`] is true. A sender that vanishes (killed,
//! crashed, its network gone) says no BYE: its packets just stop, and
//! [`ReceiverStats::stopped_without_bye`] tells that apart from an ended
//! stream.
//!
//! ```no_run
//! use std::time::Duration;
//! use framecast::receiver::Receiver;
//! use framecast::sender::Codec;
//! use framecast::VideoFormat;
//! let receiver = Receiver::builder()
//!     .port(5000)
//!     .codec(Codec::H264)
//!     .output_format(VideoFormat::Bgr)
//!     .build()?;
//! let mut pixels = Vec::new();
//! while let Some(frame) = receiver.pull(Some(Duration::from_secs(1)))? {
//!     pixels.resize(frame.packed_size(), 0);
//!     frame.copy_packed_to(&mut pixels)?;
//!     // ... pixels: frame.info.height rows of frame.info.width BGR pixels ...
//! }
//! let stats = receiver.stop()?;
//! println!("{} packets, {} lost", stats.packets, stats.lost);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use framecast_core::sync::MutexExt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use framecast_core::{Buffer, BufferMap, ReferenceTimestampMeta, VideoFormat, VideoInfo};

use crate::elements::appsink::{AppSink, Sample};
use crate::elements::net::udpsrc::UdpSrc;
use crate::elements::net::{
    caps_for_sdp, fec_payload_type, read_sdp_file, rtx_payload_type, FEC_PAYLOAD_TYPE,
};
use crate::elements::rtp::header_ext::framecast_extmap_fields;
use crate::elements::rtp::rtpjitterbuffer::RtpJitterBuffer;
use crate::elements::video::frame::{frame_layout, packed_size, row_bytes};
use crate::pipeline::{Caps, Element, FirstError, Pipeline, State};
use crate::rtp::rtcp::NtpTimestamp;
use crate::sender::Codec;
use crate::{parse_launch, Error, Result};

mod frame;
mod stats;
pub use frame::ReceivedFrame;
pub use stats::ReceiverStats;

/// Builds a [`Receiver`].
#[derive(Debug, Clone)]
pub struct ReceiverBuilder {
    port: Option<u16>,
    sdp_file: Option<PathBuf>,
    codec: Codec,
    size: Option<(u32, u32)>,
    address: String,
    latency: Duration,
    output_format: Option<VideoFormat>,
    convert_in_pull: bool,
    max_buffers: u32,
    drop_old: bool,
    retransmission: bool,
    /// An `rtsp://` stream to play instead of a port or SDP file.
    url: Option<String>,
}

/// The payload type framecast's senders resend lost packets on (RTX,
/// RFC 4588), which a receiver given a port (no SDP) expects.
pub const RTX_PAYLOAD_TYPE: u8 = 97;

impl Default for ReceiverBuilder {
    fn default() -> Self {
        ReceiverBuilder {
            port: None,
            sdp_file: None,
            codec: Codec::H264,
            size: None,
            address: "0.0.0.0".to_string(),
            latency: Duration::from_millis(50),
            output_format: None,
            convert_in_pull: false,
            max_buffers: 4,
            drop_old: false,
            retransmission: true,
            url: None,
        }
    }
}

impl ReceiverBuilder {
    /// Ask the sender to resend lost packets (RTCP Generic NACK, RFC 4585;
    /// framecast's senders answer with RTX, RFC 4588) while the jitter
    /// buffer's latency allows. Default on; a sender that does not answer
    /// costs a few RTCP packets per loss.
    pub fn retransmission(mut self, on: bool) -> Self {
        self.retransmission = on;
        self
    }

    /// Plays `rtsp://[user:pass@]host:port/path` from an RTSP server
    /// (`rtspsrc`: DESCRIBE, SETUP with TCP interleaved, PLAY) instead of
    /// listening on a port. The stream's encoding is [`codec`](Self::codec)
    /// (default H.264); its caps come from the server's SDP.
    pub fn url(mut self, url: &str) -> Self {
        self.url = Some(url.trim().to_string());
        self
    }

    /// The UDP port of the RTP stream. RTCP is expected on the next one
    /// (RFC 3550 §11), which is where the sender's capture times come from.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
    /// Reads the stream's description from an SDP file (as
    /// [`Sender::sdp`](crate::sender::Sender::sdp), `framecast send --sdp`
    /// or `ffmpeg -f rtp` write it): port, codec, size and parameter sets,
    /// and a multicast group to join. With it, what [`port`](Self::port),
    /// [`codec`](Self::codec) and [`size`](Self::size) set is not used.
    pub fn sdp_file(mut self, path: impl AsRef<Path>) -> Self {
        self.sdp_file = Some(path.as_ref().to_path_buf());
        self
    }
    /// The encoding of a stream given by [`port`](Self::port) (default
    /// H.264). [`Codec::Raw`] also needs [`size`](Self::size): RFC 4175
    /// packets do not say how big the frame is.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
    /// The frame size of a raw stream (needed with [`Codec::Raw`], unused
    /// otherwise: decoders read it from the stream).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }
    /// The address to listen on (default `0.0.0.0`, every interface). A
    /// multicast group is joined.
    pub fn address(mut self, address: &str) -> Self {
        self.address = address.to_string();
        self
    }
    /// The longest wait for a missing packet in the jitter buffer (default
    /// 50 ms, whole milliseconds): a late packet within it is put back in
    /// order, one later than it is declared lost. Every frame waits no
    /// longer than this, so it bounds the latency the receiver adds.
    pub fn latency(mut self, wait: Duration) -> Self {
        self.latency = wait;
        self
    }
    /// Converts the decoded frames to this format (default: as decoded,
    /// I420 for the three codecs). BGR is what OpenCV wants.
    pub fn output_format(mut self, format: VideoFormat) -> Self {
        self.output_format = Some(format);
        self
    }
    /// Converts to the [`output_format`](Self::output_format) where the
    /// frame is copied out rather than in the pipeline: frames come as
    /// decoded and [`ReceivedFrame::convert_packed_to`] writes the output
    /// format straight into the program's memory (a numpy array), one
    /// pass over the pixels where `videoconvert` and the copy out made
    /// two. [`Receiver::output_format`] says which format to ask for. The
    /// bytes are `videoconvert`'s (the same conversion and matrix).
    pub fn convert_in_pull(mut self, convert: bool) -> Self {
        self.convert_in_pull = convert;
        self
    }
    /// Most decoded frames waiting for [`Receiver::pull`] (default 4, at
    /// least 1). When they are all waiting the decoder waits too, and
    /// packets queue in the jitter buffer and the socket: a program that
    /// pulls too slowly for long loses packets, counted in
    /// [`ReceiverStats::lost`].
    pub fn max_buffers(mut self, frames: u32) -> Self {
        self.max_buffers = frames.max(1);
        self
    }

    /// When `max_buffers` frames wait, drop the oldest instead of making
    /// the decoder wait (default off: no frame is lost). For a viewer or a
    /// vision loop slower than the stream, it keeps every pulled frame as
    /// fresh as the stream allows, where waiting would age each one by
    /// the backlog. Drops are counted in [`ReceiverStats::dropped`].
    pub fn drop_old_frames(mut self, drop: bool) -> Self {
        self.drop_old = drop;
        self
    }

    /// The pipeline [`build`](Self::build) runs, as a `framecast launch`
    /// line (for logs, and to run it by hand). Reads the SDP file if one
    /// was given.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), but for starting the pipeline.
    pub fn pipeline_description(&self) -> Result<String> {
        let stream = match &self.url {
            Some(url) => StreamSource {
                udpsrc: format!("rtspsrc name=src location={}", quote(url)),
                rtcp_port: 0,
                encoding: match self.codec {
                    Codec::Jpeg => Encoding::Jpeg,
                    Codec::Raw => Encoding::Raw,
                    Codec::H264 => Encoding::H264,
                },
                rtx_pt: 0,
                fec_pt: 0,
            },
            None => self.stream()?,
        };
        let decode = match stream.encoding {
            Encoding::Jpeg => "rtpjpegdepay name=depay ! jpegdec name=dec",
            Encoding::Raw => "rtpvrawdepay name=depay",
            Encoding::H264 => "rtph264depay name=depay ! openh264dec name=dec",
        };
        let convert = match self.output_format {
            Some(f) if !self.convert_in_pull => {
                format!("videoconvert ! video/x-raw,format={} ! ", f.name())
            }
            _ => String::new(),
        };
        Ok(format!(
            "{source} ! rtpjitterbuffer name=jb latency={latency} eos-on-bye=true \
             do-retransmission={nack} rtx-payload-type={rtx} fec-payload-type={fec} ! {decode} ! \
             {convert}appsink name=sink sync=false max-buffers={max_buffers}{drop}{rtcp}",
            source = stream.udpsrc,
            latency = self.latency.as_millis(),
            nack = self.retransmission,
            rtx = stream.rtx_pt,
            fec = stream.fec_pt,
            max_buffers = self.max_buffers,
            drop = if self.drop_old { " drop=true" } else { "" },
            // RTSP's RTCP travels with the session, not on a port of ours.
            rtcp = match stream.rtcp_port {
                0 => String::new(),
                port => format!(
                    " udpsrc name=rtcp port={port} address={} ! jb.sink_rtcp",
                    self.address
                ),
            },
        ))
    }

    /// Builds the pipeline and starts it: the sockets are bound when it
    /// returns, so a sender may start.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPropertyValue`] (element `receiver`) for a stream it
    /// cannot receive: neither a port nor an SDP file, port 0 or 65535
    /// (RTCP needs the next port), [`Codec::Raw`] without a size, an SDP
    /// stream that is not H.264, JPEG or raw, an address that is not a
    /// host name or IP address. The SDP file's I/O and parse errors. The
    /// pipeline's errors starting (a port that cannot be bound).
    ///
    /// ```
    /// use framecast::receiver::Receiver;
    /// use framecast::sender::Codec;
    /// let err = Receiver::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("give a port or an SDP file"), "{err}");
    /// let err = Receiver::builder().port(5000).codec(Codec::Raw).build().unwrap_err();
    /// assert!(err.to_string().contains("size"), "{err}");
    /// ```
    pub fn build(self) -> Result<Receiver> {
        let description = self.pipeline_description()?;
        let pipeline = parse_launch(&description)?;
        let find = |name: &str| {
            pipeline.by_name(name).ok_or_else(|| Error::Element {
                element: name.into(),
                message: "missing from the receiver pipeline".into(),
            })
        };
        let receiver = Receiver {
            src: find("src")?,
            jb: find("jb")?,
            depay: find("depay")?,
            dec: pipeline.by_name("dec"),
            sink: find("sink")?,
            info: Mutex::new(None),
            convert_to: self.output_format.filter(|_| self.convert_in_pull),
            failed: FirstError::watch(&pipeline.bus()),
            pipeline,
        };
        if AppSink::from_element(&receiver.sink).is_none() {
            return Err(Error::Element {
                element: "sink".into(),
                message: "not an appsink".into(),
            });
        }
        receiver.pipeline.set_state(State::Playing)?;
        Ok(receiver)
    }

    /// Where and what to receive, checked.
    fn stream(&self) -> Result<StreamSource> {
        let address = self.address.trim();
        let plain = |c: char| c.is_ascii_alphanumeric() || ".:-_[]%".contains(c);
        if address.is_empty() || !address.chars().all(plain) {
            return Err(invalid(
                "address",
                &self.address,
                "not a host name or IP address",
            ));
        }
        let (udpsrc, port, encoding, rtx_pt, fec_pt) = match &self.sdp_file {
            Some(path) => {
                let sdp = read_sdp_file(path)?;
                // What the SDP declares (framecast's senders declare it).
                let rtx_pt = sdp.media.first().and_then(rtx_payload_type).unwrap_or(0);
                let fec_pt = sdp.media.first().and_then(fec_payload_type).unwrap_or(0);
                let (caps, _, port) = caps_for_sdp(&sdp).map_err(|e| Error::Element {
                    element: "sdp".into(),
                    message: format!("{}: {e}", path.display()),
                })?;
                let name = caps
                    .structure(0)
                    .and_then(|s| s.get_str("encoding-name"))
                    .map(str::to_ascii_uppercase)
                    .unwrap_or_default();
                let encoding = match name.as_str() {
                    "H264" => Encoding::H264,
                    "JPEG" => Encoding::Jpeg,
                    "RAW" => Encoding::Raw,
                    _ => {
                        return Err(invalid(
                            "sdp-file",
                            &path.display().to_string(),
                            &format!(
                                "the stream is {name:?}: framecast receives H264, JPEG and RAW"
                            ),
                        ))
                    }
                };
                // The path goes into the pipeline line quoted; a path that
                // is not UTF-8 would name another file there.
                let text = path.to_str().ok_or_else(|| {
                    invalid(
                        "sdp-file",
                        &path.display().to_string(),
                        "the path is not UTF-8",
                    )
                })?;
                let udpsrc = format!("udpsrc name=src sdp-file={} address={address}", quote(text));
                (udpsrc, port, encoding, rtx_pt, fec_pt)
            }
            None => {
                let port = self.port.ok_or_else(|| {
                    invalid(
                        "port",
                        "",
                        "give a port or an SDP file: no stream to receive",
                    )
                })?;
                let (encoding, caps) = match self.codec {
                    Codec::Jpeg => (
                        Encoding::Jpeg,
                        "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26"
                            .to_string(),
                    ),
                    Codec::Raw => {
                        let (w, h) = self.size.ok_or_else(|| {
                            invalid(
                                "size",
                                "",
                                "Codec::Raw needs the frame size: RFC 4175 packets do not carry it (or use an SDP file)",
                            )
                        })?;
                        (
                            Encoding::Raw,
                            format!(
                                "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,payload=96,\
                                 sampling=(string)YCbCr-4:2:0,depth=(string)8,width=(string){w},height=(string){h}"
                            ),
                        )
                    }
                    Codec::H264 => (
                        Encoding::H264,
                        "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"
                            .to_string(),
                    ),
                };
                // framecast's senders' header extensions (capture time,
                // frame id), with the IDs their SDP would give.
                let udpsrc = format!(
                    "udpsrc name=src port={port} address={address} caps=\"{caps}{}\"",
                    framecast_extmap_fields()
                );
                // framecast's senders resend on this payload type (and no
                // media type here uses it).
                (udpsrc, port, encoding, RTX_PAYLOAD_TYPE, FEC_PAYLOAD_TYPE)
            }
        };
        if port == 0 {
            return Err(invalid(
                "port",
                "0",
                "RTCP goes on the next port, so the port must be a fixed one",
            ));
        }
        let rtcp_port = port.checked_add(1).ok_or_else(|| {
            invalid(
                "port",
                &port.to_string(),
                "no room for RTCP on the next port",
            )
        })?;
        Ok(StreamSource {
            udpsrc,
            rtx_pt,
            fec_pt,
            rtcp_port,
            encoding,
        })
    }
}

/// A value the receiver cannot use.
fn invalid(property: &str, value: &str, reason: &str) -> Error {
    Error::InvalidPropertyValue {
        element: "receiver".into(),
        property: property.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

/// `text` as a quoted value of a pipeline line.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// The encodings framecast depayloads and decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    H264,
    Jpeg,
    Raw,
}

/// Where and what to receive: the RTP `udpsrc` (its description), the
/// RTCP port, and the encoding.
#[derive(Debug)]
struct StreamSource {
    udpsrc: String,
    rtcp_port: u16,
    encoding: Encoding,
    /// The RTX payload type resent packets come on (0: none known).
    rtx_pt: u8,
    /// The FEC payload type (0: none known).
    fec_pt: u8,
}

/// Calls `f` with the parts of `map` in `start..start + len`; returns how
/// many bytes that was (less than `len` past the end).
fn pieces(
    map: &BufferMap<'_>,
    start: usize,
    len: usize,
    f: &mut impl FnMut(&[u8]) -> Result<()>,
) -> Result<usize> {
    let end = start.saturating_add(len);
    let mut base = 0usize;
    let mut got = 0;
    for slice in map.slices() {
        let (from, to) = (start.max(base), end.min(base + slice.len()));
        if from < to {
            f(&slice[from - base..to - base])?;
            got += to - from;
        }
        base += slice.len();
        if base >= end {
            break;
        }
    }
    Ok(got)
}

/// Seconds from 1900 (NTP's epoch) to 1970 (Unix's), in nanoseconds.
const NTP_UNIX_OFFSET_NANOS: u64 = 2_208_988_800 * 1_000_000_000;

/// From the sender's capture to now, when the buffer has a capture time
/// that is not in the future.
fn latency(buffer: &Buffer) -> Option<Duration> {
    let captured = ReferenceTimestampMeta::find(buffer, ReferenceTimestampMeta::NTP)?;
    let now = NtpTimestamp::now().as_nanos();
    now.checked_sub(captured.nseconds())
        .map(Duration::from_nanos)
}

/// Receives an RTP/UDP video stream and hands out decoded frames. Dropping
/// it stops the pipeline and closes the sockets.
#[derive(Debug)]
pub struct Receiver {
    pipeline: Pipeline,
    /// The RTP `udpsrc`, the jitter buffer, the depayloader and the
    /// appsink, found once so that [`Receiver::stats`] and
    /// [`Receiver::pull`] allocate nothing.
    src: Element,
    jb: Element,
    depay: Element,
    /// The decoder (none for raw video).
    dec: Option<Element>,
    sink: Element,
    /// The last caps and what they describe: caps change rarely, and
    /// parsing them per frame would cost more than the frame's copy.
    info: Mutex<Option<(Arc<Caps>, VideoInfo)>>,
    /// The output format left to the pull
    /// ([`ReceiverBuilder::convert_in_pull`]).
    convert_to: Option<VideoFormat>,
    /// The first error the pipeline posted: a stream that failed keeps
    /// failing rather than looking ended.
    failed: Arc<FirstError>,
}

impl Receiver {
    /// A builder: H.264, listening on `0.0.0.0`, 50 ms jitter buffer, 4
    /// frames queued, frames as decoded. Give it a port or an SDP file.
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    fn appsink(&self) -> Result<&AppSink> {
        AppSink::from_element(&self.sink).ok_or_else(|| Error::Element {
            element: "sink".into(),
            message: "not an appsink".into(),
        })
    }

    /// The next decoded frame, waiting up to `timeout` (`None`: until one
    /// comes or the stream ends).
    ///
    /// `Ok(None)` on timeout, and at the end of the stream (the sender's
    /// RTCP BYE): [`is_eos`](Self::is_eos) tells which; after the end it
    /// returns at once. Reads the pipeline's bus, discarding its messages
    /// up to an error.
    ///
    /// # Errors
    ///
    /// [`Error::Element`] with the element's name and message when an
    /// element failed (a stream the decoder cannot decode, a socket
    /// error); every later call returns it too. A frame without a video
    /// format.
    pub fn pull(&self, timeout: Option<Duration>) -> Result<Option<ReceivedFrame>> {
        // Waits in slices, reading the bus between them: an element that
        // fails without ending the stream must still end a wait with no
        // timeout, and a receiver stopped from another thread must too.
        const SLICE: Duration = Duration::from_millis(100);
        let deadline = timeout.map(|t| Instant::now() + t);
        let sink = self.appsink()?;
        loop {
            self.failed.check()?;
            if sink.is_eos() || self.pipeline.state() == State::Null {
                // A source that fails pushes end-of-stream after its
                // error: report the error, not a clean end.
                self.failed.check()?;
                return Ok(None);
            }
            let wait = deadline.map_or(SLICE, |d| {
                d.saturating_duration_since(Instant::now()).min(SLICE)
            });
            if let Some(sample) = sink.pull_sample(Some(wait)) {
                return self.frame(sample).map(Some);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.failed.check()?;
                return Ok(None);
            }
        }
    }

    fn frame(&self, sample: Sample) -> Result<ReceivedFrame> {
        let caps = sample.caps.ok_or_else(|| Error::Element {
            element: "sink".into(),
            message: "a frame without caps".into(),
        })?;
        let mut cached = self.info.locked();
        let info = match &*cached {
            Some((known, info)) if Arc::ptr_eq(known, &caps) => *info,
            _ => {
                let info = caps.video_info()?;
                *cached = Some((caps, info));
                info
            }
        };
        drop(cached);
        Ok(ReceivedFrame {
            latency: latency(&sample.buffer),
            buffer: sample.buffer,
            info,
        })
    }

    /// The format the program asked for when it is converted to as frames
    /// are copied out ([`ReceiverBuilder::convert_in_pull`]): give it to
    /// [`ReceivedFrame::convert_packed_to`]. `None` when frames come in
    /// the format wanted already (their `info`).
    pub fn output_format(&self) -> Option<VideoFormat> {
        self.convert_to
    }

    /// Whether the stream ended (the sender's BYE, or a source that
    /// stopped) and every frame was pulled.
    pub fn is_eos(&self) -> bool {
        self.appsink().is_ok_and(AppSink::is_eos)
    }

    /// Counters (cheap: no allocation).
    pub fn stats(&self) -> ReceiverStats {
        let activity = RtpJitterBuffer::from_element(&self.jb)
            .map(RtpJitterBuffer::activity)
            .unwrap_or_default();
        let streamed = match (activity.first_packet, activity.last_packet) {
            (Some(first), Some(last)) => last.saturating_duration_since(first),
            _ => Duration::ZERO,
        };
        ReceiverStats {
            bye: activity.bye,
            streamed,
            silent_for: activity.last_packet.map(|t| t.elapsed()),
            packets: self.depay.counter("packets-received"),
            lost: self.jb.counter("num-lost"),
            frames_discarded: self.depay.counter("frames-discarded"),
            stream_restarts: self.depay.counter("stream-restarts"),
            dropped: self.sink.counter("dropped"),
            jitter: Duration::from_micros(self.jb.counter("jitter-us")),
            late: self.jb.counter("num-late"),
            stray: self.jb.counter("num-stray"),
            frames_damaged: self.depay.counter("frames-damaged"),
            frames_concealed: self
                .dec
                .as_ref()
                .map_or(0, |d| d.counter("frames-concealed")),
            decode_errors: self.dec.as_ref().map_or(0, |d| d.counter("decode-errors")),
            warnings: self.failed.warnings_posted(),
            undecodable: self.dec.as_ref().map_or(0, |d| d.counter("undecodable")),
        }
    }

    /// The warnings the pipeline's elements posted since the last call
    /// (`element: message`, oldest first, the latest 16 at most): a
    /// decoder meeting data it cannot decode goes on and says so here.
    /// Allocates only when there are some.
    pub fn take_warnings(&self) -> Vec<String> {
        self.failed.take_warnings()
    }

    /// The UDP port the RTP socket is bound to (the one given, or the
    /// SDP's), once bound.
    pub fn local_port(&self) -> Option<u16> {
        UdpSrc::from_element(&self.src).and_then(UdpSrc::bound_port)
    }

    /// The pipeline underneath (elements, clock). Its bus is read by
    /// [`pull`](Self::pull).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Stops the pipeline and closes the sockets; returns the final
    /// counters.
    ///
    /// # Errors
    ///
    /// The pipeline's error stopping.
    pub fn stop(self) -> Result<ReceiverStats> {
        self.close()
    }

    /// [`stop`](Self::stop) from a shared reference: for a receiver other
    /// threads use. A [`pull`](Self::pull) waiting meanwhile returns
    /// `Ok(None)`, and so does every later one.
    ///
    /// # Errors
    ///
    /// The pipeline's error stopping.
    pub fn close(&self) -> Result<ReceiverStats> {
        let stats = self.stats();
        self.pipeline.set_state(State::Null)?;
        Ok(stats)
    }
}

impl Drop for Receiver {
    /// Stops the pipeline even when a clone of [`Receiver::pipeline`]
    /// lives on: the sockets must not outlive the receiver.
    fn drop(&mut self) {
        if self.pipeline.state() != State::Null {
            let _ = self.pipeline.set_state(State::Null);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_is_the_one_framecast_receive_ran() {
        let line = Receiver::builder()
            .port(5000)
            .address("127.0.0.1")
            .output_format(VideoFormat::Bgr)
            .pipeline_description()
            .unwrap();
        assert_eq!(
            line,
            "udpsrc name=src port=5000 address=127.0.0.1 \
             caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96,\
             extmap-1=(string)http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time,\
             extmap-2=(string)urn:x-framecast:rtp-hdrext:frame-id\" \
             ! rtpjitterbuffer name=jb latency=50 eos-on-bye=true do-retransmission=true rtx-payload-type=97 fec-payload-type=100 ! rtph264depay name=depay ! openh264dec name=dec ! \
             videoconvert ! video/x-raw,format=BGR ! appsink name=sink sync=false max-buffers=4 \
             udpsrc name=rtcp port=5001 address=127.0.0.1 ! jb.sink_rtcp"
        );
        let line = Receiver::builder()
            .port(6000)
            .codec(Codec::Raw)
            .size(64, 48)
            .latency(Duration::from_millis(200))
            .max_buffers(0)
            .pipeline_description()
            .unwrap();
        assert!(line.contains("rtpvrawdepay name=depay ! appsink"), "{line}");
        assert!(
            line.contains("width=(string)64,height=(string)48"),
            "{line}"
        );
        assert!(line.contains("latency=200 "), "{line}");
        assert!(line.contains("max-buffers=1 "), "{line}");
        assert!(line.contains("port=6001 address=0.0.0.0"), "{line}");
    }

    #[test]
    fn streams_it_cannot_receive_are_refused_with_the_reason() {
        let text = |b: ReceiverBuilder| {
            b.pipeline_description()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(text(Receiver::builder()).contains("give a port or an SDP file"));
        assert!(text(Receiver::builder().port(5000).codec(Codec::Raw)).contains("frame size"));
        assert!(text(Receiver::builder().port(65535)).contains("no room for RTCP"));
        assert!(text(Receiver::builder().port(0)).contains("fixed"));
        let e = text(Receiver::builder().port(5000).address("1.2.3.4 ! fakesink"));
        assert!(e.contains("not a host name"), "{e}");
        let e = text(Receiver::builder().sdp_file("/nonexistent/stream.sdp"));
        assert!(e.contains("/nonexistent/stream.sdp"), "{e}");
    }

    #[test]
    fn quoted_values_escape_quotes_and_backslashes() {
        assert_eq!(quote("/tmp/a.sdp"), "\"/tmp/a.sdp\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
