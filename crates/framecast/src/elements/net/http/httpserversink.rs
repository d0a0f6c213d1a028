//! `httpserversink`: serves its stream to browsers over HTTP —
//! `http://address:port/PATH/` is a viewer page (WebRTC through
//! `/PATH/whep` when a `whepsink` serves the same path, MJPEG otherwise)
//! and `/PATH/mjpeg` is `multipart/x-mixed-replace` JPEG, which `<img>`,
//! ffmpeg, VLC and `curl -N` read.
//!
//! It takes JPEG (`jpegenc ! httpserversink`) or raw I420, which it
//! encodes itself — once per frame for all MJPEG viewers, and only while
//! one is connected (a stream nobody watches costs one atomic load per
//! frame). Each viewer has a one-frame latest-wins slot: a slow tab loses
//! its own frames, never slows the pipeline or the other viewers.
//!
//! Several sinks with one `address:port` in a process share the server,
//! each on its own `path`; with `dashboard=true` (the default) the
//! server's root is the live dashboard, unless something else took it.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use framecast_core::{Buffer, BufferPool, PoolConfig, VideoInfo};
use framecast_http::dashboard::Dashboard;
use framecast_http::viewer::{MjpegStream, ServedStream};
use framecast_http::HttpServer;

use crate::elements::codec::jpegenc::encode_buffer;
use crate::pipeline::base::{sink_properties, Settings, SettingsLock, Sink, SinkImpl};

use super::listen::{self, Listen, Listening};
use super::settings::{self, HttpServerSinkSettings};
use crate::pipeline::{Caps, Element, ElementFactory, PadDirection, PadTemplate};
use crate::pipeline::{PropertySpec, PropertyValue};
use crate::{Error, FlowError, FlowResult, FlowSuccess, Result};

/// Sink template: JPEG as it is, or I420 to encode.
pub const SINK_CAPS: &str = "image/jpeg; video/x-raw,format=I420";

/// Counters it reports, with what they count.
const COUNTERS: [(&str, &str); 4] = [
    ("viewers", "MJPEG viewers connected now"),
    ("frames-published", "Frames handed to the viewers"),
    (
        "frames-unwatched",
        "Frames not encoded: nobody was watching",
    ),
    ("bound-port", "The port listened on (for port=0)"),
];

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = sink_properties(false);
    properties.extend(HttpServerSinkSettings::properties());
    properties.extend(COUNTERS.map(|(name, blurb)| PropertySpec::counter(name, blurb)));
    let caps = SINK_CAPS.parse().unwrap_or_else(|_| Caps::new_any());
    let about = "Serves a viewer page and MJPEG to browsers, encoded once for all viewers";
    let pads = vec![PadTemplate::always("sink", PadDirection::Sink, caps)];
    let make = || -> Box<dyn crate::pipeline::ElementImpl> {
        Box::new(Sink::new(HttpServerSink::default()))
    };
    ElementFactory::new(
        "httpserversink",
        "HTTP server sink",
        "Sink/Network",
        about,
        pads,
        properties,
        make,
    )
}

/// What runs between start and stop.
struct Served {
    stream: ServedStream<Buffer>,
    _dashboard: Option<Dashboard>,
    server: Arc<HttpServer>,
}

/// The element's implementation.
#[derive(Default)]
pub struct HttpServerSink {
    settings: SettingsLock<HttpServerSinkSettings>,
    served: Mutex<Option<Served>>,
    /// I420 input: its layout, and the pool the JPEGs are written into.
    raw: Mutex<Option<(VideoInfo, BufferPool)>>,
    published: AtomicU64,
    unwatched: AtomicU64,
}

impl std::fmt::Debug for HttpServerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServerSink").finish_non_exhaustive()
    }
}

impl HttpServerSink {
    /// The `httpserversink` behind an element.
    pub fn from_element(element: &Element) -> Option<&HttpServerSink> {
        element.imp::<Sink<HttpServerSink>>().map(Sink::imp)
    }

    /// The viewer page's URL, once started (with the token, if any).
    pub fn url(&self) -> Option<String> {
        self.served.locked().as_ref().map(|s| s.stream.url())
    }

    /// The server, once started.
    pub fn server(&self) -> Option<Arc<HttpServer>> {
        self.served.locked().as_ref().map(|s| s.server.clone())
    }

    fn open(&self, element: &Element) -> Result<()> {
        let s = self.settings.get();
        let listen = Listen {
            address: s.address.as_deref(),
            port: s.port.unwrap_or(settings::PORT),
            path: s.path.as_deref().unwrap_or(settings::PATH),
            token: s.token.clone(),
            max_connections: s
                .max_connections
                .unwrap_or(framecast_http::DEFAULT_MAX_CONNECTIONS),
        };
        let Listening { server, path, .. } = listen::open(element, listen)?;
        // Refused when another sink's dashboard (or the program's) is
        // there already: that one serves.
        let dashboard = (!s.no_dashboard)
            .then(|| Dashboard::mount(&server).ok())
            .flatten();
        let stream = ServedStream::mount(&server, MjpegStream::new(&path))
            .map_err(|e| listen::element_error(element, e.to_string()))?;
        *self.served.locked() = Some(Served {
            stream,
            _dashboard: dashboard,
            server,
        });
        Ok(())
    }

    /// The JPEG of a raw frame of `info`, written into `pool`.
    fn encode(
        &self,
        element: &Element,
        input: &Buffer,
        (info, pool): &(VideoInfo, BufferPool),
    ) -> std::result::Result<Buffer, FlowError> {
        let mut out = pool.acquire().map_err(|_| FlowError::Flushing)?;
        let quality = self
            .settings
            .read(|s| s.quality.unwrap_or(settings::QUALITY));
        let Some(out_ref) = out.get_mut() else {
            return Err(FlowError::Error);
        };
        if let Err(e) = encode_buffer(input, info, quality, out_ref) {
            element.post_error(format!("JPEG encoding failed: {e}"), None);
            return Err(FlowError::Error);
        }
        Ok(out)
    }
}

impl SinkImpl for HttpServerSink {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn set_caps(&self, _element: &Element, caps: &Caps) -> Result<()> {
        let raw = caps
            .structure(0)
            .is_some_and(|s| s.name() == crate::pipeline::caps::VIDEO_RAW);
        let mut slot = self.raw.locked();
        *slot = None;
        if raw {
            let info = caps.video_info()?;
            let pool = BufferPool::new();
            // Room for a worst-case JPEG, as jpegenc allows; four in flight
            // (one being written, the rest with slow viewers).
            pool.set_config(PoolConfig::new(info.size * 2 + 4096, 4, 0))?;
            pool.set_active(true)?;
            *slot = Some((info, pool));
        }
        Ok(())
    }

    /// One lock for a frame nobody watches, two and a settings read for
    /// one encoded (each held only to clone an `Arc` or read a value; the
    /// encode runs with none held).
    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        let stream = match self.served.locked().as_ref() {
            Some(s) => s.stream.stream().clone(),
            None => return Err(FlowError::Flushing),
        };
        if stream.viewers() == 0 {
            self.unwatched.fetch_add(1, Ordering::Relaxed);
            return Ok(FlowSuccess::Ok);
        }
        let raw = self.raw.locked().clone();
        let jpeg = match raw {
            Some(raw) => self.encode(element, &buffer, &raw)?,
            None => buffer,
        };
        stream.publish(&jpeg);
        self.published.fetch_add(1, Ordering::Relaxed);
        Ok(FlowSuccess::Ok)
    }

    fn start(&self, element: &Element) -> Result<()> {
        self.open(element)
    }

    fn stop(&self, _element: &Element) {
        // Ends the viewers' streams, unmounts the path (and the dashboard).
        self.served.locked().take();
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let served = self.served.locked();
        let v = match name {
            "viewers" => served
                .as_ref()
                .map_or(0, |s| s.stream.stream().viewers() as u64),
            "frames-published" => self.published.load(Ordering::Relaxed),
            "frames-unwatched" => self.unwatched.load(Ordering::Relaxed),
            "bound-port" => served
                .as_ref()
                .map_or(0, |s| u64::from(s.server.local_addr().port())),
            _ => return None,
        };
        Some(PropertyValue::UInt(v))
    }
}

/// The launch fragments of an HTTP output serving `addr` (`ADDR:PORT`) at
/// `/path/`: the Sender's and the CLI's `--http`.
#[derive(Debug, Clone)]
pub struct HttpBranch {
    /// From raw frames: a leaky one-frame queue (a frame being encoded
    /// never holds the others back), `videoconvert` to I420 and
    /// `httpserversink name=http` (the viewer page, MJPEG).
    pub mjpeg: String,
    /// `whepsink name=whep` (WebRTC at `/path/whep`, which the page plays
    /// first), to be fed H.264 access units.
    pub whep: String,
    /// For port 0, the server bound here on a free port, which both sinks
    /// join when they start (each binding port 0 itself would give the
    /// page and its WHEP two servers): keep it until the pipeline plays.
    pub server: Option<Arc<HttpServer>>,
}

impl HttpBranch {
    /// The whole output from raw frames: a `tee` into the MJPEG branch and
    /// into a WHEP branch with an H.264 encode of its own (for a sender
    /// that has no H.264 encode to share).
    pub fn from_raw(&self) -> String {
        format!(
            "tee name=webraw ! {mjpeg} webraw. ! queue leaky=downstream max-size-buffers=1 \
             ! videoconvert ! video/x-raw,format=I420 ! h264enc ! {whep}",
            mjpeg = self.mjpeg,
            whep = self.whep
        )
    }
}

/// The [`HttpBranch`] serving `addr` at `/path/`, its `httpserversink`
/// named `name`.
///
/// # Errors
///
/// A bad address, or a path or token with characters a launch line
/// cannot carry.
pub fn branch(addr: &str, path: &str, token: Option<&str>, name: &str) -> Result<HttpBranch> {
    let bad = |what: &str, value: &str, why: &str| Error::InvalidPropertyValue {
        element: "httpserversink".into(),
        property: what.into(),
        value: value.to_string(),
        reason: why.into(),
    };
    let a = framecast_http::parse_addr(addr).map_err(|e| bad("http", addr, &e.to_string()))?;
    let path = path.trim_matches('/');
    let plain =
        |s: &str| !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "\"'?#".contains(c));
    if !plain(path) {
        return Err(bad("path", path, "not a plain URL path"));
    }
    if let Some(t) = token.filter(|t| !plain(t)) {
        return Err(bad("token", t, "no spaces or quotes in a token"));
    }
    let server = match a.port() {
        0 => Some(
            HttpServer::bind(
                a,
                framecast_http::HttpConfig {
                    token: token.map(str::to_string),
                    ..framecast_http::HttpConfig::default()
                },
            )
            .map_err(|e| bad("http", addr, &e.to_string()))?,
        ),
        _ => None,
    };
    let (ip, port) = (
        a.ip(),
        server.as_ref().map_or(a.port(), |s| s.local_addr().port()),
    );
    let token = match token {
        Some(t) => format!(" token={t}"),
        None => String::new(),
    };
    Ok(HttpBranch {
        mjpeg: format!(
            "queue leaky=downstream max-size-buffers=1 ! videoconvert ! video/x-raw,format=I420 \
             ! httpserversink name={name} address={ip} port={port} path={path}{token}"
        ),
        whep: format!("whepsink name=whep address={ip} port={port} path={path}{token}"),
        server,
    })
}
