//! SDP (RFC 4566) for one RTP video stream: a writer whose output ffplay,
//! FFmpeg, VLC and GStreamer open, and a parser for what they (and we)
//! write.
//!
//! A session description is `<type>=<value>` lines in a fixed order
//! (§5): session-level `v o s i u e p c b t r z k a`, then per medium
//! `m i c b k a`. For a framecast sender it looks like:
//!
//! ```text
//! v=0
//! o=- 3912345678 1 IN IP4 127.0.0.1
//! s=framecast
//! c=IN IP4 127.0.0.1
//! t=0 0
//! m=video 5004 RTP/AVP 96
//! a=rtpmap:96 H264/90000
//! a=fmtp:96 packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkA...,aM48gA==
//! a=framerate:30
//! a=recvonly
//! ```
//!
//! `c=` and the `m=` port say where the receiver listens. `a=recvonly`
//! (§6) tells the tool that opens the file to start in receive-only mode,
//! which is what a client of a framecast stream does.
//!
//! The parser follows RFC 4566's grammar for every line it reads (`v o s c
//! m a`): `IN IP4|IP6` with a valid address, the TTL an IPv4 multicast
//! `c=` must carry (and no other address may), numbers that are digits,
//! tokens where the grammar says token, base64 `sprop-parameter-sets`; a
//! line that breaks it is an error naming the line and what is wrong,
//! never a value silently dropped. What it accepts, [`Display`] writes
//! back so that it parses to the same value (the round-trip property the
//! tests and the `sdp_parse` fuzz target check). It stays lenient only
//! where real files differ harmlessly: LF or CRLF, blank lines, trailing
//! blanks, unknown line types and attributes (kept, not interpreted),
//! `fmtp` parameters separated by `;` with or without spaces (FFmpeg
//! writes `; `), static payload types without `rtpmap` (FFmpeg's JPEG).
//! Input over [`MAX_SDP_SIZE`] is refused before reading it.
//!
//! [`Display`]: std::fmt::Display

use crate::error::{Error, Result};
use crate::h264;
use crate::raw::RawFormat;
use std::collections::BTreeMap;
use std::net::IpAddr;

mod write;

/// Media direction attribute (RFC 4566 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv`.
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaDescription {
    /// `video`, `audio`, ...
    pub media: String,
    /// Port the receiver listens on.
    pub port: u16,
    /// Transport, `RTP/AVP` for plain RTP.
    pub protocol: String,
    /// Payload types listed on the `m=` line; the first is the one the
    /// typed fields below describe.
    pub payload_types: Vec<u8>,
    /// `c=` of this medium, if any (overrides the session's).
    pub connection_address: Option<String>,
    /// The TTL of an IPv4 multicast `connection_address` (`c=IN IP4
    /// 239.255.0.1/15`, RFC 4566 §5.7); `None` elsewhere. Written as
    /// [`DEFAULT_MULTICAST_TTL`] when a multicast address has none.
    pub connection_ttl: Option<u8>,
    /// Encoding name from `rtpmap` (`H264`, `JPEG`, `raw`), or from the
    /// RFC 3551 table for a static payload type.
    pub encoding_name: String,
    /// Clock rate from `rtpmap` or the static table.
    pub clock_rate: u32,
    /// `fmtp` parameters of the first payload type; keys lower-cased
    /// (media type parameters are case-insensitive, RFC 4855 §3), values
    /// as written.
    pub fmtp: BTreeMap<String, String>,
    /// `a=framerate` (§6), frames per second.
    pub framerate: Option<f64>,
    /// Direction attribute, if any.
    pub direction: Option<Direction>,
    /// The other `a=` lines of the medium, as `(name, value)`: those not
    /// interpreted above (`rtpmap` and `fmtp` of the first payload type,
    /// `framerate`, the direction), kept in order and written back.
    pub attributes: Vec<(String, Option<String>)>,
}

impl MediaDescription {
    /// The first payload type (0 if the list is empty).
    pub fn payload_type(&self) -> u8 {
        self.payload_types.first().copied().unwrap_or(0)
    }

    /// A video medium with `rtpmap` `encoding/90000`.
    pub(super) fn video(port: u16, pt: u8, encoding: &str) -> Self {
        Self {
            media: "video".into(),
            port,
            protocol: "RTP/AVP".into(),
            payload_types: vec![pt],
            connection_address: None,
            connection_ttl: None,
            encoding_name: encoding.into(),
            clock_rate: 90_000,
            fmtp: BTreeMap::new(),
            framerate: None,
            direction: Some(Direction::RecvOnly),
            attributes: Vec::new(),
        }
    }
}

/// A parsed or to-be-written session description.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDescription {
    /// `o=` session id (an NTP-format timestamp is suggested, §5.2).
    pub session_id: u64,
    /// `o=` session version.
    pub session_version: u64,
    /// `o=` unicast address of the originator.
    pub origin_address: String,
    /// `s=`.
    pub session_name: String,
    /// Session-level `c=` address (without `/ttl`).
    pub connection_address: Option<String>,
    /// Its TTL, for an IPv4 multicast address (see
    /// [`MediaDescription::connection_ttl`]).
    pub connection_ttl: Option<u8>,
    /// Session-level `a=` lines.
    pub attributes: Vec<(String, Option<String>)>,
    /// The `m=` sections.
    pub media: Vec<MediaDescription>,
}

pub(super) fn addr_type(addr: &str) -> &'static str {
    if addr.contains(':') {
        "IP6"
    } else {
        "IP4"
    }
}

impl SessionDescription {
    fn base(addr: IpAddr, media: MediaDescription) -> Self {
        let addr = addr.to_string();
        Self {
            session_id: crate::rtcp::NtpTimestamp::now().0 >> 32,
            session_version: 1,
            origin_address: addr.clone(),
            session_name: "framecast".into(),
            connection_address: Some(addr),
            connection_ttl: None,
            attributes: Vec::new(),
            media: vec![media],
        }
    }

    /// H.264 (RFC 6184 §8.2.1), packetization-mode 1, with
    /// `profile-level-id` and `sprop-parameter-sets` when the SPS and PPS
    /// are known: with them a receiver can start decoding at the first IDR
    /// even if the stream does not repeat them.
    pub fn h264(
        addr: IpAddr,
        port: u16,
        payload_type: u8,
        parameter_sets: Option<(&[u8], &[u8])>,
        framerate: Option<f64>,
    ) -> Self {
        let mut m = MediaDescription::video(port, payload_type, "H264");
        m.fmtp.insert("packetization-mode".into(), "1".into());
        if let Some((sps, pps)) = parameter_sets {
            if let Some(pli) = h264::profile_level_id(sps) {
                m.fmtp.insert("profile-level-id".into(), pli);
            }
            m.fmtp.insert(
                "sprop-parameter-sets".into(),
                h264::sprop_parameter_sets(&[sps, pps]),
            );
        }
        m.framerate = framerate;
        Self::base(addr, m)
    }

    /// JPEG (RFC 2435), static payload type 26 (RFC 3551); `rtpmap` is
    /// written anyway, since some receivers look only there.
    pub fn jpeg(addr: IpAddr, port: u16, framerate: Option<f64>) -> Self {
        let mut m = MediaDescription::video(port, crate::jpeg::PAYLOAD_TYPE, "JPEG");
        m.framerate = framerate;
        Self::base(addr, m)
    }

    /// Uncompressed video (RFC 4175 §6.1). The required parameters are
    /// `sampling`, `width`, `height`, `depth` and `colorimetry`; framecast
    /// sends 8-bit, progressive, BT.709 (`BT709-2`).
    pub fn raw(
        addr: IpAddr,
        port: u16,
        payload_type: u8,
        format: RawFormat,
        width: usize,
        height: usize,
        framerate: Option<f64>,
    ) -> Self {
        let mut m = MediaDescription::video(port, payload_type, "raw");
        m.fmtp.insert("sampling".into(), format.sampling().into());
        m.fmtp.insert("width".into(), width.to_string());
        m.fmtp.insert("height".into(), height.to_string());
        m.fmtp.insert("depth".into(), "8".into());
        m.fmtp.insert("colorimetry".into(), "BT709-2".into());
        m.framerate = framerate;
        Self::base(addr, m)
    }

    /// The first video medium.
    pub fn video(&self) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.media == "video")
    }

    /// Where the receiver of `m` listens: the medium's `c=` or the
    /// session's.
    pub fn address_of<'a>(&'a self, m: &'a MediaDescription) -> Option<&'a str> {
        m.connection_address
            .as_deref()
            .or(self.connection_address.as_deref())
    }

    /// Parses an SDP.
    ///
    /// # Errors
    ///
    /// [`Error::Sdp`] naming the line number, the line (cut when long)
    /// and what is wrong: a line that is not `x=value` or holds a CR or
    /// NUL, a missing or wrong `v=0`, a malformed `o=`, `c=` (an IPv4
    /// multicast address without `/ttl`, a unicast one with it, an address
    /// that is not one), `m=`, attribute name, `rtpmap`, `fmtp` (invalid
    /// base64 in `sprop-parameter-sets`) or `framerate`; text over
    /// [`MAX_SDP_SIZE`] (line 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast_rtp::SessionDescription;
    /// let sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
    ///            m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
    ///            a=fmtp:96 packetization-mode=1; profile-level-id=42C01E\r\n";
    /// let s = SessionDescription::parse(sdp).unwrap();
    /// let v = s.video().unwrap();
    /// assert_eq!((v.port, v.payload_type(), v.encoding_name.as_str()), (5004, 96, "H264"));
    /// assert_eq!(v.fmtp["profile-level-id"], "42C01E");
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_SDP_SIZE {
            return Err(Error::Sdp {
                line: 0,
                text: String::new(),
                reason: "larger than 64 KiB: not a session description",
            });
        }
        let mut s = SessionDescription {
            session_id: 0,
            session_version: 0,
            origin_address: String::new(),
            session_name: String::new(),
            connection_address: None,
            connection_ttl: None,
            attributes: Vec::new(),
            media: Vec::new(),
        };
        let mut seen_v = false;
        let (mut seen_o, mut seen_s) = (false, false);
        let mut last_line = 0;
        for (i, raw_line) in text.split('\n').enumerate() {
            let line_no = i + 1;
            last_line = line_no;
            let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            // Trailing blanks are invisible in an editor: not worth an error.
            let line = line.trim_end_matches([' ', '\t']);
            if line.is_empty() {
                continue;
            }
            let err = |reason: &'static str| Error::Sdp {
                line: line_no,
                text: shorten(line),
                reason,
            };
            let bytes = line.as_bytes();
            if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
                return Err(err("not a `<type>=<value>` line"));
            }
            if line.contains(['\r', '\0']) {
                return Err(err("a CR or NUL inside a line (RFC 4566 §5)"));
            }
            let (kind, value) = (bytes[0], &line[2..]);
            if !seen_v {
                if kind != b'v' || value != "0" {
                    return Err(err("an SDP starts with v=0"));
                }
                seen_v = true;
                continue;
            }
            match kind {
                b'v' => return Err(err("second v= line")),
                b'o' => {
                    // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
                    let f = fields(value);
                    if f.len() != 6 {
                        return Err(err(
                            "o= needs 6 fields: `- <id> <version> IN IP4 <address>`",
                        ));
                    }
                    let number = |v: &str, what| {
                        if digits(v) {
                            // Some tools write ids larger than 64 bits: kept as 0.
                            Ok(v.parse().unwrap_or(0))
                        } else {
                            Err(err(what))
                        }
                    };
                    s.session_id = number(f[1], "o= session id is not a number")?;
                    s.session_version = number(f[2], "o= session version is not a number")?;
                    let v6 = net_and_addr_type(f[3], f[4]).map_err(err)?;
                    check_host(f[5], v6).map_err(err)?;
                    s.origin_address = f[5].to_string();
                    seen_o = true;
                }
                b's' => {
                    s.session_name = value.trim().to_string();
                    seen_s = true;
                }
                b'c' => {
                    let (addr, ttl) = parse_connection(value).map_err(err)?;
                    match s.media.last_mut() {
                        Some(m) => {
                            m.connection_address = Some(addr);
                            m.connection_ttl = ttl;
                        }
                        None => {
                            s.connection_address = Some(addr);
                            s.connection_ttl = ttl;
                        }
                    }
                }
                b'm' => s.media.push(parse_media(value).map_err(err)?),
                b'a' => {
                    let (name, val) = match value.split_once(':') {
                        Some((n, v)) => (n, Some(v)),
                        None => (value, None),
                    };
                    if !is_token(name) {
                        return Err(err("the attribute name is not a token (RFC 4566 §9)"));
                    }
                    let Some(m) = s.media.last_mut() else {
                        s.attributes
                            .push((name.to_string(), val.map(str::to_string)));
                        continue;
                    };
                    let interpreted = match (name, val) {
                        ("rtpmap", Some(v)) => parse_rtpmap(m, v).map_err(err)?,
                        ("fmtp", Some(v)) => parse_fmtp(m, v).map_err(err)?,
                        ("framerate", Some(v)) => {
                            m.framerate = Some(parse_framerate(v).ok_or_else(|| {
                                err("bad framerate: a positive decimal such as 30 or 29.97")
                            })?);
                            true
                        }
                        (d, None) if Direction::parse(d).is_some() => {
                            m.direction = Direction::parse(d);
                            true
                        }
                        _ => false,
                    };
                    if !interpreted {
                        m.attributes
                            .push((name.to_string(), val.map(str::to_string)));
                    }
                }
                _ => {} // t, i, u, e, p, b, r, z, k: nothing a receiver of one stream needs
            }
        }
        if !seen_v || !seen_o || !seen_s {
            // §5: v=, o= and s= are required.
            return Err(Error::Sdp {
                line: last_line.max(1),
                text: String::new(),
                reason: "missing v=, o= or s= line (RFC 4566 §5)",
            });
        }
        Ok(s)
    }
}

/// The largest SDP [`SessionDescription::parse`] reads (and what a reader
/// of an SDP file should read at most): a description of a few streams is
/// a few hundred bytes, so anything near this is not one (`/dev/zero`, a
/// video file given by mistake).
pub const MAX_SDP_SIZE: usize = 64 * 1024;

/// TTL written for an IPv4 multicast `c=` whose TTL is not set: 1, the
/// local network only (udpsink's `ttl-mc` default, as GStreamer's).
pub const DEFAULT_MULTICAST_TTL: u8 = 1;

/// A line as an error shows it: long lines cut (a 64 KiB line would make a
/// 64 KiB message).
fn shorten(line: &str) -> String {
    const MAX: usize = 120;
    if line.len() <= MAX {
        return line.to_string();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &line[..end], line.len())
}

/// The space-separated fields of a value (runs of spaces tolerated).
fn fields(value: &str) -> Vec<&str> {
    value.split(' ').filter(|f| !f.is_empty()).collect()
}

/// `1*DIGIT`: Rust's integer parsers also take a leading `+`.
fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1*DIGIT` as a number that fits `T`.
fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    digits(s).then(|| s.parse().ok()).flatten()
}

/// RFC 4566 §9 `token`: visible ASCII except the separators
/// `"(),/:;<=>?@[\]` (media, protocol parts, encoding and attribute names).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            matches!(b, 0x21 | 0x23..=0x27 | 0x2a..=0x2b | 0x2d..=0x2e | 0x30..=0x39
                | 0x41..=0x5a | 0x5e..=0x7e)
        })
}

/// `IN IP4` or `IN IP6` (the only network and address types framecast
/// reads); whether it is IPv6.
fn net_and_addr_type(net: &str, addr: &str) -> std::result::Result<bool, &'static str> {
    if net != "IN" {
        return Err("the network type must be IN (RFC 4566 §5.7)");
    }
    match addr {
        "IP4" => Ok(false),
        "IP6" => Ok(true),
        _ => Err("the address type must be IP4 or IP6"),
    }
}

/// An address of the given type: a literal, or a domain name.
fn check_host(host: &str, v6: bool) -> std::result::Result<(), &'static str> {
    let name = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let looks_v4 = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if host.is_empty() {
        Err("no address")
    } else if v6 {
        match host.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) if looks_v4 || host.contains(':') || !name => Err("not an IPv6 address"),
            Err(_) => Ok(()),
        }
    } else if looks_v4 {
        match host.parse::<std::net::Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err("not an IPv4 address"),
        }
    } else if name {
        Ok(())
    } else {
        Err("not an IP address or a host name")
    }
}

/// `c=IN IP4|IP6 <address>[/<ttl>]`: the address and, for IPv4 multicast,
/// the TTL, which RFC 4566 §5.7 requires there and forbids elsewhere.
/// Several addresses (`/<number>`) are not supported.
fn parse_connection(value: &str) -> std::result::Result<(String, Option<u8>), &'static str> {
    let f = fields(value);
    if f.len() != 3 {
        return Err("c= must be `IN IP4|IP6 <address>`");
    }
    let v6 = net_and_addr_type(f[0], f[1])?;
    let (host, suffix) = match f[2].split_once('/') {
        Some((h, rest)) => (h, Some(rest)),
        None => (f[2], None),
    };
    check_host(host, v6)?;
    let multicast = host.parse::<IpAddr>().is_ok_and(|a| a.is_multicast());
    match (multicast, v6, suffix) {
        (true, false, Some(ttl)) => {
            if ttl.contains('/') {
                return Err("several multicast addresses (`/<number>`) are not supported");
            }
            let ttl = number::<u8>(ttl).ok_or("the multicast TTL must be a number in 0..=255")?;
            Ok((host.to_string(), Some(ttl)))
        }
        (true, false, None) => Err("an IPv4 multicast address needs `/<ttl>` (RFC 4566 §5.7)"),
        (true, true, Some(_)) => Err("several multicast addresses (`/<number>`) are not supported"),
        (false, _, Some(_)) => Err("only a multicast address takes `/<ttl>`"),
        (_, _, None) => Ok((host.to_string(), None)),
    }
}

/// `m=<media> <port> <proto> <fmt> ...` (one port: `/<number>` is not
/// supported); RTP payload types as formats.
fn parse_media(value: &str) -> std::result::Result<MediaDescription, &'static str> {
    let f = fields(value);
    if f.len() < 4 {
        return Err("m= needs media, port, protocol and formats");
    }
    if !is_token(f[0]) {
        return Err("the media type is not a token");
    }
    if f[1].contains('/') {
        return Err("several ports (`<port>/<number>`) are not supported");
    }
    let port = number::<u16>(f[1]).ok_or("bad port on m= line: a number in 0..=65535")?;
    if !f[2].split('/').all(is_token) {
        return Err("the protocol is not `<token>/<token>...`");
    }
    let mut pts = Vec::new();
    for fmt in &f[3..] {
        let pt = number::<u8>(fmt).filter(|&p| p < 128);
        pts.push(pt.ok_or("RTP payload types are 0..=127")?);
    }
    let (encoding_name, clock_rate) = static_payload(pts[0])
        .map(|(n, c)| (n.to_string(), c))
        .unwrap_or_default();
    Ok(MediaDescription {
        media: f[0].to_string(),
        port,
        protocol: f[2].to_string(),
        payload_types: pts,
        connection_address: None,
        connection_ttl: None,
        encoding_name,
        clock_rate,
        fmtp: BTreeMap::new(),
        framerate: None,
        direction: None,
        attributes: Vec::new(),
    })
}

/// The payload type in front of an `rtpmap` or `fmtp` value.
fn attribute_pt(p: &str, what: &'static str) -> std::result::Result<u8, &'static str> {
    number::<u8>(p).filter(|&p| p < 128).ok_or(what)
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<parameters>]` (§6); whether it was
/// the first payload type's (taken into `m`).
fn parse_rtpmap(m: &mut MediaDescription, v: &str) -> std::result::Result<bool, &'static str> {
    let shape = "rtpmap needs `<pt> <encoding>/<clock>`";
    let (p, rest) = v.split_once(' ').ok_or(shape)?;
    let p = attribute_pt(p, "bad rtpmap payload type: a number in 0..=127")?;
    let mut parts = rest.trim().split('/');
    let enc = parts.next().unwrap_or("");
    if !is_token(enc) {
        return Err("the rtpmap encoding name is empty or not a token");
    }
    let clock = parts
        .next()
        .and_then(number::<u32>)
        .filter(|&c| c > 0)
        .ok_or("bad rtpmap clock rate: a positive number")?;
    match (parts.next(), parts.next()) {
        (None, _) => {}
        (Some(params), None) if is_token(params) => {}
        _ => return Err(shape),
    }
    if p != m.payload_type() {
        return Ok(false);
    }
    m.encoding_name = enc.to_string();
    m.clock_rate = clock;
    Ok(true)
}

/// `a=fmtp:<pt> <key>=<value>;...`: parameters separated by `;` with or
/// without spaces; whether it was the first payload type's (merged into
/// `m.fmtp`). `sprop-parameter-sets` must be base64 NAL units.
fn parse_fmtp(m: &mut MediaDescription, v: &str) -> std::result::Result<bool, &'static str> {
    let (p, params) = v.split_once(' ').unwrap_or((v, ""));
    let p = attribute_pt(p, "bad fmtp payload type: a number in 0..=127")?;
    if p != m.payload_type() {
        return Ok(false);
    }
    for param in params.split(';') {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if !is_token(&k) {
            return Err("an fmtp parameter name is empty or not a token");
        }
        if k == "sprop-parameter-sets" && h264::parse_sprop_parameter_sets(v).is_err() {
            return Err("sprop-parameter-sets is not a list of base64 NAL units (RFC 6184 §8.1)");
        }
        m.fmtp.insert(k, v.to_string());
    }
    Ok(true)
}

/// `a=framerate:<decimal>` (§6), positive.
fn parse_framerate(v: &str) -> Option<f64> {
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    if !digits(int) || !digits(frac) {
        return None;
    }
    v.parse::<f64>().ok().filter(|f| f.is_finite() && *f > 0.0)
}

/// RFC 3551 §6 static video (and common audio) payload types.
fn static_payload(pt: u8) -> Option<(&'static str, u32)> {
    Some(match pt {
        0 => ("PCMU", 8000),
        8 => ("PCMA", 8000),
        14 => ("MPA", 90_000),
        26 => ("JPEG", 90_000),
        31 => ("H261", 90_000),
        32 => ("MPV", 90_000),
        33 => ("MP2T", 90_000),
        34 => ("H263", 90_000),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
