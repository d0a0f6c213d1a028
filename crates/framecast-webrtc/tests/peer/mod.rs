//! A real WebRTC viewer for the tests: str0m as the browser side (full
//! ICE, DTLS client, H.264 depacketizer), on its own 127.0.0.1 socket and
//! thread.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

/// What the viewer saw.
#[derive(Default)]
pub struct Seen {
    pub connected: AtomicBool,
    pub frames: AtomicU64,
    /// The access units received, in order (capped).
    pub data: Mutex<Vec<Vec<u8>>>,
    /// Each frame's `abs-capture-time` with when it arrived (capped).
    pub captures: Mutex<Vec<(SystemTime, SystemTime)>>,
    pub pli_wanted: AtomicBool,
    pub stop: AtomicBool,
}

pub struct Peer {
    pub offer: String,
    rtc: Option<(Rtc, SdpPendingOffer, UdpSocket, Mid)>,
    pub seen: Arc<Seen>,
    thread: Option<JoinHandle<()>>,
}

impl Peer {
    pub fn new() -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut rtc = RtcConfig::new()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .set_extension(9, str0m::rtp::Extension::AbsoluteCaptureTime)
            .build(Instant::now());
        let host = Candidate::host(socket.local_addr().expect("addr"), "udp").expect("candidate");
        rtc.add_local_candidate(host);
        let mut api = rtc.sdp_api();
        let mid = api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        let (offer, pending) = api.apply().expect("an offer");
        Peer {
            offer: offer.to_sdp_string(),
            rtc: Some((rtc, pending, socket, mid)),
            seen: Arc::default(),
            thread: None,
        }
    }

    /// Takes the answer and starts the viewer's thread.
    pub fn start(&mut self, answer: &str) {
        let (mut rtc, pending, socket, mid) = self.rtc.take().expect("not started");
        let answer = SdpAnswer::from_sdp_string(answer).expect("the answer parses");
        rtc.sdp_api()
            .accept_answer(pending, answer)
            .expect("the answer is accepted");
        let seen = Arc::clone(&self.seen);
        self.thread = Some(std::thread::spawn(move || run(rtc, socket, mid, &seen)));
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.seen.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(mut rtc: Rtc, socket: UdpSocket, mid: Mid, seen: &Seen) {
    let mut buf = vec![0u8; 2048];
    let local = socket.local_addr().expect("addr");
    let until = Instant::now() + Duration::from_secs(60);
    while !seen.stop.load(Ordering::Relaxed) && Instant::now() < until {
        if seen.pli_wanted.swap(false, Ordering::Relaxed) {
            if let Some(rx) = rtc.direct_api().stream_rx_by_mid(mid, None) {
                rx.request_keyframe(KeyframeRequestKind::Pli);
            }
        }
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::Connected)) => {
                    seen.connected.store(true, Ordering::Relaxed)
                }
                Ok(Output::Event(Event::MediaData(d))) => {
                    seen.frames.fetch_add(1, Ordering::Relaxed);
                    if let Some(c) = d.ext_vals.abs_capture_time {
                        let mut captures = seen.captures.lock().expect("lock");
                        if captures.len() < 64 {
                            captures.push((c.capture_time, SystemTime::now()));
                        }
                    }
                    let mut data = seen.data.lock().expect("lock");
                    if data.len() < 64 {
                        data.push(d.data.to_vec());
                    }
                }
                Ok(Output::Event(_)) => {}
                Err(_) => return,
            }
        };
        let wait = timeout
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        let _ = socket.set_read_timeout(Some(wait));
        let input = match socket.recv_from(&mut buf) {
            Ok((n, source)) => match buf[..n].try_into() {
                Ok(contents) => Input::Receive(
                    Instant::now(),
                    Receive {
                        proto: Protocol::Udp,
                        source,
                        destination: local,
                        contents,
                    },
                ),
                Err(_) => continue,
            },
            Err(_) => Input::Timeout(Instant::now()),
        };
        if rtc.handle_input(input).is_err() {
            return;
        }
    }
}
