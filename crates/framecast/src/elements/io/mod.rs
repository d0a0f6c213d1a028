//! The byte-stream elements: files (`filesrc`, `filesink`) and file
//! descriptors such as pipes and stdin/stdout (`fdsrc`, `fdsink`).

pub mod fdsink;
pub mod fdsrc;
pub mod filesink;
pub mod filesrc;

use crate::pipeline::ElementFactory;

/// Registers the byte-stream elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    factories.push(fdsink::factory());
    factories.push(fdsrc::factory());
    factories.push(filesink::factory());
    factories.push(filesrc::factory());
}
