//! `jpegdec`: JPEG to raw video (GStreamer's `jpegdec`) with the pure-Rust
//! `zune-jpeg` decoder (SIMD, fuzzed upstream, baseline and progressive).
//!
//! Output is I420 (preferred: what encoders and `videoconvert` take) or
//! RGB, whichever downstream accepts first, in buffers from a pool
//! negotiated downstream. I420 is made from the decoder's Y'CbCr output
//! (luma as is, chroma averaged over 2x2), so `jpegenc ! jpegdec` gives
//! back the I420 that went in, to within the JPEG's loss.
//!
//! Bad data never panics or stops the stream: a buffer that does not
//! decode is counted (`decode-errors`, `frames-dropped`), reported once
//! per burst as a bus warning, and dropped; the next good JPEG decodes
//! (every JPEG is a keyframe).

use std::panic::{catch_unwind, AssertUnwindSafe};

use framecast_core::{Buffer, VideoFormat};
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::base::{copy_plane, decoder_properties};
use super::decoder::{DecodeCtx, DecodeFormat, Decoded, VideoDecoder};
use super::jpegenc::jpeg_template;
use crate::elements::video::FrameMut;
use crate::pipeline::{Caps, Element, ElementFactory, FlowError, PadTemplate};

/// Largest picture side accepted (a corrupt header cannot make the decoder
/// allocate gigabytes).
const MAX_SIDE: usize = 16_384;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "jpegdec",
        "JPEG image decoder",
        "Codec/Decoder/Image",
        "Decodes JPEG to I420 or RGB (zune-jpeg); bad frames are counted and dropped",
        PadTemplate::sink_src(jpeg_template(), src_template()),
        decoder_properties(),
        || Box::new(VideoDecoder::<Jpeg>::default()),
    )
}

fn src_template() -> Caps {
    Caps::video_raw_any(&[VideoFormat::I420, VideoFormat::Rgb])
}

/// JPEG (zune-jpeg), as a [`DecodeFormat`].
#[derive(Default)]
pub(crate) struct Jpeg {
    /// The output format, decided on the first frame from downstream's caps.
    format: Option<VideoFormat>,
    /// Interleaved Y'CbCr from the decoder (I420 output), reused.
    scratch: Vec<u8>,
    warned: bool,
}

/// Interleaved Y'CbCr (3 bytes a pixel, `width` x `height`) into I420 planes.
fn ycbcr_to_i420(
    src: &[u8],
    width: usize,
    height: usize,
    frame: &mut FrameMut<'_>,
) -> std::result::Result<(), String> {
    if src.len() < width * height * 3 {
        return Err("short decoder output".into());
    }
    let (sy, su, sv) = (frame.stride(0), frame.stride(1), frame.stride(2));
    {
        let y_plane = frame.plane_mut(0);
        for row in 0..height {
            let Some(dst) = y_plane.get_mut(row * sy..row * sy + width) else {
                return Err("luma plane too small".into());
            };
            let line = &src[row * width * 3..(row + 1) * width * 3];
            for (d, px) in dst.iter_mut().zip(line.chunks_exact(3)) {
                *d = px[0];
            }
        }
    }
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    for (plane, stride, component) in [(1usize, su, 1usize), (2, sv, 2)] {
        let dst_plane = frame.plane_mut(plane);
        for cy in 0..ch {
            let (y0, y1) = (2 * cy, (2 * cy + 1).min(height.saturating_sub(1)));
            let Some(dst) = dst_plane.get_mut(cy * stride..cy * stride + cw) else {
                return Err("chroma plane too small".into());
            };
            for (cx, d) in dst.iter_mut().enumerate() {
                let (x0, x1) = (2 * cx, (2 * cx + 1).min(width.saturating_sub(1)));
                let at = |y: usize, x: usize| u32::from(src[(y * width + x) * 3 + component]);
                let sum = at(y0, x0) + at(y0, x1) + at(y1, x0) + at(y1, x1);
                *d = ((sum + 2) / 4) as u8;
            }
        }
    }
    Ok(())
}

impl Jpeg {
    fn failed(&mut self, ctx: &DecodeCtx<'_>, why: &str) {
        ctx.count_failed();
        if !self.warned {
            self.warned = true;
            ctx.element()
                .post_warning(format!("JPEG decoding error, frame dropped: {why}"), None);
        }
    }

    fn choose_format(element: &Element) -> VideoFormat {
        let Some(src) = element.src_pad() else {
            return VideoFormat::I420;
        };
        let allowed = src.peer_query_caps(Some(&src_template()));
        if allowed.can_intersect(&Caps::video_raw_any(&[VideoFormat::I420])) {
            VideoFormat::I420
        } else {
            VideoFormat::Rgb
        }
    }
}

impl DecodeFormat for Jpeg {
    type Settings = ();

    fn decode(&mut self, data: &[u8], buffer: &Buffer, ctx: &mut DecodeCtx<'_>) -> Decoded {
        let element = ctx.element();
        let format = match self.format {
            Some(f) => f,
            None => {
                let f = Self::choose_format(element);
                self.format = Some(f);
                f
            }
        };
        let colorspace = if format == VideoFormat::Rgb {
            ColorSpace::RGB
        } else {
            ColorSpace::YCbCr
        };
        let options = DecoderOptions::default()
            .set_max_width(MAX_SIDE)
            .set_max_height(MAX_SIDE)
            .jpeg_set_out_colorspace(colorspace);
        let mut decoder = JpegDecoder::new_with_options(ZCursor::new(data), options);
        let headers = catch_unwind(AssertUnwindSafe(|| {
            decoder.decode_headers().map_err(|e| e.to_string())?;
            decoder
                .dimensions()
                .ok_or_else(|| "no picture size".to_string())
        }));
        let (width, height) = match headers {
            Ok(Ok(dims)) => dims,
            Ok(Err(why)) => {
                self.failed(ctx, &why);
                return Ok(None);
            }
            Err(_) => {
                self.failed(ctx, "decoder panicked");
                return Ok(None);
            }
        };
        let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
            self.failed(ctx, "picture too large");
            return Ok(None);
        };
        ctx.output.ensure(element, format, w, h)?;
        let scratch = &mut self.scratch;
        let mut decode_error = None;
        let out = ctx.output.frame(buffer, |frame| {
            let result = catch_unwind(AssertUnwindSafe(|| -> std::result::Result<(), String> {
                if format == VideoFormat::Rgb {
                    let row = width * 3;
                    if frame.stride(0) == row {
                        let plane = frame.plane_mut(0);
                        let Some(dst) = plane.get_mut(..row * height) else {
                            return Err("output plane too small".into());
                        };
                        return decoder.decode_into(dst).map_err(|e| e.to_string());
                    }
                    scratch.resize(row * height, 0);
                    decoder.decode_into(scratch).map_err(|e| e.to_string())?;
                    let stride = frame.stride(0);
                    copy_plane(scratch, row, frame.plane_mut(0), stride, row, height)
                } else {
                    scratch.resize(width * height * 3, 0);
                    decoder.decode_into(scratch).map_err(|e| e.to_string())?;
                    ycbcr_to_i420(scratch, width, height, frame)
                }
            }));
            match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => {
                    decode_error = Some(why.clone());
                    Err(why)
                }
                Err(_) => {
                    decode_error = Some("decoder panicked".into());
                    Err("panic".into())
                }
            }
        });
        match out {
            Ok(out) => {
                self.warned = false;
                ctx.count_decoded();
                Ok(Some(out))
            }
            Err(FlowError::Error) if decode_error.is_some() => {
                let why = decode_error.unwrap_or_default();
                self.failed(ctx, &why);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn stop(&mut self) {
        self.format = None;
        self.warned = false;
    }
}
