//! The body of a WHEP PATCH: an `application/trickle-ice-sdpfrag`
//! (RFC 8840 section 9; RFC 9725 section 4.3.1).
//!
//! ```text
//! a=ice-ufrag:EsAw
//! a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
//! m=video 9 UDP/TLS/RTP/SAVPF 102
//! a=mid:0
//! a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host
//! a=end-of-candidates
//! ```
//!
//! Each `a=candidate` line goes through str0m's candidate parser. A
//! candidate whose address is a name (the mDNS `*.local` names Chromium
//! uses to hide local addresses) is skipped, not refused: ICE-lite learns
//! the real address from the browser's connectivity checks.

use std::net::IpAddr;

use str0m::Candidate;

use crate::{ErrorKind, WebrtcError};

/// The most lines a fragment may have (a browser sends a handful).
pub const MAX_LINES: usize = 256;

/// A parsed trickle-ICE fragment.
#[derive(Debug, Default)]
pub struct Fragment {
    /// `a=ice-ufrag`: names the ICE session; another than the session's
    /// asks for an ICE restart.
    pub ufrag: Option<String>,
    /// `a=ice-pwd`.
    pub pwd: Option<String>,
    /// The candidates with an IP address.
    pub candidates: Vec<Candidate>,
    /// Candidates skipped for having a name (mDNS) instead of an address.
    pub skipped: usize,
    /// Whether `a=end-of-candidates` was given.
    pub end_of_candidates: bool,
}

impl Fragment {
    /// Parses a fragment.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadRequest`] naming the line: a line that is not
    /// `x=value`, a candidate with an address that does not parse, more
    /// than [`MAX_LINES`] lines.
    pub fn parse(text: &str) -> Result<Fragment, WebrtcError> {
        let bad = |n: usize, why: String| {
            WebrtcError::new(
                ErrorKind::BadRequest,
                format!("trickle-ice-sdpfrag line {}: {why}", n + 1),
            )
        };
        let mut frag = Fragment::default();
        for (n, line) in text.lines().enumerate() {
            if n >= MAX_LINES {
                return Err(bad(n, format!("more than {MAX_LINES} lines")));
            }
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let Some((kind, value)) = line.split_once('=') else {
                return Err(bad(n, format!("{line:?} is not an SDP line (x=value)")));
            };
            if kind.len() != 1 {
                return Err(bad(n, format!("{line:?} is not an SDP line (x=value)")));
            }
            if kind != "a" {
                continue; // m=, c=: the bundle has one transport
            }
            let (name, arg) = value.split_once(':').unwrap_or((value, ""));
            match name {
                "ice-ufrag" => frag.ufrag = Some(arg.trim().to_string()),
                "ice-pwd" => frag.pwd = Some(arg.trim().to_string()),
                "end-of-candidates" => frag.end_of_candidates = true,
                "candidate" => match Candidate::from_sdp_string(value.trim()) {
                    Ok(c) => frag.candidates.push(c),
                    Err(e) => {
                        // Field 5 is the address (RFC 8839 section 5.1).
                        let address = arg.split_whitespace().nth(4);
                        if address.is_some_and(|a| a.parse::<IpAddr>().is_err()) {
                            frag.skipped += 1;
                        } else {
                            return Err(bad(n, e.to_string()));
                        }
                    }
                },
                _ => {}
            }
        }
        Ok(frag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_chromium_fragment_gives_its_address_candidates_and_skips_mdns() {
        let text = "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\n\
            a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n\
            a=candidate:2 1 udp 2122260223 4b2f7a9c-1d3e-4f5a-9b8c-7d6e5f4a3b2c.local 50000 typ host\r\n\
            a=end-of-candidates\r\n";
        let f = Fragment::parse(text).expect("parses");
        assert_eq!(f.ufrag.as_deref(), Some("EsAw"));
        assert_eq!(f.pwd.as_deref(), Some("P2uYro0UCOQ4zxjKXaWCBui1"));
        assert_eq!(f.candidates.len(), 1);
        assert_eq!(f.candidates[0].addr().to_string(), "192.0.2.1:61764");
        assert_eq!(f.skipped, 1);
        assert!(f.end_of_candidates);
    }

    #[test]
    fn a_broken_line_is_refused_with_its_number() {
        let e = Fragment::parse("a=ice-ufrag:x\nnonsense\n").expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = Fragment::parse("a=candidate:1 1 udp 1 10.0.0.1 notaport typ host\n")
            .expect_err("refused");
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panicking(text in "\\PC{0,400}") {
            let _ = Fragment::parse(&text);
        }

        #[test]
        fn any_ipv4_host_candidate_round_trips(
            a in any::<[u8; 4]>(), port in 1u16.., prio in any::<u32>()
        ) {
            let ip = std::net::Ipv4Addr::from(a);
            let text = format!("a=candidate:7 1 udp {prio} {ip} {port} typ host\n");
            let f = Fragment::parse(&text).expect("parses");
            prop_assert_eq!(f.candidates.len(), 1);
            prop_assert_eq!(f.candidates[0].addr(), std::net::SocketAddr::from((ip, port)));
        }
    }
}
