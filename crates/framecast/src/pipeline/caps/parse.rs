//! Reading caps from text: GStreamer's caps syntax
//! (`gst_caps_from_string`, `gst_structure_from_string`,
//! `gst_value_deserialize`), with errors that point at the bad token.
//!
//! The grammar and the reading rules are documented on the
//! [module](super), where users find them.

use std::ops::Range;

use crate::error::closest;
use crate::{Error, Fraction, Result};

use super::range::{DoubleRange, FractionRange, IntRange};
use super::{fields, Caps, Structure, Value};

/// What parse errors say they were parsing.
const WHAT: &str = "caps";

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
fn is_reserved(name: &str) -> bool {
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
    parse_caps(text).map_err(|e| match e {
        Error::Parse {
            position,
            token,
            message,
            suggestion,
            ..
        } => Error::parse(
            WHAT,
            input,
            span.start + position,
            &token,
            message,
            suggestion,
        ),
        other => other,
    })
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

/// A type annotation: `(int)`, `(string)`, ... Scalar types also type the
/// elements of a list or the ends of a range they precede.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Bool,
    Int,
    Double,
    Fraction,
    Str,
    IntRange,
    DoubleRange,
    FractionRange,
    List,
    Array,
}

/// The annotations understood: GStreamer's abbreviations
/// (`gst_structure_gtype_from_abbr`) and the type names it writes itself.
const TYPE_NAMES: &[(&str, Ty)] = &[
    ("int", Ty::Int),
    ("i", Ty::Int),
    ("gint", Ty::Int),
    ("double", Ty::Double),
    ("d", Ty::Double),
    ("gdouble", Ty::Double),
    ("float", Ty::Double),
    ("f", Ty::Double),
    ("gfloat", Ty::Double),
    ("fraction", Ty::Fraction),
    ("GstFraction", Ty::Fraction),
    ("boolean", Ty::Bool),
    ("bool", Ty::Bool),
    ("b", Ty::Bool),
    ("gboolean", Ty::Bool),
    ("string", Ty::Str),
    ("str", Ty::Str),
    ("s", Ty::Str),
    ("gchararray", Ty::Str),
    ("GstIntRange", Ty::IntRange),
    ("GstDoubleRange", Ty::DoubleRange),
    ("GstFractionRange", Ty::FractionRange),
    ("list", Ty::List),
    ("GstValueList", Ty::List),
    ("array", Ty::Array),
    ("GstValueArray", Ty::Array),
];

impl Ty {
    /// The type given to elements of a list or ends of a range under this
    /// annotation.
    fn element(self) -> Option<Ty> {
        match self {
            Ty::IntRange => Some(Ty::Int),
            Ty::DoubleRange => Some(Ty::Double),
            Ty::FractionRange => Some(Ty::Fraction),
            Ty::List | Ty::Array => None,
            t => Some(t),
        }
    }

    fn name(self) -> &'static str {
        TYPE_NAMES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }
}

/// A recursive-descent parser over `input`, keeping byte positions in the
/// whole input so that errors point at the right place.
struct Parser<'a> {
    input: &'a str,
    pos: usize,
    /// Stop quietly where caps syntax ends instead of requiring the end of
    /// input (caps inside a pipeline string).
    prefix: bool,
    /// How many ranges, lists and arrays enclose the cursor.
    depth: usize,
}

/// How deeply ranges, lists and arrays may nest. Real caps nest two
/// levels at most; the limit keeps hostile input from exhausting the
/// stack of this recursive parser (and of the recursive set operations).
const MAX_DEPTH: usize = 32;

impl<'a> Parser<'a> {
    fn new(input: &'a str, pos: usize, prefix: bool) -> Parser<'a> {
        Parser {
            input,
            pos,
            prefix,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// The bare word at the cursor (possibly empty), consumed.
    fn word(&mut self) -> (usize, &'a str) {
        let start = self.pos;
        while self.peek().is_some_and(is_bare_byte) {
            self.pos += 1;
        }
        (start, &self.input[start..self.pos])
    }

    /// What to show as the bad token at `at`: the word there, else the one
    /// character there, else nothing (end of input).
    fn token_at(&self, at: usize) -> &'a str {
        let rest = self.input.get(at..).unwrap_or("");
        let word = rest.bytes().take_while(|&b| is_bare_byte(b)).count();
        if word > 0 {
            &rest[..word]
        } else {
            rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
        }
    }

    fn error(&self, at: usize, token: &str, message: impl Into<String>) -> Error {
        Error::parse(WHAT, self.input, at, token, message, None)
    }

    fn error_here(&self, message: impl Into<String>) -> Error {
        self.error(self.pos, self.token_at(self.pos), message)
    }

    /// The error for a value (read from `at` to the cursor) that breaks
    /// its field's rule, pointing at the offending alternative inside it
    /// when it can be found there (`NOPE` in `{ I420, NOPE }`), else at the
    /// whole value.
    fn violation(&self, at: usize, v: fields::Violation) -> Error {
        let text = &self.input[at..self.pos];
        let (position, token) = text
            .match_indices(v.bad.as_str())
            .find(|(i, m)| {
                let before = text[..*i].bytes().next_back();
                let after = text[i + m.len()..].bytes().next();
                !before.is_some_and(is_bare_byte) && !after.is_some_and(is_bare_byte)
            })
            .map_or((at, text), |(i, m)| (at + i, m));
        Error::parse(WHAT, self.input, position, token, v.rule, v.suggestion)
    }

    fn expect_end(&self, expected: &str) -> Result<()> {
        if self.pos < self.input.len() {
            return Err(self.error_here(format!("expected {expected}")));
        }
        Ok(())
    }

    fn caps(&mut self) -> Result<Caps> {
        self.skip_ws();
        let start = self.pos;
        if self.pos >= self.input.len() {
            return Ok(Caps::new_empty());
        }
        let (at, word) = self.word();
        if is_reserved(word) {
            let after = self.pos;
            self.skip_ws();
            let standalone = match self.peek() {
                None => true,
                Some(b) => self.prefix && !matches!(b, b';' | b',' | b'('),
            };
            if !standalone {
                return Err(self.error(
                    at,
                    word,
                    format!("{word} stands alone: it cannot be combined with structures or fields"),
                ));
            }
            self.pos = after;
            return Ok(if word == "ANY" {
                Caps::new_any()
            } else {
                Caps::new_empty()
            });
        }
        self.pos = start;
        let mut caps = Caps::new_empty();
        loop {
            let s = self.structure()?;
            caps.append_structure(s);
            let end = self.pos;
            self.skip_ws();
            if !self.eat(b';') {
                self.pos = end;
                return Ok(caps);
            }
            let after_semicolon = self.pos;
            self.skip_ws();
            // A trailing `;` is allowed, as in GStreamer.
            if self.pos >= self.input.len() {
                return Ok(caps);
            }
            if self.prefix && !self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
                self.pos = after_semicolon;
                return Ok(caps);
            }
        }
    }

    fn structure(&mut self) -> Result<Structure> {
        let (at, name) = self.word();
        if name.is_empty() {
            return Err(self.error_here("expected a media type such as video/x-raw"));
        }
        if !is_valid_name(name) {
            return Err(self.error(at, name, "a media type starts with a letter"));
        }
        if is_reserved(name) {
            return Err(self.error(
                at,
                name,
                format!("{name} stands alone: it cannot be combined with structures or fields"),
            ));
        }
        let mut s = Structure::new_unchecked(name);
        if self.peek() == Some(b'(') {
            self.features()?;
        }
        loop {
            let end = self.pos;
            self.skip_ws();
            if !self.eat(b',') {
                self.pos = end;
                return Ok(s);
            }
            self.skip_ws();
            // A trailing `,` is allowed, as in GStreamer.
            if matches!(self.peek(), None | Some(b';')) {
                return Ok(s);
            }
            let (at, field) = self.word();
            if field.is_empty() {
                return Err(self.error_here("expected a field name"));
            }
            if !is_valid_name(field) {
                return Err(self.error(at, field, "a field name starts with a letter"));
            }
            self.skip_ws();
            if !self.eat(b'=') {
                return Err(self.error_here(format!("expected `=` after field name `{field}`")));
            }
            self.skip_ws();
            let value_at = self.pos;
            let value = self.value(None)?;
            if s.has_field(field) {
                return Err(self.error(at, field, format!("field `{field}` is given twice")));
            }
            if let Err(v) = fields::check(name, field, &value) {
                return Err(self.violation(value_at, v));
            }
            s.push_unchecked(field, value);
        }
    }

    /// Caps features after a media type. Only the default,
    /// `memory:SystemMemory`, is understood (and dropped, as GStreamer
    /// drops it when printing); others name memory framecast cannot map.
    fn features(&mut self) -> Result<()> {
        let open = self.pos;
        let close = self.input[open..].find(')').map(|i| open + i);
        let Some(close) = close else {
            return Err(self.error(open, "(", "unterminated caps features: expected `)`"));
        };
        let text = &self.input[open + 1..close];
        if text.trim() != "memory:SystemMemory" {
            return Err(self.error(
                open + 1,
                text,
                "caps features are not supported (only memory:SystemMemory)",
            ));
        }
        self.pos = close + 1;
        Ok(())
    }

    fn value(&mut self, hint: Option<Ty>) -> Result<Value> {
        self.skip_ws();
        let mut ty = hint;
        if self.peek() == Some(b'(') {
            self.pos += 1;
            self.skip_ws();
            let (at, name) = self.word();
            let Some(&(_, t)) = TYPE_NAMES.iter().find(|(n, _)| *n == name) else {
                let suggestion = closest(name, TYPE_NAMES.iter().map(|(n, _)| *n));
                let message = if name.is_empty() {
                    "expected a type name".to_string()
                } else {
                    format!("unknown type `{name}`")
                };
                return Err(Error::parse(
                    WHAT,
                    self.input,
                    at,
                    self.token_at(at),
                    message,
                    suggestion,
                ));
            };
            self.skip_ws();
            if !self.eat(b')') {
                return Err(self.error_here("expected `)` after the type name"));
            }
            self.skip_ws();
            ty = Some(t);
        }
        let start = self.pos;
        if matches!(self.peek(), Some(b'[' | b'{' | b'<')) {
            if self.depth >= MAX_DEPTH {
                return Err(self.error_here(format!("values nested more than {MAX_DEPTH} deep")));
            }
            self.depth += 1;
            let v = match self.peek() {
                Some(b'[') => self.range(ty),
                Some(b'{') => self.sequence(ty, b'{', b'}', Ty::List),
                _ => self.sequence(ty, b'<', b'>', Ty::Array),
            };
            self.depth -= 1;
            return v;
        }
        match self.peek() {
            Some(b'"') => {
                let text = self.quoted()?;
                self.scalar(ty, &text, true, start)
            }
            _ => {
                let (_, word) = self.word();
                if word.is_empty() {
                    return Err(self.error_here("expected a value"));
                }
                self.scalar(ty, word, false, start)
            }
        }
    }

    /// Reads a word or quoted string as a single value of type `ty`, or of
    /// the inferred type.
    fn scalar(&self, ty: Option<Ty>, text: &str, quoted: bool, start: usize) -> Result<Value> {
        let token = &self.input[start..self.pos];
        let fail = |message: String| Err(self.error(start, token, message));
        let Some(ty) = ty else {
            if quoted {
                return Ok(Value::String(text.to_string()));
            }
            return infer(text).or_else(|message| fail(message.to_string()));
        };
        let parsed = match ty {
            Ty::Str => Some(Value::String(text.to_string())),
            Ty::Int => match parse_int(text) {
                Err(IntError::OutOfRange) => {
                    return fail(format!("`{text}` is out of range for a 32-bit int"))
                }
                other => other.ok().map(Value::Int),
            },
            Ty::Double => parse_double(text).map(Value::Double),
            Ty::Fraction => match parse_fraction(text) {
                Some(Err(message)) => return fail(message.to_string()),
                Some(Ok(f)) => Some(Value::Fraction(f)),
                None => parse_int(text)
                    .ok()
                    .map(|n| Value::Fraction(Fraction::from_integer(n))),
            },
            Ty::Bool => parse_bool(text).map(Value::Bool),
            Ty::IntRange | Ty::DoubleRange | Ty::FractionRange => {
                return fail(format!("a ({}) is written `[ min, max ]`", ty.name()))
            }
            Ty::List => return fail("a (list) is written `{ a, b }`".to_string()),
            Ty::Array => return fail("an (array) is written `< a, b >`".to_string()),
        };
        parsed.map_or_else(
            || fail(format!("`{text}` is not a valid {}", ty.name())),
            Ok,
        )
    }

    fn quoted(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(open, "\"", "unterminated string: expected a closing `\"`"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let esc = self.pos - 1;
                    match self.peek() {
                        None => {
                            return Err(self.error(
                                open,
                                "\"",
                                "unterminated string: expected a closing `\"`",
                            ))
                        }
                        Some(d) if d.is_ascii_digit() => {
                            let digits = self.input.as_bytes().get(self.pos..self.pos + 3);
                            let octal = digits.filter(|d| {
                                matches!(d[0], b'0'..=b'3')
                                    && d[1..].iter().all(|b| matches!(b, b'0'..=b'7'))
                            });
                            let Some(octal) = octal else {
                                // Show the backslash and the digits that follow it.
                                let digits = self.input.as_bytes()[self.pos..]
                                    .iter()
                                    .take(3)
                                    .take_while(|b| b.is_ascii_digit())
                                    .count();
                                let token = &self.input[esc..self.pos + digits];
                                return Err(self.error(esc, token, "bad escape: `\\` and a digit starts a 3-digit octal byte (\\000 to \\377)"));
                            };
                            bytes.push(
                                (octal[0] - b'0') * 64 + (octal[1] - b'0') * 8 + (octal[2] - b'0'),
                            );
                            self.pos += 3;
                        }
                        Some(_) => {
                            // Any other escaped character stands for itself.
                            let c = self.input[self.pos..].chars().next().unwrap_or('\\');
                            let mut buf = [0; 4];
                            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            self.pos += c.len_utf8();
                        }
                    }
                }
                b => bytes.push(b),
            }
        }
        String::from_utf8(bytes).map_err(|_| {
            let token = &self.input[open..self.pos];
            self.error(
                open,
                token,
                "string is not valid UTF-8 once its escapes are decoded",
            )
        })
    }

    fn range(&mut self, ty: Option<Ty>) -> Result<Value> {
        let open = self.pos;
        let hint = match ty {
            None => None,
            Some(t @ (Ty::Int | Ty::Double | Ty::Fraction)) => Some(t),
            Some(Ty::IntRange) => Some(Ty::Int),
            Some(Ty::DoubleRange) => Some(Ty::Double),
            Some(Ty::FractionRange) => Some(Ty::Fraction),
            Some(t) => {
                return Err(self.error(
                    open,
                    "[",
                    format!(
                        "a range holds ints, doubles or fractions, not ({})",
                        t.name()
                    ),
                ));
            }
        };
        self.pos += 1;
        let mut ends = Vec::with_capacity(3);
        loop {
            let at = self.pos;
            let v = self.value(hint)?;
            if !matches!(v, Value::Int(_) | Value::Double(_) | Value::Fraction(_)) {
                let token = self.input[at..self.pos].trim_start();
                let at = self.pos - token.len();
                return Err(self.error(
                    at,
                    token,
                    "a range end must be an int, double or fraction",
                ));
            }
            ends.push(v);
            self.skip_ws();
            if self.eat(b']') {
                break;
            }
            if ends.len() == 3 || !self.eat(b',') {
                return Err(if self.pos >= self.input.len() {
                    self.error(open, "[", "unterminated range: expected `]`")
                } else {
                    self.error_here(if ends.len() == 3 {
                        "expected `]` after the step"
                    } else {
                        "expected `,` or `]` in a range"
                    })
                });
            }
        }
        let token = &self.input[open..self.pos];
        let fail = |message: String, suggestion: Option<String>| {
            Err(Error::parse(
                WHAT, self.input, open, token, message, suggestion,
            ))
        };
        match ends.as_slice() {
            [_] => fail(
                "a range needs a minimum and a maximum: `[ min, max ]`".into(),
                None,
            ),
            [Value::Int(a), Value::Int(b)] | [Value::Int(a), Value::Int(b), Value::Int(_)] => {
                let step = match ends.get(2) {
                    Some(Value::Int(s)) => *s,
                    _ => 1,
                };
                if let Some(r) = IntRange::with_step(*a, *b, step) {
                    Ok(Value::IntRange(r))
                } else if a == b {
                    fail(
                        "a range holds at least two values".into(),
                        Some(a.to_string()),
                    )
                } else if a > b {
                    fail(
                        "empty range: the minimum must be below the maximum".into(),
                        None,
                    )
                } else if step <= 0 {
                    fail("the step of a range must be positive".into(), None)
                } else {
                    fail(
                        format!(
                            "both ends of a stepped range must be multiples of the step {step}"
                        ),
                        None,
                    )
                }
            }
            [Value::Double(a), Value::Double(b)] => match DoubleRange::new(*a, *b) {
                Some(r) => Ok(Value::DoubleRange(r)),
                None if a == b => fail(
                    "a range holds at least two values".into(),
                    Some(format!("{a:?}")),
                ),
                None => fail(
                    "empty range: the minimum must be below the maximum".into(),
                    None,
                ),
            },
            [Value::Fraction(a), Value::Fraction(b)] => match FractionRange::new(*a, *b) {
                Some(r) => Ok(Value::FractionRange(r)),
                None if a == b => fail(
                    "a range holds at least two values".into(),
                    Some(a.to_string()),
                ),
                None => fail(
                    "empty range: the minimum must be below the maximum".into(),
                    None,
                ),
            },
            [_, _, _] => fail("only int ranges have a step".into(), None),
            [a, b, ..] => fail(
                format!(
                    "the ends of a range must have the same type, not {} and {}",
                    a.type_name(),
                    b.type_name()
                ),
                None,
            ),
            [] => fail("empty range".into(), None),
        }
    }

    fn sequence(&mut self, ty: Option<Ty>, open_b: u8, close_b: u8, kind: Ty) -> Result<Value> {
        let open = self.pos;
        let hint = match ty {
            Some(t) if t == kind => None,
            Some(t @ (Ty::List | Ty::Array)) => {
                let token = &self.input[open..=open];
                return Err(self.error(
                    open,
                    token,
                    format!(
                        "a ({}) does not start with `{}`",
                        t.name(),
                        char::from(open_b)
                    ),
                ));
            }
            Some(t) => t.element(),
            None => None,
        };
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if !self.eat(close_b) {
            loop {
                items.push(self.value(hint)?);
                self.skip_ws();
                if self.eat(close_b) {
                    break;
                }
                if !self.eat(b',') {
                    let what = if kind == Ty::List { "list" } else { "array" };
                    return Err(if self.pos >= self.input.len() {
                        let token = &self.input[open..=open];
                        self.error(
                            open,
                            token,
                            format!("unterminated {what}: expected `{}`", char::from(close_b)),
                        )
                    } else {
                        self.error_here(format!(
                            "expected `,` or `{}` in a {what}",
                            char::from(close_b)
                        ))
                    });
                }
            }
        }
        Ok(if kind == Ty::List {
            Value::List(items)
        } else {
            Value::Array(items)
        })
    }
}

enum IntError {
    NotInt,
    OutOfRange,
}

/// A decimal (`-5`, `+5`), hexadecimal (`0x1F`) or named (`max`, `min`)
/// 32-bit int.
fn parse_int(text: &str) -> Result<i32, IntError> {
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
fn parse_double(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// `N/D` with 32-bit ints. `None` when `text` is not of that shape,
/// `Some(Err)` when it is but is not a fraction.
fn parse_fraction(text: &str) -> Option<Result<Fraction, &'static str>> {
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
fn parse_bool(text: &str) -> Option<bool> {
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
fn infer(text: &str) -> Result<Value, &'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(s: &str) -> Caps {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    /// `(position, token)` of the error for `s`, and its message.
    fn err(s: &str) -> (usize, String, String) {
        match s.parse::<Caps>() {
            Ok(c) => panic!("{s:?} parsed as {c}"),
            Err(Error::Parse {
                position,
                token,
                message,
                ..
            }) => (position, token, message),
            Err(e) => panic!("{s:?}: not a parse error: {e}"),
        }
    }

    #[test]
    fn inference_follows_gstreamer() {
        let c = caps("a,x=yes,z=1.5,w=<1,2>,s=\"hello world\",e=\"\",f=30/1,g=1e3,h=-5,q=0x10,m=max,n=min,o=I420,t=010");
        assert_eq!(
            format!("{c:#}"),
            "a, x=(boolean)true, z=(double)1.5, w=(int)< 1, 2 >, s=(string)\"hello\\ world\", e=(string)\"\", \
             f=(fraction)30/1, g=(double)1000, h=(int)-5, q=(int)16, m=(int)2147483647, n=(int)-2147483648, \
             o=(string)I420, t=(int)10"
        );
    }

    #[test]
    fn annotations() {
        let c = caps("a,x=(double)5,f=(float)5,b=(bool)true,c=(boolean)1, d=(i)3, e=(s)x, g=(fraction)5, h=(int){1,2,3}, i=(fraction)[0/1,max], j=( int ) 6, k=(string)\"30\"");
        assert_eq!(
            format!("{c:#}"),
            "a, x=(double)5, f=(double)5, b=(boolean)true, c=(boolean)true, d=(int)3, e=(string)x, \
             g=(fraction)5/1, h=(int){ 1, 2, 3 }, i=(fraction)[ 0/1, 2147483647/1 ], j=(int)6, k=(string)30"
        );
        assert_eq!(c.to_string(), "a,x=5.0,f=5.0,b=true,c=true,d=3,e=x,g=5/1,h={ 1, 2, 3 },i=[ 0/1, 2147483647/1 ],j=6,k=\"30\"");
        let c = caps("a,x=(GstIntRange)[1,2],y=(list){(int)1},z=(array)<(double)1>");
        assert_eq!(c.to_string(), "a,x=[ 1, 2 ],y={ 1 },z=< 1.0 >");
    }

    #[test]
    fn keywords_whitespace_and_trailing_separators() {
        assert!(caps("ANY").is_any());
        assert!(caps("  ANY ").is_any());
        assert!(caps("EMPTY").is_empty());
        assert!(caps("NONE").is_empty());
        assert!(caps("").is_empty());
        assert_eq!(caps(" a , x = 1 , y=2 ;  b  ").to_string(), "a,x=1,y=2; b");
        assert_eq!(caps("a,x=1,").to_string(), "a,x=1");
        assert_eq!(caps("a;").to_string(), "a");
        assert_eq!(caps("a(memory:SystemMemory),x=1").to_string(), "a,x=1");
        assert_eq!(
            caps("a,s=\"a\\\"b\\\\c\\303\\251\"")
                .structure(0)
                .and_then(|s| s.get_str("s")),
            Some("a\"b\\cé")
        );
    }

    #[test]
    fn errors_point_at_the_token() {
        let cases: &[(&str, usize, &str, &str)] = &[
            ("video/x-raw,width=[1,2", 18, "[", "unterminated range"),
            (
                "video/x-raw,format={I420,NV12",
                19,
                "{",
                "unterminated list",
            ),
            ("video/x-raw,width=<1,2", 18, "<", "unterminated array"),
            ("video/x-raw,width=(int)abc", 23, "abc", "not a valid int"),
            ("video/x-raw,width=(itn)5", 19, "itn", "unknown type"),
            ("video/x-raw,width", 17, "", "expected `=`"),
            ("video/x-raw,=5", 12, "=", "expected a field name"),
            ("1video/x-raw", 0, "1video/x-raw", "starts with a letter"),
            (
                "video/x-raw; ; video/x-h264",
                13,
                ";",
                "expected a media type",
            ),
            ("video/x-raw,format=\"I420", 19, "\"", "unterminated string"),
            ("video/x-raw,width=[10,1]", 18, "[10,1]", "empty range"),
            (
                "video/x-raw,width=[5,5]",
                18,
                "[5,5]",
                "at least two values",
            ),
            (
                "video/x-raw,width=[1,10,3]",
                18,
                "[1,10,3]",
                "multiples of the step",
            ),
            ("video/x-raw,framerate=30/0", 22, "30/0", "zero denominator"),
            (
                "video/x-raw,width=3000000000",
                18,
                "3000000000",
                "out of range",
            ),
            ("video/x-raw width=5", 12, "width", "expected `;`"),
            ("video/x-raw,width=[1,2.5]", 18, "[1,2.5]", "same type"),
            ("ANY; video/x-raw", 0, "ANY", "stands alone"),
            ("video/x-raw,width=1,width=2", 20, "width", "given twice"),
            ("video/x-raw,s=\"a\\9b\"", 16, "\\9", "bad escape"),
            (
                "video/x-raw(memory:DMABuf)",
                12,
                "memory:DMABuf",
                "not supported",
            ),
            (
                "video/x-raw,format={I420 NV12}",
                25,
                "NV12",
                "expected `,` or `}`",
            ),
            ("video/x-raw,width=[{1},2]", 19, "{1}", "range end"),
            ("video/x-raw,width=", 18, "", "expected a value"),
            (
                "video/x-raw,width=(int)[1.5,2]",
                24,
                "1.5",
                "not a valid int",
            ),
            ("video/x-raw,x=(list)<1>", 20, "<", "does not start with"),
            ("video/x-raw,x=(GstIntRange)5", 27, "5", "[ min, max ]"),
            ("video/x-raw,format=I420 !", 24, "!", "expected `;`"),
        ];
        for &(input, position, token, message) in cases {
            let (p, t, m) = err(input);
            assert_eq!((p, t.as_str()), (position, token), "{input:?}: {m}");
            assert!(m.contains(message), "{input:?}: {m:?} lacks {message:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("a,x={}1{}", "{".repeat(100_000), "}".repeat(100_000));
        let (position, token, message) = err(&deep);
        assert_eq!((position, token.as_str()), (4 + MAX_DEPTH, "{"));
        assert!(message.contains("nested"), "{message}");
        let ok = format!("a,x={}1{}", "<".repeat(MAX_DEPTH), ">".repeat(MAX_DEPTH));
        assert!(ok.parse::<Caps>().is_ok());
    }

    #[test]
    fn unknown_type_suggests_the_closest() {
        let Err(Error::Parse { suggestion, .. }) = "a,x=(fracton)1/2".parse::<Caps>() else {
            panic!("parsed");
        };
        assert_eq!(suggestion.as_deref(), Some("fraction"));
        let e = "video/x-raw,width=[10,1]".parse::<Caps>().unwrap_err();
        assert!(
            e.to_string()
                .ends_with("\n  video/x-raw,width=[10,1]\n                    ^^^^^^"),
            "{e}"
        );
    }

    #[test]
    fn prefix_stops_where_caps_end() {
        let line = "testsrc ! video/x-raw,format={I420,NV12}, width=320 ; video/x-h264 ! sink";
        let (c, end) = parse_caps_prefix(line, 10).unwrap();
        assert_eq!(
            c.to_string(),
            "video/x-raw,format={ I420, NV12 },width=320; video/x-h264"
        );
        assert_eq!(&line[end..], " ! sink");
        let (c, end) = parse_caps_prefix("ANY ! x", 0).unwrap();
        assert!(c.is_any());
        assert_eq!(end, 3);
        let e = parse_caps_prefix("a ! video/x-raw,width=[1 ! b", 4).unwrap_err();
        assert!(matches!(e, Error::Parse { position: 25, .. }), "{e}");
        let e = parse_caps_span("src ! video/x-raw,width=(int)x ! sink", 6..30).unwrap_err();
        assert!(matches!(e, Error::Parse { position: 29, .. }), "{e}");
        assert!(parse_caps_prefix("é", 1).is_err());
        assert!(parse_caps_span("abc", 2..9).is_err());
    }
}
