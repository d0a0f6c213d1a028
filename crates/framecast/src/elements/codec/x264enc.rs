//! `x264enc` (cargo feature `x264`): H.264 with libx264 through `x264-sys`
//! (bindgen over the system `x264.h`; Debian `libx264-dev` and
//! `libclang-dev`). libx264 is GPL, so it is never in the default build.
//!
//! It exists for users who can take the GPL and want the fastest software
//! encoder, and so benchmarks can compare with GStreamer's `x264enc`
//! encoder for encoder. The rate control is set up as GStreamer's
//! `x264enc pass=cbr` (its default): ABR at `bitrate`, VBV max rate =
//! `bitrate`, VBV buffer = 600 ms of it.
//!
//! Defaults differ from GStreamer's where GStreamer's add latency
//! (GStreamer's x264enc defaults to `medium` with lookahead and B-frames,
//! which hold frames back for seconds in a live stream): `speed-preset=ultrafast`
//! and `tune=zerolatency` instead of `medium` and none, an IDR every second
//! instead of every 10 s. Whatever preset and tune are chosen, the
//! low-latency contract of [`h264enc`](super::h264enc) holds: no B-frames,
//! no lookahead, no mb-tree, sliced threads (no frame-thread delay), SPS/PPS
//! repeated before every IDR.
//!
//! `intra-refresh=true` (x264's periodic intra refresh; OpenH264 has no
//! equivalent, so only this encoder offers it) replaces the IDR every
//! `key-int-max` frames with a wave of intra blocks crossing the picture
//! over that many frames: no 50-packet keyframe burst, so the bitrate is
//! flat, p99 latency loses its keyframe spikes, and a lost packet costs a
//! stripe until the wave passes it. A keyframe request (PLI, a new viewer)
//! still forces an IDR.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::ptr::null_mut;

use framecast_core::ClockTime;
use x264_sys as x;

use super::h264enc::{backend_factory, H264Enc};
use super::registry::{EncodedFrame, H264Encoder, H264EncoderConfig, H264EncoderDescriptor, Tier};
use crate::elements::video::Frame;
use crate::pipeline::{Element, ElementFactory, PropertySpec};

const PRESETS: &[(&str, &str)] = &[
    ("ultrafast", "ultrafast"),
    ("superfast", "superfast"),
    ("veryfast", "veryfast"),
    ("faster", "faster"),
    ("fast", "fast"),
    ("medium", "medium (GStreamer's default)"),
    ("slow", "slow"),
    ("slower", "slower"),
    ("veryslow", "veryslow"),
    ("placebo", "placebo"),
];

const TUNES: &[(&str, &str)] = &[
    ("zerolatency", "No lookahead, no B-frames, sliced threads"),
    ("none", "No tuning (the low-latency settings still apply)"),
    ("film", "film"),
    ("animation", "animation"),
    ("grain", "grain"),
    ("stillimage", "stillimage"),
    ("psnr", "psnr"),
    ("ssim", "ssim"),
    ("fastdecode", "fastdecode"),
];

fn properties() -> Vec<PropertySpec> {
    vec![
        PropertySpec::enumeration(
            "speed-preset",
            "x264 preset: speed against compression",
            PRESETS,
            "ultrafast",
        ),
        PropertySpec::enumeration("tune", "x264 tune", TUNES, "zerolatency"),
        PropertySpec::bool(
            "intra-refresh",
            "Periodic intra refresh instead of IDR frames (GStreamer's name): a column of \
                    intra blocks sweeps the picture every key-int-max frames, so there is no \
                    keyframe burst and a loss costs a stripe until the sweep passes",
            false,
        ),
        PropertySpec::uint(
            "key-int-max",
            "Maximal distance between two IDRs (GStreamer's name); 0 = gop-size",
            0..=100_000,
            0,
        ),
    ]
}

fn available() -> bool {
    true
}

/// The registry entry.
pub fn descriptor() -> H264EncoderDescriptor {
    H264EncoderDescriptor {
        name: "x264",
        element: "x264enc",
        tier: Tier::Preferred,
        description: "libx264 (system library, GPL)",
        available,
        properties,
        create: create_encoder,
    }
}

/// The factory.
pub fn factory() -> ElementFactory {
    backend_factory(
        &descriptor(),
        "x264 H.264 encoder",
        "Encodes I420 to H.264 with libx264 (GPL); ultrafast + zerolatency by default, IDR + \
         SPS/PPS every second, rate control as GStreamer's x264enc pass=cbr",
        || Box::new(H264Enc::new(Some("x264"))),
    )
}

fn name_of(element: &Element, property: &str, default: &'static str) -> &'static str {
    let values = if property == "tune" { TUNES } else { PRESETS };
    element
        .property(property)
        .ok()
        .and_then(|v| {
            v.as_str()
                .and_then(|s| values.iter().find(|(n, _)| *n == s).map(|(n, _)| *n))
        })
        .unwrap_or(default)
}

fn c_name(name: &str) -> &'static CStr {
    match name {
        "ultrafast" => c"ultrafast",
        "superfast" => c"superfast",
        "veryfast" => c"veryfast",
        "faster" => c"faster",
        "fast" => c"fast",
        "medium" => c"medium",
        "slow" => c"slow",
        "slower" => c"slower",
        "veryslow" => c"veryslow",
        "placebo" => c"placebo",
        "zerolatency" => c"zerolatency",
        "film" => c"film",
        "animation" => c"animation",
        "grain" => c"grain",
        "stillimage" => c"stillimage",
        "psnr" => c"psnr",
        "ssim" => c"ssim",
        "fastdecode" => c"fastdecode",
        _ => c"ultrafast",
    }
}

fn create_encoder(
    element: &Element,
    config: &H264EncoderConfig,
) -> Result<Box<dyn H264Encoder>, String> {
    let preset = name_of(element, "speed-preset", "ultrafast");
    let tune = name_of(element, "tune", "zerolatency");
    let intra_refresh = element
        .property("intra-refresh")
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    X264Encoder::new(config, preset, tune, intra_refresh)
        .map(|e| Box::new(e) as Box<dyn H264Encoder>)
}

/// An open libx264 encoder.
struct X264Encoder {
    encoder: *mut x::x264_t,
    width: u32,
    height: u32,
    next_pts: i64,
}

// SAFETY: an x264_t is used by one thread at a time (the element keeps it
// behind a mutex); libx264 has no thread-affine state.
unsafe impl Send for X264Encoder {}

impl X264Encoder {
    fn new(
        config: &H264EncoderConfig,
        preset: &str,
        tune: &str,
        intra_refresh: bool,
    ) -> Result<Self, String> {
        let info = &config.info;
        let (width, height) = (
            c_int::try_from(info.width).map_err(|_| "width too large")?,
            c_int::try_from(info.height).map_err(|_| "height too large")?,
        );
        let mut param = MaybeUninit::<x::x264_param_t>::uninit();
        let tune_c = if tune == "none" {
            None
        } else {
            Some(c_name(tune))
        };
        // SAFETY: x264_param_default_preset initialises the whole struct
        // (it calls x264_param_default first) and only reads the strings.
        let rc = unsafe {
            x::x264_param_default_preset(
                param.as_mut_ptr(),
                c_name(preset).as_ptr(),
                tune_c.map_or(std::ptr::null(), |t| t.as_ptr()),
            )
        };
        if rc < 0 {
            return Err(format!(
                "x264 does not know preset {preset:?} with tune {tune:?}"
            ));
        }
        // SAFETY: initialised by the successful call above.
        let mut p = unsafe { param.assume_init() };
        let (fps_num, fps_den) = if info.fps.num > 0 && info.fps.den > 0 {
            (info.fps.num as u32, info.fps.den as u32)
        } else {
            (30, 1)
        };
        let kbps = c_int::try_from(config.bitrate_kbps).unwrap_or(c_int::MAX);
        let gop = c_int::try_from(config.gop_size)
            .unwrap_or(c_int::MAX)
            .max(1);
        p.i_log_level = x::X264_LOG_ERROR as c_int;
        p.i_width = width;
        p.i_height = height;
        p.i_csp = x::X264_CSP_I420 as c_int;
        p.i_fps_num = fps_num;
        p.i_fps_den = fps_den;
        p.i_timebase_num = fps_den;
        p.i_timebase_den = fps_num;
        p.b_vfr_input = 0;
        p.i_threads = c_int::try_from(config.threads).unwrap_or(1).max(1);
        p.b_sliced_threads = 1;
        p.i_keyint_max = gop;
        p.i_keyint_min = gop;
        // With intra refresh the first frame is the only IDR; every
        // `gop` frames a wave of intra blocks has refreshed the picture.
        p.b_intra_refresh = c_int::from(intra_refresh);
        p.i_bframe = 0;
        p.i_sync_lookahead = 0;
        p.rc.i_lookahead = 0;
        p.rc.b_mb_tree = 0;
        p.b_repeat_headers = 1;
        p.b_annexb = 1;
        p.rc.i_rc_method = x::X264_RC_ABR as c_int;
        p.rc.i_bitrate = kbps;
        p.rc.i_vbv_max_bitrate = kbps;
        p.rc.i_vbv_buffer_size = kbps.saturating_mul(600) / 1000;
        // SAFETY: `p` is a fully initialised parameter set; x264 copies it.
        let encoder = unsafe { x::x264_encoder_open(&mut p) };
        if encoder.is_null() {
            return Err(format!(
                "x264_encoder_open refused {width}x{height} (preset {preset}, tune {tune})"
            ));
        }
        Ok(X264Encoder {
            encoder,
            width: info.width,
            height: info.height,
            next_pts: 0,
        })
    }
}

impl H264Encoder for X264Encoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        _pts: Option<ClockTime>,
        force_keyframe: bool,
    ) -> Result<EncodedFrame<'_>, String> {
        if (frame.info.width, frame.info.height) != (self.width, self.height) {
            return Err("frame size differs from the configured size".into());
        }
        let mut pic = MaybeUninit::<x::x264_picture_t>::uninit();
        // SAFETY: x264_picture_init fills every field of the picture.
        let mut pic = unsafe {
            x::x264_picture_init(pic.as_mut_ptr());
            pic.assume_init()
        };
        pic.img.i_csp = x::X264_CSP_I420 as c_int;
        pic.img.i_plane = 3;
        for i in 0..3 {
            pic.img.i_stride[i] = c_int::try_from(frame.stride(i)).unwrap_or(c_int::MAX);
            // libx264 only reads the input planes.
            pic.img.plane[i] = frame.plane(i).as_ptr().cast_mut();
        }
        pic.i_pts = self.next_pts;
        self.next_pts += 1;
        if force_keyframe {
            pic.i_type = x::X264_TYPE_IDR as c_int;
        }
        let mut out = MaybeUninit::<x::x264_picture_t>::uninit();
        let mut nals: *mut x::x264_nal_t = null_mut();
        let mut n_nals: c_int = 0;
        // SAFETY: the planes are `stride * rows` bytes (Frame checks that)
        // and stay alive for the call; the out-pointers are valid locals.
        let size = unsafe {
            x::x264_encoder_encode(
                self.encoder,
                &mut nals,
                &mut n_nals,
                &mut pic,
                out.as_mut_ptr(),
            )
        };
        if size < 0 {
            return Err(format!("x264_encoder_encode failed ({size})"));
        }
        let mut encoded = EncodedFrame::default();
        if size == 0 || n_nals <= 0 || nals.is_null() {
            return Ok(encoded);
        }
        // SAFETY: on a positive return x264 filled `out` and `n_nals` NALs
        // whose payloads lie back to back in its own buffer, `size` bytes
        // from the first (x264.h: "the payloads of all output NALs are
        // guaranteed to be sequential in memory"), valid until the next
        // call — which needs `&mut self`.
        unsafe {
            let out = out.assume_init();
            encoded.keyframe = out.b_keyframe != 0;
            let first = &*nals;
            encoded
                .chunks
                .push(std::slice::from_raw_parts(first.p_payload, size as usize));
        }
        Ok(encoded)
    }
}

impl Drop for X264Encoder {
    fn drop(&mut self) {
        // SAFETY: opened by x264_encoder_open, closed exactly once here.
        unsafe { x::x264_encoder_close(self.encoder) };
    }
}
