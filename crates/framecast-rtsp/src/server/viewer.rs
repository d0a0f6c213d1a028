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
    /// The writer thread is writing a frame it took from `frames`: a
    /// frame sent meanwhile from the fan-out would overtake it.
    busy: bool,
    /// A frame the fan-out sent in part left its rest in the writer's
    /// buffer: the writer thread is to flush it.
    flush: bool,
}

/// Largest frame the fan-out sends on a TCP viewer's socket itself
/// ([`TcpOut::push`]): whatever the kernel does not take at once must fit
/// the writer's buffer (64 KiB) without a flush. Bigger ones (keyframes
/// at high rates) go through the writer thread.
const DIRECT_MAX_BYTES: usize = 48 * 1024;

/// Packets per `sendmsg` of a direct send (two slices each: the
/// interleaved head and the packet).
const DIRECT_PACKETS: usize = 32;

/// The interleaved frame head (RFC 2326 §10.12) of a packet on `channel`.
fn interleaved_head(channel: u8, packet: &[u8]) -> [u8; 4] {
    let len = u16::try_from(packet.len()).unwrap_or(u16::MAX);
    [b'$', channel, (len >> 8) as u8, len as u8]
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

/// What [`TcpOut::send_direct`] did.
enum Direct {
    /// The kernel took it all.
    Sent,
    /// The kernel took part; the rest is in the writer's buffer.
    Buffered,
    /// The socket failed: the viewer is gone.
    Failed,
    /// Not sent: the writer is busy or holds bytes, or the frame is big.
    NotNow,
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
                busy: false,
                flush: false,
            }),
            ready: Condvar::new(),
            shutdown: stream.try_clone()?,
            channel,
        }))
    }

    /// Queues a frame (never blocks on the socket). When nothing is
    /// queued or being written, the frame is sent on the socket from
    /// here, without waiting (`MSG_DONTWAIT`, one `sendmsg` of the heads
    /// and packets): the writer thread is woken only for what the kernel
    /// did not take, so a frame to each of many viewers costs a send each,
    /// not a thread wake-up each.
    pub fn push(&self, frame: &Arc<Frame>) -> Pushed {
        let mut q = self.queue.locked();
        if q.closed {
            return Pushed::Closed;
        }
        if q.frames.is_empty() && !q.busy && !q.flush {
            match self.send_direct(
                self.channel,
                &mut frame.packets(),
                frame.len(),
                frame.bytes(),
            ) {
                Direct::Sent => return Pushed::Queued,
                Direct::Buffered => {
                    q.flush = true;
                    drop(q);
                    self.ready.notify_one();
                    return Pushed::Queued;
                }
                Direct::Failed => {
                    self.close_queue(q);
                    return Pushed::Closed;
                }
                Direct::NotNow => {}
            }
        }
        let mut out = Pushed::Queued;
        if q.frames.len() >= TCP_QUEUE_FRAMES {
            q.frames.pop_front();
            out = Pushed::DroppedOldest;
            let since = *q.full_since.get_or_insert_with(Instant::now);
            if since.elapsed() > STALL_LIMIT {
                self.close_queue(q);
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

    /// Sends one RTCP compound on `channel` now if the connection is idle
    /// (nothing queued, being written or left to flush), as a direct send
    /// of a frame goes; otherwise it is skipped (`false`): a report a
    /// second may be lost, and sending it never waits on the socket, so a
    /// stalled viewer never holds up the reports to the others.
    pub fn send_control(&self, channel: u8, packet: &[u8]) -> bool {
        let mut q = self.queue.locked();
        if q.closed || !q.frames.is_empty() || q.busy || q.flush {
            return false;
        }
        match self.send_direct(channel, &mut std::iter::once(packet), 1, packet.len()) {
            Direct::Sent => true,
            Direct::Buffered => {
                q.flush = true;
                drop(q);
                self.ready.notify_one();
                true
            }
            Direct::Failed => {
                self.close_queue(q);
                false
            }
            Direct::NotNow => false,
        }
    }

    /// Sends `count` packets of `bytes` in all on `channel` without
    /// waiting, if the writer is free and holds nothing; the part the
    /// kernel does not take goes into the writer's buffer, in order, for
    /// the writer thread to flush.
    fn send_direct(
        &self,
        channel: u8,
        packets: &mut dyn Iterator<Item = &[u8]>,
        count: usize,
        bytes: usize,
    ) -> Direct {
        if bytes + 4 * count > DIRECT_MAX_BYTES {
            return Direct::NotNow;
        }
        let Ok(mut w) = self.writer.try_lock() else {
            // An RTSP response or a sender report is being written.
            return Direct::NotNow;
        };
        if !w.buffer().is_empty() {
            return Direct::NotNow;
        }
        let socket = socket2::SockRef::from(w.get_ref());
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        let mut chunk = [&[][..]; DIRECT_PACKETS];
        loop {
            let mut n = 0;
            for (slot, p) in chunk.iter_mut().zip(&mut *packets) {
                *slot = p;
                n += 1;
            }
            if n == 0 {
                return Direct::Sent;
            }
            let heads: [[u8; 4]; DIRECT_PACKETS] =
                std::array::from_fn(|i| interleaved_head(channel, chunk[i]));
            let mut slices = [std::io::IoSlice::new(&[]); 2 * DIRECT_PACKETS];
            for i in 0..n {
                slices[2 * i] = std::io::IoSlice::new(&heads[i]);
                slices[2 * i + 1] = std::io::IoSlice::new(chunk[i]);
            }
            let want: usize = slices[..2 * n].iter().map(|s| s.len()).sum();
            let sent = match socket.send_vectored_with_flags(&slices[..2 * n], flags) {
                Ok(sent) => sent,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                Err(_) => return Direct::Failed,
            };
            if sent < want {
                // The rest of this chunk, then the packets not yet in a
                // chunk: all fit the empty buffer (DIRECT_MAX_BYTES), so
                // no write to the socket happens here.
                let mut skip = sent;
                for s in &slices[..2 * n] {
                    let take = skip.min(s.len());
                    skip -= take;
                    let _ = w.write_all(&s[take..]);
                }
                for p in packets {
                    let _ = w.write_all(&interleaved_head(channel, p));
                    let _ = w.write_all(p);
                }
                return Direct::Buffered;
            }
        }
    }

    /// Stops the writer and closes the socket.
    pub fn close(&self) {
        self.close_queue(self.queue.locked());
    }

    /// [`TcpOut::close`] with the queue's lock held: its frames go too.
    fn close_queue(&self, mut q: std::sync::MutexGuard<'_, Queue>) {
        q.closed = true;
        q.frames.clear();
        drop(q);
        let _ = self.shutdown.shutdown(Shutdown::Both);
        self.ready.notify_all();
    }

    /// Whether closed.
    pub fn is_closed(&self) -> bool {
        self.queue.locked().closed
    }

    /// The writer thread's loop: writes queued frames (and flushes what a
    /// direct send left) until closed or the socket fails.
    pub fn run(&self) {
        loop {
            let frame = {
                let mut q = self.queue.locked();
                loop {
                    if q.closed {
                        return;
                    }
                    // The buffered rest of a direct send goes first; it
                    // was sent after every queued frame.
                    if std::mem::take(&mut q.flush) {
                        q.busy = true;
                        break None;
                    }
                    if let Some(f) = q.frames.pop_front() {
                        q.busy = true;
                        break Some(f);
                    }
                    let (g, _) = self
                        .ready
                        .wait_timeout_locked(q, Duration::from_millis(500));
                    q = g;
                }
            };
            let mut w = self.writer.locked();
            let mut ok = true;
            for p in frame.iter().flat_map(|f| f.packets()) {
                let head = interleaved_head(self.channel, p);
                let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
                if w.write_all(&head).is_err() || w.write_all(&p[..len]).is_err() {
                    ok = false;
                    break;
                }
            }
            if !ok || w.flush().is_err() {
                drop(w);
                self.close();
                return;
            }
            drop(w);
            self.queue.locked().busy = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// Frame `i`: 10 packets of 1000 bytes, each starting with its frame
    /// and packet numbers.
    fn frame(i: u32) -> Arc<Frame> {
        let mut f = Frame::default();
        for k in 0..10u32 {
            let mut p = vec![(k as u8) ^ 0x5a; 1000];
            p[..4].copy_from_slice(&i.to_be_bytes());
            p[4..8].copy_from_slice(&k.to_be_bytes());
            f.push(&p);
        }
        Arc::new(f)
    }

    /// Reads interleaved frames until `last`'s last packet (10 s at most):
    /// the frame numbers, each checked whole (its 10 packets in order,
    /// intact, none torn by another).
    fn read_frames(r: &mut TcpStream, last: u32) -> Vec<u32> {
        r.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut frames = Vec::new();
        let mut packet = 0u32;
        loop {
            let mut head = [0u8; 4];
            r.read_exact(&mut head).expect("interleaved head");
            assert_eq!(&head[..2], b"$\x07", "a head where one belongs");
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            assert_eq!(len, 1000);
            let mut p = vec![0u8; len];
            r.read_exact(&mut p).expect("packet");
            let i = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
            let k = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
            assert_eq!(k, packet, "packet {k} of frame {i} out of place");
            assert!(p[8..].iter().all(|&b| b == (k as u8) ^ 0x5a));
            if k == 0 {
                assert!(frames.last().is_none_or(|&l| l < i), "{i} after {frames:?}");
                frames.push(i);
            }
            packet = (packet + 1) % 10;
            if i == last && k == 9 {
                return frames;
            }
        }
    }

    #[test]
    fn frames_arrive_whole_and_in_order_through_direct_sends_and_the_writer() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut viewer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let out = TcpOut::new(&server, 7).unwrap();
        let writer = {
            let out = out.clone();
            std::thread::spawn(move || out.run())
        };
        // A viewer that does not read for a while: the kernel's buffers
        // fill, direct sends leave their rest to the writer, then frames
        // queue, and the oldest are dropped.
        let mut dropped = 0;
        for i in 0..200 {
            if out.push(&frame(i)) == Pushed::DroppedOldest {
                dropped += 1;
            }
        }
        let got = read_frames(&mut viewer, 199);
        assert!(dropped > 0, "the queue never filled: {} frames", got.len());
        assert_eq!(got.len() + dropped, 200, "each frame whole or dropped");
        // A viewer that keeps up: every frame, most sent from here.
        for i in 200..300 {
            assert_eq!(out.push(&frame(i)), Pushed::Queued);
            if i % 10 == 9 {
                let got = read_frames(&mut viewer, i);
                assert_eq!(got, (i - 9..=i).collect::<Vec<_>>());
            }
        }
        out.close();
        writer.join().unwrap();
    }
}
