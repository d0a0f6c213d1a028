//! [`Buffer`]: the refcounted handle, and how the last drop sends a pooled
//! buffer home without freeing it.
//!
//! `Arc` cannot hand its allocation back when the count reaches zero, so a
//! pool using it would allocate a new shell for every frame. This is a
//! minimal Arc (same orderings as std's) whose last drop gives the boxed
//! shell to its pool instead of freeing it. Outside `memory/`, framecast-core's
//! other `unsafe` is the inline meta storage (`buffer/meta/storage.rs`) and one
//! measured spot in `buffer/pool.rs`; ARCHITECTURE.md lists them all.

use std::fmt;
use std::ops::Deref;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicUsize, Ordering};

use super::pool::PoolShared;
use super::BufferRef;
use crate::trace::{self, ObjectKind};

/// The heap shell of a buffer: its reference count and its contents.
pub(crate) struct BufferBox {
    refs: AtomicUsize,
    pub(crate) buf: BufferRef,
}

impl BufferBox {
    pub(crate) fn new(buf: BufferRef) -> Box<BufferBox> {
        Box::new(BufferBox {
            refs: AtomicUsize::new(1),
            buf,
        })
    }
}

/// A buffer: memories plus timestamps, flags and metas (`GstBuffer`).
///
/// `Buffer` is a handle. `Clone` takes a new reference (one atomic increment,
/// no copy); dropping the last reference frees the buffer, or — for a buffer
/// from a [`BufferPool`](super::BufferPool) — returns the whole shell to its
/// pool. It dereferences to [`BufferRef`] for reading. Writing needs a unique
/// handle: [`get_mut`](Self::get_mut) gives `&mut BufferRef` only then, and
/// [`make_mut`](Self::make_mut) copies first when the buffer is shared
/// (copy-on-write; memories are shared with the copy, not duplicated).
///
/// # Examples
///
/// ```
/// use framecast_core::{Buffer, ClockTime};
/// let mut buf = Buffer::with_size(16).unwrap();
/// buf.get_mut().unwrap().set_pts(Some(ClockTime::from_mseconds(40)));
///
/// let other = buf.clone(); // a second reference
/// assert!(!buf.is_writable());
/// assert!(buf.get_mut().is_none());
/// buf.make_mut().set_pts(None); // copies the buffer, not the bytes
/// assert_eq!(other.pts(), Some(ClockTime::from_mseconds(40)));
/// assert_eq!(buf.pts(), None);
/// ```
pub struct Buffer {
    ptr: NonNull<BufferBox>,
}

// SAFETY: a Buffer is an Arc-like handle to a BufferBox; BufferRef is Send +
// Sync (it holds Memory, metas required Send + Sync, plain data), and shared
// access is read-only while mutation requires a unique handle.
unsafe impl Send for Buffer {}
// SAFETY: as above.
unsafe impl Sync for Buffer {}

impl Buffer {
    pub(crate) fn from_box(boxed: Box<BufferBox>) -> Buffer {
        boxed.refs.store(1, Ordering::Relaxed);
        Buffer {
            // SAFETY: Box::into_raw never returns null.
            ptr: unsafe { NonNull::new_unchecked(Box::into_raw(boxed)) },
        }
    }

    fn inner(&self) -> &BufferBox {
        // SAFETY: the pointer stays valid while any handle (self) exists.
        unsafe { self.ptr.as_ref() }
    }

    /// Whether this is the only reference, so the buffer may be changed.
    pub fn is_writable(&self) -> bool {
        self.inner().refs.load(Ordering::Acquire) == 1
    }

    /// Number of references (for diagnostics; may change at once on other threads).
    pub fn ref_count(&self) -> usize {
        self.inner().refs.load(Ordering::Relaxed)
    }

    /// `&mut BufferRef` if this is the only reference, else `None`.
    #[doc(alias = "gst_buffer_is_writable")]
    pub fn get_mut(&mut self) -> Option<&mut BufferRef> {
        if self.is_writable() {
            // SAFETY: refs == 1 and we hold `&mut self`, the only handle: no
            // other reference to the box can exist or be created (cloning
            // needs a handle), and the Acquire load synchronised with the
            // Release decrements of handles dropped on other threads.
            Some(unsafe { &mut self.ptr.as_mut().buf })
        } else {
            None
        }
    }

    /// `&mut BufferRef`, copying the buffer first if it is shared
    /// (`gst_buffer_make_writable`). The copy references the same memories
    /// (a memory is copied only when written through a shared map).
    #[track_caller]
    #[doc(alias = "gst_buffer_make_writable")]
    pub fn make_mut(&mut self) -> &mut BufferRef {
        if !self.is_writable() {
            *self = self.copy();
        }
        // SAFETY: as in get_mut: either we were unique, or `self` is a fresh
        // copy with refs == 1 that nobody else has seen.
        unsafe { &mut self.ptr.as_mut().buf }
    }

    /// Whether both handles refer to the same buffer.
    pub fn ptr_eq(a: &Buffer, b: &Buffer) -> bool {
        a.ptr == b.ptr
    }
}

impl Deref for Buffer {
    type Target = BufferRef;
    fn deref(&self) -> &BufferRef {
        &self.inner().buf
    }
}

impl AsRef<BufferRef> for Buffer {
    fn as_ref(&self) -> &BufferRef {
        self
    }
}

impl Clone for Buffer {
    /// A new reference to the same buffer (`gst_buffer_ref`), reported with
    /// the caller's site to reference-tracking tracers.
    #[track_caller]
    fn clone(&self) -> Buffer {
        let inner = self.inner();
        let old = inner.refs.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            // As std's Arc: a count this large means leaked handles in a
            // loop; continuing would risk overflow and use-after-free.
            std::process::abort();
        }
        trace::object_reffed(inner.buf.id(), ObjectKind::Buffer, Location::caller());
        Buffer { ptr: self.ptr }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let inner = self.inner();
        // Fast path: a count of 1 seen by this handle cannot change under us
        // (any other change needs another handle), so the last drop of a
        // unique buffer — the pooled frame's usual end — needs no RMW.
        if inner.refs.load(Ordering::Acquire) != 1 {
            let id = inner.buf.id();
            if inner.refs.fetch_sub(1, Ordering::Release) != 1 {
                trace::object_unreffed(id, ObjectKind::Buffer);
                return;
            }
            atomic::fence(Ordering::Acquire);
        }
        // SAFETY: this was the last handle (count 1 seen, or brought to 0),
        // and the Acquire load/fence orders every other handle's use before
        // this point. The box came from Box::into_raw in `from_box`.
        let boxed = unsafe { Box::from_raw(self.ptr.as_ptr()) };
        if boxed.buf.pool.is_some() {
            PoolShared::release(boxed);
        }
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
