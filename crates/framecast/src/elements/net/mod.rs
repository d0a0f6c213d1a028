//! The network elements (`udpsink`, `udpsrc`) and what they share: the
//! SDP form of RTP caps ([`sdp_for_caps`], [`caps_for_sdp`]), client
//! lists, the sender's RTCP feedback thread, and the socket calls `std`
//! lacks (`sys`, the only `unsafe` of the network elements).
//!
//! # RTP caps
//!
//! Payloaders describe their output as GStreamer does, so that the same
//! caps strings work in both (`udpsrc caps="application/x-rtp,..."`):
//!
//! ```text
//! application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96,
//!     packetization-mode=1,profile-level-id=42C01F,sprop-parameter-sets="Z0LAH9kA...,aM48gA=="
//! application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26
//! application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,payload=96,
//!     sampling=YCbCr-4:2:0,depth=(string)8,width=(string)640,height=(string)480,colorimetry=BT709-2
//! ```
//!
//! Media-type parameters travel as strings (they are SDP `fmtp` text; RFC
//! 4175 even writes `width` that way), plus `a-framerate` when the input
//! framerate is known. [`sdp_for_caps`] turns such caps into the SDP a
//! player opens; [`caps_for_sdp`] reads an SDP back into caps for `udpsrc`.

pub(crate) mod feedback;
pub mod http;
pub mod rtsp;
pub(crate) mod sys;
pub mod udpsink;
pub mod udpsrc;
pub mod whepsink;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;

use framecast_rtp::sdp::MediaDescription;
use framecast_rtp::SessionDescription;

use framecast_rtp::raw::RawFormat;

use crate::elements::rtp::caps::{
    caps_framerate, field_text, field_usize, RTP_MEDIA_TYPE, VIDEO_CLOCK_RATE,
};
#[cfg(test)]
use crate::elements::rtp::caps::{random_u32, rtp_template};
use crate::elements::rtp::header_ext::parse_extmap;
use crate::pipeline::{Caps, ElementFactory, Structure, Value};
use crate::{Error, Result};

/// Registers the network elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    factories.push(udpsink::factory());
    factories.push(udpsrc::factory());
    factories.push(rtsp::rtspclientsink::factory());
    factories.push(rtsp::rtspserversink::factory());
    factories.push(http::httpserversink::factory());
    factories.push(rtsp::rtspsrc::factory());
    factories.push(whepsink::factory());
}

/// A server sink's two hooks: ask upstream for a keyframe (a
/// force-key-unit event from its sink pad), and post a warning on the bus
/// under its name. Shared by the servers' sinks (`rtspserversink`,
/// `whepsink`), whose servers call them from their own threads.
pub(crate) type ServerHooks = (Box<dyn Fn() + Send + Sync>, Box<dyn Fn(&str) + Send + Sync>);

/// [`ServerHooks`] for `element`.
pub(crate) fn server_hooks(element: &crate::pipeline::Element) -> ServerHooks {
    let pad = std::sync::Mutex::new(element.sink_pad());
    let warn = std::sync::Mutex::new(element.clone());
    (
        Box::new(move || {
            use framecast_core::sync::MutexExt;
            if let Some(p) = pad.locked().as_ref() {
                p.push_event(crate::pipeline::Event::force_key_unit_upstream(true));
            }
        }),
        Box::new(move |m| {
            use framecast_core::sync::MutexExt;
            warn.locked().post_warning(m.to_string(), None)
        }),
    )
}

/// Resolves `host` (a name or an address) and `port` to the first
/// address, IPv4 preferred.
pub(crate) fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let resolving = || format!("resolving {host:?}");
    let addrs = (host, port).to_socket_addrs().map_err(|source| Error::Io {
        context: resolving(),
        source,
    })?;
    // The first IPv4 address, else the first one.
    let (v4, other): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs.partition(SocketAddr::is_ipv4);
    v4.into_iter().chain(other).next().ok_or_else(|| Error::Io {
        context: resolving(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
    })
}

/// Parses a client list `host:port,host:port` (IPv6 as `[addr]:port`),
/// resolving names.
///
/// # Errors
///
/// An entry without a port (said so: `127.0.0.1` alone once came back as
/// "invalid socket address"), with a bad port or port 0 (no receiver
/// listens there: datagrams to it go nowhere, silently), or a name that
/// does not resolve.
pub fn parse_clients(list: &str) -> Result<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = |why: &str| Error::Parse {
            what: "udp client list",
            input: list.to_string(),
            position: list.find(entry).unwrap_or(0),
            token: entry.to_string(),
            message: why.to_string(),
            suggestion: None,
        };
        // `::1` and `[::1]` are addresses without a port, not a host `:`
        // and a port `1]`.
        let (host, port) = entry
            .rsplit_once(':')
            .filter(|(h, p)| !p.ends_with(']') && (!h.contains(':') || h.ends_with(']')))
            .ok_or_else(|| {
                bad("the :PORT is missing (expected HOST:PORT, e.g. 127.0.0.1:5000; IPv6 as [ADDR]:PORT)")
            })?;
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port must be a number in 1..=65535"))?;
        if port == 0 {
            return Err(bad(
                "port 0 is no receiver's port: give the port the receiver listens on",
            ));
        }
        out.push(resolve(host, port)?);
    }
    Ok(out)
}

/// The SDP `encoding-name` field of RTP caps, upper-cased.
fn encoding_name(s: &Structure) -> Option<String> {
    s.get_str("encoding-name").map(|n| n.to_ascii_uppercase())
}

/// The SDP (RFC 4566) that lets a player receive the stream described by
/// RTP `caps` at `host:port`: H.264 with `profile-level-id` and
/// `sprop-parameter-sets` when the caps carry them, JPEG (static payload
/// type 26), or raw video with `sampling`, `width`, `height`.
///
/// `host` is where the receiver listens (the sender's destination, a
/// multicast group, or the receiver's own address).
///
/// # Errors
///
/// Caps that are not fixed RTP video caps of one of these encodings, or
/// that lack a required parameter (raw video: `sampling`, `width`,
/// `height`).
///
/// # Examples
///
/// ```
/// use framecast::elements::net::sdp_for_caps;
/// use framecast::pipeline::Caps;
/// let caps: Caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26"
///     .parse()?;
/// let sdp = sdp_for_caps(&caps, "127.0.0.1".parse().unwrap(), 5004)?.to_string();
/// assert!(sdp.contains("m=video 5004 RTP/AVP 26"));
/// # Ok::<(), framecast::Error>(())
/// ```
pub fn sdp_for_caps(caps: &Caps, host: IpAddr, port: u16) -> Result<SessionDescription> {
    let bad = |why: String| Error::Element {
        element: "sdp".into(),
        message: format!("cannot describe {caps} in SDP: {why}"),
    };
    let s = match caps.structures() {
        [s] if s.has_name(RTP_MEDIA_TYPE) => s,
        _ => return Err(bad("not one application/x-rtp structure".into())),
    };
    let pt = s
        .get_int("payload")
        .and_then(|p| u8::try_from(p).ok())
        .filter(|p| *p < 128);
    let framerate = caps_framerate(s);
    let name = encoding_name(s).ok_or_else(|| bad("no encoding-name".into()))?;
    let mut sdp = match name.as_str() {
        "H264" => {
            let sets = s
                .get_str("sprop-parameter-sets")
                .and_then(|v| framecast_rtp::h264::parse_sprop_parameter_sets(v).ok());
            let ps = sets.as_ref().and_then(|sets| {
                let sps = sets
                    .iter()
                    .find(|n| n.first().is_some_and(|b| b & 0x1f == 7))?;
                let pps = sets
                    .iter()
                    .find(|n| n.first().is_some_and(|b| b & 0x1f == 8))?;
                Some((&sps[..], &pps[..]))
            });
            let mut sdp = SessionDescription::h264(host, port, pt.unwrap_or(96), ps, framerate);
            if let Some(m) = sdp.media.first_mut() {
                if let Some(pli) = s.get_str("profile-level-id") {
                    m.fmtp
                        .entry("profile-level-id".into())
                        .or_insert_with(|| pli.to_string());
                }
            }
            sdp
        }
        "JPEG" => {
            let mut sdp = SessionDescription::jpeg(host, port, framerate);
            if let (Some(pt), Some(m)) = (pt, sdp.media.first_mut()) {
                m.payload_types = vec![pt];
            }
            sdp
        }
        "RAW" => {
            let sampling = field_text(s, "sampling").ok_or_else(|| bad("no sampling".into()))?;
            let format = RawFormat::from_sampling(&sampling)
                .ok_or_else(|| bad(format!("sampling {sampling} is not supported")))?;
            let width = field_usize(s, "width").ok_or_else(|| bad("no width".into()))?;
            let height = field_usize(s, "height").ok_or_else(|| bad("no height".into()))?;
            SessionDescription::raw(
                host,
                port,
                pt.unwrap_or(96),
                format,
                width,
                height,
                framerate,
            )
        }
        other => return Err(bad(format!("encoding {other} is not one framecast sends"))),
    };
    sdp.session_name = "framecast".into();
    Ok(sdp)
}

/// Adds to the first medium of `sdp` the RTCP feedback a framecast
/// sender answers (RFC 4585 §4.2 `a=rtcp-fb`): keyframe requests (`nack
/// pli`, `ccm fir`) always, and with `rtx_pt` the Generic NACK and the RTX
/// payload type that resends (RFC 4588 §8.6: `a=rtpmap:<rtx> rtx/<rate>`,
/// `a=fmtp:<rtx> apt=<media>`). Players that know none of it ignore it.
pub fn advertise_feedback(sdp: &mut SessionDescription, rtx_pt: Option<u8>) {
    let Some(m) = sdp.media.first_mut() else {
        return;
    };
    let pt = m.payload_type();
    if let Some(rtx) = rtx_pt.filter(|&r| r != pt && r < 128) {
        m.attributes
            .push(("rtcp-fb".into(), Some(format!("{pt} nack"))));
        if !m.payload_types.contains(&rtx) {
            m.payload_types.push(rtx);
        }
        m.attributes
            .push(("rtpmap".into(), Some(format!("{rtx} rtx/{}", m.clock_rate))));
        m.attributes
            .push(("fmtp".into(), Some(format!("{rtx} apt={pt}"))));
    }
    m.attributes
        .push(("rtcp-fb".into(), Some(format!("{pt} nack pli"))));
    m.attributes
        .push(("rtcp-fb".into(), Some(format!("{pt} ccm fir"))));
}

/// The payload type framecast's FEC packets (ULPFEC, RFC 5109) go on
/// unless told otherwise.
pub const FEC_PAYLOAD_TYPE: u8 = 100;

/// Adds the ULPFEC payload type to the first medium of `sdp` (RFC 5109
/// §14.1: `a=rtpmap:<pt> ulpfec/<rate>`, sent as a separate stream on its
/// own SSRC). Players that know none of it ignore it.
pub fn advertise_fec(sdp: &mut SessionDescription, fec_pt: u8) {
    let Some(m) = sdp.media.first_mut() else {
        return;
    };
    if fec_pt == m.payload_type() || fec_pt > 127 {
        return;
    }
    if !m.payload_types.contains(&fec_pt) {
        m.payload_types.push(fec_pt);
    }
    m.attributes.push((
        "rtpmap".into(),
        Some(format!("{fec_pt} ulpfec/{}", m.clock_rate)),
    ));
}

/// The ULPFEC payload type an SDP medium declares (`a=rtpmap:<n>
/// ulpfec/...`), if any.
pub fn fec_payload_type(m: &MediaDescription) -> Option<u8> {
    m.attributes.iter().find_map(|(name, value)| {
        let (pt, enc) = value.as_deref()?.split_once(' ')?;
        (name == "rtpmap" && enc.to_ascii_lowercase().starts_with("ulpfec/"))
            .then(|| pt.parse().ok())
            .flatten()
    })
}

/// The RTX payload type an SDP medium declares for its first payload
/// type (`a=rtpmap:<n> rtx/...` with `a=fmtp:<n> apt=<first>`), if any.
pub fn rtx_payload_type(m: &MediaDescription) -> Option<u8> {
    let pt = m.payload_type();
    m.attributes.iter().find_map(|(name, value)| {
        if name != "fmtp" {
            return None;
        }
        let (rtx, params) = value.as_deref()?.split_once(' ')?;
        let rtx: u8 = rtx.parse().ok()?;
        let apt = params
            .split(';')
            .find_map(|p| p.trim().strip_prefix("apt="))?
            .parse::<u8>()
            .ok()?;
        let is_rtx = m.attributes.iter().any(|(n, v)| {
            n == "rtpmap"
                && v.as_deref().is_some_and(|v| {
                    v.split_once(' ').is_some_and(|(n, enc)| {
                        n == rtx.to_string() && enc.to_ascii_lowercase().starts_with("rtx/")
                    })
                })
        });
        (apt == pt && is_rtx).then_some(rtx)
    })
}

/// The RTP caps a receiver of SDP medium `m` should set on `udpsrc`, as
/// GStreamer's `gst_sdp_media_get_caps_from_media`: `media`, `payload`,
/// `clock-rate`, `encoding-name` (upper case), every `fmtp` parameter as a
/// string, and `a-framerate`.
///
/// # Errors
///
/// A medium without a payload type.
pub fn caps_for_media(m: &MediaDescription) -> Result<Caps> {
    let pt = m
        .payload_types
        .first()
        .copied()
        .ok_or_else(|| Error::Element {
            element: "sdp".into(),
            message: "the m= line lists no payload type".into(),
        })?;
    let mut s = Structure::new(RTP_MEDIA_TYPE)?;
    s.set("media", m.media.as_str())?;
    s.set("payload", i32::from(pt))?;
    s.set(
        "clock-rate",
        i32::try_from(m.clock_rate).unwrap_or(VIDEO_CLOCK_RATE),
    )?;
    let name = m.encoding_name.to_ascii_uppercase();
    s.set("encoding-name", name.as_str())?;
    for (k, v) in &m.fmtp {
        let valid = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if valid && !s.has_field(k) {
            s.set(k, Value::String(v.clone()))?;
        }
    }
    if let Some(fps) = m.framerate {
        s.set("a-framerate", Value::String(format!("{fps}")))?;
    }
    // RFC 8285 header extensions as GStreamer's caps carry them
    // (`extmap-<id>=<uri>`): the jitter buffer reads the ones it knows.
    let extmap = m.attributes.iter().filter(|(k, _)| k == "extmap");
    for (id, uri) in extmap.filter_map(|(_, v)| parse_extmap(v.as_deref()?)) {
        s.set(&format!("extmap-{id}"), uri)?;
    }
    Ok(Caps::from_structure(s))
}

/// The caps, listening address and port of the first video medium of
/// `sdp` (for `udpsrc sdp-file=`).
///
/// # Errors
///
/// No video medium, or [`caps_for_media`]'s.
pub fn caps_for_sdp(sdp: &SessionDescription) -> Result<(Caps, Option<IpAddr>, u16)> {
    let m = sdp.video().ok_or_else(|| Error::Element {
        element: "sdp".into(),
        message: "the SDP has no video medium".into(),
    })?;
    let addr = sdp.address_of(m).and_then(|a| a.parse::<IpAddr>().ok());
    Ok((caps_for_media(m)?, addr, m.port))
}

/// Reads and parses an SDP file, reading at most
/// [`MAX_SDP_SIZE`](framecast_rtp::sdp::MAX_SDP_SIZE) bytes: a path that
/// is not an SDP (`/dev/zero`, a video file) is refused after 64 KiB
/// instead of being read whole into memory.
///
/// # Errors
///
/// I/O errors, a file over 64 KiB or not UTF-8, and SDP syntax errors
/// (with the line).
pub fn read_sdp_file(path: &Path) -> Result<SessionDescription> {
    use framecast_rtp::sdp::MAX_SDP_SIZE;
    use std::io::Read;
    let io = |source| Error::Io {
        context: format!("reading SDP {}", path.display()),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SDP_SIZE as u64 + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() > MAX_SDP_SIZE {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} KiB: not a session description",
                MAX_SDP_SIZE / 1024
            ),
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()),
        ))
    })?;
    SessionDescription::parse(&text).map_err(|e| Error::Element {
        element: "sdp".into(),
        message: format!("{}: {e}", path.display()),
    })
}

/// Writes `sdp` to `path` through a temporary file and a rename, so that a
/// player never reads half a file.
///
/// # Errors
///
/// I/O errors, with the path.
pub fn write_sdp_file(path: &Path, sdp: &SessionDescription) -> Result<()> {
    let io = |source| Error::Io {
        context: format!("writing SDP {}", path.display()),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, sdp.to_string()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// A string setting trimmed, `None` when unset or empty.
pub(crate) fn text_setting(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_parse_and_reject() {
        let c = parse_clients("127.0.0.1:5000, [::1]:5002,").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], "127.0.0.1:5000".parse().unwrap());
        assert_eq!(c[1], "[::1]:5002".parse().unwrap());
        let err = |list: &str| parse_clients(list).unwrap_err().to_string();
        for no_port in ["127.0.0.1", "::1", "[::1]", "localhost"] {
            assert!(err(no_port).contains("the :PORT is missing"), "{no_port}");
        }
        assert!(err("127.0.0.1:70000").contains("1..=65535"));
        assert!(err("127.0.0.1:0").contains("port 0"));
    }

    #[test]
    fn sdp_round_trips_through_caps() {
        let caps: Caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,\
                          payload=96,sampling=YCbCr-4:2:0,depth=(string)8,width=(string)64,\
                          height=(string)48,a-framerate=(string)30"
            .parse()
            .unwrap();
        let sdp = sdp_for_caps(&caps, "127.0.0.1".parse().unwrap(), 5004).unwrap();
        let text = sdp.to_string();
        assert!(text.contains("a=rtpmap:96 raw/90000"), "{text}");
        assert!(text.contains("sampling=YCbCr-4:2:0"), "{text}");
        let back = SessionDescription::parse(&text).unwrap();
        let (caps2, addr, port) = caps_for_sdp(&back).unwrap();
        assert_eq!(port, 5004);
        assert_eq!(addr, Some("127.0.0.1".parse().unwrap()));
        let s = caps2.structure(0).unwrap();
        assert_eq!(field_usize(s, "width"), Some(64));
        assert_eq!(s.get_str("encoding-name"), Some("RAW"));
        assert_eq!(caps_framerate(s), Some(30.0));
        assert!(caps2.can_intersect(&rtp_template("RAW")));
    }

    #[test]
    fn h264_sdp_has_parameter_sets() {
        let caps: Caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,\
                          payload=96,sprop-parameter-sets=\"Z0LAHtkA,aM48gA==\""
            .parse()
            .unwrap();
        let text = sdp_for_caps(&caps, "127.0.0.1".parse().unwrap(), 5000)
            .unwrap()
            .to_string();
        assert!(
            text.contains("sprop-parameter-sets=Z0LAHtkA,aM48gA=="),
            "{text}"
        );
        assert!(text.contains("profile-level-id=42C01E"), "{text}");
        assert!(text.contains("packetization-mode=1"), "{text}");
    }

    #[test]
    fn an_sdp_file_is_read_up_to_64_kib() {
        let t = std::time::Instant::now();
        let e = read_sdp_file(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than 64 KiB"), "{e}");
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        let dir = std::env::temp_dir().join(format!("fc-sdp-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (big, bad) = (dir.join("big.sdp"), dir.join("bad.sdp"));
        let mut text = "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\n".to_string();
        while text.len() <= 64 * 1024 {
            text.push_str("a=tool:padding\n");
        }
        std::fs::write(&big, &text).unwrap();
        let e = read_sdp_file(&big).unwrap_err().to_string();
        assert!(
            e.contains("larger than 64 KiB") && e.contains("big.sdp"),
            "{e}"
        );
        std::fs::write(&bad, b"v=0\n\xff\n").unwrap();
        let e = read_sdp_file(&bad).unwrap_err().to_string();
        assert!(e.contains("not UTF-8 text (at byte 4)"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn random_values_differ() {
        let v: Vec<u32> = (0..8).map(|_| random_u32()).collect();
        assert!(v.windows(2).any(|w| w[0] != w[1]));
    }
}
