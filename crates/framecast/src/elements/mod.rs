//! The built-in elements, one folder per family:
//!
//! | family | elements |
//! |---|---|
//! | [`generic`] | `queue`, `tee`, `capsfilter`, `fakesrc`, `fakesink` |
//! | [`app`] | `appsrc`, `appsink` |
//! | [`io`] | `filesrc`, `filesink`, `fdsrc`, `fdsink` |
//! | [`video`] | `testsrc`, `videoconvert`, `videoscale`, `rawvideoparse` (and the pixel code they share) |
//! | [`codec`] | `h264enc`, `openh264enc`, `x264enc`, `openh264dec`, `jpegenc`, `jpegdec` |
//! | [`rtp`] | payloaders, depayloaders, `rtpjitterbuffer` |
//! | [`net`] | `udpsink`, `udpsrc` |
//!
//! Each family registers its own factories (`register` in its `mod.rs`),
//! so adding an element touches its family only.

/// Pushes the `factory()` of each listed element module, in order: a
/// family's `register` is then the list of its elements, nothing else.
macro_rules! push_factories {
    ($factories:ident; $($element:ident),+ $(,)?) => {
        $($factories.push($element::factory());)+
    };
}

pub mod app;
pub mod codec;
pub mod generic;
pub mod io;
pub mod net;
pub mod rtp;
pub mod video;

// The paths applications, the CLI and the bindings use, kept short: the
// application elements as GStreamer's `gst-app` library exposes them, and
// the two the CLI drives directly.
pub use app::{appsink, appsrc};
pub use generic::queue;
pub use io::fdsrc;
pub use net::udpsink;

use crate::pipeline::ElementFactory;

/// Every built-in element factory.
pub(crate) fn builtin_factories() -> Vec<ElementFactory> {
    let mut factories = Vec::new();
    generic::register(&mut factories);
    app::register(&mut factories);
    io::register(&mut factories);
    video::register(&mut factories);
    codec::register(&mut factories);
    rtp::register(&mut factories);
    net::register(&mut factories);
    factories
}
