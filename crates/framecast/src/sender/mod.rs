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
use std::time::{Duration, Instant};

use framecast_core::{Buffer, VideoInfo};

use crate::elements::appsrc::{AppSrc, PushError};
use crate::elements::net::{advertise_fec, advertise_feedback, sdp_for_caps, FEC_PAYLOAD_TYPE};
use crate::elements::rtp::header_ext::advertise_header_extensions;
use crate::elements::video::frame::{copy_packed_into, frame_layout, packed_layout};
use crate::elements::video::{convert, Frame, FrameMut, Matrix};
use crate::pipeline::{Element, FirstError, FlowError, FlowSuccess, Pipeline, State};
use crate::receiver::RTX_PAYLOAD_TYPE;
use crate::{Error, Result};
/// One RTSP viewer's session and figures ([`Sender::viewers`]).
pub use framecast_rtsp::server::ViewerInfo;

mod builder;
mod frame_info;

pub use builder::SenderBuilder;
pub use frame_info::FrameInfo;

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
    /// What the pooled frames hold: `info`, or its 4:2:0 with
    /// [`SenderBuilder::convert_in_push`].
    pool: VideoInfo,
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
    /// format, or I420 with [`SenderBuilder::convert_in_push`] (see its
    /// `VideoMeta` for strides).
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
    /// bytes apart (a crop of a larger image; with
    /// [`SenderBuilder::convert_in_push`] the last row too is `src_stride`
    /// long). The copy (or the conversion) is the only cost over
    /// [`Sender::frame`]; nothing is allocated.
    ///
    /// # Errors
    ///
    /// A size or stride that does not match the sender's frames (the
    /// message gives the size expected), or the push's flow error when the
    /// sender is stopping ([`Error::Element`]).
    pub fn push_packed(&self, pixels: &[u8], src_stride: Option<usize>) -> Result<FlowSuccess> {
        if self.pool.format == self.info.format {
            return self
                .push_with(|frame, layout| copy_packed_into(frame, layout, pixels, src_stride));
        }
        let mut layout = packed_layout(&self.info);
        if let Some(stride) = src_stride.filter(|_| layout.n_planes == 1) {
            layout.stride[0] = stride;
        }
        self.push_frame(&Frame::new(layout, pixels)?, FrameInfo::default())
    }

    /// Converts `src` (the program's frame, any layout [`Frame`] takes:
    /// padded rows, planes anywhere) into a pooled frame in one pass, or
    /// copies it where the formats agree, and sends it with its capture
    /// time and id. With [`SenderBuilder::convert_in_push`] this is the
    /// only pass over the pixels before the encoder. Nothing is
    /// allocated.
    ///
    /// # Errors
    ///
    /// A frame whose format or size is not the sender's input (the
    /// message says what is expected), and as [`push_with`](Self::push_with).
    pub fn push_frame(&self, src: &Frame<'_>, info: FrameInfo) -> Result<FlowSuccess> {
        let want = &self.info;
        if (src.info.format, src.info.width, src.info.height)
            != (want.format, want.width, want.height)
        {
            return Err(Error::Element {
                element: "sender".into(),
                message: format!(
                    "a {} {}x{} frame for a sender of {} {}x{}",
                    src.info.format,
                    src.info.width,
                    src.info.height,
                    want.format,
                    want.width,
                    want.height
                ),
            });
        }
        // The matrix videoconvert would pick for this size, so the colours
        // are the same either way.
        let matrix = Matrix::for_height(want.height);
        self.push_with_info(info, |bytes, layout| {
            convert(src, &mut FrameMut::new(*layout, bytes)?, matrix)
        })
    }

    /// Fills a pooled frame with `fill` and sends it: `fill` gets the
    /// frame's bytes and their layout (the input format, or I420 with
    /// [`SenderBuilder::convert_in_push`]; strides may pad rows, see
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
            let layout = frame_layout(f, &self.pool)?;
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
