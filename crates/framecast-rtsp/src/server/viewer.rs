//! A viewer: one RTSP session of one mount, how its packets travel, and
//! what its receiver reports say.
//!
//! A TCP-interleaved viewer has its own writer thread and a bounded
//! latest-wins queue of shared [`Frame`]s: the fan-out only queues (it
//! never waits for a socket), a full queue drops its oldest frame
//! (counted), and a queue that stays full past [`STALL_LIMIT`] means the
//! client stopped reading: it is disconnected, with a log line naming it.

use framecast_core::sync::{CondvarExt, MutexExt};
use std::collections::VecDeque;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::frame::Frame;

/// Frames a TCP viewer's queue holds before it drops the oldest.
pub const TCP_QUEUE_FRAMES: usize = 16;

/// How long a TCP viewer's queue may stay full before it is disconnected.
pub const STALL_LIMIT: Duration = Duration::from_secs(2);

/// How a viewer's packets travel.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// UDP unicast to the client's RTP port (RTCP on the next).
    Udp {
        /// Client RTP address.
        rtp: SocketAddr,
        /// Client RTCP address.
        rtcp: SocketAddr,
    },
    /// Interleaved in the RTSP connection.
    Tcp {
        /// RTP channel.
        channel: u8,
        /// RTCP channel (the client's reports arrive on it).
        rtcp_channel: u8,
        /// The writer.
        out: Arc<TcpOut>,
    },
    /// The mount's multicast group.
    Multicast,
}

/// A viewer's figures, updated from the fan-out and from its RTCP.
#[derive(Debug, Default)]
pub struct ViewerCounters {
    /// Packets sent (queued, for TCP).
    pub packets: AtomicU64,
    /// Frames dropped from its queue (TCP) or not taken by the kernel.
    pub dropped: AtomicU64,
    /// Receiver reports read.
    pub reports: AtomicU64,
    /// Last reported fraction lost, in 1/256.
    pub fraction_lost: AtomicU64,
    /// Last reported cumulative loss.
    pub cumulative_lost: AtomicU64,
    /// Last reported interarrival jitter, in RTP ticks.
    pub jitter: AtomicU64,
    /// Round-trip time from the last report, in µs (0: unknown).
    pub rtt_us: AtomicU64,
    /// The SSRC its reports come from, with bit 32 set once known (a
    /// multicast viewer's reports are told apart by it).
    rtcp_ssrc: AtomicU64,
}

/// One session.
#[derive(Debug)]
pub struct Viewer {
    /// The session id.
    pub session: String,
    /// The RTSP connection's peer.
    pub peer: SocketAddr,
    /// How its packets travel.
    pub delivery: Delivery,
    /// Whether PLAY is in force.
    pub playing: AtomicBool,
    /// PLAY came, and the viewer waits for a keyframe to start on; the
    /// fan-out clears it there and sets `start`.
    pub waiting_keyframe: AtomicBool,
    /// Sequence number and RTP timestamp of its first packet (for
    /// RTP-Info), once started.
    pub start: Mutex<Option<(u16, u32)>>,
    /// Last request or RTCP from it (expiry).
    pub last_seen: Mutex<Instant>,
    /// Its figures.
    pub counters: ViewerCounters,
}

impl Viewer {
    /// A new session.
    pub fn new(session: String, peer: SocketAddr, delivery: Delivery) -> Viewer {
        Viewer {
            session,
            peer,
            delivery,
            playing: AtomicBool::new(false),
            waiting_keyframe: AtomicBool::new(false),
            start: Mutex::new(None),
            last_seen: Mutex::new(Instant::now()),
            counters: ViewerCounters::default(),
        }
    }

    /// Notes a sign of life.
    pub fn touch(&self) {
        *self.last_seen.locked() = Instant::now();
    }

    /// Whether it has been silent longer than `timeout`.
    pub fn expired(&self, timeout: Duration) -> bool {
        self.last_seen.locked().elapsed() > timeout
    }

    /// The SSRC its receiver reports come from, once one was attributed
    /// to it.
    pub fn rtcp_ssrc(&self) -> Option<u32> {
        let v = self.counters.rtcp_ssrc.load(Ordering::Relaxed);
        (v >> 32 != 0).then_some(v as u32)
    }

    /// Notes the SSRC its receiver reports come from.
    pub fn learn_rtcp_ssrc(&self, ssrc: u32) {
        self.counters
            .rtcp_ssrc
            .store((1 << 32) | u64::from(ssrc), Ordering::Relaxed);
    }

    /// Forgets the SSRC its receiver reports came from (it said BYE).
    pub fn forget_rtcp_ssrc(&self) {
        self.counters.rtcp_ssrc.store(0, Ordering::Relaxed);
    }

    /// Stops its TCP writer (if any).
    pub fn close(&self) {
        if let Delivery::Tcp { out, .. } = &self.delivery {
            out.close();
        }
    }
}

/// A viewer's figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerInfo {
    /// Session id.
    pub session: String,
    /// RTSP peer.
    pub peer: SocketAddr,
    /// `udp`, `tcp` or `udp-mcast`.
    pub transport: &'static str,
    /// Whether playing.
    pub playing: bool,
    /// Packets sent to it.
    pub packets: u64,
    /// Frames dropped for it.
    pub dropped: u64,
    /// Receiver reports read.
    pub reports: u64,
    /// Fraction lost (0..1) from its last report.
    pub fraction_lost: f64,
    /// Cumulative packets lost.
    pub cumulative_lost: u64,
    /// Jitter in ms (90 kHz clock).
    pub jitter_ms: f64,
    /// Round-trip time in ms, if known.
    pub rtt_ms: Option<f64>,
}

impl Viewer {
    /// Its figures now.
    pub fn info(&self) -> ViewerInfo {
        let c = &self.counters;
        let rtt = c.rtt_us.load(Ordering::Relaxed);
        ViewerInfo {
            session: self.session.clone(),
            peer: self.peer,
            transport: match self.delivery {
                Delivery::Udp { .. } => "udp",
                Delivery::Tcp { .. } => "tcp",
                Delivery::Multicast => "udp-mcast",
            },
            playing: self.playing.load(Ordering::Relaxed),
            packets: c.packets.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            reports: c.reports.load(Ordering::Relaxed),
            fraction_lost: c.fraction_lost.load(Ordering::Relaxed) as f64 / 256.0,
            cumulative_lost: c.cumulative_lost.load(Ordering::Relaxed),
            jitter_ms: c.jitter.load(Ordering::Relaxed) as f64 / 90.0,
            rtt_ms: (rtt > 0).then(|| rtt as f64 / 1000.0),
        }
    }
}

/// Kernel send buffer of a TCP viewer's socket: with the queue, what a
/// viewer that stops reading can hold (Linux's autotuning would let it
/// grow to megabytes and hide a stall for minutes).
pub const TCP_SEND_BUFFER: i32 = 256 * 1024;

fn cap_send_buffer(stream: &TcpStream) {
    // `std` has no call for SO_SNDBUF; socket2 has it without `unsafe`
    // here. A failure leaves the default, which only makes a stall take
    // longer to notice.
    let _ = socket2::SockRef::from(stream).set_send_buffer_size(TCP_SEND_BUFFER as usize);
}

#[derive(Debug)]
struct Queue {
    frames: VecDeque<Arc<Frame>>,
    full_since: Option<Instant>,
    closed: bool,
}

/// The writing side of a TCP viewer's connection: responses and media
/// share the socket, in order, under one lock.
#[derive(Debug)]
pub struct TcpOut {
    /// The socket's write half; RTSP responses are written under this lock
    /// too.
    pub writer: Mutex<std::io::BufWriter<TcpStream>>,
    queue: Mutex<Queue>,
    ready: Condvar,
    shutdown: TcpStream,
    /// The RTP channel byte.
    channel: u8,
}

/// What [`TcpOut::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued.
    Queued,
    /// Queued, the oldest frame dropped.
    DroppedOldest,
    /// The viewer stalled past the limit and was just disconnected.
    Stalled,
    /// Already closed.
    Closed,
}

impl TcpOut {
    /// The writer for `stream`, media on `channel`. The socket's send
    /// buffer is capped at [`TCP_SEND_BUFFER`].
    pub fn new(stream: &TcpStream, channel: u8) -> std::io::Result<Arc<TcpOut>> {
        cap_send_buffer(stream);
        Ok(Arc::new(TcpOut {
            writer: Mutex::new(std::io::BufWriter::with_capacity(
                64 * 1024,
                stream.try_clone()?,
            )),
            queue: Mutex::new(Queue {
                frames: VecDeque::with_capacity(TCP_QUEUE_FRAMES),
                full_since: None,
                closed: false,
            }),
            ready: Condvar::new(),
            shutdown: stream.try_clone()?,
            channel,
        }))
    }

    /// Queues a frame (never blocks on the socket).
    pub fn push(&self, frame: &Arc<Frame>) -> Pushed {
        let mut q = self.queue.locked();
        if q.closed {
            return Pushed::Closed;
        }
        let mut out = Pushed::Queued;
        if q.frames.len() >= TCP_QUEUE_FRAMES {
            q.frames.pop_front();
            out = Pushed::DroppedOldest;
            let since = *q.full_since.get_or_insert_with(Instant::now);
            if since.elapsed() > STALL_LIMIT {
                q.closed = true;
                q.frames.clear();
                drop(q);
                let _ = self.shutdown.shutdown(Shutdown::Both);
                self.ready.notify_all();
                return Pushed::Stalled;
            }
        } else {
            q.full_since = None;
        }
        q.frames.push_back(frame.clone());
        drop(q);
        self.ready.notify_one();
        out
    }

    /// Stops the writer and closes the socket.
    pub fn close(&self) {
        self.queue.locked().closed = true;
        let _ = self.shutdown.shutdown(Shutdown::Both);
        self.ready.notify_all();
    }

    /// Whether closed.
    pub fn is_closed(&self) -> bool {
        self.queue.locked().closed
    }

    /// The writer thread's loop: writes queued frames until closed or the
    /// socket fails.
    pub fn run(&self) {
        loop {
            let frame = {
                let mut q = self.queue.locked();
                loop {
                    if q.closed {
                        return;
                    }
                    if let Some(f) = q.frames.pop_front() {
                        break f;
                    }
                    let (g, _) = self
                        .ready
                        .wait_timeout_locked(q, Duration::from_millis(500));
                    q = g;
                }
            };
            let mut w = self.writer.locked();
            let mut ok = true;
            for p in frame.packets() {
                let len = u16::try_from(p.len()).unwrap_or(u16::MAX);
                let head = [b'$', self.channel, (len >> 8) as u8, len as u8];
                if w.write_all(&head).is_err() || w.write_all(&p[..usize::from(len)]).is_err() {
                    ok = false;
                    break;
                }
            }
            if !ok || w.flush().is_err() {
                drop(w);
                self.close();
                return;
            }
        }
    }
}
