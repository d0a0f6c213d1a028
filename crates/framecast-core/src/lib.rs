//! # framecast-core
//!
//! GStreamer's media memory model rebuilt in safe Rust, the foundation the
//! rest of framecast stands on:
//!
//! - [`memory`]: [`Allocator`]s, [`AllocationParams`], [`Memory`] with map
//!   guards that unmap on drop, shares, foreign (zero-copy) memory and
//!   shared memory through memfd.
//! - [`buffer`]: [`Buffer`] handles (clone = a new reference, writable iff
//!   unique), metas stored inline, [`BufferPool`]s that recycle the whole
//!   buffer shell, and the typed [`AllocationQuery`].
//! - [`video`]: video formats and GStreamer's plane arithmetic.
//! - [`trace`]: lifecycle hooks every tracked object reports to, costing one
//!   relaxed atomic load per event while no tracer is active.
//!
//! Where GStreamer's behaviour is sound framecast follows it exactly (same
//! constants, same sizes and offsets); where it is weak (silent ownership
//! transfer, maps with side effects, the 16-memory cap, per-meta mallocs)
//! the types make the mistake impossible instead.

#![deny(missing_debug_implementations)]

pub mod accept;
pub mod buffer;
mod error;
mod flags;
mod fraction;
pub mod heap;
pub mod memory;
pub mod sync;
mod time;
pub mod trace;
pub mod video;

pub use buffer::*;
pub use error::{Error, ErrorKind, Result};
pub use fraction::Fraction;
pub use memory::*;
pub use time::ClockTime;
pub use video::*;
