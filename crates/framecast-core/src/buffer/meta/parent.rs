//! [`ParentBufferMeta`]: keeps another buffer alive.

use super::{Meta, MetaTransform, TAG_MEMORY_REFERENCE};
use crate::Buffer;

/// Holds a reference to a parent buffer for as long as this meta lives
/// (`GstParentBufferMeta`). A copy that shares memory with a pooled buffer
/// gets one, so the pooled buffer cannot return to its pool (and be written
/// again) while its bytes are still in use.
#[derive(Debug, Clone)]
pub struct ParentBufferMeta {
    /// The buffer kept alive.
    pub buffer: Buffer,
}

impl Meta for ParentBufferMeta {
    const API: &'static str = "GstParentBufferMetaAPI";
    const TAGS: &'static [&'static str] = &[TAG_MEMORY_REFERENCE];

    /// Carried on copies (re-referencing the parent).
    fn transform(&self, transform: &MetaTransform) -> Option<Self> {
        matches!(transform, MetaTransform::Copy { .. }).then(|| self.clone())
    }
}
