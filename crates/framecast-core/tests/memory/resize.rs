//! Resize.

use super::*;

#[test]
fn resize_inside_maxsize() {
    // GStreamer test_resize on memory, with prefix and padding.
    let mut mem = Memory::alloc(100, &params(MemoryFlags::empty(), 0, 10, 20)).unwrap();
    assert_eq!(mem.sizes(), (100, 10, 130));
    mem.resize(5, 50).unwrap();
    assert_eq!(mem.sizes(), (50, 15, 130));
    mem.resize(-15, 130).unwrap();
    assert_eq!(mem.sizes(), (130, 0, 130));
    mem.resize(130, 0).unwrap();
    assert_eq!(mem.sizes(), (0, 130, 130));
    mem.resize(-130, 0).unwrap();
    assert_eq!(mem.sizes(), (0, 0, 130));
    mem.resize(10, 100).unwrap();
    assert_eq!(mem.sizes(), (100, 10, 130));
    assert_eq!(mem.map_readable().unwrap().len(), 100);
    assert_eq!(mem.map_readable().unwrap().maxsize(), 120);
}

#[test]
fn resize_outside_maxsize_errors_and_changes_nothing() {
    let flags = MemoryFlags::ZERO_PREFIXED | MemoryFlags::ZERO_PADDED;
    let mut mem = Memory::alloc(100, &params(flags, 0, 10, 20)).unwrap();
    for (delta, size) in [
        (-11isize, 100usize),
        (0, 121),
        (21, 100),
        (131, 0),
        (-11, 0),
        (isize::MIN, 0),
        (isize::MAX, usize::MAX),
        (0, usize::MAX),
    ] {
        let err = mem.resize(delta, size).unwrap_err();
        assert!(
            matches!(err, Error::OutOfBounds { limit: 130, .. }),
            "({delta}, {size}): {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(mem.sizes(), (100, 10, 130));
        assert_eq!(mem.flags(), flags);
    }
}

#[test]
fn resize_clears_zero_flags_by_gstreamer_rules() {
    let flags = MemoryFlags::ZERO_PREFIXED | MemoryFlags::ZERO_PADDED;
    let fresh = || Memory::alloc(100, &params(flags, 0, 10, 20)).unwrap();

    // Offset grows, end unchanged: only the prefix grows.
    let mut mem = fresh();
    mem.resize(4, 96).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::ZERO_PADDED);

    // Start unchanged, size shrinks: only the padding grows.
    let mut mem = fresh();
    mem.resize(0, 99).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::ZERO_PREFIXED);

    // Both grow.
    let mut mem = fresh();
    mem.resize(1, 98).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::empty());

    // Window widened on both sides: neither region grows.
    let mut mem = fresh();
    mem.resize(-5, 110).unwrap();
    assert_eq!(mem.flags(), flags);

    // Moved right by 5 but the end moves right too (padding shrinks).
    let mut mem = fresh();
    mem.resize(5, 100).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::ZERO_PADDED);

    // Moved left, same size: end moves left, padding grows.
    let mut mem = fresh();
    mem.resize(-5, 100).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::ZERO_PREFIXED);

    // A no-op resize keeps both.
    let mut mem = fresh();
    mem.resize(0, 100).unwrap();
    assert_eq!(mem.flags(), flags);
}

#[test]
fn resize_of_shared_memory_is_refused() {
    let mut mem = Memory::alloc(16, &AllocationParams::default()).unwrap();
    let other = mem.clone();
    let err = mem.resize(1, 4).unwrap_err();
    assert!(matches!(err, Error::NotWritable(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::NotWritable);
    assert_eq!(mem.sizes(), (16, 0, 16));
    drop(other);
    mem.resize(1, 4).unwrap();
    assert_eq!(mem.sizes(), (4, 1, 16));
}

#[test]
fn map_after_resize_sees_new_window() {
    let mut mem = filled(10);
    mem.resize(3, 4).unwrap();
    assert_eq!(&*mem.map_readable().unwrap(), &[3, 4, 5, 6]);
    mem.map_writable().unwrap().copy_from_slice(&[9, 9, 9, 9]);
    mem.resize(-3, 10).unwrap();
    assert_eq!(
        &*mem.map_readable().unwrap(),
        &[0, 1, 2, 9, 9, 9, 9, 7, 8, 9]
    );
}
