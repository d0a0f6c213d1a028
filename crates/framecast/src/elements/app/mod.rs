//! The application elements: `appsrc` and `appsink`, where the
//! application's own code pushes buffers into a pipeline and pulls them
//! out (GStreamer's `gst-app` library).

pub mod appsink;
pub mod appsrc;

use crate::pipeline::ElementFactory;

/// Registers the application elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    push_factories!(factories; appsink, appsrc);
}
