//! Inline meta storage: metas live inside the buffer, not on the heap.
//!
//! Each meta occupies a [`MetaSlot`]: 128 bytes of inline storage plus a
//! static vtable for its type (drop, transform, clear, debug). A buffer keeps
//! four slots inline and spills to one heap vector beyond that — a vector a
//! pooled buffer keeps across reuse. The `unsafe` here is the type erasure;
//! every access goes through the vtable or a `TypeId` check.

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::{AtomicU64, Ordering};

use smallvec::SmallVec;

use super::{Meta, MetaFlags, MetaTransform, TAG_MEMORY, TAG_MEMORY_REFERENCE};
use crate::{Error, Result};

/// Inline bytes per meta. Larger meta types fail to compile (a clear
/// message says so); put a `Box` inside such a type yourself.
pub const META_INLINE_BYTES: usize = 128;

#[repr(C, align(16))]
struct Inline([MaybeUninit<u8>; META_INLINE_BYTES]);

struct VTable {
    api: &'static str,
    tags: &'static [&'static str],
    type_id: fn() -> TypeId,
    drop: unsafe fn(*mut u8),
    transform: unsafe fn(*const u8, &MetaTransform) -> Option<MetaSlot>,
    clear: unsafe fn(*mut u8),
    debug: unsafe fn(*const u8, &mut fmt::Formatter<'_>) -> fmt::Result,
}

struct VTableOf<M>(PhantomData<M>);

impl<M: Meta> VTableOf<M> {
    const VTABLE: VTable = VTable {
        api: M::API,
        tags: M::TAGS,
        type_id: TypeId::of::<M>,
        drop: drop_meta::<M>,
        transform: transform_meta::<M>,
        clear: clear_meta::<M>,
        debug: debug_meta::<M>,
    };
}

// SAFETY (for the four functions below): each is only ever called through
// the vtable of a slot created by `MetaSlot::new::<M>`, whose storage holds a
// valid, initialised `M` at offset 0 with sufficient alignment.
unsafe fn drop_meta<M: Meta>(p: *mut u8) {
    // SAFETY: see above; called once, from MetaSlot::drop.
    unsafe { std::ptr::drop_in_place(p as *mut M) }
}
unsafe fn transform_meta<M: Meta>(p: *const u8, t: &MetaTransform) -> Option<MetaSlot> {
    // SAFETY: see above.
    let meta = unsafe { &*(p as *const M) };
    meta.transform(t)
        .map(|m| MetaSlot::new(m, MetaFlags::empty()))
}
unsafe fn clear_meta<M: Meta>(p: *mut u8) {
    // SAFETY: see above; the slot is borrowed mutably by the caller.
    unsafe { (*(p as *mut M)).clear() }
}
unsafe fn debug_meta<M: Meta>(p: *const u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // SAFETY: see above.
    fmt::Debug::fmt(unsafe { &*(p as *const M) }, f)
}

static SEQNUM: AtomicU64 = AtomicU64::new(1);

/// One meta, stored inline.
pub(crate) struct MetaSlot {
    vtable: &'static VTable,
    flags: MetaFlags,
    seqnum: u64,
    data: Inline,
}

// SAFETY: the stored value is an `M: Meta`, which is Send + Sync.
unsafe impl Send for MetaSlot {}
// SAFETY: as above.
unsafe impl Sync for MetaSlot {}

impl MetaSlot {
    fn new<M: Meta>(value: M, flags: MetaFlags) -> MetaSlot {
        const {
            assert!(
                std::mem::size_of::<M>() <= META_INLINE_BYTES && std::mem::align_of::<M>() <= 16,
                "meta types must fit in 128 bytes with alignment <= 16; box large payloads"
            )
        };
        let mut data = Inline([MaybeUninit::uninit(); META_INLINE_BYTES]);
        // SAFETY: the storage is large and aligned enough for M (checked at
        // compile time above) and uninitialised, so writing does not leak.
        unsafe { std::ptr::write(data.0.as_mut_ptr() as *mut M, value) };
        MetaSlot {
            vtable: &VTableOf::<M>::VTABLE,
            flags,
            seqnum: SEQNUM.fetch_add(1, Ordering::Relaxed),
            data,
        }
    }

    fn is<M: Meta>(&self) -> bool {
        (self.vtable.type_id)() == TypeId::of::<M>()
    }

    fn get<M: Meta>(&self) -> Option<&M> {
        // SAFETY: the TypeId check proves the storage holds an M.
        self.is::<M>()
            .then(|| unsafe { &*(self.data.0.as_ptr() as *const M) })
    }

    fn get_mut<M: Meta>(&mut self) -> Option<&mut M> {
        // SAFETY: the TypeId check proves the storage holds an M.
        self.is::<M>()
            .then(|| unsafe { &mut *(self.data.0.as_mut_ptr() as *mut M) })
    }

    fn into_inner<M: Meta>(self) -> Option<M> {
        if !self.is::<M>() {
            return None;
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: the storage holds an M (TypeId checked); `this` is never
        // dropped, so the value is moved out exactly once.
        Some(unsafe { std::ptr::read(this.data.0.as_ptr() as *const M) })
    }

    fn has_tag(&self, tag: &str) -> bool {
        self.vtable.tags.contains(&tag)
    }
}

impl Drop for MetaSlot {
    fn drop(&mut self) {
        // SAFETY: the slot holds an initialised value of the vtable's type,
        // dropped exactly once here (into_inner skips this Drop).
        unsafe { (self.vtable.drop)(self.data.0.as_mut_ptr() as *mut u8) }
    }
}

/// A borrowed view of one meta on a buffer, of any type.
#[derive(Clone, Copy)]
pub struct MetaRef<'a> {
    slot: &'a MetaSlot,
}

impl<'a> MetaRef<'a> {
    /// The API name.
    pub fn api(&self) -> &'static str {
        self.slot.vtable.api
    }
    /// The API's tags.
    pub fn tags(&self) -> &'static [&'static str] {
        self.slot.vtable.tags
    }
    /// Whether the API has `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.slot.has_tag(tag)
    }
    /// Flags on this meta.
    pub fn flags(&self) -> MetaFlags {
        self.slot.flags
    }
    /// Process-wide, increasing creation number: orders metas by age
    /// (`gst_meta_compare_seqnum`).
    pub fn seqnum(&self) -> u64 {
        self.slot.seqnum
    }
    /// The meta as `M`, if it is one.
    pub fn downcast_ref<M: Meta>(&self) -> Option<&'a M> {
        self.slot.get::<M>()
    }
}

impl fmt::Debug for MetaRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the slot holds a value of the vtable's type.
        unsafe { (self.slot.vtable.debug)(self.slot.data.0.as_ptr() as *const u8, f) }
    }
}

/// The metas of one buffer, in insertion order.
#[derive(Default)]
pub(crate) struct MetaList {
    slots: SmallVec<[MetaSlot; 4]>,
}

impl MetaList {
    pub(crate) fn add<M: Meta>(&mut self, value: M, flags: MetaFlags) -> &mut M {
        self.slots.push(MetaSlot::new(value, flags));
        let last = self.slots.len() - 1;
        match self.slots[last].get_mut::<M>() {
            Some(m) => m,
            // The slot was just made from an M.
            None => unreachable!("meta slot type mismatch"),
        }
    }

    pub(crate) fn get<M: Meta>(&self) -> Option<&M> {
        self.slots.iter().find_map(|s| s.get::<M>())
    }

    pub(crate) fn get_mut<M: Meta>(&mut self) -> Option<&mut M> {
        self.slots.iter_mut().find_map(|s| s.get_mut::<M>())
    }

    pub(crate) fn iter_of<M: Meta>(&self) -> impl Iterator<Item = &M> {
        self.slots.iter().filter_map(|s| s.get::<M>())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = MetaRef<'_>> {
        self.slots.iter().map(|slot| MetaRef { slot })
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn set_flags<M: Meta>(&mut self, flags: MetaFlags) -> bool {
        match self.slots.iter_mut().find(|s| s.is::<M>()) {
            Some(slot) => {
                slot.flags = flags;
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove<M: Meta>(&mut self) -> Result<Option<M>> {
        let Some(index) = self.slots.iter().position(|s| s.is::<M>()) else {
            return Ok(None);
        };
        if self.slots[index].flags.contains(MetaFlags::LOCKED) {
            return Err(Error::MetaLocked { api: M::API });
        }
        Ok(self.slots.remove(index).into_inner::<M>())
    }

    /// Keeps the metas for which `keep` returns true. Asking to remove a
    /// LOCKED meta keeps it and reports the first such meta as an error
    /// after visiting all.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(MetaRef<'_>) -> bool) -> Result<()> {
        let mut locked = None;
        self.slots.retain(|slot| {
            if keep(MetaRef { slot }) {
                return true;
            }
            if slot.flags.contains(MetaFlags::LOCKED) {
                locked.get_or_insert(slot.vtable.api);
                return true;
            }
            false
        });
        match locked {
            Some(api) => Err(Error::MetaLocked { api }),
            None => Ok(()),
        }
    }

    /// Copies metas onto `dest` following GStreamer's copy rules: layout
    /// metas (tag "memory") are skipped when the layout changes, memory
    /// references are skipped on deep copies, everything else is asked.
    pub(crate) fn copy_into(
        &self,
        dest: &mut MetaList,
        layout_changes: bool,
        deep: bool,
        transform: &MetaTransform,
    ) {
        for slot in &self.slots {
            if layout_changes && slot.has_tag(TAG_MEMORY) {
                continue;
            }
            if deep && slot.has_tag(TAG_MEMORY_REFERENCE) {
                continue;
            }
            let data = slot.data.0.as_ptr() as *const u8;
            // SAFETY: the slot holds a value of the vtable's type.
            let copy = unsafe { (slot.vtable.transform)(data, transform) };
            if let Some(copy) = copy {
                dest.slots.push(copy);
            }
        }
    }

    /// Pool reset: drops metas that are not POOLED (LOCKED or not) and
    /// clears the POOLED ones.
    pub(crate) fn reset_for_pool(&mut self) {
        self.slots
            .retain(|slot| slot.flags.contains(MetaFlags::POOLED));
        for slot in &mut self.slots {
            // SAFETY: the slot holds a value of the vtable's type.
            unsafe { (slot.vtable.clear)(slot.data.0.as_mut_ptr() as *mut u8) }
        }
    }

    /// Marks every meta POOLED | LOCKED (done to metas present when a pool
    /// allocates a buffer).
    pub(crate) fn mark_pooled(&mut self) {
        for slot in &mut self.slots {
            slot.flags |= MetaFlags::POOLED | MetaFlags::LOCKED;
        }
    }

    pub(crate) fn api_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.slots.iter().map(|s| s.vtable.api)
    }
}

impl fmt::Debug for MetaList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.api_names()).finish()
    }
}
