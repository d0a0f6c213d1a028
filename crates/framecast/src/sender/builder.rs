//! [`SenderBuilder`]: what a [`Sender`] sends, to where, and how it is
//! encoded; `build` writes the pipeline and starts it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use framecast_core::{Fraction, VideoFormat, VideoInfo};

use crate::elements::appsrc::AppSrc;
use crate::elements::net::parse_clients;
use crate::pipeline::{FirstError, FlowError, Pipeline, State};
use crate::receiver::RTX_PAYLOAD_TYPE;
use crate::{parse_launch, Error, Result};

use super::*;

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
    /// User and password RTSP viewers authenticate with (Digest).
    serve_credentials: Option<(String, String)>,
    record: Option<std::path::PathBuf>,
    /// `ADDR:PORT`, path and token of the HTTP viewer page and MJPEG.
    http: Option<(String, String, Option<String>)>,
    convert_in_push: bool,
    encoder_threads: u32,
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
            serve_credentials: None,
            record: None,
            http: None,
            convert_in_push: false,
            encoder_threads: 0,
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
    /// encode feeds both. Credentials in the URL
    /// (`rtsp://user:password@127.0.0.1:8554/cam`, percent-encoded as in
    /// any URL) are the ones viewers must give, as with
    /// [`Self::serve_credentials`] (which wins when both are given).
    pub fn serve(mut self, url: &str) -> Self {
        self.serve = Some(url.to_string());
        if let Ok(parsed) = framecast_rtsp::client::RtspUrl::parse(url) {
            if let Some(user) = parsed.user() {
                let password = parsed.password().unwrap_or_default().to_string();
                self.serve_credentials
                    .get_or_insert_with(|| (user.to_string(), password));
                self.serve = Some(parsed.url().to_string());
            }
        }
        self
    }
    /// RTSP viewers of [`Self::serve`] must authenticate as `user` with
    /// `password` (Digest, RFC 2617: ffmpeg, GStreamer and live555 open
    /// `rtsp://user:password@host:port/path`); others get 401.
    pub fn serve_credentials(mut self, user: &str, password: &str) -> Self {
        self.serve_credentials = Some((user.to_string(), password.to_string()));
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
    /// Converts each frame into the encoder's 4:2:0 as the push copies
    /// it ([`Sender::push_frame`], [`Sender::push_packed`]): one pass over
    /// the program's pixels instead of a copy into the pipeline and a
    /// conversion there (`videoconvert` then passes through). The pooled
    /// frames ([`Sender::frame`], [`Sender::push_with`]) are then I420
    /// (NV12 and I420 input stay as they are); [`Sender::video_info`]
    /// still says what the program writes. Off by default.
    pub fn convert_in_push(self, convert: bool) -> Self {
        SenderBuilder {
            convert_in_push: convert,
            ..self
        }
    }
    /// H.264 encoder threads, one slice each (`h264enc threads`): 0, the
    /// default, is one per core (a frame encodes on all cores: the lowest
    /// latency on an idle machine); 1 costs the least CPU where cores are
    /// scarce or shared.
    pub fn encoder_threads(self, threads: u32) -> Self {
        SenderBuilder {
            encoder_threads: threads,
            ..self
        }
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
        let no_other_output =
            clients.is_empty() && publish.is_none() && self.serve.is_none() && record.is_none();
        // With HTTP the only output its `httpserversink` is the sink.
        let http = match &self.http {
            Some((addr, path, token)) => Some(crate::elements::net::http::httpserversink::branch(
                addr,
                path,
                token.as_deref(),
                if no_other_output { "sink" } else { "http" },
            )?),
            None => None,
        };
        if no_other_output && http.is_none() {
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
                    "h264enc bitrate={} gop-size={} threads={}",
                    self.bitrate_kbps, self.key_interval, self.encoder_threads
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
        let encoded = match (
            publish.or(record.map(|(sink, _)| sink)),
            &serve,
            clients.is_empty(),
        ) {
            (Some(output), _, _) => output,
            (None, Some(rtsp), true) => format!("rtspserversink name=sink {rtsp}"),
            (None, Some(rtsp), false) => {
                format!("tee name=t ! queue ! rtspserversink name=rtsp {rtsp} t. ! queue ! {udp}")
            }
            (None, None, _) => udp,
        };
        // The browser branch takes the raw frames for MJPEG (its own JPEG
        // encode, only while someone watches); WebRTC takes this sender's
        // H.264 encode when it has one, else one of its own.
        let tail = match &http {
            Some(h) if no_other_output => h.from_raw(),
            Some(h) if self.codec == Codec::H264 => format!(
                "tee name=raw ! queue ! {encoder} ! tee name=enc ! queue ! {encoded} \
                 enc. ! queue leaky=downstream max-size-buffers=1 ! {whep} raw. ! {mjpeg}",
                whep = h.whep,
                mjpeg = h.mjpeg,
            ),
            Some(h) => format!(
                "tee name=raw ! queue ! {encoder} ! {encoded} raw. ! {}",
                h.from_raw()
            ),
            None => format!("{encoder} ! {encoded}"),
        };
        // What the pooled frames hold: the program's format, or with
        // `convert_in_push` the 4:2:0 every encoder here takes.
        let pool_format = match self.input_format {
            f if !self.convert_in_push => f,
            f @ (VideoFormat::I420 | VideoFormat::Nv12) => f,
            _ => VideoFormat::I420,
        };
        let description = format!(
            "appsrc name=src is-live=true do-timestamp=true max-buffers={queued} \
             caps=\"video/x-raw,format={format},width={w},height={h},framerate={fps}/1\" \
             ! videoconvert ! {tail}",
            queued = self.max_queued,
            format = pool_format.name(),
            w = self.width,
            h = self.height,
            fps = self.fps,
        );
        let info = VideoInfo::new(self.input_format, self.width, self.height)?.with_fps(
            Fraction::from_integer(i32::try_from(self.fps).unwrap_or(i32::MAX)),
        );
        let pool = VideoInfo::new(pool_format, self.width, self.height)?.with_fps(info.fps);
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
        if let Some((user, password)) = &self.serve_credentials {
            // Set on the element, not spelt into the launch line (no
            // quoting to get wrong); it reads them when it starts.
            if self.serve.is_none() {
                return Err(Error::InvalidPropertyValue {
                    element: "sender".into(),
                    property: "serve-credentials".into(),
                    value: user.clone(),
                    reason: "credentials are for RTSP viewers: serve an rtsp:// URL too".into(),
                });
            }
            let server = pipeline.by_name("rtsp").unwrap_or_else(|| sink.clone());
            server.set_property("user", user.as_str())?;
            server.set_property("password", password.as_str())?;
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
            pool,
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
