//! Reading caps from text: GStreamer's caps syntax
//! (`gst_caps_from_string`, `gst_structure_from_string`,
//! `gst_value_deserialize`), with errors that point at the bad token.
//!
//! The grammar and the reading rules are documented on the
//! [module](super), where users find them.

use crate::pipeline::caps::{Caps, Structure, Value};
use crate::{Error, Result};
use std::ops::Range;

mod parser;
mod scalar;

use parser::*;
use scalar::*;

/// What parse errors say they were parsing.
pub(super) const WHAT: &str = "caps";

/// GStreamer's `GST_ASCII_IS_STRING`: the bytes of a bare word.
pub(crate) fn is_bare_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b':' | b'.')
}

/// Whether the bare word `s` reads back as the string `s` (so it needs no
/// quotes in the compact form).
pub(crate) fn reads_back_as_string(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_bare_byte) && matches!(infer(s), Ok(Value::String(_)))
}

/// Whether `name` is a valid media type or field name: a letter, then
/// bare-word bytes (`gst_structure_validate_name`).
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic()) && bytes.all(is_bare_byte)
}

/// Checks a structure or field name given through the API, with the same
/// error a parse would give.
pub(crate) fn check_name(kind: &str, name: &str) -> Result<()> {
    if is_valid_name(name) && !is_reserved(name) {
        return Ok(());
    }
    let at = if name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
        name.bytes().position(|b| !is_bare_byte(b)).unwrap_or(0)
    } else {
        0
    };
    let token = name
        .get(at..)
        .and_then(|s| s.chars().next())
        .map(String::from)
        .unwrap_or_default();
    let message = if is_reserved(name) {
        format!("{name:?} is a caps keyword, not a {kind}")
    } else {
        format!("a {kind} starts with a letter and holds only letters, digits and _ - + / : .")
    };
    Err(Error::parse(WHAT, name, at, &token, message, None))
}

/// `ANY`, `EMPTY` and `NONE` spell whole caps, so a structure may not be
/// named so (its caps would print as the keyword).
pub(super) fn is_reserved(name: &str) -> bool {
    matches!(name, "ANY" | "EMPTY" | "NONE")
}

/// Parses a whole caps string.
pub(crate) fn parse_caps(input: &str) -> Result<Caps> {
    let mut p = Parser::new(input, 0, false);
    let caps = p.caps()?;
    p.skip_ws();
    p.expect_end("`;` or the end of the caps")?;
    Ok(caps)
}

/// Parses caps that start at byte `start` of `input` and end where caps
/// syntax ends (before ` ! ` in a pipeline), returning the caps and the
/// byte offset just past them. Errors carry positions in `input`, so they
/// point into the whole pipeline string.
///
/// # Errors
///
/// [`Error::Parse`] for malformed caps, or when `start` is not a character
/// boundary of `input`.
///
/// # Examples
///
/// ```
/// use framecast::pipeline::caps::parse_caps_prefix;
/// let line = "testsrc ! video/x-raw,width=320 ! fakesink";
/// let (caps, end) = parse_caps_prefix(line, 10)?;
/// assert_eq!(caps.to_string(), "video/x-raw,width=320");
/// assert_eq!(&line[end..], " ! fakesink");
/// # Ok::<(), framecast::Error>(())
/// ```
pub fn parse_caps_prefix(input: &str, start: usize) -> Result<(Caps, usize)> {
    if !input.is_char_boundary(start) {
        return Err(Error::parse(
            WHAT,
            input,
            0,
            "",
            "start is not at a character boundary",
            None,
        ));
    }
    let mut p = Parser::new(input, start, true);
    let caps = p.caps()?;
    Ok((caps, p.pos))
}

/// Parses the caps in `input[span]`, with error positions in `input`:
/// for a caps string that a pipeline lexer has already delimited.
///
/// # Errors
///
/// [`Error::Parse`] for malformed caps or a span outside `input`.
pub fn parse_caps_span(input: &str, span: Range<usize>) -> Result<Caps> {
    let Some(text) = input.get(span.clone()) else {
        return Err(Error::parse(
            WHAT,
            input,
            0,
            "",
            "span is not inside the input",
            None,
        ));
    };
    parse_caps(text).map_err(|e| e.within(WHAT, input, span.start, |m| m))
}

/// Parses one structure (`video/x-raw,width=320`).
pub(crate) fn parse_structure(input: &str) -> Result<Structure> {
    let mut p = Parser::new(input, 0, false);
    p.skip_ws();
    let s = p.structure()?;
    p.skip_ws();
    p.expect_end("`,` or the end of the structure")?;
    Ok(s)
}

/// Parses one value, as the right-hand side of a field (`[ 1, 10 ]`).
pub(crate) fn parse_value(input: &str) -> Result<Value> {
    let mut p = Parser::new(input, 0, false);
    let v = p.value(None)?;
    p.skip_ws();
    p.expect_end("the end of the value")?;
    Ok(v)
}

#[cfg(test)]
mod tests;
