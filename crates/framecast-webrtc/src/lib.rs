//! WebRTC viewing for framecast: the H.264 access units a pipeline already
//! encodes go to browsers as they are (no second encode), over
//! [str0m](https://docs.rs/str0m), and WHEP (RFC 9725) sessions set them up.
//!
//! str0m is sans-IO: it owns no thread and no socket. A [`WebrtcStream`]
//! binds one UDP socket on the server's address and drives every viewer's
//! `Rtc` from one thread of its own:
//!
//! - ICE-lite with one host candidate, the bound address; the browser's
//!   address is learned from its connectivity checks (headless Chromium
//!   hides its own behind an mDNS name, so the offer's candidates are not
//!   needed); DTLS-SRTP with str0m's pure-Rust crypto, so the Python wheel
//!   links no system library.
//! - H.264 constrained baseline (`profile-level-id=42e01f`,
//!   `packetization-mode=1`): every access unit is written once into an
//!   `Arc<[u8]>` that all viewers share; str0m packetizes per viewer and
//!   keeps a send buffer from which it answers NACKs.
//! - Each viewer has a bounded latest-wins queue ([`queue`]); an RTCP
//!   PLI/FIR or a new viewer asks upstream for a keyframe through
//!   [`StreamHooks::keyframe`], rate-limited.
//! - Per-viewer statistics (RTT, loss, NACKs, PLIs, FIRs) in [`ViewerStats`],
//!   and what the viewer page measures and reports ([`latency_report`]):
//!   arrival to display (the last stage), and capture to display where the
//!   browser knows the capture.
//! - Each frame's capture time goes to the browser: as str0m's wallclock
//!   (so the sender reports map RTP time to the capture) and in the
//!   `abs-capture-time` header extension.
//! - Sessions end on [`WebrtcStream::close`] (WHEP DELETE), ICE timeout, DTLS
//!   close, or when none connects within the connect timeout.
//!
//! [`whep`] maps WHEP's HTTP requests on a stream to responses, independent
//! of the HTTP server that carries them; [`trickle`] parses the
//! `application/trickle-ice-sdpfrag` bodies of its PATCH requests.

mod driver;
mod error;
pub mod latency_report;
pub mod queue;
mod route;
mod session;
mod stream;
pub mod trickle;
pub mod whep;

pub use error::{ErrorKind, WebrtcError};
pub use route::WhepRoute;
pub use stream::{Answer, StreamConfig, StreamCounters, StreamHooks, ViewerStats, WebrtcStream};

/// The H.264 profile offered to browsers: constrained baseline, level 3.1
/// (what openh264 and x264 with framecast's settings emit).
pub const PROFILE_LEVEL_ID: u32 = 0x42e01f;

/// The payload type the answer prefers for H.264 (the browser's own number
/// wins when its offer uses another).
pub const H264_PT: u8 = 102;

/// Fuzzing entry points: what a network peer controls, reachable without a
/// running stream.
pub mod fuzzing {
    /// Parses an SDP offer as a WHEP POST body would be parsed.
    pub fn sdp_offer(text: &str) {
        let _ = crate::stream::parse_offer(text);
    }

    /// Parses a viewer's latency report as its `POST <session>/latency`
    /// body would be parsed.
    pub fn latency_report(body: &[u8]) {
        let _ = crate::latency_report::parse(body);
    }

    /// Parses a trickle-ICE fragment as a WHEP PATCH body would be parsed.
    pub fn trickle_fragment(text: &str) {
        let _ = crate::trickle::Fragment::parse(text);
    }
}
