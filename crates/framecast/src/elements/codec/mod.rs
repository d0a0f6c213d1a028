//! The codec elements: H.264 (`h264enc` choosing a backend from the
//! [`registry`], `openh264enc`, `x264enc`, `openh264dec`) and JPEG
//! (`jpegenc`, `jpegdec`), what codec elements share ([`base`]) and the
//! video-decoder base the decoders are formats of (`decoder.rs`).

pub(crate) mod base;
pub(crate) mod decoder;
pub mod h264enc;
pub mod jpegdec;
pub mod jpegenc;
mod openh264_concealing_decoder;
pub mod openh264dec;
pub mod openh264enc;
pub mod registry;
#[cfg(feature = "x264")]
pub mod x264enc;

use crate::pipeline::ElementFactory;

/// Registers the codec elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    push_factories!(factories; h264enc, jpegdec, jpegenc, openh264dec, openh264enc);
    #[cfg(feature = "x264")]
    factories.push(x264enc::factory());
}
