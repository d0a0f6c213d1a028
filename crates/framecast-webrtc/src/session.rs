//! One viewer: its `Rtc`, its queue, its figures, and what its events do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::format::Codec;
use str0m::media::{Frequency, KeyframeRequestKind, MediaKind, MediaTime, Mid, Pt};
use str0m::{Event, IceConnectionState, Output, Rtc};

use str0m::rtp::AbsCaptureTime;

use crate::latency_report::{Measured, Report, Reported};
use crate::queue::ViewerQueue;
use crate::stream::{Shared, ViewerStats};

/// A viewer's session.
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) rtc: Rtc,
    pub(crate) queue: Arc<ViewerQueue>,
    /// The offer's `a=ice-ufrag` (a trickled fragment with another asks
    /// for an ICE restart).
    pub(crate) remote_ufrag: Option<String>,
    created: Instant,
    connected: bool,
    /// The video section and its H.264 payload type, once str0m added it.
    mid: Option<Mid>,
    pt: Option<Pt>,
    /// Whether the viewer got its first keyframe (frames before it are
    /// useless to a decoder).
    started: bool,
    /// Why the session is over, once it is.
    pub(crate) ended: Option<String>,
    remote: Option<SocketAddr>,
    rtt: Option<Duration>,
    loss: Option<f32>,
    nacks: u64,
    plis: u64,
    firs: u64,
    packets: u64,
    bytes: u64,
    frames_sent: u64,
    /// What the viewer's page reported: arrival to display, and capture
    /// to display where the browser knows the capture.
    reported: Reported,
}

impl Session {
    pub(crate) fn new(
        id: String,
        rtc: Rtc,
        queue: Arc<ViewerQueue>,
        remote_ufrag: Option<String>,
        now: Instant,
    ) -> Self {
        Session {
            id,
            rtc,
            queue,
            remote_ufrag,
            created: now,
            connected: false,
            mid: None,
            pt: None,
            started: false,
            ended: None,
            remote: None,
            rtt: None,
            loss: None,
            nacks: 0,
            plis: 0,
            firs: 0,
            packets: 0,
            bytes: 0,
            frames_sent: 0,
            reported: Reported::default(),
        }
    }

    /// Writes the queued access units into the `Rtc` (str0m packetizes them
    /// and keeps the packets for NACKs).
    pub(crate) fn write_frames(&mut self, sh: &Shared) {
        while let Some(f) = self.queue.pop() {
            let (Some(mid), true) = (self.mid, self.connected) else {
                continue; // not connected yet: the frame would be late anyway
            };
            if !self.started {
                if !f.keyframe {
                    continue;
                }
                self.started = true;
            }
            let Some(pt) = self.pt.or_else(|| self.h264_pt(mid)) else {
                self.end("the answer holds no H.264 payload type".into());
                return;
            };
            self.pt = Some(pt);
            let Some(mut writer) = self.rtc.writer(mid) else {
                return;
            };
            if let Some(capture_time) = f.captured {
                // Sent only where the answer kept the extension.
                writer = writer.abs_capture_time(AbsCaptureTime {
                    capture_time,
                    clock_offset: None,
                });
            }
            let ticks = (f.pts.as_nanos() * 90_000 / 1_000_000_000) as u64;
            let at = MediaTime::new(ticks, Frequency::NINETY_KHZ);
            match writer.write(pt, f.wallclock, at, Arc::clone(&f.data)) {
                Ok(()) => self.frames_sent += 1,
                Err(e) => {
                    (sh.hooks.log)(&format!("webrtc session {}: write: {e}", self.id));
                    self.started = false;
                    sh.request_keyframe();
                }
            }
        }
    }

    fn h264_pt(&mut self, mid: Mid) -> Option<Pt> {
        let writer = self.rtc.writer(mid)?;
        let pt = writer
            .payload_params()
            .find(|p| p.spec().codec == Codec::H264)
            .map(|p| p.pt());
        pt
    }

    /// Polls the `Rtc` until it only waits: sends what it transmits, handles
    /// its events. Returns when it wants to be woken.
    pub(crate) fn drive(&mut self, sh: &Shared) -> Option<Instant> {
        // Bounded: str0m returns a timeout once its queues are empty.
        for _ in 0..100_000 {
            if self.ended.is_some() || !self.rtc.is_alive() {
                self.end("DTLS closed".into());
                return None;
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return Some(t),
                Ok(Output::Transmit(t)) => {
                    self.remote = Some(t.destination);
                    let _ = sh.socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(e)) => self.on_event(e, sh),
                Err(e) => {
                    self.end(format!("str0m: {e}"));
                    return None;
                }
            }
        }
        Some(Instant::now())
    }

    fn on_event(&mut self, event: Event, sh: &Shared) {
        match event {
            Event::Connected => {
                self.connected = true;
                sh.request_keyframe();
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.end("ICE disconnected (no connectivity checks)".into());
            }
            Event::MediaAdded(m) if m.kind == MediaKind::Video => self.mid = Some(m.mid),
            Event::KeyframeRequest(r) => {
                match r.kind {
                    KeyframeRequestKind::Pli => self.plis += 1,
                    KeyframeRequestKind::Fir => self.firs += 1,
                }
                self.started = self.started && r.kind == KeyframeRequestKind::Pli;
                sh.request_keyframe();
            }
            Event::MediaEgressStats(s) => {
                self.rtt = s.rtt.or(self.rtt);
                self.loss = s.loss.or(self.loss);
                self.nacks = s.nacks;
                self.plis = self.plis.max(s.plis);
                self.firs = self.firs.max(s.firs);
                self.packets = s.packets;
                self.bytes = s.bytes;
            }
            Event::PeerStats(s) => self.rtt = s.rtt.or(self.rtt),
            _ => {}
        }
    }

    /// Records latencies the viewer's page measured (see
    /// [`latency_report`](crate::latency_report)).
    pub(crate) fn record(&mut self, report: &Report) {
        self.reported.record(report);
    }

    /// Marks the session over (the first reason stays).
    pub(crate) fn end(&mut self, why: String) {
        if self.ended.is_none() {
            self.ended = Some(why);
        }
    }

    /// Whether it never connected within `timeout`.
    pub(crate) fn connect_timed_out(&self, now: Instant, timeout: Duration) -> bool {
        !self.connected && now.duration_since(self.created) > timeout
    }

    pub(crate) fn stats(&self, now: Instant) -> ViewerStats {
        ViewerStats {
            id: self.id.clone(),
            remote: self.remote,
            connected: self.connected,
            age: now.duration_since(self.created),
            rtt: self.rtt,
            loss: self.loss,
            nacks: self.nacks,
            plis: self.plis,
            firs: self.firs,
            packets: self.packets,
            bytes: self.bytes,
            frames_sent: self.frames_sent,
            frames_dropped: self.queue.dropped(),
            display: self.reported.reported(Measured::ArrivalToDisplay),
            glass: self.reported.reported(Measured::CaptureToDisplay),
        }
    }
}
