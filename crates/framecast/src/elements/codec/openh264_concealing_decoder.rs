//! OpenH264's decoder with its error concealment switched on, called
//! through `openh264-sys2` directly.
//!
//! Why not the `openh264` crate's `Decoder`: it turns concealment off and
//! treats any decoding state other than "error free" as a failure,
//! discarding the picture OpenH264 did produce. With packets lost, that
//! picture (the slices that arrived, the rest copied from the previous
//! frame: `ERROR_CON_SLICE_COPY_CROSS_IDR_FREEZE_RES_CHANGE`, what WebRTC
//! uses) is exactly what a live viewer wants instead of a freeze until the
//! next keyframe. So this wrapper reads the picture whenever OpenH264 says
//! one is ready, and reports whether it was concealed.

use std::os::raw::{c_int, c_long, c_void};
use std::ptr::null_mut;

use openh264_sys2 as sys;
use openh264_sys2::API;

/// A decoded picture, borrowed from the decoder until the next call.
pub(crate) struct Picture<'a> {
    pub width: usize,
    pub height: usize,
    /// Y, U, V planes and their strides.
    pub planes: [(&'a [u8], usize); 3],
    /// OpenH264 filled in what was missing (lost slices, a lost reference).
    pub concealed: bool,
}

/// An initialised OpenH264 `ISVCDecoder`.
pub(crate) struct ConcealingDecoder {
    decoder: *mut sys::ISVCDecoder,
    vtbl: sys::ISVCDecoderVtbl,
    /// What the last decode call returned: the planes and their layout
    /// (valid until the next call), and the decoding state.
    dst: [*mut u8; 3],
    info: sys::SBufferInfo,
    state: sys::DECODING_STATE,
}

// SAFETY: the decoder instance is used from one thread at a time (the
// element holds it behind a mutex); OpenH264 keeps no thread-affine state.
unsafe impl Send for ConcealingDecoder {}

/// What a decoding state says, for messages.
fn describe(state: sys::DECODING_STATE) -> String {
    let names = [
        (sys::dsFramePending, "frame pending"),
        (sys::dsRefLost, "reference lost"),
        (sys::dsBitstreamError, "bitstream error"),
        (sys::dsDepLayerLost, "dependent layer lost"),
        (sys::dsNoParamSets, "no SPS/PPS"),
        (sys::dsDataErrorConcealed, "data error concealed"),
        (sys::dsRefListNullPtrs, "reference list empty"),
        (sys::dsInvalidArgument, "invalid argument"),
        (sys::dsInitialOptExpected, "not initialised"),
        (sys::dsOutOfMemory, "out of memory"),
        (sys::dsDstBufNeedExpan, "output buffer too small"),
    ];
    let found: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| state & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if found.is_empty() {
        format!("OpenH264 decoding state {state:#x}")
    } else {
        format!("OpenH264: {}", found.join(", "))
    }
}

impl ConcealingDecoder {
    /// A decoder; `conceal` switches error concealment on.
    pub(crate) fn new(conceal: bool) -> Result<Self, String> {
        let api = sys::source::APILoader::new();
        let mut decoder: *mut sys::ISVCDecoder = null_mut();
        // SAFETY: creates a decoder instance and writes its pointer to a
        // valid local.
        let rc = unsafe { api.WelsCreateDecoder(&mut decoder) };
        if rc != 0 || decoder.is_null() {
            return Err(format!("WelsCreateDecoder failed (OpenH264 error {rc})"));
        }
        // SAFETY: a non-null ISVCDecoder points to its vtable pointer,
        // valid until WelsDestroyDecoder.
        let vtbl = unsafe { **decoder };
        let this = ConcealingDecoder {
            decoder,
            vtbl,
            dst: [null_mut(); 3],
            info: sys::SBufferInfo::default(),
            state: sys::dsErrorFree,
        };
        let (Some(init), Some(set_option)) = (this.vtbl.Initialize, this.vtbl.SetOption) else {
            return Err("OpenH264 decoder vtable lacks a function".into());
        };
        let ec = if conceal {
            sys::ERROR_CON_SLICE_COPY_CROSS_IDR_FREEZE_RES_CHANGE
        } else {
            sys::ERROR_CON_DISABLE
        };
        let mut param = sys::SDecodingParam::default();
        param.sVideoProperty.eVideoBsType = sys::VIDEO_BITSTREAM_AVC;
        param.eEcActiveIdc = ec;
        let mut quiet: c_int = sys::WELS_LOG_QUIET as c_int;
        let mut ec_option: c_int = ec;
        // SAFETY: `this.decoder` is a live decoder; `param`, `quiet` and
        // `ec_option` are valid locals the calls only read, during them.
        let rc: c_long = unsafe {
            set_option(
                this.decoder,
                sys::DECODER_OPTION_TRACE_LEVEL,
                (&mut quiet as *mut c_int).cast::<c_void>(),
            );
            let rc = init(this.decoder, &param);
            if rc == 0 {
                set_option(
                    this.decoder,
                    sys::DECODER_OPTION_ERROR_CON_IDC,
                    (&mut ec_option as *mut c_int).cast::<c_void>(),
                )
            } else {
                rc
            }
        };
        if rc != 0 {
            return Err(format!(
                "initialising the OpenH264 decoder failed (error {rc})"
            ));
        }
        Ok(this)
    }

    /// Decodes one access unit (Annex B): `Ok(true)` when a picture is
    /// ready ([`last_picture`](Self::last_picture)), `Ok(false)` when not
    /// yet; `Err` with what OpenH264 said when it failed without any
    /// picture (a concealed one is a picture).
    pub(crate) fn decode(&mut self, au: &[u8]) -> Result<bool, String> {
        let Some(decode) = self.vtbl.DecodeFrameNoDelay else {
            return Err("OpenH264 decoder vtable lacks DecodeFrameNoDelay".into());
        };
        let len = c_int::try_from(au.len()).map_err(|_| "access unit too large")?;
        self.dst = [null_mut(); 3];
        self.info = sys::SBufferInfo::default();
        // SAFETY: `au` is valid for `len` bytes and only read; `dst` and
        // `info` are fields the call writes.
        self.state = unsafe {
            decode(
                self.decoder,
                au.as_ptr(),
                len,
                self.dst.as_mut_ptr(),
                &mut self.info,
            )
        };
        if self.picture_ready() {
            return Ok(true);
        }
        if self.state == sys::dsErrorFree || self.state == sys::dsFramePending {
            Ok(false)
        } else {
            Err(describe(self.state))
        }
    }

    fn picture_ready(&self) -> bool {
        self.info.iBufferStatus == 1 && self.dst.iter().all(|p| !p.is_null())
    }

    /// The picture the last [`decode`](Self::decode) produced, if any.
    pub(crate) fn last_picture(&self) -> Option<Picture<'_>> {
        if !self.picture_ready() {
            return None;
        }
        // SAFETY: with iBufferStatus 1 the system-buffer variant of the
        // union is the one OpenH264 filled in.
        let sys_buf = unsafe { self.info.UsrData.sSystemBuffer };
        let width = usize::try_from(sys_buf.iWidth).unwrap_or(0);
        let height = usize::try_from(sys_buf.iHeight).unwrap_or(0);
        let y_stride = usize::try_from(sys_buf.iStride[0]).unwrap_or(0);
        let uv_stride = usize::try_from(sys_buf.iStride[1]).unwrap_or(0);
        if width == 0 || height == 0 || y_stride < width || uv_stride < width.div_ceil(2) {
            return None;
        }
        let chroma_rows = height.div_ceil(2);
        // SAFETY: OpenH264 returned planes of `stride * rows` bytes in its
        // own frame store (4:2:0: chroma has half the rows), valid until
        // the next decode call, which needs `&mut self`: not while the
        // returned picture borrows `self`.
        let planes = unsafe {
            [
                (
                    std::slice::from_raw_parts(self.dst[0], y_stride * height),
                    y_stride,
                ),
                (
                    std::slice::from_raw_parts(self.dst[1], uv_stride * chroma_rows),
                    uv_stride,
                ),
                (
                    std::slice::from_raw_parts(self.dst[2], uv_stride * chroma_rows),
                    uv_stride,
                ),
            ]
        };
        Some(Picture {
            width,
            height,
            planes,
            concealed: self.state != sys::dsErrorFree,
        })
    }
}

impl Drop for ConcealingDecoder {
    fn drop(&mut self) {
        // SAFETY: the decoder was created by WelsCreateDecoder and is
        // uninitialised and destroyed exactly once, here.
        unsafe {
            if let Some(uninit) = self.vtbl.Uninitialize {
                uninit(self.decoder);
            }
            sys::source::APILoader::new().WelsDestroyDecoder(self.decoder);
        }
    }
}
