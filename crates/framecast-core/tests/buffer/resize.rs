//! Resize.

use super::*;

#[test]
fn resize_gstreamer_test_resize() {
    let mut buf = Buffer::with_size(100).unwrap();
    let b = buf.get_mut().unwrap();
    let maxalloc = 100;
    assert_eq!(b.sizes(), (100, 0, maxalloc));

    for (delta, size) in [
        (200isize, 50usize),
        (0, 150),
        (1, maxalloc),
        (maxalloc as isize, 1),
        (-1, 100),
    ] {
        let err = b.resize(delta, Some(size)).unwrap_err();
        assert!(matches!(err, Error::OutOfBounds { .. }), "{err:?}");
        assert_eq!(b.sizes(), (100, 0, maxalloc));
    }
    // No change, and no TAG_MEMORY.
    b.resize(0, Some(100)).unwrap();
    assert_eq!(b.sizes(), (100, 0, maxalloc));
    assert_eq!(b.flags(), BufferFlags::empty());

    let steps: [(isize, usize, (usize, usize, usize)); 11] = [
        (0, 50, (50, 0, maxalloc)),
        (0, 100, (100, 0, maxalloc)),
        (1, 99, (99, 1, maxalloc)),
        (0, 99, (99, 1, maxalloc)),
        (-1, 100, (100, 0, maxalloc)),
        (50, 40, (40, 50, maxalloc)),
        (-50, 100, (100, 0, maxalloc)),
        (0, 0, (0, 0, maxalloc)),
        (0, 100, (100, 0, maxalloc)),
        (0, 100, (100, 0, maxalloc)),
        (10, 80, (80, 10, maxalloc)),
    ];
    for (delta, size, want) in steps {
        b.resize(delta, Some(size)).unwrap();
        assert_eq!(b.sizes(), want, "resize({delta}, {size})");
        if (delta, size) == (1, 99) {
            let err = b.resize(1, Some(maxalloc - 1)).unwrap_err();
            assert!(matches!(err, Error::OutOfBounds { .. }));
            assert_eq!(b.sizes(), want);
        }
    }
    // In place: the memory is the same one, no TAG_MEMORY.
    assert_eq!(b.n_memory(), 1);
    assert_eq!(b.flags(), BufferFlags::empty());

    // Size None keeps the end.
    b.resize(-10, None).unwrap();
    assert_eq!(b.sizes(), (90, 0, maxalloc));
    b.resize(30, None).unwrap();
    assert_eq!(b.sizes(), (60, 30, maxalloc));
    assert!(b.resize(61, None).is_err());

    // set_size keeps the start.
    b.set_size(20).unwrap();
    assert_eq!(b.sizes(), (20, 30, maxalloc));
    assert!(b.set_size(71).is_err());
    b.set_size(70).unwrap();
    assert_eq!(b.sizes(), (70, 30, maxalloc));
}

#[test]
fn resize_across_memories_keeps_the_right_bytes() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.append_memory(mem(&(0..50).collect::<Vec<u8>>()));
    b.append_memory(mem(&(50..100).collect::<Vec<u8>>()));
    b.unset_flags(BufferFlags::TAG_MEMORY);

    b.resize(25, Some(50)).unwrap();
    assert_eq!(b.sizes(), (50, 25, 100));
    assert_eq!(b.memory(0).unwrap().sizes(), (25, 25, 50));
    assert_eq!(b.memory(1).unwrap().sizes(), (25, 0, 50));
    let want: Vec<u8> = (25..75).collect();
    assert_eq!(b.map_readable().unwrap().contiguous(), &want[..]);
    assert_eq!(b.flags(), BufferFlags::empty(), "resized in place");

    b.resize(-25, Some(100)).unwrap();
    assert_eq!(b.sizes(), (100, 0, 100));
    let want: Vec<u8> = (0..100).collect();
    assert_eq!(b.map_readable().unwrap().contiguous(), &want[..]);
}

#[test]
fn resize_of_shared_memory_replaces_it_with_a_share() {
    let root = mem(&(0..10).collect::<Vec<u8>>());
    let mut buf = Buffer::from_memory(root.clone());
    let b = buf.get_mut().unwrap();
    b.resize(2, Some(5)).unwrap();
    assert_eq!(b.flags(), BufferFlags::TAG_MEMORY);
    assert_eq!(b.map_readable().unwrap().contiguous(), &[2, 3, 4, 5, 6][..]);
    let m = b.memory(0).unwrap();
    assert!(Memory::ptr_eq(m.parent().unwrap(), &root));
    assert_eq!(addr(m), addr(&root) + 2);
    // The other holder's memory did not move.
    assert_eq!(root.sizes(), (10, 0, 10));
    // Growing back works through the share.
    b.resize(-2, Some(10)).unwrap();
    assert_eq!(
        b.map_readable().unwrap().contiguous(),
        &(0..10).collect::<Vec<u8>>()[..]
    );
}

#[test]
fn resize_of_empty_buffer() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.resize(0, Some(0)).unwrap();
    assert!(b.resize(0, Some(1)).is_err());
    assert!(b.resize(1, None).is_err());
}
