//! The generic elements: they move data without looking inside it
//! (`queue`, `tee`, `capsfilter`) or stand in for a real source or sink
//! in tests and pipelines under construction (`fakesrc`, `fakesink`).

pub mod capsfilter;
pub mod fakesink;
pub mod fakesrc;
pub mod queue;
pub mod tee;

use crate::pipeline::ElementFactory;

/// Registers the generic elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    push_factories!(factories; capsfilter, fakesink, fakesrc, queue, tee);
}
