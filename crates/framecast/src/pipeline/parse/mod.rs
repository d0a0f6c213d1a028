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

use crate::pipeline::bin::Pipeline;
use crate::{Error, Result};
use std::ops::Range;

mod build;
mod grammar;
mod lex;

use build::*;
use grammar::*;
use lex::*;

/// What parse errors say they were parsing.
pub(super) const WHAT: &str = "pipeline";

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

pub(super) fn error(input: &str, span: Range<usize>, message: impl Into<String>) -> Error {
    error_suggest(input, span, message, None)
}

pub(super) fn error_suggest(
    input: &str,
    span: Range<usize>,
    message: impl Into<String>,
    suggestion: Option<String>,
) -> Error {
    let token = input.get(span.clone()).unwrap_or("");
    Error::parse(WHAT, input, span.start, token, message, suggestion)
}

#[cfg(test)]
mod tests;
