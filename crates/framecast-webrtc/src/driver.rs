//! The stream's thread: one UDP socket, every viewer's `Rtc`.
//!
//! It sleeps in `recv_from` until a datagram comes or the earliest `Rtc`
//! timeout. Datagrams from the stream's waker socket (a new frame, a new
//! session, a stop) only wake it; every other one goes to the session whose
//! `Rtc` accepts it (STUN by its ufrag, the rest by the address ICE chose).

use std::io::ErrorKind as IoKind;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use framecast_core::sync::MutexExt;
use str0m::net::{Protocol, Receive};
use str0m::Input;

use crate::stream::Shared;

/// Longest datagram read (str0m's MTU target is well under it).
const DATAGRAM: usize = 2048;

/// Longest sleep without a timeout due (so a stop is seen soon).
const IDLE: Duration = Duration::from_millis(500);

pub(crate) fn run(sh: &Shared) {
    let mut buf = vec![0u8; DATAGRAM];
    let mut next = Instant::now();
    while !sh.stop.load(Ordering::Relaxed) {
        next = service(sh, next);
        let wait = next
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), IDLE);
        let _ = sh.socket.set_read_timeout(Some(wait));
        match sh.socket.recv_from(&mut buf) {
            Ok((n, from)) if from != sh.waker_addr => receive(sh, &buf[..n], from),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {}
            // An ICMP port unreachable from a closed tab shows here on Linux.
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// Writes queued frames, runs due timeouts, sends what the `Rtc`s want to
/// send, drops ended sessions; returns the next wake-up.
fn service(sh: &Shared, due: Instant) -> Instant {
    let now = Instant::now();
    let mut next = now + IDLE;
    if let Some(t) = sh.keyframe_due(now) {
        next = next.min(t);
    }
    let mut sessions = sh.sessions.locked();
    for s in sessions.iter_mut() {
        if now >= due {
            if let Err(e) = s.rtc.handle_input(Input::Timeout(now)) {
                s.end(format!("str0m: {e}"));
            }
        }
        s.write_frames(sh);
        if let Some(t) = s.drive(sh) {
            next = next.min(t);
        }
        if s.connect_timed_out(now, sh.config.connect_timeout) {
            s.end("not connected within the connect timeout".into());
        }
    }
    let mut i = 0;
    while i < sessions.len() {
        if let Some(why) = sessions[i].ended.clone() {
            let s = sessions.swap_remove(i);
            sh.forget_queue(&s.queue);
            (sh.hooks.log)(&format!("webrtc session {} ended: {why}", s.id));
        } else {
            i += 1;
        }
    }
    next
}

/// Hands a datagram to the session it belongs to.
fn receive(sh: &Shared, data: &[u8], from: std::net::SocketAddr) {
    let Ok(contents) = data.try_into() else {
        return; // not STUN, DTLS, RTP or RTCP
    };
    let input = Input::Receive(
        Instant::now(),
        Receive {
            proto: Protocol::Udp,
            source: from,
            destination: sh.local,
            contents,
        },
    );
    let mut sessions = sh.sessions.locked();
    if let Some(s) = sessions.iter_mut().find(|s| s.rtc.accepts(&input)) {
        if let Err(e) = s.rtc.handle_input(input) {
            s.end(format!("str0m: {e}"));
        }
    }
}
