//! Reference reports for the engine's handles ([`Pad`](super::Pad),
//! [`Element`](super::Element), [`Pipeline`](super::Pipeline)): each is an
//! `Arc`, and every strong reference to it — a clone, a handle made from a
//! peer link or an upgraded weak reference, the link itself — is reported
//! to reference-tracking tracers (`leaks(check-refs=true)`), as buffers' and
//! memories' are, so a leaked pad shows its reference count and who took
//! each reference.
//!
//! While no tracer records references, taking one costs a relaxed load and
//! a branch on top of the `Arc` clone, and giving one back the same (the
//! count is read only when someone listens).

use std::panic::Location;
use std::sync::Arc;

use framecast_core::trace::{self, ObjectId, ObjectKind};

/// Reports a new strong reference to `id`, taken at the caller's site.
#[inline(always)]
#[track_caller]
pub(crate) fn taken(id: ObjectId, kind: ObjectKind) {
    trace::object_reffed(id, kind, Location::caller());
}

/// Reports that the strong reference `inner` is about to be given back,
/// unless it is the last one (the object's destruction reports that).
#[inline(always)]
pub(crate) fn given_back<T>(inner: &Arc<T>, id: ObjectId, kind: ObjectKind) {
    if trace::refs_wanted() && Arc::strong_count(inner) > 1 {
        trace::object_unreffed(id, kind);
    }
}

/// `Clone` and `Drop` for a handle (a tuple struct around the `Arc` of an
/// inner state with an `id`) whose references are reported as `kind`: a
/// clone is a new reference (`gst_object_ref`) reported with the caller's
/// site, a drop gives one back.
macro_rules! reported_handle {
    ($handle:ident, $kind:expr) => {
        impl Clone for $handle {
            /// A new reference to the same object (`gst_object_ref`),
            /// reported with the caller's site.
            #[track_caller]
            fn clone(&self) -> $handle {
                $crate::pipeline::refs::taken(self.0.id, $kind);
                $handle(std::sync::Arc::clone(&self.0))
            }
        }

        impl Drop for $handle {
            fn drop(&mut self) {
                $crate::pipeline::refs::given_back(&self.0, self.0.id, $kind);
            }
        }
    };
}
pub(crate) use reported_handle;

/// Clones every handle of `items` into a new collection, each clone
/// reported at the caller's site. Iterator adapters (`cloned()`, a `Vec`'s
/// own `clone`) would report a site inside the standard library instead.
#[track_caller]
pub(crate) fn clone_all<'a, T, C>(items: impl IntoIterator<Item = &'a T>) -> C
where
    T: Clone + 'a,
    C: Default + Extend<T>,
{
    let mut out = C::default();
    for item in items {
        out.extend(std::iter::once(item.clone()));
    }
    out
}
