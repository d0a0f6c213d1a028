//! An impairment relay: the bad network this kernel cannot make (it has
//! no netem), on 127.0.0.1. Datagrams sent to [`Relay::port`] are
//! forwarded to a destination after loss (random, or in bursts),
//! duplication, delay with jitter, reordering, and injected strays, and a
//! second sender can be made to look like the first one restarting. What
//! the receiver sends back (RTCP feedback: NACK, PLI) is relayed to the
//! sender unimpaired, so the sender's answers (RTX) come back through the
//! impaired direction like any packet. Every
//! receiver under test, framecast's and the peers', goes behind the same
//! relay. Decisions come from a fixed-seed generator, so a run is
//! repeatable for the same packet sequence.
//!
//! A crate of its own (not test code only): `framecast demo --loss N`
//! ships with it. The tests and benchmarks reach it as
//! `framecast_test_support::impair`.

use framecast_core::sync::MutexExt;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the relay does to the packets it forwards.
#[derive(Debug, Clone)]
pub struct Impairment {
    /// Probability that a packet starts a loss.
    pub loss: f64,
    /// Mean length of a loss burst, in packets (1: independent losses;
    /// more: a Gilbert model whose bad state lasts this long on average).
    pub burst: f64,
    /// Probability that a packet is sent twice.
    pub duplicate: f64,
    /// Delay added to every packet.
    pub delay: Duration,
    /// Uniform jitter on top of `delay`: each packet gets `delay` ±
    /// `jitter` (so packets reorder when the jitter exceeds their spacing).
    pub jitter: Duration,
    /// Probability that a packet is held back by `reorder_by`.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_by: Duration,
    /// Every this often, a stray packet: a copy of the last one with
    /// another SSRC and its sequence number 500 ahead.
    pub stray_every: Option<Duration>,
    /// Datagrams sent once, this long after the start, as if by a third
    /// party that does not know the stream (hostile or misdirected).
    pub inject_at: Option<(Duration, Vec<Vec<u8>>)>,
    /// A second source (SSRC) appearing is rewritten into the first
    /// source restarting: its SSRC becomes the first one's, and its
    /// sequence numbers start this many behind the first source's last.
    pub restart_behind: Option<u16>,
    /// Stop forwarding after this long (a bound on every test).
    pub max_run: Duration,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Impairment {
    fn default() -> Self {
        Impairment {
            loss: 0.0,
            burst: 1.0,
            duplicate: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            reorder: 0.0,
            reorder_by: Duration::ZERO,
            stray_every: None,
            inject_at: None,
            restart_behind: None,
            max_run: Duration::from_secs(60),
            seed: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

/// What the relay did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RelayStats {
    /// Datagrams received.
    pub received: u64,
    /// Bytes of the datagrams received (UDP payload): what the sender put
    /// on the wire, media, RTX and FEC alike.
    pub received_bytes: u64,
    /// Datagrams sent on (duplicates and strays included).
    pub forwarded: u64,
    /// Datagrams dropped.
    pub dropped: u64,
    /// Extra copies sent.
    pub duplicated: u64,
    /// Datagrams held back out of order.
    pub reordered: u64,
    /// Stray datagrams injected.
    pub strays: u64,
    /// Datagrams of a second source rewritten as a restart.
    pub rewritten: u64,
    /// Datagrams relayed back from the receiver to the sender.
    pub feedback: u64,
    /// Datagrams injected (`inject_at`).
    pub injected: u64,
}

/// A running relay; stops when dropped (or by [`Relay::stop`]).
pub struct Relay {
    port: u16,
    feedback_port: u16,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<RelayStats>>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Starts a relay on a free 127.0.0.1 port, forwarding to `to`.
    pub fn start(impairment: Impairment, to: SocketAddr) -> Relay {
        Relay::start_at(impairment, 0, to)
    }

    /// Starts a relay on 127.0.0.1:`port` (0: a free one), forwarding to
    /// `to` (a relay for RTP on `p` and one for RTCP on `p + 1`, as a
    /// sender sends them).
    pub fn start_at(impairment: Impairment, port: u16, to: SocketAddr) -> Relay {
        let rx = UdpSocket::bind(("127.0.0.1", port)).expect("bind the relay");
        let port = rx.local_addr().expect("relay address").port();
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind the relay's sender");
        let feedback_port = tx.local_addr().expect("relay's sending address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(RelayStats::default()));
        let thread = {
            let (stop, stats) = (stop.clone(), stats.clone());
            std::thread::Builder::new()
                .name("impair-relay".into())
                .spawn(move || run(rx, tx, to, impairment, &stop, &stats))
                .expect("spawn the relay")
        };
        Relay {
            port,
            feedback_port,
            stop,
            stats,
            thread: Some(thread),
        }
    }

    /// The port to send to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port the relay forwards from: what a receiver sends here
    /// (RTCP feedback) goes back to the sender. framecast's receiver
    /// answers the address its packets come from; a receiver whose RTCP
    /// destination is configured (GStreamer's `udpsink`) is pointed here.
    pub fn feedback_port(&self) -> u16 {
        self.feedback_port
    }

    /// What it did so far.
    pub fn stats(&self) -> RelayStats {
        *self.stats.locked()
    }

    /// Sends what it still holds, stops, and says what it did.
    pub fn stop(mut self) -> RelayStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.halt();
    }
}

/// xorshift64*: small, fast and repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

/// The source and sequence mapping for `restart_behind`.
struct Restart {
    behind: u16,
    first: Option<(u32, u16)>,
    /// The second source and the offset that maps its numbers.
    second: Option<(u32, u16)>,
}

impl Restart {
    /// Rewrites the RTP header in place when the packet is the second
    /// source's.
    fn apply(&mut self, pkt: &mut [u8]) -> bool {
        if pkt.len() < 12 || pkt[0] >> 6 != 2 {
            return false;
        }
        let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
        let ssrc = u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]);
        let Some((first_ssrc, last)) = self.first else {
            self.first = Some((ssrc, seq));
            return false;
        };
        if ssrc == first_ssrc && self.second.is_none() {
            self.first = Some((ssrc, seq));
            return false;
        }
        let (second, offset) = *self
            .second
            .get_or_insert_with(|| (ssrc, last.wrapping_sub(self.behind).wrapping_sub(seq)));
        if ssrc != second {
            return false;
        }
        pkt[2..4].copy_from_slice(&seq.wrapping_add(offset).to_be_bytes());
        pkt[8..12].copy_from_slice(&first_ssrc.to_be_bytes());
        true
    }
}

fn run(
    rx: UdpSocket,
    tx: UdpSocket,
    to: SocketAddr,
    imp: Impairment,
    stop: &AtomicBool,
    stats: &Mutex<RelayStats>,
) {
    tx.set_nonblocking(true).expect("nonblocking");
    let mut sender_addr: Option<SocketAddr> = None;
    let mut back = [0u8; 2048];
    let mut rng = Rng(imp.seed | 1);
    // Packets waiting for their release time: (when, order, bytes).
    let mut pending: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut in_burst = false;
    let mut restart = imp.restart_behind.map(|behind| Restart {
        behind,
        first: None,
        second: None,
    });
    let start = Instant::now();
    let mut next_stray = imp.stray_every.map(|every| start + every);
    let mut injection = imp.inject_at.clone();
    let mut last: Option<Vec<u8>> = None;
    let mut buf = [0u8; 65_536];
    let count = |f: &dyn Fn(&mut RelayStats)| f(&mut stats.locked());
    loop {
        let now = Instant::now();
        let stopping = stop.load(Ordering::Relaxed) || now - start > imp.max_run;
        // Release what is due (everything, when stopping).
        while let Some(Reverse((when, _, _))) = pending.peek() {
            if *when > now && !stopping {
                break;
            }
            let Some(Reverse((_, _, bytes))) = pending.pop() else {
                break;
            };
            let _ = tx.send_to(&bytes, to);
            count(&|s| s.forwarded += 1);
        }
        if stopping {
            return;
        }
        // Feedback from the receiver goes back to the sender, from the
        // port the sender sends to (where it expects it).
        for _ in 0..64 {
            let Ok(n) = tx.recv(&mut back) else {
                break;
            };
            if let Some(to) = sender_addr {
                let _ = rx.send_to(&back[..n], to);
                count(&|s| s.feedback += 1);
            }
        }
        if injection
            .as_ref()
            .is_some_and(|(after, _)| now - start >= *after)
        {
            if let Some((_, datagrams)) = injection.take() {
                for d in &datagrams {
                    let _ = tx.send_to(d, to);
                }
                count(&|s| s.injected += datagrams.len() as u64);
            }
        }
        if let (Some(due), Some(pkt)) = (next_stray, last.as_ref()) {
            if now >= due && pkt.len() >= 12 {
                let mut stray = pkt.clone();
                let seq = u16::from_be_bytes([stray[2], stray[3]]).wrapping_add(500);
                stray[2..4].copy_from_slice(&seq.to_be_bytes());
                let ssrc =
                    u32::from_be_bytes([stray[8], stray[9], stray[10], stray[11]]) ^ 0x5A5A_5A5A;
                stray[8..12].copy_from_slice(&ssrc.to_be_bytes());
                let _ = tx.send_to(&stray, to);
                count(&|s| {
                    s.strays += 1;
                    s.forwarded += 1;
                });
                next_stray = imp.stray_every.map(|every| due + every);
            }
        }
        let wait = pending
            .peek()
            .map(|Reverse((when, _, _))| when.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(20))
            .clamp(Duration::from_micros(200), Duration::from_millis(2));
        let _ = rx.set_read_timeout(Some(wait));
        let Ok((n, from)) = rx.recv_from(&mut buf) else {
            continue;
        };
        sender_addr = Some(from);
        count(&|s| {
            s.received += 1;
            s.received_bytes += n as u64;
        });
        let mut pkt = buf[..n].to_vec();
        if let Some(r) = restart.as_mut() {
            if r.apply(&mut pkt) {
                count(&|s| s.rewritten += 1);
            }
        }
        // Gilbert loss: a burst starts with probability `loss` and each
        // further packet stays lost with probability 1 - 1/burst.
        let lose = if in_burst {
            rng.chance(1.0 - 1.0 / imp.burst.max(1.0))
        } else {
            rng.chance(imp.loss)
        };
        in_burst = lose && imp.burst > 1.0;
        if lose {
            count(&|s| s.dropped += 1);
            continue;
        }
        let copies = if rng.chance(imp.duplicate) { 2 } else { 1 };
        if copies == 2 {
            count(&|s| s.duplicated += 1);
        }
        let mut delay = imp.delay;
        if !imp.jitter.is_zero() {
            let j = imp.jitter.as_secs_f64() * (2.0 * rng.unit() - 1.0);
            delay = Duration::from_secs_f64((delay.as_secs_f64() + j).max(0.0));
        }
        if rng.chance(imp.reorder) {
            delay += imp.reorder_by;
            count(&|s| s.reordered += 1);
        }
        let now = Instant::now();
        for _ in 0..copies {
            order += 1;
            pending.push(Reverse((now + delay, order, pkt.clone())));
        }
        last = Some(pkt);
    }
}
