//! The H.264 encoder registry: an open set of encoder back-ends, each with
//! a [`Tier`], from which `h264enc` picks the best available one
//! (Symphonia's codec registry pattern: codecs register by trait, with
//! preferred, standard and fallback tiers).
//!
//! Built in: `openh264` ([`Tier::Standard`], always there) and, with the
//! `x264` cargo feature, `x264` ([`Tier::Preferred`]: faster, better
//! pictures at the same bitrate). A hardware encoder registers with
//! [`register_h264_encoder`] and becomes `h264enc`'s choice when its tier
//! is higher and it says it is [available](H264EncoderDescriptor::available)
//! on this machine.
//!
//! A back-end only turns I420 frames into Annex B access units; the
//! element around it ([`h264enc`](super::h264enc)) does caps, pools,
//! timestamps, flags and properties, so every encoder gets the same
//! low-latency contract: no B-frames, no lookahead, an IDR every
//! `gop-size` frames with SPS/PPS in front of it, `bitrate` in kbit/s.

use framecast_core::sync::RwLockExt;
use std::fmt;
use std::sync::{LazyLock, RwLock};

use framecast_core::{ClockTime, VideoInfo};
use smallvec::SmallVec;

use crate::elements::video::Frame;
use crate::pipeline::{Element, PropertySpec};

/// How much an encoder is preferred when several are available. Higher
/// wins; within a tier, the one registered first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Used only when nothing else is there.
    Fallback,
    /// A good software encoder.
    Standard,
    /// The best choice when present (hardware, or the fastest software).
    Preferred,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Fallback => "fallback",
            Tier::Standard => "standard",
            Tier::Preferred => "preferred",
        })
    }
}

/// What every H.264 encoder is told when a stream starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct H264EncoderConfig {
    /// The input: I420, its size and rate.
    pub info: VideoInfo,
    /// Target bitrate, kbit/s.
    pub bitrate_kbps: u32,
    /// An IDR (with SPS/PPS in front) every this many frames; at least 1.
    pub gop_size: u32,
    /// Worker threads (at least 1).
    pub threads: u32,
}

/// One encoded access unit, borrowed from the encoder's own output buffer
/// until the next call: the Annex B bytes in one or more pieces (copied
/// once, into a pooled buffer, by the element).
#[derive(Debug, Default)]
pub struct EncodedFrame<'a> {
    /// The access unit's bytes, in order.
    pub chunks: SmallVec<[&'a [u8]; 4]>,
    /// An IDR picture: decodable on its own.
    pub keyframe: bool,
}

impl EncodedFrame<'_> {
    /// Total bytes.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum()
    }

    /// No bytes: the encoder produced nothing for this frame.
    pub fn is_empty(&self) -> bool {
        self.chunks.iter().all(|c| c.is_empty())
    }
}

/// An H.264 encoder back-end, configured for one stream.
pub trait H264Encoder: Send {
    /// Encodes one I420 frame (planes read in place, at the frame's
    /// strides). `force_keyframe` asks for an IDR now. With the
    /// low-latency configuration every call returns the access unit of
    /// this very frame (no delay), or an empty one if the encoder skipped it.
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        pts: Option<ClockTime>,
        force_keyframe: bool,
    ) -> Result<EncodedFrame<'_>, String>;

    /// Frames the encoder holds back before output (0 when configured for
    /// low latency).
    fn latency_frames(&self) -> u32 {
        0
    }
}

/// Makes an encoder for a stream. `element` is the element it runs in, so
/// the back-end can read its own properties (`speed-preset`); a property
/// the element does not have means "the back-end's default".
pub type CreateEncoder =
    fn(element: &Element, config: &H264EncoderConfig) -> Result<Box<dyn H264Encoder>, String>;

/// A registered H.264 encoder back-end.
#[derive(Clone)]
pub struct H264EncoderDescriptor {
    /// Short name (`openh264`, `x264`), as `h264enc encoder=` takes it.
    pub name: &'static str,
    /// The element that runs only this encoder (`openh264enc`).
    pub element: &'static str,
    /// Preference.
    pub tier: Tier,
    /// One line on what it is.
    pub description: &'static str,
    /// Whether it can run here (a hardware encoder probes its device).
    pub available: fn() -> bool,
    /// Properties specific to this back-end, for its own element.
    pub properties: fn() -> Vec<PropertySpec>,
    /// Makes an encoder.
    pub create: CreateEncoder,
}

impl fmt::Debug for H264EncoderDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H264EncoderDescriptor")
            .field("name", &self.name)
            .field("element", &self.element)
            .field("tier", &self.tier)
            .finish()
    }
}

fn builtin() -> Vec<H264EncoderDescriptor> {
    #[allow(unused_mut)]
    let mut list = vec![super::openh264enc::descriptor()];
    #[cfg(feature = "x264")]
    list.push(super::x264enc::descriptor());
    list
}

static REGISTRY: LazyLock<RwLock<Vec<H264EncoderDescriptor>>> =
    LazyLock::new(|| RwLock::new(builtin()));

/// Registers an H.264 encoder back-end (replacing one of the same name).
pub fn register_h264_encoder(descriptor: H264EncoderDescriptor) {
    let mut list = REGISTRY.write_locked();
    list.retain(|d| d.name != descriptor.name);
    list.push(descriptor);
}

/// Every registered H.264 encoder, best first (tier, then registration order).
pub fn h264_encoders() -> Vec<H264EncoderDescriptor> {
    let mut list = REGISTRY.read_locked().clone();
    // Stable: registration order within a tier.
    list.sort_by_key(|d| std::cmp::Reverse(d.tier));
    list
}

/// The encoder named `name`.
pub fn find_h264_encoder(name: &str) -> Option<H264EncoderDescriptor> {
    REGISTRY
        .read_locked()
        .iter()
        .find(|d| d.name == name)
        .cloned()
}

/// The best available H.264 encoder.
pub fn best_h264_encoder() -> Option<H264EncoderDescriptor> {
    h264_encoders().into_iter().find(|d| (d.available)())
}

/// Worker threads to use for `requested` (0 = one per core).
pub(crate) fn resolve_threads(requested: u64) -> u32 {
    if requested == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    } else {
        u32::try_from(requested).unwrap_or(u32::MAX).min(64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    #[test]
    fn best_is_highest_available_tier() {
        let best = best_h264_encoder().expect("openh264 is built in");
        if cfg!(feature = "x264") {
            assert_eq!(best.name, "x264");
        } else {
            assert_eq!(best.name, "openh264");
        }
        // A preferred encoder that is not available does not win.
        let mut fake = find_h264_encoder("openh264").unwrap();
        fake.name = "fake-hw";
        fake.tier = Tier::Preferred;
        fake.available = never;
        register_h264_encoder(fake);
        assert_ne!(best_h264_encoder().unwrap().name, "fake-hw");
        assert_eq!(h264_encoders()[0].tier, Tier::Preferred);
    }
}
