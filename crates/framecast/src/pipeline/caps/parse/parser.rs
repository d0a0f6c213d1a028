//! The caps string parser: structures, typed fields, lists, arrays and
//! ranges (GStreamer `gst_caps_from_string` syntax).

use super::*;
use crate::error::closest;
use crate::pipeline::caps::range::{DoubleRange, FractionRange, IntRange};
use crate::pipeline::caps::{fields, Caps, Structure, Value};
use crate::{Error, Fraction, Result};

/// A type annotation: `(int)`, `(string)`, ... Scalar types also type the
/// elements of a list or the ends of a range they precede.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Ty {
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

    pub(super) fn name(self) -> &'static str {
        TYPE_NAMES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }
}

/// A recursive-descent parser over `input`, keeping byte positions in the
/// whole input so that errors point at the right place.
pub(super) struct Parser<'a> {
    pub(super) input: &'a str,
    pub(super) pos: usize,
    /// Stop quietly where caps syntax ends instead of requiring the end of
    /// input (caps inside a pipeline string).
    prefix: bool,
    /// How many ranges, lists and arrays enclose the cursor.
    depth: usize,
}

/// How deeply ranges, lists and arrays may nest. Real caps nest two
/// levels at most; the limit keeps hostile input from exhausting the
/// stack of this recursive parser (and of the recursive set operations).
pub(super) const MAX_DEPTH: usize = 32;

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str, pos: usize, prefix: bool) -> Parser<'a> {
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

    pub(super) fn skip_ws(&mut self) {
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
    pub(super) fn word(&mut self) -> (usize, &'a str) {
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

    pub(super) fn error(&self, at: usize, token: &str, message: impl Into<String>) -> Error {
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

    pub(super) fn expect_end(&self, expected: &str) -> Result<()> {
        if self.pos < self.input.len() {
            return Err(self.error_here(format!("expected {expected}")));
        }
        Ok(())
    }

    pub(super) fn caps(&mut self) -> Result<Caps> {
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

    pub(super) fn structure(&mut self) -> Result<Structure> {
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

    pub(super) fn value(&mut self, hint: Option<Ty>) -> Result<Value> {
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
    pub(super) fn scalar(
        &self,
        ty: Option<Ty>,
        text: &str,
        quoted: bool,
        start: usize,
    ) -> Result<Value> {
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

    pub(super) fn range(&mut self, ty: Option<Ty>) -> Result<Value> {
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
