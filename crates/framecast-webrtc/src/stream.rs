//! [`WebrtcStream`]: one H.264 stream served to WebRTC viewers.

use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use framecast_core::sync::MutexExt;
use framecast_core::trace::Summary;
use framecast_rtp::h264::{nal_type, nal_unit_type};
use framecast_rtp::NalUnits;
use str0m::change::SdpOffer;
use str0m::config::CryptoProvider;
use str0m::rtp::Extension;
use str0m::{Candidate, RtcConfig};

use crate::latency_report::{Measured, Report, Reported};
use crate::queue::{Frame, ViewerQueue};
use crate::session::Session;
use crate::{ErrorKind, WebrtcError, H264_PT, PROFILE_LEVEL_ID};

/// The id offered for `abs-capture-time` (one free in str0m's standard
/// map; a browser's offer that numbers it otherwise wins).
const ABS_CAPTURE_TIME_ID: u8 = 7;

/// The payload type of retransmissions (RFC 4588), paired with [`H264_PT`].
const RTX_PT: u8 = 103;

/// How a [`WebrtcStream`] listens and bounds its viewers.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The address the UDP socket binds, and the host candidate's. An
    /// unspecified one (`0.0.0.0`, `::`) stands for the address of the
    /// interface the default route leaves by (loopback when there is none):
    /// a candidate must be an address a browser can reach.
    pub address: IpAddr,
    /// The UDP port (0: any free one).
    pub udp_port: u16,
    /// Most sessions at once; more are refused ([`ErrorKind::TooManySessions`]).
    pub max_sessions: usize,
    /// Frames a viewer's queue holds before the oldest goes.
    pub queue_frames: usize,
    /// How long a session may take to connect (ICE and DTLS) before it is
    /// removed.
    pub connect_timeout: Duration,
    /// Least time between two keyframe requests upstream.
    pub keyframe_interval: Duration,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            address: IpAddr::from([127, 0, 0, 1]),
            udp_port: 0,
            max_sessions: 16,
            queue_frames: 8,
            connect_timeout: Duration::from_secs(10),
            keyframe_interval: Duration::from_millis(250),
        }
    }
}

/// What the stream asks of its owner.
pub struct StreamHooks {
    /// Ask the encoder for a keyframe (a new viewer, an RTCP PLI/FIR, a
    /// viewer that dropped frames); already rate-limited.
    pub keyframe: Box<dyn Fn() + Send + Sync>,
    /// Report something worth a warning (a viewer gone for an error).
    pub log: Box<dyn Fn(&str) + Send + Sync>,
}

impl StreamHooks {
    /// Hooks that do nothing.
    pub fn none() -> Self {
        StreamHooks {
            keyframe: Box::new(|| {}),
            log: Box::new(|_| {}),
        }
    }
}

/// The answer to a viewer's offer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The session's id (the last segment of its WHEP resource URL).
    pub id: String,
    /// The SDP answer.
    pub sdp: String,
}

/// The stream's own counters.
#[derive(Debug, Default)]
pub struct StreamCounters {
    /// Access units handed to [`WebrtcStream::send`] while a viewer was there.
    pub frames: AtomicU64,
    /// Keyframe requests sent upstream.
    pub keyframe_requests: AtomicU64,
    /// Sessions set up since the start.
    pub sessions_created: AtomicU64,
    /// Offers refused (malformed, no H.264, too many sessions).
    pub offers_refused: AtomicU64,
}

/// One viewer's figures, for `/api/stats` and `/metrics`.
#[derive(Debug, Clone)]
pub struct ViewerStats {
    /// The session's id.
    pub id: String,
    /// The browser's address, once its connectivity checks came.
    pub remote: Option<SocketAddr>,
    /// Whether ICE and DTLS are up.
    pub connected: bool,
    /// Time since the offer.
    pub age: Duration,
    /// Round-trip time from RTCP.
    pub rtt: Option<Duration>,
    /// Fraction lost, from the browser's receiver reports.
    pub loss: Option<f32>,
    /// NACKs received.
    pub nacks: u64,
    /// PLIs received.
    pub plis: u64,
    /// FIRs received.
    pub firs: u64,
    /// RTP packets sent.
    pub packets: u64,
    /// RTP bytes sent.
    pub bytes: u64,
    /// Access units written to the viewer.
    pub frames_sent: u64,
    /// Access units its queue dropped for being late.
    pub frames_dropped: u64,
    /// From a frame's arrival to its display, as the viewer's page
    /// reported it (see [`latency_report`](crate::latency_report)): the
    /// viewer's own stage. `None` before its first report.
    pub display: Option<Summary>,
    /// From a frame's capture to its display (glass to glass), where the
    /// viewer's browser knows the capture time.
    pub glass: Option<Summary>,
}

/// What the stream's thread and its handle share.
pub(crate) struct Shared {
    pub(crate) socket: UdpSocket,
    pub(crate) local: SocketAddr,
    waker: UdpSocket,
    pub(crate) waker_addr: SocketAddr,
    pub(crate) sessions: Mutex<Vec<Session>>,
    /// The viewers' queues, apart from the sessions so that `send` never
    /// waits for the thread driving them.
    fanout: Mutex<Vec<Arc<ViewerQueue>>>,
    pub(crate) stop: AtomicBool,
    pub(crate) hooks: StreamHooks,
    last_keyframe_request: Mutex<Option<Instant>>,
    keyframe_pending: AtomicBool,
    pub(crate) counters: StreamCounters,
    pub(crate) config: StreamConfig,
    crypto: Arc<CryptoProvider>,
    ids: RandomState,
    /// Every report of every viewer, ended sessions' included: arrival to
    /// display, and capture to display.
    reported: Mutex<Reported>,
}

impl Shared {
    /// Wakes the thread (a datagram from the waker socket).
    pub(crate) fn wake(&self) {
        let _ = self.waker.send_to(&[0], self.local);
    }

    /// Asks upstream for a keyframe, at most once per `keyframe_interval`:
    /// a request inside the interval is kept and sent when it ends (see
    /// [`Shared::keyframe_due`]), so a second viewer joining right after a
    /// first still gets its IDR.
    pub(crate) fn request_keyframe(&self) {
        let now = Instant::now();
        let mut last = self.last_keyframe_request.locked();
        if last.is_some_and(|t| now.duration_since(t) < self.config.keyframe_interval) {
            self.keyframe_pending.store(true, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        drop(last);
        self.keyframe_pending.store(false, Ordering::Relaxed);
        self.counters
            .keyframe_requests
            .fetch_add(1, Ordering::Relaxed);
        (self.hooks.keyframe)();
    }

    /// Sends a kept keyframe request once its interval is over; returns
    /// when to look again while one is kept.
    pub(crate) fn keyframe_due(&self, now: Instant) -> Option<Instant> {
        if !self.keyframe_pending.load(Ordering::Relaxed) {
            return None;
        }
        let at = self
            .last_keyframe_request
            .locked()
            .map(|t| t + self.config.keyframe_interval)?;
        if now >= at {
            self.request_keyframe();
            return None;
        }
        Some(at)
    }

    /// Takes a removed session's queue out of the fan-out.
    pub(crate) fn forget_queue(&self, queue: &Arc<ViewerQueue>) {
        self.fanout.locked().retain(|q| !Arc::ptr_eq(q, queue));
    }
}

/// One H.264 stream served to WebRTC viewers; its thread runs until it
/// drops.
pub struct WebrtcStream {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WebrtcStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebrtcStream")
            .field("local", &self.shared.local)
            .finish_non_exhaustive()
    }
}

/// Parses a WHEP offer with str0m's SDP parser, refusing what would not
/// give a video session.
pub(crate) fn parse_offer(text: &str) -> Result<SdpOffer, WebrtcError> {
    let bad = |why: String| WebrtcError::new(ErrorKind::BadRequest, why);
    if !text.trim_start().starts_with("v=0") {
        return Err(bad("the SDP offer does not start with v=0".into()));
    }
    let offer = SdpOffer::from_sdp_string(text)
        .map_err(|e| bad(format!("the SDP offer does not parse: {e}")))?;
    if !text.lines().any(|l| l.starts_with("m=video")) {
        return Err(bad("the SDP offer has no m=video section".into()));
    }
    Ok(offer)
}

/// The `a=ice-ufrag` of an SDP text (the first: bundled sections share it).
fn ice_ufrag(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=ice-ufrag:"))
        .map(str::to_string)
}

impl WebrtcStream {
    /// Binds the UDP socket and starts the stream's thread.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`]: the socket or the thread cannot be made.
    pub fn start(config: StreamConfig, hooks: StreamHooks) -> Result<WebrtcStream, WebrtcError> {
        let io = |what: &str, e: std::io::Error| {
            WebrtcError::new(ErrorKind::Io, format!("webrtc: {what}: {e}"))
        };
        let mut config = config;
        if config.address.is_unspecified() {
            config.address = route_address(config.address);
        }
        let socket = UdpSocket::bind(SocketAddr::new(config.address, config.udp_port))
            .map_err(|e| io("binding the UDP socket", e))?;
        let local = socket.local_addr().map_err(|e| io("local address", e))?;
        let waker = UdpSocket::bind(SocketAddr::new(config.address, 0))
            .map_err(|e| io("binding the waker socket", e))?;
        let waker_addr = waker.local_addr().map_err(|e| io("local address", e))?;
        let shared = Arc::new(Shared {
            socket,
            local,
            waker,
            waker_addr,
            sessions: Mutex::new(Vec::new()),
            fanout: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            hooks,
            last_keyframe_request: Mutex::new(None),
            keyframe_pending: AtomicBool::new(false),
            counters: StreamCounters::default(),
            config,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            ids: RandomState::new(),
            reported: Mutex::new(Reported::default()),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("webrtc".into())
            .spawn(move || crate::driver::run(&s))
            .map_err(|e| io("starting the thread", e))?;
        Ok(WebrtcStream {
            shared,
            thread: Some(thread),
        })
    }

    /// The UDP address viewers send to (the host candidate).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The stream's counters.
    pub fn counters(&self) -> &StreamCounters {
        &self.shared.counters
    }

    /// Answers a viewer's SDP offer and adds its session.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadRequest`]: the offer does not parse, or shares no
    /// H.264 with us; [`ErrorKind::TooManySessions`]: the limit is reached.
    pub fn offer(&self, sdp: &str) -> Result<Answer, WebrtcError> {
        let answer = self.answer(sdp);
        if answer.is_err() {
            self.shared
                .counters
                .offers_refused
                .fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    fn answer(&self, sdp: &str) -> Result<Answer, WebrtcError> {
        let sh = &self.shared;
        let offer = parse_offer(sdp)?;
        let busy = sh.sessions.locked().len() >= sh.config.max_sessions;
        if busy {
            return Err(WebrtcError::new(
                ErrorKind::TooManySessions,
                format!(
                    "webrtc: {} sessions already (the limit)",
                    sh.config.max_sessions
                ),
            ));
        }
        let now = Instant::now();
        let mut config = RtcConfig::new()
            .set_ice_lite(true)
            .set_crypto_provider(Arc::clone(&sh.crypto))
            .set_stats_interval(Some(Duration::from_secs(1)))
            // Offered to the browser beside str0m's standard extensions;
            // the answer keeps it where the offer has it (Chromium's does).
            .set_extension(ABS_CAPTURE_TIME_ID, Extension::AbsoluteCaptureTime)
            .clear_codecs();
        config
            .codec_config()
            .add_h264(H264_PT.into(), Some(RTX_PT.into()), true, PROFILE_LEVEL_ID);
        let mut rtc = config.build(now);
        let host = Candidate::host(sh.local, "udp")
            .map_err(|e| WebrtcError::new(ErrorKind::Io, format!("webrtc: host candidate: {e}")))?;
        rtc.add_local_candidate(host);
        let answer = rtc.sdp_api().accept_offer(offer).map_err(|e| {
            WebrtcError::new(
                ErrorKind::BadRequest,
                format!("webrtc: the offer cannot be answered: {e}"),
            )
        })?;
        let answer = answer.to_sdp_string();
        if !answer.contains("H264/90000") {
            return Err(WebrtcError::new(
                ErrorKind::BadRequest,
                "webrtc: the offer has no H.264 we can send (profile-level-id=42e01f, packetization-mode=1, recvonly video)",
            ));
        }
        let n = sh.counters.sessions_created.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:016x}", sh.ids.hash_one((n, now)));
        let queue = Arc::new(ViewerQueue::new(sh.config.queue_frames));
        let session = Session::new(id.clone(), rtc, Arc::clone(&queue), ice_ufrag(sdp), now);
        sh.sessions.locked().push(session);
        sh.fanout.locked().push(queue);
        sh.wake();
        Ok(Answer { id, sdp: answer })
    }

    /// Adds a trickled fragment's candidates to a session (WHEP PATCH).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSession`]; [`ErrorKind::Unsupported`] for another
    /// ufrag than the offer's (an ICE restart).
    pub fn trickle(&self, id: &str, frag: &crate::trickle::Fragment) -> Result<(), WebrtcError> {
        let mut sessions = self.shared.sessions.locked();
        let s = sessions
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| no_session(id))?;
        if let (Some(theirs), Some(ours)) = (&frag.ufrag, &s.remote_ufrag) {
            if theirs != ours {
                return Err(WebrtcError::new(
                    ErrorKind::Unsupported,
                    format!("webrtc: session {id}: ICE restart (ufrag {theirs}) is not supported"),
                ));
            }
        }
        for c in &frag.candidates {
            s.rtc.add_remote_candidate(c.clone());
        }
        drop(sessions);
        self.shared.wake();
        Ok(())
    }

    /// Ends a session (WHEP DELETE).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSession`].
    pub fn close(&self, id: &str) -> Result<(), WebrtcError> {
        let mut sessions = self.shared.sessions.locked();
        let at = sessions
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| no_session(id))?;
        let mut s = sessions.swap_remove(at);
        drop(sessions);
        s.rtc.disconnect();
        self.shared.forget_queue(&s.queue);
        Ok(())
    }

    /// Whether a session with that id is there.
    pub fn has_session(&self, id: &str) -> bool {
        self.shared.sessions.locked().iter().any(|s| s.id == id)
    }

    /// Sends one H.264 access unit (Annex B, SPS/PPS before each IDR) to
    /// every viewer: one shared copy of it, put in each viewer's queue.
    /// `captured` gives its capture time on the wall clock, when known
    /// (asked only when a viewer is there): the sender reports map its RTP
    /// time to it, and it goes to browsers in the `abs-capture-time`
    /// extension.
    pub fn send(
        &self,
        access_unit: &[u8],
        pts: Duration,
        captured: impl FnOnce() -> Option<SystemTime>,
    ) {
        let fanout = self.shared.fanout.locked();
        if fanout.is_empty() {
            return;
        }
        let captured = captured();
        let now = Instant::now();
        // The capture on this clock: now less its age on the wall clock
        // (a capture in the future, or older than a minute, is not one).
        let age = captured
            .and_then(|c| SystemTime::now().duration_since(c).ok())
            .filter(|age| *age < Duration::from_secs(60));
        let frame = Frame {
            data: Arc::from(access_unit),
            pts,
            wallclock: age.and_then(|a| now.checked_sub(a)).unwrap_or(now),
            captured: captured.filter(|_| age.is_some()),
            keyframe: NalUnits::AnnexB(access_unit)
                .iter()
                .any(|n| !n.is_empty() && nal_unit_type(n[0]) == nal_type::IDR),
        };
        let mut dropped = false;
        for q in fanout.iter() {
            dropped |= q.push(frame.clone());
        }
        drop(fanout);
        self.shared.counters.frames.fetch_add(1, Ordering::Relaxed);
        if dropped {
            // A viewer lost a frame its decoder needed: restart it on an IDR.
            self.shared.request_keyframe();
        }
        self.shared.wake();
    }

    /// Records what a viewer's page measured, as its
    /// `POST <session>/latency` body carried it
    /// ([`latency_report::parse`](crate::latency_report::parse)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSession`] when no session has that id.
    pub fn report_latency(&self, id: &str, report: &Report) -> Result<(), WebrtcError> {
        let mut sessions = self.shared.sessions.locked();
        let session = sessions
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| no_session(id))?;
        session.record(report);
        drop(sessions);
        self.shared.reported.locked().record(report);
        Ok(())
    }

    /// What every viewer reported so far (ended sessions' included) of
    /// `measured`: arrival to display is the stream's last stage, capture
    /// to display its whole way.
    pub fn viewer_latency(&self, measured: Measured) -> Summary {
        self.shared.reported.locked().summary(measured)
    }

    /// Every session's figures.
    pub fn viewers(&self) -> Vec<ViewerStats> {
        let now = Instant::now();
        self.shared
            .sessions
            .locked()
            .iter()
            .map(|s| s.stats(now))
            .collect()
    }
}

/// The local address of the default route's interface (a connected UDP
/// socket sends nothing; the kernel only picks the source address), or
/// loopback.
fn route_address(unspecified: IpAddr) -> IpAddr {
    let (any, probe): (IpAddr, IpAddr) = if unspecified.is_ipv4() {
        ([0, 0, 0, 0].into(), [192, 0, 2, 1].into()) // TEST-NET-1
    } else {
        (
            std::net::Ipv6Addr::UNSPECIFIED.into(),
            "2001:db8::1".parse().unwrap_or(unspecified),
        )
    };
    UdpSocket::bind(SocketAddr::new(any, 0))
        .and_then(|s| s.connect(SocketAddr::new(probe, 9)).map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .unwrap_or(if unspecified.is_ipv4() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        })
}

fn no_session(id: &str) -> WebrtcError {
    WebrtcError::new(ErrorKind::NoSession, format!("webrtc: no session {id:?}"))
}

impl Drop for WebrtcStream {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
