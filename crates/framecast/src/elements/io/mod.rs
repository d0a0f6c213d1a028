//! The byte-stream elements: files (`filesrc`, `filesink`) and file
//! descriptors such as pipes and stdin/stdout (`fdsrc`, `fdsink`).

pub mod fdsink;
pub mod fdsrc;
pub mod filesink;
pub mod filesrc;

use crate::pipeline::ElementFactory;

/// Registers the byte-stream elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    push_factories!(factories; fdsink, fdsrc, filesink, filesrc);
}
