//! The `framecast` crate's error type.

use std::borrow::Cow;
use std::fmt;

/// Everything that can go wrong building or running pipelines, with the
/// context to find the cause: element and pad names, the position of a bad
/// token in a pipeline or caps string, a suggestion for a misspelling.
///
/// Errors of the memory core arrive as [`Error::Core`]. Match on
/// [`Error::kind`] for the category.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the memory core (allocation, pools, metas).
    #[error(transparent)]
    Core(#[from] framecast_core::Error),
    /// A caps or pipeline string that does not parse. `Display` shows the
    /// input with a caret under the bad token.
    #[error("{}", ParseDisplay(self))]
    Parse {
        /// What was being parsed ("caps", "pipeline", "property value").
        what: &'static str,
        /// The whole input.
        input: String,
        /// Byte offset of the bad token.
        position: usize,
        /// The bad token.
        token: String,
        /// What is wrong.
        message: String,
        /// A correction, when one is likely ("did you mean `videoconvert`?").
        suggestion: Option<String>,
    },
    /// No element factory of that name.
    #[error("no element named {}{}", Quoted(name), suggest(suggestion))]
    NoSuchElement {
        /// The requested name.
        name: String,
        /// The closest registered name.
        suggestion: Option<String>,
    },
    /// The element has no such property.
    #[error(
        "element {element:?} has no property {}{}",
        Quoted(property),
        suggest(suggestion)
    )]
    NoSuchProperty {
        /// Element (factory or instance) name.
        element: String,
        /// The property asked for.
        property: String,
        /// The closest property name.
        suggestion: Option<String>,
    },
    /// A property value of the wrong type or out of range.
    #[error("{element}.{property}: cannot use {}: {reason}", Quoted(value))]
    InvalidPropertyValue {
        /// Element name.
        element: String,
        /// Property name.
        property: String,
        /// The value given.
        value: String,
        /// Why it is refused (expected type, range, valid names).
        reason: String,
    },
    /// Two pads cannot be linked.
    #[error("cannot link {from} to {to}: {reason}")]
    Link {
        /// `element:pad` upstream.
        from: String,
        /// `element:pad` downstream.
        to: String,
        /// Why.
        reason: String,
    },
    /// Caps negotiation failed between two elements.
    #[error("not negotiated between {upstream} and {downstream}: {reason}")]
    NotNegotiated {
        /// Upstream element.
        upstream: String,
        /// Downstream element.
        downstream: String,
        /// What could not be agreed.
        reason: String,
    },
    /// A state change failed.
    #[error("{element}: state change {transition} failed: {reason}")]
    StateChange {
        /// The element that failed.
        element: String,
        /// E.g. "Ready -> Paused".
        transition: String,
        /// Why.
        reason: String,
    },
    /// An element failed while running.
    #[error("{element}: {message}")]
    Element {
        /// The element.
        element: String,
        /// What happened.
        message: String,
    },
    /// An I/O error with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done ("binding udp 127.0.0.1:5000").
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The category of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// From the memory core.
    Core,
    /// Unparseable input.
    Parse,
    /// Unknown element or property, or a bad value.
    InvalidArgument,
    /// Linking or negotiation.
    Negotiation,
    /// State changes and running elements.
    Runtime,
    /// Operating-system I/O.
    Io,
}

impl Error {
    /// The category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Core(_) => ErrorKind::Core,
            Error::Parse { .. } => ErrorKind::Parse,
            Error::NoSuchElement { .. }
            | Error::NoSuchProperty { .. }
            | Error::InvalidPropertyValue { .. } => ErrorKind::InvalidArgument,
            Error::Link { .. } | Error::NotNegotiated { .. } => ErrorKind::Negotiation,
            Error::StateChange { .. } | Error::Element { .. } => ErrorKind::Runtime,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// A parse error at `position` of `input`.
    pub fn parse(
        what: &'static str,
        input: &str,
        position: usize,
        token: &str,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) -> Error {
        let mut message = message.into();
        // Messages often quote the token; a huge one is cut there too.
        if let Cow::Owned(short) = elide(token) {
            message = message.replace(token, &short);
        }
        Error::Parse {
            what,
            input: input.to_string(),
            position,
            token: token.to_string(),
            message,
            suggestion,
        }
    }

    /// This error, for a piece that starts at `offset` of the larger
    /// `input`: a parse error is moved there (its position counted in
    /// `input`, its `what` replaced, its message passed through
    /// `message`) so that it points into the whole text the user wrote;
    /// any other error passes unchanged.
    pub(crate) fn within(
        self,
        what: &'static str,
        input: &str,
        offset: usize,
        message: impl FnOnce(String) -> String,
    ) -> Error {
        match self {
            Error::Parse {
                position,
                token,
                message: m,
                suggestion,
                ..
            } => Error::parse(
                what,
                input,
                offset + position,
                &token,
                message(m),
                suggestion,
            ),
            other => other,
        }
    }
}

/// Characters of a token (a name, a value) that messages show; the rest is
/// cut, so that a 120 kB bad token does not make a 480 kB message.
const TOKEN_CHARS: usize = 64;
/// Characters of the input line a parse error shows on each side of the
/// token it points at.
const CONTEXT_CHARS: usize = 32;

/// `s`, or its first [`TOKEN_CHARS`] characters and "… (N bytes)".
pub(crate) fn elide(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(TOKEN_CHARS) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &s[..cut], s.len())),
    }
}

/// Displays a string quoted, as `{:?}` does, cut as [`elide`] cuts it.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(TOKEN_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(f, "{:?}… ({} bytes)", &self.0[..cut], self.0.len()),
        }
    }
}

/// The byte offset `n` characters into `s` (its length if shorter).
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

fn suggest(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s:?}?)"),
        None => String::new(),
    }
}

/// Renders a parse error as
///
/// ```text
/// pipeline: unknown element "videoconvrt" at 12 (did you mean "videoconvert"?)
///   testsrc ! videoconvrt ! fakesink
///             ^^^^^^^^^^^
/// ```
struct ParseDisplay<'a>(&'a Error);

impl fmt::Display for ParseDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::Parse {
            what,
            input,
            position,
            token,
            message,
            suggestion,
        } = self.0
        else {
            return Ok(());
        };
        write!(f, "{what}: {message} at {position}")?;
        if !token.is_empty() {
            write!(f, " ({})", Quoted(token))?;
        }
        f.write_str(&suggest(suggestion))?;
        // Show the line holding the token with a caret under it: a window
        // of it, as the line can be as long as the input.
        let mut position = (*position).min(input.len());
        while !input.is_char_boundary(position) {
            position -= 1;
        }
        let line_start = input[..position].rfind('\n').map_or(0, |i| i + 1);
        let line_end = input[position..]
            .find('\n')
            .map_or(input.len(), |i| position + i);
        let before = &input[line_start..position];
        let skipped = before.chars().count().saturating_sub(CONTEXT_CHARS);
        let before = &before[char_offset(before, skipped)..];
        let width = token.chars().count().clamp(1, TOKEN_CHARS);
        let after = &input[position..line_end];
        let shown = char_offset(after, width + CONTEXT_CHARS);
        let (lead, trail) = (
            if skipped > 0 { "…" } else { "" },
            if shown < after.len() { "…" } else { "" },
        );
        let column = lead.chars().count() + before.chars().count();
        write!(
            f,
            "\n  {lead}{before}{}{trail}\n  {}{}",
            &after[..shown],
            " ".repeat(column),
            "^".repeat(width)
        )
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_points_at_the_token() {
        let e = Error::parse(
            "pipeline",
            "testsrc ! videoconvrt ! fakesink",
            10,
            "videoconvrt",
            "unknown element",
            Some("videoconvert".into()),
        );
        let text = e.to_string();
        assert!(text.starts_with("pipeline: unknown element at 10 (\"videoconvrt\") (did you mean \"videoconvert\"?)"), "{text}");
        assert!(
            text.ends_with("\n  testsrc ! videoconvrt ! fakesink\n            ^^^^^^^^^^^"),
            "{text}"
        );
        assert_eq!(e.kind(), ErrorKind::Parse);
    }

    #[test]
    fn long_lines_and_tokens_are_windowed() {
        let input = format!("{}! bad{} ! sink", "a ".repeat(100), "x".repeat(200));
        let position = 202;
        let token = &input[position..position + 203];
        let e = Error::parse(
            "pipeline",
            &input,
            position,
            token,
            format!("no `{token}`"),
            None,
        );
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        let expected_head = format!(
            "pipeline: no `bad{}… (203 bytes)` at 202 (\"bad{}\"… (203 bytes))",
            "x".repeat(61),
            "x".repeat(61)
        );
        assert_eq!(lines[0], expected_head);
        assert_eq!(
            lines[1],
            format!("  …{}! bad{}…", "a ".repeat(15), "x".repeat(93))
        );
        assert_eq!(lines[2], format!("  {}{}", " ".repeat(33), "^".repeat(64)));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("videoconvrt", ["videoconvert", "videoscale", "queue"]),
            Some("videoconvert".into())
        );
        assert_eq!(closest("xyz", ["videoconvert", "queue"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
