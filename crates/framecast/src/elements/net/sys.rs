//! The socket calls `std::net` lacks, fenced into this one file: batched
//! sends (`sendmmsg(2)`, optionally with UDP generic segmentation
//! offload, `UDP_SEGMENT`), receive with truncation detection, socket buffer
//! sizes (with the `FORCE` variants a privileged process may use), and a
//! bind with `SO_REUSEADDR` set before it.
//!
//! Multicast on a chosen interface (by name or address: `std` takes only
//! an address for IPv4 and has no `IP_MULTICAST_IF`) is here too;
//! everything else (TTL, loop) goes through [`std::net::UdpSocket`].

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Most datagrams handed to one `sendmmsg` call (the stack arrays' size).
pub(crate) const MMSG_CHUNK: usize = 64;

/// A destination address in the form the kernel takes (`sockaddr_in` or
/// `sockaddr_in6`), made once per client, not per packet.
#[derive(Clone, Copy)]
pub(crate) enum RawAddr {
    /// IPv4.
    V4(libc::sockaddr_in),
    /// IPv6 (also IPv4-mapped addresses on a dual-stack socket).
    V6(libc::sockaddr_in6),
}

impl std::fmt::Debug for RawAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_socket_addr())
    }
}

impl RawAddr {
    /// The kernel form of `addr`.
    pub(crate) fn new(addr: SocketAddr) -> RawAddr {
        match addr {
            SocketAddr::V4(a) => RawAddr::V4(libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            }),
            SocketAddr::V6(a) => RawAddr::V6(libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            }),
        }
    }

    /// Back to a `SocketAddr` (for messages).
    pub(crate) fn to_socket_addr(self) -> SocketAddr {
        match self {
            RawAddr::V4(a) => {
                SocketAddr::from((a.sin_addr.s_addr.to_ne_bytes(), u16::from_be(a.sin_port)))
            }
            RawAddr::V6(a) => SocketAddr::from((a.sin6_addr.s6_addr, u16::from_be(a.sin6_port))),
        }
    }

    /// Pointer and length for `msg_name` / `bind`. The kernel only reads
    /// through it.
    fn as_ptr_len(&self) -> (*const libc::c_void, libc::socklen_t) {
        match self {
            RawAddr::V4(a) => (
                a as *const libc::sockaddr_in as *const libc::c_void,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            ),
            RawAddr::V6(a) => (
                a as *const libc::sockaddr_in6 as *const libc::c_void,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            ),
        }
    }
}

/// One message of a batch: its bytes and destination, and optionally a
/// segment size (UDP GSO): the kernel cuts the bytes into datagrams of
/// that many bytes, the last one shorter, for the price of one send.
pub(crate) trait Outgoing {
    /// The bytes.
    fn bytes(&self) -> &[u8];
    /// Where to.
    fn dest(&self) -> &RawAddr;
    /// Datagram size the kernel cuts the bytes into (`None`: one datagram).
    fn segment(&self) -> Option<u16> {
        None
    }
    /// How many datagrams the message is.
    fn datagrams(&self) -> u64 {
        match self.segment() {
            Some(s) if s > 0 => self.bytes().len().div_ceil(usize::from(s)).max(1) as u64,
            _ => 1,
        }
    }
}

impl Outgoing for (&[u8], &RawAddr) {
    fn bytes(&self) -> &[u8] {
        self.0
    }
    fn dest(&self) -> &RawAddr {
        self.1
    }
}

/// A run of datagrams of `segment` bytes each (the last may be shorter),
/// back to back in `bytes`, sent with `UDP_SEGMENT`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segmented<'a> {
    /// The datagrams, back to back.
    pub bytes: &'a [u8],
    /// Where to.
    pub dest: &'a RawAddr,
    /// Every datagram's size but the last's.
    pub segment: u16,
}

impl Outgoing for Segmented<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }
    fn dest(&self) -> &RawAddr {
        self.dest
    }
    fn segment(&self) -> Option<u16> {
        // One datagram needs no segmentation.
        (self.bytes.len() > usize::from(self.segment)).then_some(self.segment)
    }
}

/// What one [`send_batch`] did.
#[derive(Debug, Default)]
pub(crate) struct SendOutcome {
    /// Datagrams the kernel took.
    pub sent: u64,
    /// Bytes in them.
    pub bytes: u64,
    /// `ECONNREFUSED` reports (an earlier datagram drew an ICMP port
    /// unreachable): counted, the datagram retried once.
    pub refused: u64,
    /// Datagrams dropped after another error.
    pub failed: u64,
    /// `sendmmsg` calls made.
    pub calls: u64,
    /// The first error other than `ECONNREFUSED`, for a warning.
    pub first_error: Option<io::Error>,
    /// A segmented message was refused (a kernel or device without UDP
    /// GSO: `EINVAL`, `EIO`, `ENOPROTOOPT`); its datagrams went one by
    /// one. The caller should stop segmenting.
    pub segmenting_refused: bool,
}

impl SendOutcome {
    /// Counts what another send did into this one.
    fn add(&mut self, other: SendOutcome) {
        self.sent += other.sent;
        self.bytes += other.bytes;
        self.refused += other.refused;
        self.failed += other.failed;
        self.calls += other.calls;
        self.segmenting_refused |= other.segmenting_refused;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Sends every message (a `(bytes, destination)` pair, or a [`Segmented`]
/// run), `MMSG_CHUNK` per `sendmmsg` call, in order. `sent`, `bytes` and
/// `failed` count datagrams, a run's each.
///
/// A client that is not listening never stops the others: an
/// `ECONNREFUSED` (the kernel reporting an ICMP port unreachable that an
/// earlier datagram drew) is counted and the message it stopped is sent
/// again once; a segmented message the kernel cannot segment is sent
/// datagram by datagram instead; any other error drops the one message it
/// stopped, is counted, and the rest goes on. Every iteration either sends
/// at least one message or drops one, so the loop ends after at most
/// `2 * msgs.len()` calls (and those of the unsegmented resends).
pub(crate) fn send_batch<M: Outgoing>(sock: &UdpSocket, msgs: &[M]) -> SendOutcome {
    let mut out = SendOutcome::default();
    let mut next = 0;
    let mut retried_at = usize::MAX;
    while next < msgs.len() {
        let chunk = &msgs[next..msgs.len().min(next + MMSG_CHUNK)];
        match send_chunk(sock, chunk) {
            Ok(n) => {
                out.calls += 1;
                let n = n.clamp(1, chunk.len());
                out.sent += chunk[..n].iter().map(Outgoing::datagrams).sum::<u64>();
                out.bytes += chunk[..n]
                    .iter()
                    .map(|m| m.bytes().len() as u64)
                    .sum::<u64>();
                next += n;
            }
            Err(e) => {
                out.calls += 1;
                let datagrams = chunk[0].datagrams();
                match e.kind() {
                    io::ErrorKind::Interrupted => {}
                    _ if chunk[0].segment().is_some() && cannot_segment(&e) => {
                        out.segmenting_refused = true;
                        out.add(send_unsegmented(sock, &chunk[0]));
                        next += 1;
                    }
                    io::ErrorKind::ConnectionRefused if retried_at != next => {
                        out.refused += 1;
                        retried_at = next;
                    }
                    io::ErrorKind::ConnectionRefused => {
                        out.refused += 1;
                        out.failed += datagrams;
                        next += 1;
                    }
                    _ => {
                        if out.first_error.is_none() {
                            out.first_error = Some(e);
                        }
                        out.failed += datagrams;
                        next += 1;
                    }
                }
            }
        }
    }
    out
}

/// Whether a send error says the kernel cannot segment (no UDP GSO on
/// this kernel, device or route), rather than something about the peer.
fn cannot_segment(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::EIO | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
    )
}

/// A segmented message's datagrams, one by one (where the kernel cannot
/// segment).
pub(crate) fn send_unsegmented<M: Outgoing>(sock: &UdpSocket, msg: &M) -> SendOutcome {
    let seg = usize::from(msg.segment().unwrap_or(u16::MAX)).max(1);
    let mut out = SendOutcome::default();
    for piece in msg.bytes().chunks(seg * MMSG_CHUNK) {
        let nowhere: &[u8] = &[];
        let mut each = [(nowhere, msg.dest()); MMSG_CHUNK];
        let mut n = 0;
        for (slot, d) in each.iter_mut().zip(piece.chunks(seg)) {
            slot.0 = d;
            n += 1;
        }
        out.add(send_batch(sock, &each[..n]));
    }
    out
}

/// A `UDP_SEGMENT` control message: `cmsghdr` then the `u16` segment
/// size, padded to `CMSG_SPACE(2)` (the data starts right after the
/// 16-byte header on 64-bit Linux, 12 on 32-bit, both 8-aligned here).
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy)]
struct SegmentCmsg {
    hdr: libc::cmsghdr,
    segment: u16,
    _pad: [u8; 6],
}

#[cfg(target_os = "linux")]
fn send_chunk<M: Outgoing>(sock: &UdpSocket, chunk: &[M]) -> io::Result<usize> {
    // SAFETY: `mmsghdr` and `iovec` are plain C structs of integers and
    // pointers, for which all-zero bytes are a valid (empty) value.
    let mut hdrs: [libc::mmsghdr; MMSG_CHUNK] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut iovs: [libc::iovec; MMSG_CHUNK] = unsafe { std::mem::zeroed() };
    // SAFETY: as above (`cmsghdr` is integers; the rest is bytes).
    let mut cmsgs: [SegmentCmsg; MMSG_CHUNK] = unsafe { std::mem::zeroed() };
    let n = chunk.len().min(MMSG_CHUNK);
    for (i, m) in chunk.iter().take(n).enumerate() {
        let data = m.bytes();
        iovs[i].iov_base = data.as_ptr() as *mut libc::c_void;
        iovs[i].iov_len = data.len();
        let (name, namelen) = m.dest().as_ptr_len();
        hdrs[i].msg_hdr.msg_name = name as *mut libc::c_void;
        hdrs[i].msg_hdr.msg_namelen = namelen;
        hdrs[i].msg_hdr.msg_iov = &mut iovs[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
        if let Some(segment) = m.segment() {
            let c = &mut cmsgs[i];
            // SAFETY: CMSG_LEN and CMSG_SPACE only compute sizes.
            let (len, space) = unsafe { (libc::CMSG_LEN(2), libc::CMSG_SPACE(2)) };
            c.hdr.cmsg_len = len as _;
            c.hdr.cmsg_level = libc::SOL_UDP;
            c.hdr.cmsg_type = libc::UDP_SEGMENT;
            c.segment = segment;
            hdrs[i].msg_hdr.msg_control = c as *mut SegmentCmsg as *mut libc::c_void;
            hdrs[i].msg_hdr.msg_controllen =
                (space as usize).min(std::mem::size_of::<SegmentCmsg>()) as _;
        }
    }
    // SAFETY: `hdrs[..n]` are initialised headers whose `msg_iov` point
    // into `iovs`, whose `msg_name` point at the caller's `RawAddr`s and
    // whose `msg_control` (when set) point into `cmsgs`, all alive until
    // the call returns. The kernel reads the datagrams, addresses and
    // control messages (it never writes through them on send) and writes
    // only `msg_len` of the first `n` headers. `fd` is an open socket
    // owned by `sock` for the duration of the call.
    let r = unsafe {
        libc::sendmmsg(
            sock.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_NOSIGNAL,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn send_chunk<M: Outgoing>(sock: &UdpSocket, chunk: &[M]) -> io::Result<usize> {
    let mut sent = 0;
    for m in chunk {
        // No UDP GSO here: a segmented message is refused (EINVAL) and
        // `send_batch` sends its datagrams one by one.
        if m.segment().is_some() {
            if sent == 0 {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            break;
        }
        match sock.send_to(m.bytes(), m.dest().to_socket_addr()) {
            Ok(_) => sent += 1,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(sent)
}

/// Receives one datagram into `buf` without blocking. Returns its full
/// length, which is larger than `buf` when it was truncated
/// (`MSG_TRUNC`), and the address it came from; `Ok(None)` when none is
/// waiting. An ICMP error queued on the socket (Linux reports a port
/// unreachable on receive, too) is `Err` of kind `ConnectionRefused`: not
/// a datagram, and not fatal.
pub(crate) fn recv_datagram(
    sock: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<Option<(usize, Option<SocketAddr>)>> {
    loop {
        // SAFETY: all-zero bytes are a valid `sockaddr_storage` (plain
        // integers).
        let mut from: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut from_len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `buf` is a valid, exclusively borrowed byte slice of
        // `buf.len()` bytes for the duration of the call; the kernel writes
        // at most that many bytes into it, and at most `from_len` bytes of
        // address into the live local `from`. `fd` is owned by `sock`.
        let r = unsafe {
            libc::recvfrom(
                sock.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                &mut from as *mut libc::sockaddr_storage as *mut libc::sockaddr,
                &mut from_len,
            )
        };
        if r >= 0 {
            return Ok(Some((r as usize, socket_addr_of(&from))));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// The address in a `sockaddr_storage` the kernel filled, if IPv4 or IPv6.
fn socket_addr_of(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`,
            // which it is large and aligned enough for.
            let a = unsafe { &*(s as *const libc::sockaddr_storage as *const libc::sockaddr_in) };
            Some(RawAddr::V4(*a).to_socket_addr())
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for `sockaddr_in6`.
            let a = unsafe { &*(s as *const libc::sockaddr_storage as *const libc::sockaddr_in6) };
            Some(RawAddr::V6(*a).to_socket_addr())
        }
        _ => None,
    }
}

/// Which socket buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BufferDir {
    /// `SO_SNDBUF`.
    Send,
    /// `SO_RCVBUF`.
    Receive,
}

fn setsockopt_int(sock: &impl AsRawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    setsockopt_value(sock, level, name, &value)
}

/// `setsockopt` with a plain-data option value (`c_int`, `ip_mreqn`).
fn setsockopt_value<T: Copy>(
    sock: &impl AsRawFd,
    level: i32,
    name: i32,
    value: &T,
) -> io::Result<()> {
    // SAFETY: passes a pointer to a live `T` and its exact size; the kernel
    // only reads it. `fd` is open for the call.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A local interface for multicast, as `multicast-iface` names it: an
/// interface name (`lo`, `eth0`) gives its index, an address on the
/// interface (`127.0.0.1`) is used as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Iface {
    /// By index (`if_nametoindex`).
    Index(u32),
    /// By an IPv4 address on it.
    V4(std::net::Ipv4Addr),
}

impl Iface {
    /// Resolves `spec`: an IPv4 address, or the name of an interface.
    pub(crate) fn resolve(spec: &str) -> io::Result<Iface> {
        let spec = spec.trim();
        if let Ok(addr) = spec.parse::<std::net::Ipv4Addr>() {
            return Ok(Iface::V4(addr));
        }
        let name = std::ffi::CString::new(spec)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in interface name"))?;
        // SAFETY: `name` is a valid NUL-terminated string for the call.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no network interface {spec:?} (give a name such as lo, or an IPv4 address)"
                ),
            ));
        }
        Ok(Iface::Index(index))
    }

    /// The index for IPv6 calls (0, the default, for an address).
    pub(crate) fn index(self) -> u32 {
        match self {
            Iface::Index(i) => i,
            Iface::V4(_) => 0,
        }
    }

    fn mreqn(self, group: std::net::Ipv4Addr) -> libc::ip_mreqn {
        let in_addr = |a: std::net::Ipv4Addr| libc::in_addr {
            s_addr: u32::from_ne_bytes(a.octets()),
        };
        let (address, index) = match self {
            Iface::Index(i) => (std::net::Ipv4Addr::UNSPECIFIED, i),
            Iface::V4(a) => (a, 0),
        };
        libc::ip_mreqn {
            imr_multiaddr: in_addr(group),
            imr_address: in_addr(address),
            imr_ifindex: i32::try_from(index).unwrap_or(0),
        }
    }
}

/// Joins IPv4 `group` on `iface` (`IP_ADD_MEMBERSHIP` with `ip_mreqn`).
pub(crate) fn join_multicast_v4(
    sock: &UdpSocket,
    group: std::net::Ipv4Addr,
    iface: Iface,
) -> io::Result<()> {
    setsockopt_value(
        sock,
        libc::IPPROTO_IP,
        libc::IP_ADD_MEMBERSHIP,
        &iface.mreqn(group),
    )
}

/// Sends multicast out of `iface` (`IP_MULTICAST_IF`, or
/// `IPV6_MULTICAST_IF` on an IPv6 socket).
pub(crate) fn set_multicast_iface(sock: &UdpSocket, iface: Iface, v6: bool) -> io::Result<()> {
    if v6 {
        let index = i32::try_from(iface.index()).unwrap_or(0);
        return setsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF, index);
    }
    let req = iface.mreqn(std::net::Ipv4Addr::UNSPECIFIED);
    setsockopt_value(sock, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &req)
}

fn getsockopt_int(sock: &impl AsRawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live locals; the kernel writes at most
    // `len` (4) bytes into `value` and the written length into `len`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            &mut value as *mut i32 as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(value)
    }
}

/// Asks for a socket buffer of `bytes` and returns the size the kernel
/// granted (as the application sees it: Linux reports twice the usable
/// size, for its bookkeeping, and this halves it back).
///
/// An unprivileged process is capped at `net.core.rmem_max` /
/// `wmem_max` (212 992 bytes by default on Linux); when the cap bites, the
/// `SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` variants are tried, which a process
/// with `CAP_NET_ADMIN` may use, as GStreamer's udpsrc does.
pub(crate) fn set_buffer_size(sock: &UdpSocket, dir: BufferDir, bytes: usize) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    const SO_SNDBUFFORCE: i32 = 32;
    #[cfg(target_os = "linux")]
    const SO_RCVBUFFORCE: i32 = 33;
    let want = i32::try_from(bytes).unwrap_or(i32::MAX);
    let name = match dir {
        BufferDir::Send => libc::SO_SNDBUF,
        BufferDir::Receive => libc::SO_RCVBUF,
    };
    setsockopt_int(sock, libc::SOL_SOCKET, name, want)?;
    let granted = |v: i32| if cfg!(target_os = "linux") { v / 2 } else { v };
    let mut got = granted(getsockopt_int(sock, libc::SOL_SOCKET, name)?);
    #[cfg(target_os = "linux")]
    if got < want {
        let force = match dir {
            BufferDir::Send => SO_SNDBUFFORCE,
            BufferDir::Receive => SO_RCVBUFFORCE,
        };
        if setsockopt_int(sock, libc::SOL_SOCKET, force, want).is_ok() {
            got = granted(getsockopt_int(sock, libc::SOL_SOCKET, name)?);
        }
    }
    Ok(usize::try_from(got).unwrap_or(0))
}

/// A UDP socket bound to `addr`, with `SO_REUSEADDR` set first when
/// `reuse` (several receivers of one multicast group on one host), as
/// GStreamer's udpsrc `reuse=true`. Without it a port already bound fails
/// with `AddrInUse`: on Linux two unicast sockets that both set it share
/// the port, and the newer one silently gets every datagram.
pub(crate) fn bind_udp(addr: SocketAddr, reuse: bool) -> io::Result<UdpSocket> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2), is open, and nothing
    // else owns it: the OwnedFd closes it exactly once.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if reuse {
        setsockopt_int(&owned, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    }
    let raw = RawAddr::new(addr);
    let (ptr, len) = raw.as_ptr_len();
    // SAFETY: `ptr`/`len` describe the live `raw` sockaddr of the socket's
    // family; the kernel only reads it.
    let r = unsafe { libc::bind(owned.as_raw_fd(), ptr as *const libc::sockaddr, len) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UdpSocket::from(owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_addr_round_trips() {
        for s in ["127.0.0.1:5004", "[::1]:6000", "239.1.2.3:1"] {
            let a: SocketAddr = s.parse().unwrap();
            assert_eq!(RawAddr::new(a).to_socket_addr(), a);
        }
    }

    #[test]
    fn batch_reaches_a_listener_and_survives_a_closed_port() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let tx = bind_udp("127.0.0.1:0".parse().unwrap(), false).unwrap();
        let good = RawAddr::new(rx.local_addr().unwrap());
        let bad = RawAddr::new(closed_addr);
        let payloads: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 10 + i as usize]).collect();
        let mut msgs = Vec::new();
        for p in &payloads {
            msgs.push((&p[..], &bad));
            msgs.push((&p[..], &good));
        }
        let out = send_batch(&tx, &msgs);
        assert_eq!(out.sent + out.failed, 200, "{out:?}");
        assert!(out.sent >= 100, "{out:?}");
        let mut buf = [0u8; 256];
        for i in 0..100u8 {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &payloads[i as usize][..]);
        }
        let n = set_buffer_size(&tx, BufferDir::Send, 1 << 20).unwrap();
        assert!(n > 0);
    }

    /// A segmented run arrives as its datagrams, each whole and in order,
    /// beside plain messages in the same batch; `sent` counts datagrams.
    #[test]
    fn segmented_runs_arrive_as_separate_datagrams() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let tx = bind_udp("127.0.0.1:0".parse().unwrap(), false).unwrap();
        let to = RawAddr::new(rx.local_addr().unwrap());
        let mut run = Vec::new();
        for (i, n) in [1400usize, 1400, 1400, 700].into_iter().enumerate() {
            run.extend(std::iter::repeat_n(i as u8 + 1, n));
        }
        let single = [9u8; 40];
        let msgs = [
            Segmented {
                bytes: &run,
                dest: &to,
                segment: 1400,
            },
            Segmented {
                bytes: &single,
                dest: &to,
                segment: 40,
            },
        ];
        let out = send_batch(&tx, &msgs);
        assert_eq!((out.sent, out.failed), (5, 0), "{out:?}");
        assert_eq!(out.bytes, 4900 + 40);
        let mut buf = [0u8; 65536];
        for (i, n) in [1400usize, 1400, 1400, 700, 40].into_iter().enumerate() {
            let got = rx.recv(&mut buf).expect("a datagram");
            assert_eq!(got, n, "datagram {i}");
            let want = if i < 4 { i as u8 + 1 } else { 9 };
            assert!(buf[..got].iter().all(|&b| b == want), "datagram {i}");
        }
        // The fallback sends the same datagrams one by one.
        let one = send_unsegmented(&tx, &msgs[0]);
        assert_eq!((one.sent, one.failed), (4, 0), "{one:?}");
        for n in [1400, 1400, 1400, 700] {
            assert_eq!(rx.recv(&mut buf).expect("a datagram"), n);
        }
    }
}
