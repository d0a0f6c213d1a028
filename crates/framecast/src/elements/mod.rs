//! The built-in elements.

pub mod appsink;
pub mod appsrc;
pub mod capsfilter;
pub(crate) mod codec;
pub mod codec_registry;
pub mod fakesink;
pub mod fakesrc;
pub mod fdsink;
pub mod fdsrc;
pub mod filesink;
pub mod filesrc;
pub mod h264_nal;
pub mod h264enc;
pub mod jpegdec;
pub mod jpegenc;
pub mod net;
mod openh264_concealing_decoder;
pub mod openh264dec;
pub mod openh264enc;
pub mod queue;
pub mod rawvideoparse;
pub mod rtph264depay;
pub mod rtph264pay;
pub mod rtpjitterbuffer;
pub mod rtpjpegdepay;
pub mod rtpjpegpay;
pub mod rtpvrawdepay;
pub mod rtpvrawpay;
pub mod tee;
pub mod testsrc;
pub mod udpsink;
pub mod udpsrc;
pub mod video;
pub mod videoconvert;
pub mod videoscale;
#[cfg(feature = "x264")]
pub mod x264enc;

use crate::pipeline::ElementFactory;

/// Every built-in element factory.
pub(crate) fn builtin_factories() -> Vec<ElementFactory> {
    vec![
        appsink::factory(),
        appsrc::factory(),
        queue::factory(),
        capsfilter::factory(),
        fakesink::factory(),
        fakesrc::factory(),
        fdsink::factory(),
        fdsrc::factory(),
        filesink::factory(),
        filesrc::factory(),
        h264enc::factory(),
        jpegdec::factory(),
        jpegenc::factory(),
        openh264dec::factory(),
        openh264enc::factory(),
        rawvideoparse::factory(),
        rtph264depay::factory(),
        rtph264pay::factory(),
        rtpjitterbuffer::factory(),
        rtpjpegdepay::factory(),
        rtpjpegpay::factory(),
        rtpvrawdepay::factory(),
        rtpvrawpay::factory(),
        tee::factory(),
        testsrc::factory(),
        udpsink::factory(),
        net::rtsp::rtspserversink::factory(),
        udpsrc::factory(),
        videoconvert::factory(),
        videoscale::factory(),
        #[cfg(feature = "x264")]
        x264enc::factory(),
    ]
}
