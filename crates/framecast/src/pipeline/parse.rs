//! Text pipelines: [`parse_launch`], gst-launch's syntax.
//!
//! ```text
//! pipeline  = chain *( chain )
//! chain     = item *( "!" item )
//! item      = element | reference | caps
//! element   = factory *( property )
//! property  = name "=" value            (spaces around "=" allowed)
//! value     = '"' chars '"' | "'" chars "'" | bare
//! reference = name "." [ pad ]          (t.  t.src_0  mux.sink_1)
//! caps      = media-type [ "," fields ] (video/x-raw,format=I420 — up to the next "!")
//! ```
//!
//! - A quoted value may hold spaces and `!`; `\"`, `\'` and `\\` (any
//!   `\c`, really) stand for the character. A bare value runs to the next
//!   space or `!`; a quoted part inside it (`caps=video/x-raw,format="I420"`)
//!   is kept as written.
//! - Values are read as the property's type: numbers (`0x` hex too),
//!   booleans (`true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`), fractions
//!   (`30/1`), enums by nick (`leaky=downstream`) or number, caps.
//!   `name=` names the element; `_` may stand for `-` in property names.
//! - Caps between two links become a `capsfilter`, as in gst-launch; a
//!   quoted string between two links is read as caps too.
//! - An item that does not follow a `!` starts a new chain:
//!   `tee name=t t. ! queue ! fakesink t. ! queue ! fakesink`. References
//!   may name elements made later in the string; a reference's pad may be
//!   an existing pad or a request pad (`t.src_0`).
//!
//! Every error is an [`Error::Parse`] that names the problem and points at
//! the token (byte position and a caret under it), with a suggestion for a
//! misspelled element, property or reference:
//!
//! ```text
//! pipeline: no element "videoconvrt" at 10 ("videoconvrt") (did you mean "videoconvert"?)
//!   testsrc ! videoconvrt ! fakesink
//!             ^^^^^^^^^^^
//! ```

use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

use super::bin::Pipeline;
use super::caps::{parse_caps_span, Caps};
use super::element::Element;
use super::factory::{find_factory, make_element};
use super::pad::{Pad, PadDirection, PadPresence};
use super::property::{PropertyType, PropertyValue};
use crate::error::closest;
use crate::{Error, Result};

/// What parse errors say they were parsing.
const WHAT: &str = "pipeline";

/// Builds a pipeline from gst-launch syntax: elements linked by `!`,
/// `key=value` properties, caps filters, named elements and references.
///
/// The pipeline is returned in the Null state, every element added and
/// every link made.
///
/// # Errors
///
/// [`Error::Parse`] for anything wrong in the string — an unknown element
/// or property (with the closest name as a suggestion), a bad value, a
/// dangling or doubled `!`, an unterminated quote, an unknown reference,
/// malformed caps, two elements of one name, or a link the pads refuse —
/// with the byte position of the token at fault.
///
/// # Examples
///
/// ```
/// let pipeline = framecast::parse_launch(
///     "filesrc location=in.bin ! tee name=t t. ! queue ! fakesink t. ! queue ! fakesink name=last",
/// )?;
/// let last = pipeline.by_name("last").expect("named element");
/// assert_eq!(last.factory().name, "fakesink");
///
/// let err = framecast::parse_launch("filesrc ! fakesnk").unwrap_err();
/// assert!(err.to_string().contains("did you mean \"fakesink\"?"));
/// # Ok::<(), framecast::Error>(())
/// ```
#[doc(alias = "gst_parse_launch")]
#[track_caller]
pub fn parse_launch(input: &str) -> Result<Pipeline> {
    let tokens = Lexer::new(input).tokens()?;
    let chains = Grammar::new(input).chains(tokens)?;
    build(input, chains)
}

// ---- errors -------------------------------------------------------------

fn error(input: &str, span: Range<usize>, message: impl Into<String>) -> Error {
    error_suggest(input, span, message, None)
}

fn error_suggest(
    input: &str,
    span: Range<usize>,
    message: impl Into<String>,
    suggestion: Option<String>,
) -> Error {
    let token = input.get(span.clone()).unwrap_or("");
    Error::parse(WHAT, input, span.start, token, message, suggestion)
}

// ---- lexer --------------------------------------------------------------

/// A property value as written.
#[derive(Debug, Clone)]
struct Value {
    /// The value, quotes removed and escapes resolved.
    text: String,
    /// The whole value token in the input (quotes included).
    span: Range<usize>,
    /// Where `text` lies verbatim in the input, when it does (no escapes),
    /// so that errors inside it (bad caps) can point at the right byte.
    verbatim: Option<Range<usize>>,
}

#[derive(Debug)]
enum Kind {
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
struct Token {
    kind: Kind,
    span: Range<usize>,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')
}

fn is_pad_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '%')
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Lexer<'a> {
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

    fn tokens(mut self) -> Result<Vec<Token>> {
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
    fn quoted(&mut self) -> Result<Value> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(error(self.input, start..start, "expected a quote"));
        };
        let mut text = String::new();
        let mut escaped = false;
        loop {
            match self.bump() {
                None => {
                    return Err(error(
                        self.input,
                        start..start + 1,
                        "unterminated quoted string: no closing quote",
                    ))
                }
                Some('\\') => match self.bump() {
                    Some(c) => {
                        text.push(c);
                        escaped = true;
                    }
                    None => {
                        return Err(error(
                            self.input,
                            start..start + 1,
                            "unterminated quoted string: no closing quote",
                        ))
                    }
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
    fn bare(&mut self) -> Result<Value> {
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

    /// Skips a quoted part inside a bare value; returns its end.
    fn quoted_inside(&mut self) -> Result<usize> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Ok(start);
        };
        loop {
            match self.bump() {
                None => {
                    return Err(error(
                        self.input,
                        start..start + 1,
                        "unterminated quoted string: no closing quote",
                    ))
                }
                Some('\\') => {
                    self.bump();
                }
                Some(c) if c == quote => return Ok(self.pos),
                Some(_) => {}
            }
        }
    }
}

// ---- grammar ------------------------------------------------------------

#[derive(Debug)]
struct Property {
    key: String,
    key_span: Range<usize>,
    value: Value,
}

#[derive(Debug)]
struct ElementSpec {
    factory: String,
    span: Range<usize>,
    properties: Vec<Property>,
}

#[derive(Debug)]
enum Item {
    /// Index into the element specs.
    Element(usize),
    Ref {
        name: String,
        pad: Option<String>,
        span: Range<usize>,
    },
    /// Caps text (span in the input, or a quoted string).
    Caps {
        span: Range<usize>,
        value: Option<Value>,
    },
}

impl Item {
    fn span<'s>(&'s self, specs: &'s [ElementSpec]) -> Range<usize> {
        match self {
            Item::Element(i) => specs.get(*i).map_or(0..0, |s| s.span.clone()),
            Item::Ref { span, .. } | Item::Caps { span, .. } => span.clone(),
        }
    }
}

/// A chain: items, each after the first with the span of the `!` before it.
#[derive(Debug, Default)]
struct Chain {
    items: Vec<(Item, Option<Range<usize>>)>,
}

#[derive(Debug)]
struct Chains {
    specs: Vec<ElementSpec>,
    chains: Vec<Chain>,
}

struct Grammar<'a> {
    input: &'a str,
}

impl<'a> Grammar<'a> {
    fn new(input: &'a str) -> Grammar<'a> {
        Grammar { input }
    }

    fn chains(&self, tokens: Vec<Token>) -> Result<Chains> {
        let input = self.input;
        if tokens.is_empty() {
            return Err(error(
                input,
                0..input.len(),
                "empty pipeline: expected at least one element",
            ));
        }
        let mut specs: Vec<ElementSpec> = Vec::new();
        let mut chains: Vec<Chain> = Vec::new();
        let mut current = Chain::default();
        let mut pending_link: Option<Range<usize>> = None;
        // The element that properties go to (none right after a link,
        // a reference or caps).
        let mut last_element: Option<usize> = None;
        for token in tokens {
            let item = match token.kind {
                Kind::Link => {
                    if let Some(previous) = &pending_link {
                        return Err(error(
                            input,
                            token.span,
                            format!(
                                "`!` right after the `!` at {}: expected an element, a reference or caps between them",
                                previous.start
                            ),
                        ));
                    }
                    if current.items.is_empty() {
                        return Err(error(
                            input,
                            token.span,
                            "`!` with nothing before it to link from",
                        ));
                    }
                    pending_link = Some(token.span);
                    last_element = None;
                    continue;
                }
                Kind::Assign {
                    key,
                    key_span,
                    eq,
                    value,
                } => {
                    let Some(spec) = last_element.and_then(|i| specs.get_mut(i)) else {
                        if find_factory(&key).is_some() {
                            return Err(error(
                                input,
                                eq..eq + 1,
                                format!(
                                    "`=` without a property name before it (`{key}` is an element)"
                                ),
                            ));
                        }
                        return Err(error(
                            input,
                            key_span.start..value.span.end,
                            format!("property {key:?} does not follow an element to set it on"),
                        ));
                    };
                    spec.properties.push(Property {
                        key,
                        key_span,
                        value,
                    });
                    continue;
                }
                Kind::Word(factory) => {
                    specs.push(ElementSpec {
                        factory,
                        span: token.span.clone(),
                        properties: Vec::new(),
                    });
                    last_element = Some(specs.len() - 1);
                    Item::Element(specs.len() - 1)
                }
                Kind::Ref { name, pad } => {
                    last_element = None;
                    Item::Ref {
                        name,
                        pad,
                        span: token.span.clone(),
                    }
                }
                Kind::Caps(span) => {
                    last_element = None;
                    if pending_link.is_none() {
                        return Err(error(
                            input,
                            span,
                            "caps must come after a `!` (a caps filter goes between two elements)",
                        ));
                    }
                    Item::Caps { span, value: None }
                }
                Kind::Quoted(value) => {
                    last_element = None;
                    if pending_link.is_none() {
                        return Err(error(
                            input,
                            token.span,
                            "expected an element name, not a quoted string (quoted caps go between two `!`)",
                        ));
                    }
                    Item::Caps {
                        span: token.span.clone(),
                        value: Some(value),
                    }
                }
            };
            match pending_link.take() {
                Some(link) => current.items.push((item, Some(link))),
                None => {
                    // Not linked to what came before: a new chain.
                    if !current.items.is_empty() {
                        chains.push(std::mem::take(&mut current));
                    }
                    current.items.push((item, None));
                }
            }
        }
        if let Some(link) = pending_link {
            return Err(error(
                input,
                link,
                "`!` at the end links to nothing: expected an element after it",
            ));
        }
        if !current.items.is_empty() {
            chains.push(current);
        }
        for chain in &chains {
            if let Some((item @ Item::Caps { .. }, _)) = chain.items.last() {
                return Err(error(
                    input,
                    item.span(&specs),
                    "caps filter at the end of a chain links to nothing: expected `!` and an element after it",
                ));
            }
            if let [(item @ Item::Ref { name, .. }, None)] = chain.items.as_slice() {
                return Err(error(
                    input,
                    item.span(&specs),
                    format!("reference `{name}.` is not linked to anything: expected `!` before or after it"),
                ));
            }
        }
        Ok(Chains { specs, chains })
    }
}

// ---- building -----------------------------------------------------------

static PIPELINES: AtomicU32 = AtomicU32::new(0);

/// Parses caps written in the pipeline at `value` (or the span `span`),
/// with error positions in the whole input.
fn caps_at(input: &str, span: Range<usize>, value: Option<&Value>) -> Result<Caps> {
    let reposition = |e: Error, at: usize| match e {
        Error::Parse {
            position,
            token,
            message,
            suggestion,
            ..
        } => Error::parse(
            WHAT,
            input,
            at + position,
            &token,
            format!("invalid caps: {message}"),
            suggestion,
        ),
        other => other,
    };
    match value {
        None => parse_caps_span(input, span).map_err(|e| reposition(e, 0)),
        Some(Value {
            verbatim: Some(range),
            ..
        }) => parse_caps_span(input, range.clone()).map_err(|e| reposition(e, 0)),
        Some(value) => value
            .text
            .parse::<Caps>()
            .map_err(|e| reposition(e, value.span.start)),
    }
}

/// The element's name from its `name=` properties (the last wins).
fn name_of<'s>(input: &str, spec: &'s ElementSpec) -> Result<Option<&'s Value>> {
    let value = spec
        .properties
        .iter()
        .rev()
        .find(|p| p.key == "name")
        .map(|p| &p.value);
    if let Some(v) = value {
        if v.text.is_empty() {
            return Err(error(
                input,
                v.span.clone(),
                "an element name cannot be empty",
            ));
        }
    }
    Ok(value)
}

fn set_property(input: &str, element: &Element, property: &Property) -> Result<()> {
    let factory = element.factory();
    let spec = factory.property(&property.key).or_else(|| {
        let dashed = property.key.replace('_', "-");
        factory.property(&dashed)
    });
    let Some(spec) = spec else {
        let names = factory
            .properties
            .iter()
            .map(|p| p.name)
            .chain(std::iter::once("name"));
        return Err(error_suggest(
            input,
            property.key_span.clone(),
            format!(
                "element {:?} ({}) has no property {:?}",
                element.name(),
                factory.name,
                property.key
            ),
            closest(&property.key, names),
        ));
    };
    let value = &property.value;
    let result = if matches!(spec.kind, PropertyType::Caps) {
        let caps = caps_at(input, value.span.clone(), Some(value))?;
        element.set_property(spec.name, PropertyValue::Caps(caps))
    } else {
        element.set_property_from_str(spec.name, &value.text)
    };
    result.map_err(|e| {
        let message = match e {
            Error::InvalidPropertyValue { reason, .. } => format!(
                "invalid value {:?} for property {:?} of {:?}: {reason}",
                value.text,
                spec.name,
                element.name()
            ),
            other => format!(
                "cannot set property {:?} of {:?}: {other}",
                spec.name,
                element.name()
            ),
        };
        error(input, value.span.clone(), message)
    })
}

/// A pad named `name` of `element` for linking `direction`-wards: an
/// existing pad, or a new one from a request template.
fn named_pad(
    element: &Element,
    name: &str,
    direction: PadDirection,
) -> std::result::Result<Pad, String> {
    let side = |d: PadDirection| {
        if d == PadDirection::Src {
            "source"
        } else {
            "sink"
        }
    };
    if let Some(pad) = element.static_pad(name) {
        if pad.direction() != direction {
            return Err(format!(
                "{} is a {} pad, but a {} pad is needed here",
                pad.full_name(),
                side(pad.direction()),
                side(direction)
            ));
        }
        return Ok(pad);
    }
    let factory = element.factory();
    let template = factory.pad_templates.iter().find(|t| {
        t.presence == PadPresence::Request
            && t.direction == direction
            && (t.name == name || template_matches(t.name, name))
    });
    let Some(template) = template else {
        let names: Vec<String> = element
            .pads()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        let templates = factory
            .pad_templates
            .iter()
            .filter(|t| t.presence == PadPresence::Request)
            .map(|t| t.name.to_string());
        let all: Vec<String> = names.into_iter().chain(templates).collect();
        let hint = closest(name, all.iter().map(String::as_str))
            .map(|s| format!(" (did you mean {s:?}?)"))
            .unwrap_or_default();
        return Err(format!("{} has no pad {name:?}{hint}", element.name()));
    };
    let pad = element
        .request_pad(template.name)
        .map_err(|e| e.to_string())?;
    if pad.name() != name && template.name != name {
        return Err(format!(
            "pad {name:?} of {} is not available (the next request pad is {:?})",
            element.name(),
            pad.name()
        ));
    }
    Ok(pad)
}

/// Whether `name` is an instance of the template `template` (`src_3` of
/// `src_%u`).
fn template_matches(template: &str, name: &str) -> bool {
    let Some((prefix, suffix)) = template
        .split_once("%u")
        .or_else(|| template.split_once("%d"))
    else {
        return false;
    };
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// An item resolved to its element (and pad, for references with one).
struct Endpoint {
    element: Element,
    pad: Option<String>,
    span: Range<usize>,
}

/// `#[track_caller]` down from [`parse_launch`], so tracers report the
/// pipeline and its elements as made where `parse_launch` was called.
#[track_caller]
fn build(input: &str, parsed: Chains) -> Result<Pipeline> {
    let n = PIPELINES.fetch_add(1, Ordering::Relaxed);
    let pipeline = Pipeline::new(&format!("pipeline{n}"));
    // Elements, named and configured, in the order written.
    let mut elements: Vec<Element> = Vec::with_capacity(parsed.specs.len());
    for spec in &parsed.specs {
        let name = name_of(input, spec)?;
        let element =
            make_element(&spec.factory, name.map(|v| v.text.as_str())).map_err(|e| match e {
                Error::NoSuchElement { name, suggestion } => error_suggest(
                    input,
                    spec.span.clone(),
                    format!("no element {name:?}"),
                    suggestion,
                ),
                other => error(input, spec.span.clone(), other.to_string()),
            })?;
        if pipeline.add(&element).is_err() {
            let span = name.map_or(spec.span.clone(), |v| v.span.clone());
            return Err(error(
                input,
                span,
                format!(
                    "two elements are named {:?}: names must be unique",
                    element.name()
                ),
            ));
        }
        for property in spec.properties.iter().filter(|p| p.key != "name") {
            set_property(input, &element, property)?;
        }
        elements.push(element);
    }
    // Caps filters, then links, chain by chain.
    for chain in &parsed.chains {
        let mut endpoints: Vec<(Endpoint, Option<Range<usize>>)> = Vec::new();
        for (item, link) in &chain.items {
            let endpoint = match item {
                Item::Element(i) => Endpoint {
                    element: elements.get(*i).cloned().ok_or_else(|| {
                        error(input, item.span(&parsed.specs), "internal: missing element")
                    })?,
                    pad: None,
                    span: item.span(&parsed.specs),
                },
                Item::Ref { name, pad, span } => {
                    let Some(element) = pipeline.by_name(name) else {
                        let names: Vec<String> = pipeline
                            .elements()
                            .iter()
                            .map(|e| e.name().to_string())
                            .collect();
                        return Err(error_suggest(
                            input,
                            span.clone(),
                            format!(
                                "no element named {name:?} to refer to (name one with name={name})"
                            ),
                            closest(name, names.iter().map(String::as_str)),
                        ));
                    };
                    Endpoint {
                        element,
                        pad: pad.clone(),
                        span: span.clone(),
                    }
                }
                Item::Caps { span, value } => {
                    let caps = caps_at(input, span.clone(), value.as_ref())?;
                    let filter = make_element("capsfilter", None)
                        .map_err(|e| error(input, span.clone(), e.to_string()))?;
                    filter
                        .set_property("caps", PropertyValue::Caps(caps))
                        .map_err(|e| error(input, span.clone(), e.to_string()))?;
                    pipeline
                        .add(&filter)
                        .map_err(|e| error(input, span.clone(), e.to_string()))?;
                    Endpoint {
                        element: filter,
                        pad: None,
                        span: span.clone(),
                    }
                }
            };
            endpoints.push((endpoint, link.clone()));
        }
        for pair in endpoints.windows(2) {
            let (from, _) = &pair[0];
            let (to, link) = &pair[1];
            let link = link.clone().unwrap_or_else(|| to.span.clone());
            link_endpoints(input, from, to, link)?;
        }
    }
    Ok(pipeline)
}

fn link_endpoints(input: &str, from: &Endpoint, to: &Endpoint, link: Range<usize>) -> Result<()> {
    let fail = |reason: String| {
        error(
            input,
            link.clone(),
            format!(
                "cannot link {} to {}: {reason}",
                from.element.name(),
                to.element.name()
            ),
        )
    };
    let src = match &from.pad {
        Some(name) => named_pad(&from.element, name, PadDirection::Src).map_err(fail)?,
        None => from
            .element
            .free_pad(PadDirection::Src)
            .map_err(|_| fail(no_free_pad(&from.element, PadDirection::Src)))?,
    };
    let sink = match &to.pad {
        Some(name) => named_pad(&to.element, name, PadDirection::Sink).map_err(fail)?,
        None => to
            .element
            .free_pad(PadDirection::Sink)
            .map_err(|_| fail(no_free_pad(&to.element, PadDirection::Sink)))?,
    };
    src.link(&sink).map_err(|e| match e {
        Error::Link { reason, .. } => fail(format!(
            "{} -> {}: {reason}",
            src.full_name(),
            sink.full_name()
        )),
        other => fail(other.to_string()),
    })
}

fn no_free_pad(element: &Element, direction: PadDirection) -> String {
    let (side, has_any) = match direction {
        PadDirection::Src => ("source", !element.src_pads().is_empty()),
        PadDirection::Sink => ("sink", !element.sink_pads().is_empty()),
    };
    let can_request = element
        .factory()
        .pad_templates
        .iter()
        .any(|t| t.direction == direction && t.presence == PadPresence::Request);
    if has_any || can_request {
        format!(
            "every {side} pad of {} ({}) is already linked",
            element.name(),
            element.factory().name
        )
    } else {
        format!(
            "{} ({}) has no {side} pad",
            element.name(),
            element.factory().name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names() {
        assert!(template_matches("src_%u", "src_0"));
        assert!(template_matches("src_%u", "src_12"));
        assert!(!template_matches("src_%u", "src_"));
        assert!(!template_matches("src_%u", "src_x"));
        assert!(!template_matches("sink", "sink"));
    }

    #[test]
    fn lexes_values() {
        let tokens = Lexer::new(r#"a b="x \"y\" z" c = 5 d=e"f g"h"#)
            .tokens()
            .unwrap();
        let values: Vec<String> = tokens
            .iter()
            .filter_map(|t| match &t.kind {
                Kind::Assign { value, .. } => Some(value.text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(values, ["x \"y\" z", "5", "e\"f g\"h"]);
    }
}
