//! Copy.

use super::*;

#[test]
fn copy_is_writable_with_correct_bytes() {
    let mem = Memory::alloc(10, &params(MemoryFlags::READONLY, 63, 16, 8)).unwrap();
    let mut copy = mem.copy(0, None).unwrap();
    assert!(!Memory::ptr_eq(&mem, &copy));
    assert_eq!(copy.flags(), MemoryFlags::empty());
    assert!(copy.is_writable());
    assert_eq!(copy.sizes(), (10, 0, 10));
    assert_eq!(copy.align(), 63);
    assert_eq!(data_addr(&copy) & 63, 0);
    copy.map_writable().unwrap()[0] = 1;

    let src = filled(10);
    let copy = src.copy(0, None).unwrap();
    assert_ne!(data_addr(&copy), data_addr(&src));
    assert_eq!(
        &*copy.map_readable().unwrap(),
        &*src.map_readable().unwrap()
    );
    // size None = to the end of the visible data.
    let tail = src.copy(3, None).unwrap();
    assert_eq!(&*tail.map_readable().unwrap(), &[3, 4, 5, 6, 7, 8, 9]);
    let mid = src.copy(2, Some(3)).unwrap();
    assert_eq!(&*mid.map_readable().unwrap(), &[2, 3, 4]);
    let none = src.copy(10, None).unwrap();
    assert_eq!(none.sizes(), (0, 0, 0));
    // Copies of a windowed memory copy from the window.
    let mut windowed = filled(10);
    windowed.resize(4, 4).unwrap();
    let c = windowed.copy(1, None).unwrap();
    assert_eq!(&*c.map_readable().unwrap(), &[5, 6, 7]);
    // Copy of a share.
    let share = src.share(5, Some(3)).unwrap();
    let c = share.copy(0, None).unwrap();
    assert_eq!(&*c.map_readable().unwrap(), &[5, 6, 7]);
    assert!(c.parent().is_none());
    assert!(c.is_writable());
}

#[test]
fn copy_out_of_bounds_is_an_error() {
    let src = filled(10);
    assert!(matches!(
        src.copy(8, Some(3)),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(matches!(src.copy(11, None), Err(Error::OutOfBounds { .. })));
}

#[test]
fn copy_of_zero_size_memory() {
    let mem = Memory::alloc(0, &AllocationParams::default()).unwrap();
    let copy = mem.copy(0, None).unwrap();
    assert_eq!(copy.sizes(), (0, 0, 0));
    assert!(copy.map_readable().unwrap().is_empty());
}

#[test]
fn copy_keeps_the_allocator() {
    let mem = Memory::alloc_from(&memfd(), 10, &AllocationParams::default()).unwrap();
    let copy = mem.copy(0, None).unwrap();
    assert!(copy.is_type(MEMFD_MEMORY));
    assert!(copy.fd().is_some());
}

#[test]
fn copy_of_no_copy_allocator_uses_the_default() {
    let _guard = default_lock();
    let allocator: Arc<dyn Allocator> =
        Arc::new(TestAllocator("NoCopyTest", AllocatorFlags::NO_COPY));
    let mem = Memory::alloc_from(&allocator, 10, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("NoCopyTest"));
    let copy = mem.copy(0, None).unwrap();
    assert!(copy.is_type(SYSTEM_MEMORY));
}
