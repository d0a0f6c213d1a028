//! Caps: the media a pad carries, and the algebra negotiation runs on
//! (GStreamer's `GstCaps`, `GstStructure` and caps `GValue`s).
//!
//! - [`Value`] (`value.rs`, ranges in `range.rs`): one field value — a
//!   number, string, fraction, range, list of alternatives or array — with
//!   intersection, subset and fixation.
//! - [`Structure`] (`structure.rs`): a media type and its fields.
//! - [`Caps`] (`caps.rs`): `ANY`, `EMPTY` or alternative structures.
//! - Text (`parse.rs`, `serialize.rs`): GStreamer's caps syntax both ways,
//!   with parse errors that point at the bad token.
//! - Raw video (`video.rs`): [`VideoInfo`](crate::VideoInfo) to and from
//!   `video/x-raw` caps, and raw-video templates.
//!
//! The semantics follow GStreamer 1.22 (`gstcaps.c`, `gststructure.c`,
//! `gstvalue.c`) so that framecast negotiates what a GStreamer pipeline
//! would; the unit tests' expected strings were checked against it.
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

mod caps;
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
