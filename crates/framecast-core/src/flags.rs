//! The one way framecast declares a GStreamer flags type.

/// A `bitflags` type for one of GStreamer's flag sets (`GstBufferFlags`,
/// `GstMemoryFlags`, ...): every such type carries the same derives (`Default`
/// is the empty set, as a zeroed GStreamer field), so they are written here
/// once and each declaration lists only its bits.
macro_rules! gst_flags {
    ($(#[$attr:meta])* pub struct $name:ident: $bits:ty { $($body:tt)* }) => {
        bitflags::bitflags! {
            $(#[$attr])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct $name: $bits { $($body)* }
        }
    };
}
pub(crate) use gst_flags;
