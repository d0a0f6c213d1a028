//! Misc.

use super::*;

#[test]
fn ids_and_debug() {
    let a = filled(4);
    let b = a.clone();
    let c = filled(4);
    assert_eq!(a.id(), b.id());
    assert_ne!(a.id(), c.id());
    assert!(Memory::ptr_eq(&a, &b));
    let share = a.share(0, None).unwrap();
    assert_ne!(share.id(), a.id());
    let debug = format!("{share:?}");
    assert!(debug.contains("share: true"), "{debug}");
    assert!(debug.contains("size: 4"), "{debug}");
}

#[derive(Debug)]
struct ShortAllocator;

impl Allocator for ShortAllocator {
    fn mem_type(&self) -> &'static str {
        "ShortTest"
    }
    fn alloc_block(
        &self,
        size: usize,
        _params: &AllocationParams,
        _align_mask: usize,
    ) -> framecast_core::Result<Block> {
        // Ignores prefix and padding: a broken allocator.
        Ok(Block::from_owner_mut(vec![0u8; size]))
    }
}

#[test]
fn allocator_returning_wrong_maxsize_is_rejected() {
    let allocator: Arc<dyn Allocator> = Arc::new(ShortAllocator);
    let err =
        Memory::alloc_from(&allocator, 10, &params(MemoryFlags::empty(), 0, 4, 0)).unwrap_err();
    assert!(matches!(err, Error::AllocationFailed { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::AllocationFailed);
    // Without prefix/padding its block is fine.
    let mem = Memory::alloc_from(&allocator, 10, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("ShortTest"));
    assert!(mem.is_writable());
}
