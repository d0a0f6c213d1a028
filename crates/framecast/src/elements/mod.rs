//! The built-in elements.

pub mod appsink;
pub mod appsrc;
pub mod capsfilter;
pub mod fakesink;
pub mod fakesrc;
pub mod fdsink;
pub mod fdsrc;
pub mod filesink;
pub mod filesrc;
pub mod queue;
pub mod rawvideoparse;
pub mod tee;
pub mod testsrc;
pub mod video;
pub mod videoconvert;
pub mod videoscale;

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
        rawvideoparse::factory(),
        tee::factory(),
        testsrc::factory(),
        videoconvert::factory(),
        videoscale::factory(),
    ]
}
