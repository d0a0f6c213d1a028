//! The bench's light RTSP viewer: OPTIONS, DESCRIBE, SETUP, PLAY over one
//! TCP connection, then it counts the RTP packets and bytes that arrive
//! (over UDP, or interleaved on the connection for TCP) and notes when the
//! first keyframe packet came, without decoding. Written here rather than
//! taken from a crate: the bench needs the raw packets and the instant
//! PLAY left, which a full client hides, and fifty of them must cost
//! little beside the server they measure.

use super::first_picture::FirstPicture;
use super::keyframe::{rtp_payload, starts_keyframe};
use framecast_test_support::ports::try_free_port_pair;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the RTP packets travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// What a viewer saw, shared with the thread that reads for it.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
    /// Nanoseconds from sending PLAY to the first keyframe packet; 0 until
    /// one came.
    pub(crate) first_keyframe_ns: AtomicU64,
    /// Nanoseconds from sending PLAY to the first picture decoded (a
    /// viewer opened with [`play_decoding`]); 0 until then.
    pub(crate) first_picture_ns: AtomicU64,
}

/// A playing viewer; dropping it stops its reader (the server sees the
/// connection close).
pub(crate) struct Viewer {
    pub(crate) counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    /// The control connection, shut down on drop to wake a TCP reader.
    control: TcpStream,
    reader: Option<std::thread::JoinHandle<()>>,
    /// What TEARDOWN names.
    url: String,
    session: String,
}

impl Viewer {
    /// Sends TEARDOWN (its answer is left to the reader, or unread): the
    /// polite way to leave, where dropping is the abrupt one.
    pub(crate) fn teardown(&self) {
        let text = format!(
            "TEARDOWN {} RTSP/1.0\r\nCSeq: 99\r\nSession: {}\r\n\r\n",
            self.url, self.session
        );
        let _ = (&self.control).write_all(text.as_bytes());
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.control.shutdown(std::net::Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// How long a request may wait for its answer, and a UDP read for a
/// packet (between looks at the stop flag).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_millis(100);
const DESCRIBE_TRIES: u32 = 30;

/// One RTSP answer: its status code and headers (lower-cased names).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one RTSP message head and body from `reader`, skipping any
/// interleaved packets before it.
fn read_answer(reader: &mut BufReader<TcpStream>) -> Result<Answer, String> {
    let mut status = None;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.fill_buf().map_err(|e| e.to_string())?.first() == Some(&b'$') && status.is_none()
        {
            skip_interleaved(reader)?;
            continue;
        }
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the server closed the connection".into());
        }
        let line = line.trim_end();
        if status.is_none() {
            status = line
                .strip_prefix("RTSP/1.0 ")
                .and_then(|rest| rest.get(..3)?.parse().ok());
            if status.is_none() {
                return Err(format!("not an RTSP answer: {line:?}"));
            }
        } else if line.is_empty() {
            break;
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let answer = Answer {
        status: status.unwrap_or(0),
        headers,
    };
    let body: usize = answer
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut skipped = vec![0u8; body];
    reader
        .read_exact(&mut skipped)
        .map_err(|e| format!("body: {e}"))?;
    Ok(answer)
}

/// Skips one `$`-framed interleaved packet.
fn skip_interleaved(reader: &mut BufReader<TcpStream>) -> Result<(), String> {
    let mut head = [0u8; 4];
    reader.read_exact(&mut head).map_err(|e| e.to_string())?;
    let mut skipped = vec![0u8; usize::from(u16::from_be_bytes([head[2], head[3]]))];
    reader.read_exact(&mut skipped).map_err(|e| e.to_string())
}

/// Sends one request (`extra` headers, each ending in CRLF) and reads its
/// answer, which must be 200.
fn request(
    reader: &mut BufReader<TcpStream>,
    method: &str,
    url: &str,
    cseq: &mut u32,
    extra: &str,
) -> Result<Answer, String> {
    *cseq += 1;
    let text = format!("{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n");
    reader
        .get_mut()
        .write_all(text.as_bytes())
        .map_err(|e| format!("{method}: {e}"))?;
    let answer = read_answer(reader).map_err(|e| format!("{method} {url}: {e}"))?;
    if answer.status != 200 {
        return Err(format!("{method} {url}: status {}", answer.status));
    }
    Ok(answer)
}

/// Two UDP sockets on consecutive ports (RTP, RTCP), bounded tries.
fn udp_pair() -> Result<(UdpSocket, UdpSocket), String> {
    let mut last = String::new();
    for _ in 0..8 {
        let port = try_free_port_pair().map_err(|e| e.to_string())?;
        match (
            UdpSocket::bind(("127.0.0.1", port)),
            UdpSocket::bind(("127.0.0.1", port + 1)),
        ) {
            (Ok(rtp), Ok(rtcp)) => return Ok((rtp, rtcp)),
            (Err(e), _) | (_, Err(e)) => last = e.to_string(),
        }
    }
    Err(format!("no free pair of UDP ports on 127.0.0.1: {last}"))
}

/// Whether `url` is served yet: DESCRIBE answers 200 (a server knows
/// its stream's caps only once the first frame is encoded).
pub(crate) fn described(url: &str) -> bool {
    connect(url).is_ok_and(|mut reader| {
        let mut cseq = 0;
        request(&mut reader, "DESCRIBE", url, &mut cseq, "").is_ok()
    })
}

/// Connects to `url`'s server.
fn connect(url: &str) -> Result<BufReader<TcpStream>, String> {
    let address = url
        .strip_prefix("rtsp://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("{url}: not rtsp://HOST:PORT/PATH"))?;
    let stream = TcpStream::connect(address).map_err(|e| format!("{address}: {e}"))?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    Ok(BufReader::with_capacity(1 << 16, stream))
}

/// Opens `url` and plays it over `transport`; returns once PLAY is
/// answered, with a thread counting what arrives.
/// `range` adds `Range: npt=0-` to PLAY, as ffmpeg and rtspsrc send it:
/// gst-rtsp-server answers that with a seek of its shared media, which
/// restarts the encoder on a keyframe for every viewer.
pub(crate) fn play(url: &str, transport: Transport, range: bool) -> Result<Viewer, String> {
    open(url, transport, range, None, None)
}

/// [`play`], decoding from the first keyframe until the first picture
/// ([`Counts::first_picture_ns`]).
pub(crate) fn play_decoding(
    url: &str,
    transport: Transport,
    range: bool,
) -> Result<Viewer, String> {
    open(url, transport, range, None, Some(FirstPicture::new()?))
}

/// Plays `url` into someone else's UDP port `port` on 127.0.0.1 (the
/// latency bench's receiver): over UDP it is the SETUP's `client_port`,
/// over TCP this viewer relays each RTP packet there as it arrives.
pub(crate) fn play_to(url: &str, transport: Transport, port: u16) -> Result<Viewer, String> {
    open(url, transport, false, Some(port), None)
}

fn open(
    url: &str,
    transport: Transport,
    range: bool,
    deliver_to: Option<u16>,
    mut first: Option<FirstPicture>,
) -> Result<Viewer, String> {
    let mut reader = connect(url)?;
    let mut cseq = 0;
    request(&mut reader, "OPTIONS", url, &mut cseq, "")?;
    // A shared media being torn down or prepared answers 503 for a
    // moment: ask again, a bounded number of times.
    let mut tries = 0;
    let described = loop {
        match request(
            &mut reader,
            "DESCRIBE",
            url,
            &mut cseq,
            "Accept: application/sdp\r\n",
        ) {
            Err(e) if e.ends_with("status 503") && tries < DESCRIBE_TRIES => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            answer => break answer?,
        }
    };
    let base = described
        .header("content-base")
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string();
    // Both servers name their one stream `stream=0`.
    let control = format!("{base}/stream=0");
    let (sockets, transport_header) = match (transport, deliver_to) {
        (Transport::Udp, Some(port)) => (
            None,
            format!(
                "Transport: RTP/AVP;unicast;client_port={port}-{}\r\n",
                port + 1
            ),
        ),
        (Transport::Udp, None) => {
            let (rtp, rtcp) = udp_pair()?;
            let port = rtp.local_addr().map_err(|e| e.to_string())?.port();
            (
                Some((rtp, rtcp)),
                format!(
                    "Transport: RTP/AVP;unicast;client_port={port}-{}\r\n",
                    port + 1
                ),
            )
        }
        (Transport::Tcp, _) => (
            None,
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n".to_string(),
        ),
    };
    let relay = match (transport, deliver_to) {
        (Transport::Tcp, Some(port)) => {
            let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("relay: {e}"))?;
            socket
                .connect(("127.0.0.1", port))
                .map_err(|e| format!("relay to {port}: {e}"))?;
            Some(socket)
        }
        _ => None,
    };
    let set_up = request(&mut reader, "SETUP", &control, &mut cseq, &transport_header)?;
    let session = set_up
        .header("session")
        .and_then(|s| s.split(';').next())
        .ok_or_else(|| format!("SETUP {control}: no Session"))?
        .to_string();
    let counts = Arc::new(Counts::default());
    let played_at = Instant::now();
    request(
        &mut reader,
        "PLAY",
        url,
        &mut cseq,
        &format!(
            "Session: {session}\r\n{}",
            if range { "Range: npt=0-\r\n" } else { "" }
        ),
    )?;
    let stop = Arc::new(AtomicBool::new(false));
    let control = reader.get_ref().try_clone().map_err(|e| e.to_string())?;
    let (c, s) = (counts.clone(), stop.clone());
    let reader = std::thread::Builder::new()
        .name("rtsp-viewer".into())
        .spawn(move || match (sockets, transport) {
            (Some((rtp, _rtcp)), _) => {
                // The control connection stays open (and read) so the
                // session lives; the packets come on `rtp`.
                let _control = reader;
                read_udp(&rtp, played_at, &c, &s, first.as_mut());
            }
            (None, Transport::Udp) => {
                // The packets go to someone else's port: only keep the
                // session open.
                let _control = reader;
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(READ_TIMEOUT);
                }
            }
            (None, Transport::Tcp) => {
                let (relay, first) = (relay.as_ref(), first.as_mut());
                read_tcp(reader, played_at, &c, &s, relay, first);
            }
        })
        .map_err(|e| format!("viewer thread: {e}"))?;
    Ok(Viewer {
        counts,
        stop,
        control,
        reader: Some(reader),
        url: url.to_string(),
        session,
    })
}

/// Counts one RTP packet that came `played_at.elapsed()` after PLAY, and
/// from the first keyframe on decodes it into `first` until a picture.
fn count(packet: &[u8], played_at: Instant, counts: &Counts, first: Option<&mut FirstPicture>) {
    counts.packets.fetch_add(1, Ordering::Relaxed);
    counts
        .bytes
        .fetch_add(packet.len() as u64, Ordering::Relaxed);
    if counts.first_keyframe_ns.load(Ordering::Relaxed) == 0
        && rtp_payload(packet).is_some_and(starts_keyframe)
    {
        let ns = u64::try_from(played_at.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counts.first_keyframe_ns.store(ns.max(1), Ordering::Relaxed);
    }
    let Some(first) = first else {
        return;
    };
    if counts.first_keyframe_ns.load(Ordering::Relaxed) != 0
        && counts.first_picture_ns.load(Ordering::Relaxed) == 0
        && first.feed(packet)
    {
        let ns = u64::try_from(played_at.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counts.first_picture_ns.store(ns.max(1), Ordering::Relaxed);
    }
}

fn read_udp(
    socket: &UdpSocket,
    played_at: Instant,
    counts: &Counts,
    stop: &AtomicBool,
    mut first: Option<&mut FirstPicture>,
) {
    let _ = socket.set_read_timeout(Some(READ_TIMEOUT));
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        if let Ok(n) = socket.recv(&mut buf) {
            count(&buf[..n], played_at, counts, first.as_deref_mut());
        }
    }
}

/// Reads the interleaved packets of a TCP session, counting channel 0's
/// and sending each on to `relay` (a connected socket), if any.
fn read_tcp(
    mut reader: BufReader<TcpStream>,
    played_at: Instant,
    counts: &Counts,
    stop: &AtomicBool,
    relay: Option<&UdpSocket>,
    mut first: Option<&mut FirstPicture>,
) {
    // Blocking reads: dropping the viewer shuts the connection down.
    let _ = reader.get_ref().set_read_timeout(None);
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut head = [0u8; 4];
        if reader.read_exact(&mut head[..1]).is_err() {
            return;
        }
        if head[0] != b'$' {
            // An RTSP message from the server: read to its blank line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            continue;
        }
        if reader.read_exact(&mut head[1..]).is_err() {
            return;
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if reader.read_exact(&mut buf[..len]).is_err() {
            return;
        }
        if head[1] == 0 {
            if let Some(r) = relay {
                let _ = r.send(&buf[..len]);
            }
            count(&buf[..len], played_at, counts, first.as_deref_mut());
        }
    }
}
