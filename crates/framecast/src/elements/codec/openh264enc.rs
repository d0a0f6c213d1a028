//! `openh264enc`: H.264 with Cisco's OpenH264, built from the `openh264`
//! crate's bundled source — the default encoder, nothing to install but
//! cargo (BSD-2-Clause).
//!
//! Speed depends on the build: OpenH264's x86 assembly needs `nasm` when
//! the crate is compiled; without it the build silently falls back to C
//! and encodes about 3x slower (720p, one core: 152-164 fps with, 44-48
//! without). The read-only `asm` property (and `framecast inspect
//! openh264enc`'s description) says which build this is, asking the
//! linked library itself (`WelsCPUFeatureDetect` returns no CPU features
//! when the assembly is not compiled in).
//!
//! Configured through the raw `ISVCEncoder` API (the `openh264` crate's
//! wrapper hard-codes one slice per picture, so it cannot use more than
//! one core): real-time camera usage, low complexity, one slice per thread
//! on all cores, bitrate rate control without frame skipping (OpenH264's
//! default skipping silently returned empty frames for 48 of 60 busy
//! frames), baseline profile (CAVLC, no B-frames), one reference frame, an
//! IDR every `gop-size` frames with SPS/PPS before it, no scene-change
//! IDRs, no denoise, background detection or adaptive quantisation (they
//! cost time and make frame sizes less predictable).
//!
//! The deblocking filter is off by default (`deblocking=off`; GStreamer's
//! `openh264enc` has it on), as in x264's `ultrafast` preset that the
//! low-latency x264 senders use: it costs the encoder about a tenth of its
//! time and the receiver's decoder as much again, and on loopback at 720p
//! it measured 0.5-1.5 ms off the median latency and more off the IDR
//! frames (`framecast bench latency`, BENCHMARKS.md). The price is blockier
//! pictures at low bitrates; `deblocking=on` brings it back.

use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::OnceLock;

use framecast_core::ClockTime;
use openh264_sys2 as sys;
use openh264_sys2::API;

use super::h264enc::{backend_factory, H264Enc};
use super::registry::{EncodedFrame, H264Encoder, H264EncoderConfig, H264EncoderDescriptor, Tier};
use crate::elements::video::Frame;
use crate::pipeline::{Element, ElementFactory, PropertySpec};

extern "C" {
    /// OpenH264's CPU feature probe (`codec/common/src/cpu.cpp`, C
    /// linkage): the SIMD features its assembly will use; 0 in a build
    /// without assembly.
    fn WelsCPUFeatureDetect(number_of_logical_processors: *mut c_int) -> u32;
}

/// Whether the linked OpenH264 has its SIMD assembly (built with `nasm`).
pub fn asm_enabled() -> bool {
    static ASM: OnceLock<bool> = OnceLock::new();
    *ASM.get_or_init(|| {
        let mut cores: c_int = 0;
        // SAFETY: a pure query of CPUID results; the pointer is a valid
        // local the function writes one int to.
        unsafe { WelsCPUFeatureDetect(&mut cores) != 0 }
    })
}

const DEBLOCKING: &[(&str, &str)] = &[
    ("off", "No deblocking filter: fastest to encode and decode"),
    (
        "on",
        "Deblocking filter on (OpenH264's and GStreamer's default; with several threads \
         OpenH264 keeps it off slice boundaries)",
    ),
    (
        "not-slice-boundaries",
        "Deblocking filter on, except across slice boundaries",
    ),
];

const COMPLEXITY: &[(&str, &str)] = &[
    ("low", "Fastest"),
    ("medium", "Balanced (OpenH264's default)"),
    ("high", "Best compression, slowest"),
];

fn properties() -> Vec<PropertySpec> {
    vec![
        PropertySpec::enumeration(
            "complexity",
            "Encoder complexity: speed against compression",
            COMPLEXITY,
            "low",
        ),
        PropertySpec::enumeration(
            "deblocking",
            "Deblocking (loop) filter: off is faster at both ends, on looks smoother at low \
                    bitrates",
            DEBLOCKING,
            "off",
        ),
        PropertySpec::bool(
            "asm",
            "Read-only: OpenH264 was built with its SIMD assembly (nasm present at build \
                    time); without it encoding is about 3x slower",
            asm_enabled(),
        )
        .mutable_in_playing(),
    ]
}

fn available() -> bool {
    true
}

/// The registry entry.
pub fn descriptor() -> H264EncoderDescriptor {
    H264EncoderDescriptor {
        name: "openh264",
        element: "openh264enc",
        tier: Tier::Standard,
        description: "Cisco OpenH264 (bundled source, BSD)",
        available,
        properties,
        create: create_encoder,
    }
}

/// The factory.
pub fn factory() -> ElementFactory {
    let description = if asm_enabled() {
        "Encodes I420 to H.264 with OpenH264 (SIMD assembly: yes); low latency: baseline, \
         slices on all cores, IDR + SPS/PPS every second"
    } else {
        "Encodes I420 to H.264 with OpenH264 (SIMD assembly: NO, about 3x slower: install nasm \
         and rebuild); low latency: baseline, slices on all cores, IDR + SPS/PPS every second"
    };
    backend_factory(&descriptor(), "OpenH264 video encoder", description, || {
        Box::new(H264Enc::new(Some("openh264")))
    })
}

fn create_encoder(
    element: &Element,
    config: &H264EncoderConfig,
) -> Result<Box<dyn H264Encoder>, String> {
    let choice = |name: &str| {
        element
            .property(name)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let tuning = Tuning {
        complexity: match choice("complexity").as_deref() {
            Some("high") => sys::HIGH_COMPLEXITY,
            Some("medium") => sys::MEDIUM_COMPLEXITY,
            _ => sys::LOW_COMPLEXITY,
        },
        // OpenH264's iLoopFilterDisableIdc: 0 on, 1 off, 2 on but not
        // across slice boundaries.
        loop_filter_disable_idc: match choice("deblocking").as_deref() {
            Some("on") => 0,
            Some("not-slice-boundaries") => 2,
            _ => 1,
        },
    };
    OpenH264Encoder::new(config, tuning).map(|e| Box::new(e) as Box<dyn H264Encoder>)
}

/// The element's speed-against-compression choices.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    complexity: sys::ECOMPLEXITY_MODE,
    loop_filter_disable_idc: c_int,
}

/// An initialised OpenH264 `ISVCEncoder`.
struct OpenH264Encoder {
    encoder: *mut sys::ISVCEncoder,
    vtbl: sys::ISVCEncoderVtbl,
    /// The encoder's output description, reused for every frame (6 KiB).
    output: Box<sys::SFrameBSInfo>,
    width: c_int,
    height: c_int,
}

// SAFETY: the encoder instance is used from one thread at a time (the
// element holds it behind a mutex); OpenH264 keeps no thread-affine state.
unsafe impl Send for OpenH264Encoder {}

fn check(what: &str, rc: c_int) -> Result<(), String> {
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("{what} failed (OpenH264 error {rc})"))
    }
}

impl OpenH264Encoder {
    fn new(config: &H264EncoderConfig, tuning: Tuning) -> Result<Self, String> {
        let info = &config.info;
        let (width, height) = (
            c_int::try_from(info.width).map_err(|_| "width too large")?,
            c_int::try_from(info.height).map_err(|_| "height too large")?,
        );
        if width.max(height) > 3840 || width.min(height) > 2160 {
            return Err(format!(
                "{width}x{height} is beyond OpenH264's limit (3840x2160, level 5.2)"
            ));
        }
        let api = sys::source::APILoader::new();
        let mut encoder: *mut sys::ISVCEncoder = null_mut();
        // SAFETY: creates an encoder instance and writes its pointer to a
        // valid local.
        check("WelsCreateSVCEncoder", unsafe {
            api.WelsCreateSVCEncoder(&mut encoder)
        })?;
        if encoder.is_null() {
            return Err("WelsCreateSVCEncoder returned no encoder".into());
        }
        // SAFETY: a non-null ISVCEncoder points to its vtable pointer,
        // valid until WelsDestroySVCEncoder.
        let vtbl = unsafe { **encoder };
        let mut this = OpenH264Encoder {
            encoder,
            vtbl,
            output: Box::default(),
            width,
            height,
        };
        this.initialize(config, tuning)?;
        Ok(this)
    }

    fn initialize(&mut self, config: &H264EncoderConfig, tuning: Tuning) -> Result<(), String> {
        let (Some(get_default), Some(init), Some(set_option)) = (
            self.vtbl.GetDefaultParams,
            self.vtbl.InitializeExt,
            self.vtbl.SetOption,
        ) else {
            return Err("OpenH264 vtable lacks a function".into());
        };
        let mut quiet: c_int = sys::WELS_LOG_QUIET as c_int;
        let mut p = sys::SEncParamExt::default();
        // SAFETY: `self.encoder` is a live encoder; `p` is a valid
        // SEncParamExt it fills in; `quiet` lives across the call.
        unsafe {
            set_option(
                self.encoder,
                sys::ENCODER_OPTION_TRACE_LEVEL,
                (&mut quiet as *mut c_int).cast::<c_void>(),
            );
            check("GetDefaultParams", get_default(self.encoder, &mut p))?;
        }
        let fps = {
            let f = config.info.fps;
            if f.num > 0 && f.den > 0 {
                f.num as f32 / f.den as f32
            } else {
                30.0
            }
        };
        let bps = c_int::try_from(u64::from(config.bitrate_kbps) * 1000).unwrap_or(c_int::MAX);
        let threads = config.threads.clamp(1, 16);
        p.iUsageType = sys::CAMERA_VIDEO_REAL_TIME;
        p.iPicWidth = self.width;
        p.iPicHeight = self.height;
        p.iTargetBitrate = bps;
        p.iMaxBitrate = sys::UNSPECIFIED_BIT_RATE as c_int;
        p.iRCMode = sys::RC_BITRATE_MODE;
        p.fMaxFrameRate = fps;
        p.iTemporalLayerNum = 1;
        p.iSpatialLayerNum = 1;
        p.iComplexityMode = tuning.complexity;
        p.uiIntraPeriod = config.gop_size;
        p.iNumRefFrame = 1;
        p.eSpsPpsIdStrategy = sys::CONSTANT_ID;
        p.bPrefixNalAddingCtrl = false;
        p.bEnableSSEI = false;
        p.bSimulcastAVC = false;
        p.iPaddingFlag = 0;
        p.iEntropyCodingModeFlag = 0;
        p.bEnableFrameSkip = false;
        p.uiMaxNalSize = 0;
        p.bEnableLongTermReference = false;
        p.iMultipleThreadIdc = threads as u16;
        p.bUseLoadBalancing = true;
        p.iLoopFilterDisableIdc = tuning.loop_filter_disable_idc;
        p.bEnableDenoise = false;
        p.bEnableBackgroundDetection = false;
        p.bEnableAdaptiveQuant = false;
        p.bEnableFrameCroppingFlag = true;
        p.bEnableSceneChangeDetect = false;
        let layer = &mut p.sSpatialLayers[0];
        layer.iVideoWidth = self.width;
        layer.iVideoHeight = self.height;
        layer.fFrameRate = fps;
        layer.iSpatialBitrate = bps;
        layer.iMaxSpatialBitrate = sys::UNSPECIFIED_BIT_RATE as c_int;
        layer.uiProfileIdc = sys::PRO_BASELINE;
        if threads > 1 {
            layer.sSliceArgument.uiSliceMode = sys::SM_FIXEDSLCNUM_SLICE;
            layer.sSliceArgument.uiSliceNum = threads;
        } else {
            layer.sSliceArgument.uiSliceMode = sys::SM_SINGLE_SLICE;
            layer.sSliceArgument.uiSliceNum = 1;
        }
        let mut format: c_int = sys::videoFormatI420 as c_int;
        // SAFETY: as above; `p` and `format` outlive the calls, which copy
        // what they need.
        unsafe {
            check("InitializeExt", init(self.encoder, &p))?;
            set_option(
                self.encoder,
                sys::ENCODER_OPTION_TRACE_LEVEL,
                (&mut quiet as *mut c_int).cast::<c_void>(),
            );
            check(
                "SetOption(DATAFORMAT)",
                set_option(
                    self.encoder,
                    sys::ENCODER_OPTION_DATAFORMAT,
                    (&mut format as *mut c_int).cast::<c_void>(),
                ),
            )?;
        }
        Ok(())
    }
}

impl H264Encoder for OpenH264Encoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        pts: Option<ClockTime>,
        force_keyframe: bool,
    ) -> Result<EncodedFrame<'_>, String> {
        let (Some(encode), Some(force)) = (self.vtbl.EncodeFrame, self.vtbl.ForceIntraFrame) else {
            return Err("OpenH264 vtable lacks a function".into());
        };
        if (frame.info.width, frame.info.height) != (self.width as u32, self.height as u32) {
            return Err("frame size differs from the configured size".into());
        }
        let stride = |i: usize| c_int::try_from(frame.stride(i)).unwrap_or(c_int::MAX);
        let picture = sys::SSourcePicture {
            iColorFormat: sys::videoFormatI420 as c_int,
            iStride: [stride(0), stride(1), stride(2), 0],
            // OpenH264 only reads the source planes.
            pData: [
                frame.plane(0).as_ptr().cast_mut(),
                frame.plane(1).as_ptr().cast_mut(),
                frame.plane(2).as_ptr().cast_mut(),
                null_mut(),
            ],
            iPicWidth: self.width,
            iPicHeight: self.height,
            uiTimeStamp: pts.map_or(0, |t| (t.nseconds() / 1_000_000) as i64),
            bPsnrY: false,
            bPsnrU: false,
            bPsnrV: false,
        };
        // SAFETY: the planes are `stride * rows` bytes each (Frame checks
        // that), alive for the call, and only read; `self.output` is the
        // encoder's output description, written by the call.
        let rc = unsafe {
            if force_keyframe {
                force(self.encoder, true);
            }
            encode(self.encoder, &picture, &mut *self.output)
        };
        check("EncodeFrame", rc)?;
        let out = &*self.output;
        let mut encoded = EncodedFrame {
            keyframe: out.eFrameType == sys::videoFrameTypeIDR,
            ..Default::default()
        };
        if out.eFrameType == sys::videoFrameTypeSkip || out.eFrameType == sys::videoFrameTypeInvalid
        {
            return Ok(encoded);
        }
        let layers = usize::try_from(out.iLayerNum)
            .unwrap_or(0)
            .min(out.sLayerInfo.len());
        for layer in &out.sLayerInfo[..layers] {
            let nals = usize::try_from(layer.iNalCount).unwrap_or(0);
            if nals == 0 || layer.pNalLengthInByte.is_null() || layer.pBsBuf.is_null() {
                continue;
            }
            // SAFETY: OpenH264 fills `iNalCount` lengths and the layer's
            // bytes (the NALs back to back) in its own output buffer, valid
            // until the next EncodeFrame — which needs `&mut self`, so not
            // while the returned frame borrows `self`.
            let chunk = unsafe {
                let lengths = std::slice::from_raw_parts(layer.pNalLengthInByte, nals);
                let size: usize = lengths
                    .iter()
                    .map(|&l| usize::try_from(l).unwrap_or(0))
                    .sum();
                std::slice::from_raw_parts(layer.pBsBuf, size)
            };
            encoded.chunks.push(chunk);
        }
        Ok(encoded)
    }
}

impl Drop for OpenH264Encoder {
    fn drop(&mut self) {
        // SAFETY: the encoder was created by WelsCreateSVCEncoder and is
        // uninitialised and destroyed exactly once, here.
        unsafe {
            if let Some(uninit) = self.vtbl.Uninitialize {
                uninit(self.encoder);
            }
            sys::source::APILoader::new().WelsDestroySVCEncoder(self.encoder);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asm_probe_answers() {
        // Either answer is valid; the probe must not crash, and must be
        // stable.
        assert_eq!(asm_enabled(), asm_enabled());
    }
}
