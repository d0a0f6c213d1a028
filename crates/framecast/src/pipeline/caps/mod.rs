//! Caps: the media a pad carries, and the algebra negotiation runs on
//! (GStreamer's `GstCaps`, `GstStructure` and caps `GValue`s).
//!
//! - [`Value`] (`value.rs`, ranges in `range.rs`): one field value — a
//!   number, string, fraction, range, list of alternatives or array — with
//!   intersection, subset and fixation.
//! - [`Structure`] (`structure.rs`): a media type and its fields.
//! - [`Caps`] (`caps.rs`): `ANY`, `EMPTY` or alternative structures.
//! - Text (`parse/`, `serialize.rs`): GStreamer's caps syntax both ways,
//!   with parse errors that point at the bad token.
//! - Field rules (`fields.rs`): what `width`, raw-video `format`, RTP
//!   `payload` and the like may hold, checked on text and by
//!   [`Caps::video_info`].
//! - Raw video (`video.rs`): [`VideoInfo`](crate::VideoInfo) to and from
//!   `video/x-raw` caps, and raw-video templates.
//!
//! The semantics follow GStreamer 1.22 (`gstcaps.c`, `gststructure.c`,
//! `gstvalue.c`) so that framecast negotiates what a GStreamer pipeline
//! would; the unit tests' expected strings were checked against it.
//!
//! # Syntax
//!
//! ```text
//! caps      = "ANY" | "EMPTY" | "NONE" | "" | structure *( ";" structure ) [";"]
//! structure = name [ "(memory:SystemMemory)" ] *( "," field ) [","]
//! field     = name "=" value
//! value     = [ "(" type ")" ] ( range | list | array | string | word )
//! range     = "[" value "," value [ "," value ] "]"
//! list      = "{" [ value *( "," value ) ] "}"
//! array     = "<" [ value *( "," value ) ] ">"
//! string    = '"' chars with \" \\ \ooo escapes '"'
//! word      = 1*( letter | digit | "_" | "-" | "+" | "/" | ":" | "." )
//! ```
//!
//! Whitespace is allowed around every token. A word without a type
//! annotation is read, as GStreamer reads it, as the first of int
//! (`1280`, `-5`, `0x10`, `max`, `min`), double (`1.5`, `1e3`), fraction
//! (`30/1`), boolean (`true`, `yes`, `t`, `false`, `no`, `f`) and string
//! that fits. A quoted value is always a string (GStreamer 1.22 warns that
//! it will stop guessing there).
//!
//! Where GStreamer silently does something surprising, framecast refuses
//! with an error instead: integers beyond 32 bits (GStreamer wraps them),
//! `1/0` (GStreamer makes it a string), ranges that are empty or hold one
//! value, stepped ranges whose ends are off the step, and fields given
//! twice (GStreamer keeps the last). A leading zero does not make a number
//! octal (GStreamer reads `010` as 8). The fields of well-known media types
//! are checked against their rules as they are read (`fields.rs`):
//! `video/x-raw,format=NOPE` or `width=0` is an error at the value, not a
//! negotiation that fails later with "downstream accepts EMPTY".
//!
//! `Display` writes the compact form people type
//! (`video/x-raw,format={ I420, NV12 },width=[ 1, 4096 ]`), quoting a
//! string only where the bare word would read as another type; `{:#}` and
//! [`Caps::to_gst_string`] write GStreamer's annotated form
//! (`video/x-raw, format=(string){ I420, NV12 }, width=(int)[ 1, 4096 ]`),
//! byte for byte what `gst_caps_to_string` and `gst-launch-1.0 -v` print
//! (except in two corners where GStreamer's text does not read back:
//! lists mixing types, and ranges in lists nested in lists). Both read
//! back to the same caps, in framecast and in GStreamer.
//!
//! # Examples
//!
//! ```
//! use framecast::pipeline::Caps;
//! use framecast::VideoFormat;
//! let src = Caps::video_raw_any(&[VideoFormat::I420, VideoFormat::Nv12]);
//! let filter: Caps = "video/x-raw,format=NV12,width=1280,height=720,framerate=30/1".parse()?;
//! let caps = src.intersect(&filter).fixate().expect("compatible");
//! let info = caps.video_info()?;
//! assert_eq!((info.format, info.width, info.height), (VideoFormat::Nv12, 1280, 720));
//! # Ok::<(), framecast::Error>(())
//! ```

// `caps.rs` holds `Caps` as `value.rs` holds `Value`: one concept per
// file, named after it, even where that repeats the module's name.
#[allow(clippy::module_inception)]
mod caps;
mod fields;
mod parse;
mod range;
mod serialize;
mod structure;
mod value;
mod video;

pub use caps::{Caps, CapsBuilder};
pub use parse::{parse_caps_prefix, parse_caps_span};
pub use range::{DoubleRange, FractionRange, IntRange};
pub use structure::{Structure, StructureBuilder};
pub use value::{FromValue, Value};
pub use video::VIDEO_RAW;
