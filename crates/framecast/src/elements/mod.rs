//! The built-in elements.

use crate::pipeline::ElementFactory;

/// Every built-in element factory.
pub(crate) fn builtin_factories() -> Vec<ElementFactory> {
    Vec::new()
}
