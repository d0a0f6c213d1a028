//! Writing a [`SessionDescription`] back as SDP text (RFC 4566 §5), in a form
//! that parses to the same value.

use super::*;
use std::collections::BTreeMap;
use std::fmt;

impl fmt::Display for SessionDescription {
    /// Writes the SDP with CRLF line endings (RFC 4566 §5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=0\r\n")?;
        write!(
            f,
            "o=- {} {} IN {} {}\r\n",
            self.session_id,
            self.session_version,
            addr_type(&self.origin_address),
            self.origin_address
        )?;
        let name = if self.session_name.is_empty() {
            " " // §5.3: s= must not be empty
        } else {
            &self.session_name
        };
        write!(f, "s={name}\r\n")?;
        if let Some(c) = &self.connection_address {
            write_connection(f, c, self.connection_ttl)?;
        }
        write!(f, "t=0 0\r\n")?;
        for (k, v) in &self.attributes {
            write_attr(f, k, v.as_deref())?;
        }
        for m in &self.media {
            write!(f, "m={} {} {}", m.media, m.port, m.protocol)?;
            for pt in &m.payload_types {
                write!(f, " {pt}")?;
            }
            write!(f, "\r\n")?;
            if let Some(c) = &m.connection_address {
                write_connection(f, c, m.connection_ttl)?;
            }
            let pt = m.payload_type();
            if !m.encoding_name.is_empty() {
                write!(f, "a=rtpmap:{pt} {}/{}\r\n", m.encoding_name, m.clock_rate)?;
            }
            if !m.fmtp.is_empty() {
                write!(f, "a=fmtp:{pt} ")?;
                // RFC 6184 and RFC 4175 examples separate with "; ".
                for (i, (k, v)) in fmtp_order(&m.fmtp).enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                write!(f, "\r\n")?;
            }
            if let Some(fr) = m.framerate {
                // Shortest form that parses back to the same value: "30",
                // "29.97".
                write!(f, "a=framerate:{fr}\r\n")?;
            }
            for (k, v) in &m.attributes {
                write_attr(f, k, v.as_deref())?;
            }
            if let Some(d) = m.direction {
                write!(f, "a={}\r\n", d.as_str())?;
            }
        }
        Ok(())
    }
}

/// fmtp parameters in a conventional order: the ones RFC 6184 and RFC 4175
/// list first, the rest alphabetically.
fn fmtp_order(p: &BTreeMap<String, String>) -> impl Iterator<Item = (&String, &String)> {
    const FIRST: [&str; 8] = [
        "packetization-mode",
        "profile-level-id",
        "sprop-parameter-sets",
        "sampling",
        "width",
        "height",
        "depth",
        "colorimetry",
    ];
    let known = FIRST.iter().filter_map(move |k| p.get_key_value(*k));
    let rest = p.iter().filter(|(k, _)| !FIRST.contains(&k.as_str()));
    known.chain(rest)
}

/// `c=IN IP4|IP6 <address>`, with `/<ttl>` for IPv4 multicast (required
/// there, RFC 4566 §5.7).
fn write_connection(f: &mut fmt::Formatter<'_>, addr: &str, ttl: Option<u8>) -> fmt::Result {
    write!(f, "c=IN {} {}", addr_type(addr), addr)?;
    if addr
        .parse::<std::net::Ipv4Addr>()
        .is_ok_and(|a| a.is_multicast())
    {
        write!(f, "/{}", ttl.unwrap_or(DEFAULT_MULTICAST_TTL))?;
    }
    write!(f, "\r\n")
}

fn write_attr(f: &mut fmt::Formatter<'_>, k: &str, v: Option<&str>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "a={k}:{v}\r\n"),
        None => write!(f, "a={k}\r\n"),
    }
}
