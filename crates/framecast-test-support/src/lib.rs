//! What framecast's tests and benchmarks share, in one place: a test
//! binary depends on this crate (a dev-dependency) instead of including
//! files from another crate's `tests/` folder.
//!
//! - [`http`]: a small HTTP/1.1 client (requests, raw bytes, streamed
//!   answers);
//! - [`browser`]: headless Chromium through chromedriver (WebDriver);
//! - [`alloc`]: the counting global allocator of the zero-allocation
//!   tests and `framecast-bench memory`;
//! - [`ports`]: free UDP ports on 127.0.0.1;
//! - [`impair`]: the impairment relay (loss, bursts, duplication, delay,
//!   jitter, reordering, strays) the kernel's missing netem stands for
//!   (the `framecast-impair` crate, which `framecast demo --loss` ships);
//! - [`interop`]: finding and running the real peers (ffmpeg, GStreamer,
//!   the GStreamer receiver with retransmission);
//! - [`child`]: running a test binary again as a child process, and
//!   reading its output line by line;
//! - [`signals`]: sending SIGINT to a child once it handles it;
//! - [`compare`]: PSNR of a decoded picture;
//! - [`files`]: per-process temp paths and deterministic file contents;
//! - `frames` (feature `pipeline`): test frames and the test sender;
//! - `pipelines` (feature `pipeline`): launching test pipelines and
//!   reading their elements' properties;
//! - `rtsp_viewers` (feature `pipeline`): a served counter stream, the
//!   real RTSP viewers (ffmpeg, `rtspsrc`) and raw RTSP requests;
//! - `whep` (feature `pipeline`): a `whepsink` stream and a bare WHEP
//!   viewer page for headless Chromium.
//!
//! Test code: it panics on what a test would fail on.

#![allow(clippy::missing_panics_doc)]

/// The counting global allocator (framecast-core's, which the Python
/// module installs too).
pub mod alloc {
    pub use framecast_core::heap::{allocations, allocations_in, Counting};
}

/// Installs [`Counting`] as the binary's global allocator (`GLOBAL`): one
/// line at the top of a test binary that counts allocations.
#[macro_export]
macro_rules! install_counting_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::alloc::Counting = $crate::alloc::Counting;
    };
}

pub mod browser;
pub mod child;
pub mod compare;
pub mod files;
#[cfg(feature = "pipeline")]
pub mod frames;
pub mod http;
pub use framecast_impair as impair;
pub mod interop;
#[cfg(feature = "pipeline")]
pub mod pipelines;
pub mod ports;
#[cfg(feature = "pipeline")]
pub mod rtsp_viewers;
pub mod signals;
#[cfg(feature = "pipeline")]
pub mod whep;
