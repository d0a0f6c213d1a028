//! `jpegenc`: I420 to baseline JPEG (GStreamer's `jpegenc`), with the
//! pure-Rust `jpeg-encoder` crate (AVX2 when the CPU has it).
//!
//! What it writes is what RTP/JPEG (RFC 2435) can carry: baseline
//! sequential, 8-bit, YCbCr 4:2:0 (RFC 2435 type 1) at every quality (the
//! crate's default would switch to 4:4:4 at quality 90 and above), the
//! standard Huffman tables of ITU T.81 Annex K.3 (RFC 2435 §3.1.5 assumes
//! them), no restart markers. RFC 2435 codes width and height in units of
//! 8 pixels up to 2040, so streams meant for RTP should be multiples of 16
//! (a whole number of 4:2:0 MCUs) and at most 2040 wide and high.
//!
//! The I420 planes are read in place at the buffer's strides; the Y'CbCr
//! values go into the JPEG as they are (as GStreamer's `jpegenc` does with
//! I420), so `jpegdec` gives back the same I420. Each frame's JPEG is
//! written straight into a pooled output buffer.

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast_core::{AllocationQuery, Buffer, BufferRef, VideoFormat, VideoInfo};
use jpeg_encoder::{Encoder, ImageBuffer, JpegColorType, SamplingFactor};

use crate::elements::video::{frame_layout, propose_video_allocation, Frame};
use crate::pipeline::base::{settings, Settings, SettingsLock, Transform, TransformImpl};
use crate::pipeline::template_caps;
use crate::pipeline::{
    Caps, Element, ElementFactory, FlowError, FlowResult, FlowSuccess, PadDirection, PadTemplate,
    PropertySpec, PropertyValue, Structure, Value,
};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "jpegenc",
        "JPEG image encoder",
        "Codec/Encoder/Image",
        "Encodes I420 to baseline 4:2:0 JPEG (RTP/JPEG-ready: standard Huffman tables)",
        PadTemplate::sink_src(raw_template(), jpeg_template()),
        JpegEncSettings::properties(),
        || Box::new(Transform::new(JpegEnc::default())),
    )
}

fn raw_template() -> Caps {
    "video/x-raw,format=I420,width=[1,65535],height=[1,65535],framerate=[0/1,2147483647/1]"
        .parse()
        .unwrap_or_else(|_| Caps::video_raw_any(&[VideoFormat::I420]))
}

/// `image/jpeg` at the sizes `jpegenc` and `jpegdec` handle.
pub(crate) fn jpeg_template() -> Caps {
    template_caps("image/jpeg,width=[1,65535],height=[1,65535],framerate=[0/1,2147483647/1]")
}

settings! {
    /// `jpegenc`'s writable property.
    #[derive(Debug, Clone)]
    pub(crate) struct JpegEncSettings {
        /// `quality` (0-100; may change while playing).
        quality: u8 => PropertySpec::uint("quality", "Quality of encoding (as GStreamer's jpegenc)", 0..=100, 85).mutable_in_playing(),
    }
}

/// The `jpegenc` element's implementation.
#[derive(Debug, Default)]
pub struct JpegEnc {
    settings: SettingsLock<JpegEncSettings>,
    info: Mutex<Option<VideoInfo>>,
}

/// The structures of `caps` renamed to `name`, keeping size, rate and
/// aspect ratio, setting `format` when given.
pub(crate) fn retarget(caps: &Caps, template: &Caps, name: &str, format: Option<Value>) -> Caps {
    if caps.is_any() {
        return template.clone();
    }
    let mut out = Caps::new_empty();
    for s in caps.iter() {
        let Ok(mut t) = Structure::new(name) else {
            continue;
        };
        for field in ["width", "height", "framerate", "pixel-aspect-ratio"] {
            if let Some(v) = s.value(field) {
                let _ = t.set(field, v.clone());
            }
        }
        if let Some(f) = &format {
            let _ = t.set("format", f.clone());
        }
        out.merge_structure(t);
    }
    out.intersect(template)
}

/// Fixates `othercaps` to the size and rate of `incaps`.
pub(crate) fn fixate_like(incaps: &Caps, othercaps: Caps) -> Caps {
    let Some(mut s) = othercaps.structure(0).cloned() else {
        return othercaps;
    };
    if let Some(input) = incaps.structure(0) {
        for field in ["width", "height"] {
            if let Some(v) = input.get_int(field) {
                s.fixate_field_nearest_int(field, v);
            }
        }
        if let Some(rate) = input.get_fraction("framerate") {
            s.fixate_field_nearest_fraction("framerate", rate);
        }
    }
    let first = Caps::from_structure(s);
    first.fixate().unwrap_or(first)
}

/// An I420 frame as `jpeg-encoder` reads it: row by row, chroma repeated
/// to full width (the encoder averages it back down for 4:2:0, giving the
/// same samples).
struct I420Image<'a, 'b> {
    frame: &'a Frame<'b>,
    width: u16,
    height: u16,
}

impl ImageBuffer for I420Image<'_, '_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        // One row: `width` samples per component (the encoder clamps `y`).
        // Frame::new checked each plane holds `stride * rows` bytes; `get`
        // keeps even a bad layout from panicking (grey is written instead).
        let f = self.frame;
        let w = usize::from(self.width);
        let row = usize::from(y);
        let line = |plane: usize, r: usize, n: usize| {
            f.plane(plane)
                .get(r * f.stride(plane)..)
                .and_then(|s| s.get(..n))
        };
        match line(0, row, w) {
            Some(l) => buffers[0].extend_from_slice(l),
            None => buffers[0].resize(buffers[0].len() + w, 16),
        }
        let cw = w.div_ceil(2);
        for (plane, buffer) in buffers.iter_mut().enumerate().take(3).skip(1) {
            match line(plane, row / 2, cw) {
                Some(c) => buffer.extend(c.iter().flat_map(|&v| [v, v]).take(w)),
                None => buffer.resize(buffer.len() + w, 128),
            }
        }
    }
}

/// Writes into a fixed slice, counting what went in.
struct SliceWriter<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl std::io::Write for SliceWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let end = self
            .at
            .checked_add(buf.len())
            .filter(|&e| e <= self.out.len());
        match end {
            Some(end) => {
                self.out[self.at..end].copy_from_slice(buf);
                self.at = end;
                Ok(buf.len())
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                "JPEG larger than the output buffer",
            )),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encodes `frame` at `quality` into `out`; returns the JPEG's size.
pub(crate) fn encode_i420(
    frame: &Frame<'_>,
    quality: u8,
    out: &mut [u8],
) -> std::result::Result<usize, String> {
    let (Ok(width), Ok(height)) = (
        u16::try_from(frame.info.width),
        u16::try_from(frame.info.height),
    ) else {
        return Err("JPEG is limited to 65535x65535".into());
    };
    let mut writer = SliceWriter { out, at: 0 };
    let mut encoder = Encoder::new(&mut writer, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    encoder.set_optimized_huffman_tables(false);
    encoder
        .encode_image(I420Image {
            frame,
            width,
            height,
        })
        .map_err(|e| e.to_string())?;
    Ok(writer.at)
}

/// Encodes the I420 frame in `input` (laid out as `info` says) at
/// `quality` into `output`, sized to the JPEG (`jpegenc`, and
/// `httpserversink`'s own branch).
pub(crate) fn encode_buffer(
    input: &Buffer,
    info: &VideoInfo,
    quality: u8,
    output: &mut BufferRef,
) -> std::result::Result<(), String> {
    let layout = frame_layout(input, info).map_err(|e| e.to_string())?;
    let map = input.map_readable().map_err(|e| e.to_string())?;
    let data = map.contiguous();
    let frame = Frame::new(layout, &data).map_err(|e| e.to_string())?;
    let size = {
        let mut out = output.map_writable().map_err(|e| e.to_string())?;
        encode_i420(&frame, quality, &mut out)?
    };
    output.set_size(size).map_err(|e| e.to_string())
}

impl TransformImpl for JpegEnc {
    fn transform_caps(&self, _element: &Element, direction: PadDirection, caps: &Caps) -> Caps {
        match direction {
            PadDirection::Sink => retarget(caps, &jpeg_template(), "image/jpeg", None),
            PadDirection::Src => retarget(
                caps,
                &raw_template(),
                crate::pipeline::caps::VIDEO_RAW,
                Some(Value::from(VideoFormat::I420)),
            ),
        }
    }

    fn fixate_caps(&self, _element: &Element, incaps: &Caps, othercaps: Caps) -> Caps {
        fixate_like(incaps, othercaps)
    }

    fn set_caps(&self, _element: &Element, incaps: &Caps, _outcaps: &Caps) -> Result<usize> {
        let info = incaps.video_info()?;
        *self.info.locked() = Some(info);
        // Room for a worst-case JPEG (quality 100, noise): twice the raw
        // frame, plus headers.
        Ok(info.size * 2 + 4096)
    }

    fn passthrough(&self, _element: &Element, _incaps: &Caps, _outcaps: &Caps) -> bool {
        false
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn transform(&self, element: &Element, input: &Buffer, output: &mut BufferRef) -> FlowResult {
        let Some(info) = *self.info.locked() else {
            return Err(FlowError::NotNegotiated);
        };
        let quality = self.settings.read(|s| s.quality);
        match encode_buffer(input, &info, quality, output) {
            Ok(()) => Ok(FlowSuccess::Ok),
            Err(e) => {
                element.post_error(format!("JPEG encoding failed: {e}"), None);
                Err(FlowError::Error)
            }
        }
    }

    fn propose_allocation(&self, _element: &Element, query: &mut AllocationQuery) -> bool {
        propose_video_allocation(query)
    }
}
