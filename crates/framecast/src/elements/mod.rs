//! The built-in elements.

pub mod appsink;
pub mod appsrc;
pub mod queue;

use crate::pipeline::ElementFactory;

/// Every built-in element factory.
pub(crate) fn builtin_factories() -> Vec<ElementFactory> {
    vec![appsink::factory(), appsrc::factory(), queue::factory()]
}
