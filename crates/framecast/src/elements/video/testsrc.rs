//! `testsrc`: test video (GStreamer's `videotestsrc`), in every raw format
//! framecast handles, at the size and rate downstream asks for.
//!
//! Patterns: `smpte` (colour bars), `ball` (a white ball moving on black),
//! `solid-color` (`foreground-color`, 0xAARRGGBB) and `counter`: a colour
//! gradient with the frame number and timestamp stamped into the top rows
//! as 16x16 black and white blocks ([`video::counter`](super::video::counter)),
//! which a test reads back with [`decode_counter`](super::video::decode_counter)
//! after conversion or lossy encoding.
//!
//! Each pattern is drawn once into an RGBA scratch frame (per stream, not
//! per buffer; only `ball` redraws every frame) and converted into the
//! pooled output buffer with the same code as `videoconvert`, honouring
//! the buffer's video meta. Steady state allocates nothing.
//!
//! Timestamps, as `videotestsrc`: frame `n` has PTS `n * den / num`
//! seconds (exact, not accumulated), duration up to the next frame's PTS,
//! offset `n`. Live (`is-live=true`): frames are produced at that rate on
//! the pipeline clock, PTS = the running time they are due, and the
//! reported latency is one frame. With `framerate=0/1` one frame is made,
//! then EOS.

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast_core::{Buffer, ClockTime, Fraction, VideoFormat, VideoInfo};

use crate::elements::video::{self, convert, write_counter, CounterStamp, Frame, FrameMut, Matrix};
use crate::pipeline::base::{
    settings, source_properties_with, CreateContext, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Caps, Element, ElementFactory, FlowError, PadDirection, PadTemplate, PropertySpec,
    PropertyValue,
};
use crate::Result;

const PATTERNS: &[(&str, &str)] = &[
    ("smpte", "SMPTE 100% colour bars"),
    ("ball", "A white ball moving on black"),
    ("solid-color", "A solid colour (foreground-color)"),
    (
        "counter",
        "A gradient with the frame number and time stamped as 16x16 blocks in the top rows",
    ),
];

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "testsrc",
        "Video test source",
        "Source/Video",
        "Test video: SMPTE bars, a moving ball, a solid colour, or a decodable frame counter",
        vec![PadTemplate::always(
            "src",
            PadDirection::Src,
            Caps::video_raw_any(video::FORMATS),
        )],
        source_properties_with::<TestSrcSettings>(),
        || Box::new(Source::new(TestSrc::default())),
    )
}

settings! {
    /// `testsrc`'s writable properties.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct TestSrcSettings {
        /// `pattern`: a nick of [`PATTERNS`] (may change while playing).
        pattern: &'static str => PropertySpec::enumeration("pattern", "Type of test pattern to generate", PATTERNS, "smpte").mutable_in_playing(),
        /// `foreground-color`: the `solid-color` pattern's 0xAARRGGBB (may
        /// change while playing).
        foreground_color: u32 => PropertySpec::uint("foreground-color", "Colour of the solid-color pattern, as 0xAARRGGBB", 0..=u64::from(u32::MAX), 0xffff_ffff).mutable_in_playing(),
        /// `is-live`: frames at the framerate on the pipeline clock.
        is_live: bool => PropertySpec::bool("is-live", "Produce frames at the framerate on the pipeline clock (a live source)", false),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Smpte,
    Ball,
    Solid(u32),
    Counter,
}

/// Per-stream state: the negotiated layout and the RGBA scratch frame.
#[derive(Debug, Default)]
struct Stream {
    info: Option<VideoInfo>,
    scratch: Vec<u8>,
    scratch_info: Option<VideoInfo>,
    /// The static pattern the scratch holds now.
    drawn: Option<Pattern>,
    /// Live: the running time of frame 0.
    live_start: Option<ClockTime>,
}

/// The `testsrc` element's implementation.
#[derive(Debug, Default)]
pub struct TestSrc {
    settings: SettingsLock<TestSrcSettings>,
    stream: Mutex<Stream>,
}

impl TestSrc {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.stream.locked()
    }
}

fn pattern_of(settings: &TestSrcSettings) -> Pattern {
    match settings.pattern {
        "ball" => Pattern::Ball,
        "solid-color" => Pattern::Solid(settings.foreground_color),
        "counter" => Pattern::Counter,
        _ => Pattern::Smpte,
    }
}

/// Running time of frame `n` at `fps` (`n * den / num` seconds, floored).
fn frame_time(n: u64, fps: Fraction) -> Option<ClockTime> {
    let num = u64::try_from(fps.num).ok().filter(|&v| v > 0)?;
    let den = u64::try_from(fps.den).ok().filter(|&v| v > 0)?;
    ClockTime::SECOND.mul_div_floor(n.checked_mul(den)?, num)
}

fn put(px: &mut [u8], rgb: [u8; 3], a: u8) {
    px[..3].copy_from_slice(&rgb);
    px[3] = a;
}

/// SMPTE colour bars (the layout of `videotestsrc pattern=smpte`): seven
/// 75% bars, a strip of reversed blue bars, then -I, white, +Q, black and
/// a PLUGE.
fn draw_smpte(data: &mut [u8], w: usize, h: usize) {
    const TOP: [[u8; 3]; 7] = [
        [191, 191, 191],
        [191, 191, 0],
        [0, 191, 191],
        [0, 191, 0],
        [191, 0, 191],
        [191, 0, 0],
        [0, 0, 191],
    ];
    const MID: [[u8; 3]; 7] = [
        [0, 0, 191],
        [19, 19, 19],
        [191, 0, 191],
        [19, 19, 19],
        [0, 191, 191],
        [19, 19, 19],
        [191, 191, 191],
    ];
    let bottom = |x: usize| -> [u8; 3] {
        let quarter = x * 28 / w.max(1);
        match quarter {
            0..5 => [0, 33, 76],
            5..10 => [255, 255, 255],
            10..15 => [50, 0, 106],
            15..20 => [19, 19, 19],
            20 => [9, 9, 9],
            21 => [19, 19, 19],
            22 => [29, 29, 29],
            _ => [19, 19, 19],
        }
    };
    for y in 0..h {
        let row = &mut data[y * w * 4..(y + 1) * w * 4];
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let bar = x * 7 / w.max(1);
            let rgb = if y < h * 2 / 3 {
                TOP[bar.min(6)]
            } else if y < h * 3 / 4 {
                MID[bar.min(6)]
            } else {
                bottom(x)
            };
            put(px, rgb, 255);
        }
    }
}

/// The counter pattern's background: red across, green down, blue along
/// the diagonal, so that every format conversion sees many colours.
fn draw_gradient(data: &mut [u8], w: usize, h: usize) {
    let (wd, hd) = (w.saturating_sub(1).max(1), h.saturating_sub(1).max(1));
    for y in 0..h {
        let row = &mut data[y * w * 4..(y + 1) * w * 4];
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let r = (x * 255 / wd) as u8;
            let g = (y * 255 / hd) as u8;
            let b = ((x + y) * 255 / (wd + hd)) as u8;
            put(px, [r, g, b ^ 0x55], 255);
        }
    }
}

fn draw_solid(data: &mut [u8], argb: u32) {
    let [a, r, g, b] = argb.to_be_bytes();
    for px in data.chunks_exact_mut(4) {
        put(px, [r, g, b], a);
    }
}

/// A white ball of radius `h / 10` on black, going round an ellipse once
/// every 60 frames.
fn draw_ball(data: &mut [u8], w: usize, h: usize, n: u64) {
    data.fill(0);
    for px in data.chunks_exact_mut(4) {
        px[3] = 255;
    }
    let radius = (w.min(h) as f64 / 10.0).max(1.0);
    let angle = (n % 60) as f64 / 60.0 * std::f64::consts::TAU;
    let cx = w as f64 / 2.0 + (w as f64 / 2.0 - radius) * angle.cos();
    let cy = h as f64 / 2.0 + (h as f64 / 2.0 - radius) * angle.sin();
    let (y0, y1) = (
        (cy - radius).floor().max(0.0) as usize,
        ((cy + radius).ceil() as usize).min(h),
    );
    let (x0, x1) = (
        (cx - radius).floor().max(0.0) as usize,
        ((cx + radius).ceil() as usize).min(w),
    );
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            if dx * dx + dy * dy <= radius * radius {
                put(
                    &mut data[(y * w + x) * 4..(y * w + x) * 4 + 4],
                    [255; 3],
                    255,
                );
            }
        }
    }
}

impl TestSrc {
    /// Draws `pattern` for frame `n` into the scratch (static patterns only
    /// when they changed) and converts it into `out`.
    fn render(
        &self,
        stream: &mut Stream,
        pattern: Pattern,
        n: u64,
        out: &mut FrameMut<'_>,
    ) -> Result<()> {
        let Some(sinfo) = stream.scratch_info else {
            return Ok(());
        };
        let (w, h) = (sinfo.width as usize, sinfo.height as usize);
        match pattern {
            Pattern::Ball => {
                draw_ball(&mut stream.scratch, w, h, n);
                stream.drawn = None;
            }
            p if stream.drawn != Some(p) => {
                match p {
                    Pattern::Smpte => draw_smpte(&mut stream.scratch, w, h),
                    Pattern::Solid(argb) => draw_solid(&mut stream.scratch, argb),
                    _ => draw_gradient(&mut stream.scratch, w, h),
                }
                stream.drawn = Some(p);
            }
            _ => {}
        }
        let src = Frame::new(sinfo, &stream.scratch)?;
        convert(&src, out, Matrix::for_height(sinfo.height))
    }
}

impl SourceImpl for TestSrc {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn caps(&self, _element: &Element) -> Caps {
        Caps::video_raw_any(video::FORMATS)
    }

    /// As `videotestsrc`: the size nearest 320x240, the rate nearest 30/1,
    /// square pixels, then the first of what is left (I420 when
    /// downstream takes anything).
    fn fixate(&self, _element: &Element, caps: Caps) -> Caps {
        let Some(mut s) = caps.structure(0).cloned() else {
            return caps;
        };
        s.fixate_field_nearest_int("width", 320);
        s.fixate_field_nearest_int("height", 240);
        s.fixate_field_nearest_fraction("framerate", Fraction::from_integer(30));
        if s.has_field("pixel-aspect-ratio") {
            s.fixate_field_nearest_fraction("pixel-aspect-ratio", Fraction::ONE);
        }
        let first = Caps::from_structure(s);
        first.fixate().unwrap_or(first)
    }

    fn set_caps(&self, _element: &Element, caps: &Caps) -> Result<usize> {
        let info = caps.video_info()?;
        let sinfo = VideoInfo::new(VideoFormat::Rgba, info.width, info.height)?;
        let mut stream = self.lock();
        stream.scratch.clear();
        stream.scratch.resize(sinfo.size, 0);
        stream.scratch_info = Some(sinfo);
        stream.info = Some(info);
        stream.drawn = None;
        stream.live_start = None;
        Ok(info.size)
    }

    fn create(
        &self,
        element: &Element,
        ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        let n = ctx.produced;
        let mut stream = self.lock();
        let Some(info) = stream.info else {
            return Err(FlowError::NotNegotiated);
        };
        let variable_rate = frame_time(1, info.fps).is_none();
        if variable_rate && n > 0 {
            // framerate=0/1: a still image, one frame (as videotestsrc).
            return Err(FlowError::Eos);
        }
        let live = self.is_live(element);
        let context = element.context();
        let mut pts = frame_time(n, info.fps).unwrap_or(ClockTime::ZERO);
        let duration = frame_time(n + 1, info.fps).and_then(|next| next.checked_sub(pts));
        if live {
            if let Some(c) = &context {
                let start = *stream.live_start.get_or_insert_with(|| c.running_time());
                pts = start.checked_add(pts).unwrap_or(ClockTime::MAX);
                // Wait unlocked: stopping must not wait for the frame time.
                drop(stream);
                if !ctx.wait_running_time(element, pts) {
                    return Err(FlowError::Flushing);
                }
                stream = self.lock();
            }
        } else if element.prop_bool("do-timestamp") {
            if let Some(c) = &context {
                pts = c.running_time();
            }
        }
        let mut buffer = ctx.acquire(info.size)?;
        let pattern = self.settings.read(pattern_of);
        {
            let Some(b) = buffer.get_mut() else {
                return Err(FlowError::Error);
            };
            b.set_pts(Some(pts));
            b.set_duration(duration);
            b.set_offset(Some(n));
            b.set_offset_end(Some(n + 1));
            let drawn = (|| -> Result<()> {
                let layout = video::frame_layout(b, &info)?;
                let mut map = b.map_writable()?;
                let mut out = FrameMut::new(layout, &mut map)?;
                self.render(&mut stream, pattern, n, &mut out)?;
                if pattern == Pattern::Counter {
                    write_counter(
                        &mut out,
                        CounterStamp {
                            frame: n,
                            timestamp: Some(pts),
                        },
                    );
                }
                Ok(())
            })();
            if let Err(e) = drawn {
                element.post_error(format!("cannot draw the test pattern: {e}"), None);
                return Err(FlowError::Error);
            }
        }
        Ok(buffer)
    }

    fn is_live(&self, _element: &Element) -> bool {
        self.settings.read(|s| s.is_live)
    }

    /// Live: one frame (the frame is "captured" over its duration), as
    /// `videotestsrc` reports.
    fn latency(&self, element: &Element) -> (ClockTime, Option<ClockTime>) {
        if !self.is_live(element) {
            return (ClockTime::ZERO, None);
        }
        let frame = self
            .lock()
            .info
            .and_then(|i| i.frame_duration())
            .unwrap_or(ClockTime::ZERO);
        (frame, Some(frame))
    }

    fn stop(&self, _element: &Element) {
        *self.lock() = Stream::default();
    }
}
