//! The gst-launch lexer: words, quoted values, pads, links and caps, with
//! the byte span of each token for errors.

use super::*;
use crate::Result;
use std::ops::Range;

/// A property value as written.
#[derive(Debug, Clone)]
pub(super) struct Value {
    /// The value, quotes removed and escapes resolved.
    pub(super) text: String,
    /// The whole value token in the input (quotes included).
    pub(super) span: Range<usize>,
    /// Where `text` lies verbatim in the input, when it does (no escapes),
    /// so that errors inside it (bad caps) can point at the right byte.
    pub(super) verbatim: Option<Range<usize>>,
}

#[derive(Debug)]
pub(super) enum Kind {
    /// `!`
    Link,
    /// An element factory name.
    Word(String),
    /// `name.` or `name.pad`.
    Ref { name: String, pad: Option<String> },
    /// Caps up to the next link.
    Caps(Range<usize>),
    /// A quoted string where an item goes (caps, between two links).
    Quoted(Value),
    /// `key=value`.
    Assign {
        key: String,
        key_span: Range<usize>,
        /// Position of the `=`.
        eq: usize,
        value: Value,
    },
}

#[derive(Debug)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) span: Range<usize>,
}

pub(super) struct Lexer<'a> {
    pub(super) input: &'a str,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')
}

fn is_pad_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '%')
}

impl<'a> Lexer<'a> {
    pub(super) fn new(input: &'a str) -> Lexer<'a> {
        Lexer { input, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.input.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_at(&self, pos: usize) -> Option<char> {
        self.input.get(pos..).and_then(|s| s.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> Range<usize> {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        start..self.pos
    }

    fn char_span(&self, at: usize) -> Range<usize> {
        at..at + self.peek_at(at).map_or(0, char::len_utf8)
    }

    pub(super) fn tokens(mut self) -> Result<Vec<Token>> {
        let mut tokens = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            let Some(c) = self.peek() else {
                return Ok(tokens);
            };
            let kind = match c {
                '!' => {
                    self.bump();
                    Kind::Link
                }
                '"' | '\'' => Kind::Quoted(self.quoted()?),
                '=' => {
                    return Err(error(
                        self.input,
                        self.char_span(start),
                        "`=` without a property name before it",
                    ))
                }
                '(' | ')' | '{' | '}' => {
                    return Err(error(
                        self.input,
                        self.char_span(start),
                        "bins in parentheses are not supported: write the elements in the pipeline itself",
                    ))
                }
                c if is_word_char(c) => self.word()?,
                c => {
                    return Err(error(
                        self.input,
                        self.char_span(start),
                        format!("unexpected character {c:?}"),
                    ))
                }
            };
            tokens.push(Token {
                kind,
                span: start..self.pos,
            });
        }
    }

    /// A word and what follows it: a reference, caps, an assignment or a
    /// plain element name.
    fn word(&mut self) -> Result<Kind> {
        let span = self.take_while(is_word_char);
        let word = self.input[span.clone()].to_string();
        match self.peek() {
            Some('/') => {
                // Caps run to the next link outside quotes.
                let end = self.caps_end(span.start)?;
                self.pos = end;
                return Ok(Kind::Caps(span.start..end));
            }
            Some('.') => {
                self.bump();
                let pad = self.take_while(is_pad_char);
                let pad = (!pad.is_empty()).then(|| self.input[pad].to_string());
                return Ok(Kind::Ref { name: word, pad });
            }
            _ => {}
        }
        let after_word = self.pos;
        self.skip_ws();
        if self.peek() != Some('=') {
            self.pos = after_word;
            return Ok(Kind::Word(word));
        }
        let eq = self.pos;
        self.bump();
        self.skip_ws();
        let value = match self.peek() {
            None | Some('!') => {
                return Err(error(
                    self.input,
                    span.start..eq + 1,
                    format!("missing value for property {word:?}"),
                ))
            }
            Some('"' | '\'') => self.quoted()?,
            Some(_) => self.bare()?,
        };
        Ok(Kind::Assign {
            key: word,
            key_span: span,
            eq,
            value,
        })
    }

    /// End of a caps string starting at `start`: the next `!` outside
    /// quotes, or the end, without trailing spaces.
    fn caps_end(&mut self, start: usize) -> Result<usize> {
        let mut pos = start;
        while let Some(c) = self.peek_at(pos) {
            match c {
                '!' => break,
                '"' => {
                    self.pos = pos;
                    pos = self.quoted_inside()?;
                }
                _ => pos += c.len_utf8(),
            }
        }
        Ok(start + self.input[start..pos].trim_end().len())
    }

    /// A quoted string at the current position (`"` or `'`).
    pub(super) fn quoted(&mut self) -> Result<Value> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(error(self.input, start..start, "expected a quote"));
        };
        let mut text = String::new();
        let mut escaped = false;
        loop {
            match self.bump() {
                None => return Err(self.unterminated(start)),
                Some('\\') => match self.bump() {
                    Some(c) => {
                        text.push(c);
                        escaped = true;
                    }
                    None => return Err(self.unterminated(start)),
                },
                Some(c) if c == quote => break,
                Some(c) => text.push(c),
            }
        }
        let end = self.pos;
        if let Some(c) = self.peek() {
            if !c.is_whitespace() && c != '!' {
                let rest = self.take_while(|c| !c.is_whitespace() && c != '!');
                return Err(error(
                    self.input,
                    rest,
                    "unexpected text right after a quoted string (a space or `!` must follow)",
                ));
            }
        }
        Ok(Value {
            text,
            span: start..end,
            verbatim: (!escaped).then_some(start + 1..end - 1),
        })
    }

    /// A bare value: up to the next space or `!`; quoted parts inside are
    /// kept as written, `\c` stands for `c`.
    pub(super) fn bare(&mut self) -> Result<Value> {
        let start = self.pos;
        let mut text = String::new();
        let mut escaped = false;
        while let Some(c) = self.peek() {
            match c {
                c if c.is_whitespace() || c == '!' => break,
                '"' | '\'' => {
                    let from = self.pos;
                    let inner = self.quoted_inside()?;
                    text.push_str(&self.input[from..inner]);
                }
                '\\' => {
                    self.bump();
                    if let Some(next) = self.bump() {
                        text.push(next);
                    }
                    escaped = true;
                }
                c => {
                    self.bump();
                    text.push(c);
                }
            }
        }
        Ok(Value {
            text,
            span: start..self.pos,
            verbatim: (!escaped).then_some(start..self.pos),
        })
    }

    /// The error for a quoted string opened at `start` and never closed.
    fn unterminated(&self, start: usize) -> Error {
        error(
            self.input,
            start..start + 1,
            "unterminated quoted string: no closing quote",
        )
    }

    /// Skips a quoted part inside a bare value; returns its end.
    fn quoted_inside(&mut self) -> Result<usize> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Ok(start);
        };
        loop {
            match self.bump() {
                None => return Err(self.unterminated(start)),
                Some('\\') => {
                    self.bump();
                }
                Some(c) if c == quote => return Ok(self.pos),
                Some(_) => {}
            }
        }
    }
}
