//! The server side of HTTP Digest authentication (RFC 2617, as RTSP
//! clients use it: ffmpeg, GStreamer's `rtspsrc`, live555).
//!
//! A nonce carries its issue time and a keyed hash of it, so any nonce
//! this server issued in the last [`NONCE_LIFETIME`] verifies without a
//! table of issued nonces (which a client could grow without bound). Both
//! the RFC 2069 form (no `qop`) and `qop=auth` are accepted; the challenge
//! offers `qop`-less Digest, which every client named above answers.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest as _, Md5};

/// How long an issued nonce is accepted.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// The realm the challenge names.
pub const REALM: &str = "framecast";

/// One user's credentials and the nonce key.
#[derive(Clone)]
pub struct DigestAuth {
    user: String,
    password: String,
    key: u64,
}

impl std::fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestAuth")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A random 64-bit value from the standard library's randomly seeded
/// hasher (no extra crate for one key per server).
pub(crate) fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

/// The `key="value"` pairs of a Digest `Authorization` header, quotes
/// removed.
pub fn parse_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim_start();
    let rest = rest
        .get(..6)
        .filter(|s| s.eq_ignore_ascii_case("digest"))
        .map(|_| &rest[6..])?;
    let mut out = Vec::new();
    let mut s = rest.trim_start();
    while !s.is_empty() {
        let eq = s.find('=')?;
        let key = s[..eq].trim().to_ascii_lowercase();
        s = s[eq + 1..].trim_start();
        let value;
        if let Some(q) = s.strip_prefix('"') {
            let end = q.find('"')?;
            value = q[..end].to_string();
            s = &q[end + 1..];
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s[..end].trim().to_string();
            s = &s[end..];
        }
        out.push((key, value));
        s = s.trim_start();
        if let Some(r) = s.strip_prefix(',') {
            s = r.trim_start();
        } else if !s.is_empty() {
            return None;
        }
    }
    Some(out)
}

impl DigestAuth {
    /// Credentials `user`/`password`, with a fresh random nonce key.
    pub fn new(user: &str, password: &str) -> Self {
        DigestAuth {
            user: user.to_string(),
            password: password.to_string(),
            key: random_u64(),
        }
    }

    fn nonce_at(&self, secs: u64) -> String {
        let mac = md5_hex(&[&format!("{secs:x}"), &format!("{:x}", self.key)]);
        format!("{secs:x}{}", &mac[..16])
    }

    fn nonce_ok(&self, nonce: &str, now: u64) -> bool {
        if nonce.len() < 17 || !nonce.is_ascii() {
            return false;
        }
        let (time, _) = nonce.split_at(nonce.len() - 16);
        let Ok(secs) = u64::from_str_radix(time, 16) else {
            return false;
        };
        secs <= now && now - secs <= NONCE_LIFETIME.as_secs() && self.nonce_at(secs) == nonce
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// The `WWW-Authenticate` value of a 401 answer.
    pub fn challenge(&self) -> String {
        format!(
            "Digest realm=\"{REALM}\", nonce=\"{}\"",
            self.nonce_at(Self::now())
        )
    }

    /// Whether `authorization` (the header's value) proves the password
    /// for a request `method` (e.g. `DESCRIBE`).
    pub fn verify(&self, method: &str, authorization: &str) -> bool {
        let Some(params) = parse_params(authorization) else {
            return false;
        };
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let (Some(user), Some(nonce), Some(uri), Some(response)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return false;
        };
        if user != self.user || !self.nonce_ok(nonce, Self::now()) {
            return false;
        }
        let realm = get("realm").unwrap_or(REALM);
        let ha1 = md5_hex(&[user, realm, &self.password]);
        let ha2 = md5_hex(&[method, uri]);
        let expected = match get("qop") {
            Some(qop) => md5_hex(&[
                &ha1,
                nonce,
                get("nc").unwrap_or(""),
                get("cnonce").unwrap_or(""),
                qop,
                &ha2,
            ]),
            None => md5_hex(&[&ha1, nonce, &ha2]),
        };
        // Compared over every byte, so the time taken does not say how
        // much of a guess was right.
        expected.len() == response.len()
            && expected
                .bytes()
                .zip(response.to_ascii_lowercase().bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(user: &str, pass: &str, nonce: &str, method: &str, uri: &str) -> String {
        let ha1 = md5_hex(&[user, REALM, pass]);
        let ha2 = md5_hex(&[method, uri]);
        let r = md5_hex(&[&ha1, nonce, &ha2]);
        format!(
            "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{r}\""
        )
    }

    fn nonce_of(challenge: &str) -> String {
        let p = parse_params(challenge).unwrap();
        p.into_iter().find(|(k, _)| k == "nonce").unwrap().1
    }

    #[test]
    fn rfc2617_md5_of_the_rfc_example() {
        // RFC 2617 §3.5 (qop=auth).
        let ha1 = md5_hex(&["Mufasa", "testrealm@host.com", "Circle Of Life"]);
        let ha2 = md5_hex(&["GET", "/dir/index.html"]);
        let r = md5_hex(&[
            &ha1,
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "00000001",
            "0a4f113b",
            "auth",
            &ha2,
        ]);
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn the_right_password_verifies_and_wrong_ones_do_not() {
        let auth = DigestAuth::new("user", "secret");
        let nonce = nonce_of(&auth.challenge());
        let uri = "rtsp://127.0.0.1:8554/cam";
        assert!(auth.verify(
            "DESCRIBE",
            &answer("user", "secret", &nonce, "DESCRIBE", uri)
        ));
        assert!(!auth.verify(
            "DESCRIBE",
            &answer("user", "wrong", &nonce, "DESCRIBE", uri)
        ));
        assert!(!auth.verify(
            "DESCRIBE",
            &answer("other", "secret", &nonce, "DESCRIBE", uri)
        ));
        // Signed for another method.
        assert!(!auth.verify("SETUP", &answer("user", "secret", &nonce, "DESCRIBE", uri)));
        // A nonce this server did not issue.
        let forged = format!("{:x}{}", DigestAuth::now(), "0123456789abcdef");
        assert!(!auth.verify(
            "DESCRIBE",
            &answer("user", "secret", &forged, "DESCRIBE", uri)
        ));
        // Another server's nonce (another key).
        let other = DigestAuth::new("user", "secret");
        let theirs = nonce_of(&other.challenge());
        assert!(!auth.verify(
            "DESCRIBE",
            &answer("user", "secret", &theirs, "DESCRIBE", uri)
        ));
        assert!(!auth.verify("DESCRIBE", "Basic dXNlcjpzZWNyZXQ="));
        assert!(!auth.verify("DESCRIBE", "Digest username=\"user"));
    }

    #[test]
    fn params_parse_quoted_and_bare_values() {
        let p = parse_params("Digest a=\"x, y\", b=2,c=\"\"").unwrap();
        assert_eq!(
            p,
            [
                ("a".into(), "x, y".into()),
                ("b".into(), "2".into()),
                ("c".into(), String::new())
            ]
        );
        assert!(parse_params("Basic abc").is_none());
        assert!(parse_params("Digest a=\"open").is_none());
    }
}
