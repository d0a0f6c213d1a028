//! The access token: checking a request's Bearer token, and generating one
//! for a server bound beyond loopback.

use std::fmt::Write as _;

/// A random 128-bit token as 32 hex digits, from the OS's random source.
///
/// # Errors
///
/// The OS error text when the random source fails (no token is better than
/// a guessable one).
pub fn generate() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("random source: {e}"))?;
    let mut s = String::with_capacity(32);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    Ok(s)
}

/// Compares a presented token with the expected one in time independent of
/// where they first differ.
pub fn matches(expected: &str, presented: Option<&str>) -> bool {
    let Some(p) = presented else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), p.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_compare_exactly() {
        let t = generate().unwrap();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(t, generate().unwrap());
        assert!(matches(&t, Some(&t)));
        assert!(!matches(&t, Some(&t[..31])));
        assert!(!matches(&t, Some(&format!("{t}0"))));
        assert!(!matches(&t, None));
        assert!(!matches("abc", Some("abd")));
    }
}
