//! Scalar literals in caps strings: ints, doubles, fractions, booleans, and
//! the type an untyped literal is given.

use crate::pipeline::caps::Value;
use crate::{Fraction, Result};

pub(super) enum IntError {
    NotInt,
    OutOfRange,
}

/// A decimal (`-5`, `+5`), hexadecimal (`0x1F`) or named (`max`, `min`)
/// 32-bit int.
pub(super) fn parse_int(text: &str) -> Result<i32, IntError> {
    if text.eq_ignore_ascii_case("max") {
        return Ok(i32::MAX);
    }
    if text.eq_ignore_ascii_case("min") {
        return Ok(i32::MIN);
    }
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = match body.get(..2) {
        Some("0x" | "0X") => (16, &body[2..]),
        _ => (10, body),
    };
    if digits.is_empty()
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (radix == 16 && b.is_ascii_hexdigit()))
    {
        return Err(IntError::NotInt);
    }
    // Digits only, so the only failure is overflow.
    let magnitude = i64::from_str_radix(digits, radix).map_err(|_| IntError::OutOfRange)?;
    let value = if negative { -magnitude } else { magnitude };
    i32::try_from(value).map_err(|_| IntError::OutOfRange)
}

/// A double in Rust's (and C's) notation; `inf`, `-inf` and `nan` are
/// accepted when the type is known to be double.
pub(super) fn parse_double(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// `N/D` with 32-bit ints. `None` when `text` is not of that shape,
/// `Some(Err)` when it is but is not a fraction.
pub(super) fn parse_fraction(text: &str) -> Option<Result<Fraction, &'static str>> {
    let (n, d) = text.split_once('/')?;
    let (n, d) = match (parse_int(n), parse_int(d)) {
        (Ok(n), Ok(d)) => (n, d),
        (Err(IntError::NotInt), _) | (_, Err(IntError::NotInt)) => return None,
        _ => return Some(Err("numerator or denominator out of range for 32 bits")),
    };
    if d == 0 {
        return Some(Err("a fraction cannot have a zero denominator"));
    }
    Some(Fraction::new(n, d).ok_or("fraction out of range for 32 bits"))
}

/// GStreamer's boolean words, in any case.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: &[&str] = &["true", "yes", "t", "1"];
    const FALSE: &[&str] = &["false", "no", "f", "0"];
    if TRUE.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        Some(true)
    } else if FALSE.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        Some(false)
    } else {
        None
    }
}

/// The value of an unannotated bare word: int, then double, then fraction,
/// then boolean, else string (GStreamer's order). Words that look like a
/// number but are not a valid one are errors rather than strings.
pub(super) fn infer(text: &str) -> Result<Value, &'static str> {
    match parse_int(text) {
        Ok(n) => return Ok(Value::Int(n)),
        Err(IntError::OutOfRange) => {
            return Err("integer out of range for a 32-bit int (write (double) for larger numbers)")
        }
        Err(IntError::NotInt) => {}
    }
    if text.bytes().any(|b| b.is_ascii_digit()) {
        if let Some(d) = parse_double(text) {
            return Ok(Value::Double(d));
        }
    }
    if let Some(f) = parse_fraction(text) {
        return f.map(Value::Fraction);
    }
    if let Some(b) = parse_bool(text) {
        return Ok(Value::Bool(b));
    }
    Ok(Value::String(text.to_string()))
}
