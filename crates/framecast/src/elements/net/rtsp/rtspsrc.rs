//! `rtspsrc`: plays a stream from an RTSP server (DESCRIBE → SETUP → PLAY,
//! keepalives, TEARDOWN at the end) and pushes its RTP packets, with caps
//! from the server's SDP, into the receive path (`rtpjitterbuffer !
//! <depayloader> ! <decoder>`), as GStreamer's element of that name.
//!
//! ```text
//! rtspsrc location=rtsp://127.0.0.1:8554/test protocols=tcp ! rtpjitterbuffer ! rtph264depay ! openh264dec ! ...
//! ```
//!
//! The session is opened when the element starts (so a wrong URL or a
//! refused stream is an error of the state change, with the server's
//! words); `protocols=tcp` (default) reads RTP interleaved on the RTSP
//! connection, `udp` from a port pair.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use framecast_core::{Buffer, BufferPool, PoolConfig};
use framecast_rtsp::client::{LowerTransport, PlayOptions, Player, RtspUrl};

use crate::elements::net::caps_for_sdp;
use crate::pipeline::base::counters;
use crate::pipeline::base::{
    settings, source_properties, CreateContext, Settings, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Caps, Element, ElementFactory, FlowError, PadDirection, PadTemplate, PropertySpec,
    PropertyValue,
};
use crate::{Error, Result};

/// Room for the largest RTP packet a server can send: an interleaved
/// frame's length is 16 bits, and a UDP datagram is no longer, so nothing
/// is ever cut short (servers send MTU-sized packets; the pool of 16
/// costs 1 MiB).
const MAX_PACKET: usize = u16::MAX as usize;

const PROTOCOLS: &[(&str, &str)] = &[
    ("tcp", "RTP interleaved in the RTSP TCP connection"),
    ("udp", "RTP as UDP datagrams"),
];

/// The factory.
pub fn factory() -> ElementFactory {
    let mut properties = source_properties();
    properties.extend(RtspSrcSettings::properties());
    properties.extend(counters! {
        "packets-received" => "RTP packets received",
    });
    ElementFactory::new(
        "rtspsrc",
        "RTSP packet receiver",
        "Source/Network",
        "Plays a stream from an RTSP server (DESCRIBE/SETUP/PLAY) and pushes its RTP packets",
        vec![PadTemplate::always(
            "src",
            PadDirection::Src,
            Caps::new_any(),
        )],
        properties,
        || Box::new(Source::new(RtspSrc::default())),
    )
}

settings! {
    /// `rtspsrc`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct RtspSrcSettings {
        /// `location`: the `rtsp://` URL (unset by default).
        location: Option<String> => PropertySpec::string("location", "rtsp://[user:pass@]host:port/path of the stream", None),
        /// `protocols`: a nick of [`PROTOCOLS`].
        protocols: &'static str => PropertySpec::enumeration("protocols", "How RTP travels from the server", PROTOCOLS, "tcp"),
        /// `timeout`: for the connection and each answer.
        timeout: Duration as Duration::from_millis => PropertySpec::uint("timeout", "Longest wait in ms for the connection and each answer", 100..=60_000, 5000),
    }
}

/// The element's implementation (wrapped in [`Source`]).
#[derive(Debug, Default)]
pub struct RtspSrc {
    settings: SettingsLock<RtspSrcSettings>,
    player: Mutex<Option<Player>>,
    caps: Mutex<Option<Caps>>,
    pool: Mutex<Option<BufferPool>>,
    unlocked: AtomicBool,
    received: AtomicU64,
}

impl SourceImpl for RtspSrc {
    fn caps(&self, _element: &Element) -> Caps {
        self.caps.locked().clone().unwrap_or_else(Caps::new_any)
    }

    fn set_caps(&self, _element: &Element, _caps: &Caps) -> Result<usize> {
        // Buffers come from the element's own pool.
        Ok(0)
    }

    fn is_live(&self, _element: &Element) -> bool {
        true
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn start(&self, element: &Element) -> Result<()> {
        let settings = self.settings.get();
        let location = settings.location.as_deref().unwrap_or("");
        let bad = |why: String| Error::InvalidPropertyValue {
            element: element.name().to_string(),
            property: "location".into(),
            value: location.to_string(),
            reason: why,
        };
        let url = RtspUrl::parse(location).map_err(|e| bad(e.to_string()))?;
        let transport = match settings.protocols {
            "udp" => LowerTransport::Udp,
            _ => LowerTransport::Tcp,
        };
        let timeout = settings.timeout.max(Duration::from_millis(100));
        let player =
            Player::open(&url, PlayOptions { transport, timeout }).map_err(|e| Error::Element {
                element: element.name().to_string(),
                message: format!("cannot play {url}: {e}"),
            })?;
        let (caps, _, _) = caps_for_sdp(player.sdp())?;
        let pool = BufferPool::new();
        pool.set_config(PoolConfig::new(MAX_PACKET, 16, 0))?;
        pool.set_active(true)?;
        *self.caps.locked() = Some(caps);
        *self.pool.locked() = Some(pool);
        *self.player.locked() = Some(player);
        self.received.store(0, Ordering::Relaxed);
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        if let Some(player) = self.player.locked().take() {
            player.teardown();
        }
        if let Some(pool) = self.pool.locked().take() {
            let _ = pool.set_active(false);
        }
    }

    fn unlock(&self, _element: &Element) {
        self.unlocked.store(true, Ordering::Release);
    }

    fn unlock_stop(&self, _element: &Element) {
        self.unlocked.store(false, Ordering::Release);
    }

    fn create(
        &self,
        element: &Element,
        _ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        let Some(pool) = self.pool.locked().clone() else {
            return Err(FlowError::Flushing);
        };
        let mut guard = self.player.locked();
        let Some(player) = guard.as_mut() else {
            return Err(FlowError::Flushing);
        };
        let mut buffer = pool.acquire().map_err(|e| match e {
            framecast_core::Error::Flushing => FlowError::Flushing,
            _ => FlowError::Error,
        })?;
        let Some(b) = buffer.get_mut() else {
            return Err(FlowError::Error);
        };
        loop {
            if self.unlocked.load(Ordering::Acquire) {
                return Err(FlowError::Flushing);
            }
            let got = {
                let mut map = b.map_writable().map_err(|_| FlowError::Error)?;
                player.recv(map.as_mut_slice())
            };
            match got {
                Ok(Some(n)) if n > 0 => {
                    b.set_size(n).map_err(|_| FlowError::Error)?;
                    self.received.fetch_add(1, Ordering::Relaxed);
                    return Ok(buffer);
                }
                Ok(_) => {}
                Err(e) => {
                    element.post_error("the RTSP session ended", Some(e.to_string()));
                    return Err(FlowError::Error);
                }
            }
        }
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        (name == "packets-received")
            .then(|| PropertyValue::UInt(self.received.load(Ordering::Relaxed)))
    }
}
