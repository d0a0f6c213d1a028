//! The built-in elements.

pub mod queue;

use crate::pipeline::ElementFactory;

/// Every built-in element factory.
pub(crate) fn builtin_factories() -> Vec<ElementFactory> {
    vec![queue::factory()]
}
