//! The sender's side of RTCP feedback (RFC 4585): a thread that reads what
//! receivers send back to the socket the stream leaves from, as it
//! arrives, and answers it. A keyframe request (PLI, FIR) goes to a
//! callback (the sink turns it into an upstream force-key-unit event); a
//! Generic NACK is answered at once from a history of the packets sent,
//! each resent as RTX (RFC 4588) on its own SSRC and payload type, to the
//! receiver that asked. Answering from a thread, not once per frame, keeps
//! a resent packet inside the receiver's jitter-buffer latency even at low
//! frame rates.

use framecast_core::sync::MutexExt;
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use framecast_rtp::nack::GenericNack;
use framecast_rtp::rtcp::parse_compound;
use framecast_rtp::rtx::{self, RetransmissionHistory};
use rustix::event::{poll, PollFd, PollFlags, Timespec};

use super::sys;

/// How often the thread looks at its stop flag while nothing arrives.
const POLL_MS: i64 = 50;

/// Datagrams read between two looks at the stop flag.
const DATAGRAMS_PER_ROUND: usize = 64;

/// Packets one NACK may have resent: a receiver's NACK covers what one
/// loss burst took; a larger one is cut (an amplification bound).
const MAX_RESENT_PER_NACK: usize = 64;

/// Retransmissions per second at most, across all clients (a token
/// bucket): 1000 packets of 1200 bytes, 10 Mbit/s.
const MAX_RESENT_PER_SECOND: u32 = 1000;

/// What the feedback thread counted.
#[derive(Debug, Default)]
pub(crate) struct FeedbackCounters {
    pub keyframe_requests: AtomicU64,
    pub nacks: AtomicU64,
    pub retransmissions: AtomicU64,
    /// Packets asked for that the history no longer held.
    pub missed: AtomicU64,
    pub refused: AtomicU64,
}

/// RTX settings: payload type, SSRC, the history resent from, and who may
/// ask.
pub(crate) struct Retransmission {
    pub payload_type: u8,
    pub ssrc: u32,
    pub history: Arc<Mutex<RetransmissionHistory>>,
    /// Whether an address is one of the clients the stream goes to: only
    /// they are answered (a NACK from elsewhere, or with a spoofed
    /// source, must not turn the sender into a traffic reflector).
    pub is_client: Box<dyn Fn(std::net::SocketAddr) -> bool + Send>,
}

/// The running feedback thread; stops and joins on drop.
pub(crate) struct FeedbackThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl FeedbackThread {
    /// Starts reading `socket` (a clone of the sending one). `on_keyframe`
    /// runs on the thread for each PLI/FIR.
    pub(crate) fn start(
        name: &str,
        socket: UdpSocket,
        rtx: Option<Retransmission>,
        counters: Arc<FeedbackCounters>,
        on_keyframe: impl Fn() + Send + 'static,
    ) -> std::io::Result<FeedbackThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("fc-{name}-rtcp"))
                .spawn(move || run(&socket, rtx.as_ref(), &counters, &stop, &on_keyframe))?
        };
        Ok(FeedbackThread {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for FeedbackThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(
    socket: &UdpSocket,
    rtx: Option<&Retransmission>,
    counters: &FeedbackCounters,
    stop: &AtomicBool,
    on_keyframe: &dyn Fn(),
) {
    let mut buf = [0u8; 1500];
    let mut out = [0u8; 1600];
    let mut rtx_seq: u16 = (crate::elements::rtp::caps::random_u32() & 0xffff) as u16;
    let mut tokens = MAX_RESENT_PER_SECOND;
    let mut refilled = std::time::Instant::now();
    let timeout = Timespec {
        tv_sec: 0,
        tv_nsec: POLL_MS * 1_000_000,
    };
    let fd = socket.as_fd();
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        if !matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0) {
            continue;
        }
        // What is waiting (a bounded round), then back to the stop flag.
        for _ in 0..DATAGRAMS_PER_ROUND {
            let (n, from) = match sys::recv_datagram(socket, &mut buf) {
                Ok(Some(got)) => got,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    counters.refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Ok(None) | Err(_) => break,
            };
            let data = &buf[..n.min(buf.len())];
            let mut keyframe = false;
            for packet in parse_compound(data).map_while(|p| p.ok()) {
                if packet.is_keyframe_request() {
                    keyframe = true;
                    continue;
                }
                let Some(nack) = GenericNack::from_packet(&packet) else {
                    continue;
                };
                counters.nacks.fetch_add(1, Ordering::Relaxed);
                let (Some(rtx), Some(to)) = (rtx, from) else {
                    continue;
                };
                if !(rtx.is_client)(to) {
                    continue;
                }
                let elapsed = refilled.elapsed().as_millis();
                if elapsed > 0 {
                    let add = u32::try_from(elapsed).unwrap_or(u32::MAX);
                    tokens = tokens.saturating_add(add).min(MAX_RESENT_PER_SECOND);
                    refilled = std::time::Instant::now();
                }
                let mut previous: Option<u16> = None;
                for seq in nack.lost().take(MAX_RESENT_PER_NACK) {
                    // A repeated number is asked once.
                    if previous == Some(seq) || tokens == 0 {
                        continue;
                    }
                    previous = Some(seq);
                    // Wrapped under the lock, sent after it: the streaming
                    // thread records into the history on every batch.
                    let len = {
                        let history = rtx.history.locked();
                        let Some(original) = history.get(seq) else {
                            counters.missed.fetch_add(1, Ordering::Relaxed);
                            continue;
                        };
                        rtx::wrap(original, rtx.payload_type, rtx.ssrc, rtx_seq, &mut out)
                    };
                    let Ok(len) = len else {
                        continue;
                    };
                    rtx_seq = rtx_seq.wrapping_add(1);
                    tokens -= 1;
                    // Counted before it goes: whoever sees the copy sees
                    // the count.
                    counters.retransmissions.fetch_add(1, Ordering::Relaxed);
                    if socket.send_to(&out[..len], to).is_err() {
                        counters.retransmissions.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            if keyframe {
                counters.keyframe_requests.fetch_add(1, Ordering::Relaxed);
                on_keyframe();
            }
        }
    }
}
