//! Find_memory and sizes.

use super::*;

#[test]
fn find_memory_gstreamer_test_find() {
    let buf = find_buffer();
    assert_eq!(buf.size(), 25);
    assert_eq!(buf.n_memory(), 4);

    assert_eq!(buf.find_memory(0, Some(5)), Some((1, 1, 0)));
    assert_eq!(buf.find_memory(0, Some(10)), Some((1, 1, 0)));
    assert_eq!(buf.find_memory(5, Some(4)), Some((1, 1, 5)));
    assert_eq!(buf.find_memory(5, Some(5)), Some((1, 1, 5)));
    assert_eq!(buf.find_memory(5, Some(6)), Some((1, 2, 5)));
    assert_eq!(buf.find_memory(10, Some(6)), Some((2, 1, 0)));
    assert_eq!(buf.find_memory(10, Some(15)), Some((2, 1, 0)));
    assert_eq!(buf.find_memory(11, Some(14)), Some((2, 1, 1)));
    assert_eq!(buf.find_memory(0, Some(25)), Some((1, 2, 0)));
    assert_eq!(buf.find_memory(24, Some(0)), Some((2, 1, 14)));

    assert_eq!(buf.find_memory(11, Some(15)), None);
    assert_eq!(buf.find_memory(0, Some(26)), None);
    assert_eq!(buf.find_memory(25, Some(0)), None);

    assert_eq!(buf.find_memory(1, None), Some((1, 3, 1)));
    assert_eq!(Buffer::new().find_memory(0, None), None);
}

#[test]
fn sizes_gstreamer_test_size() {
    // One memory of 100 bytes.
    let mut buf = Buffer::with_size(100).unwrap();
    let maxalloc = 100;
    assert_eq!(buf.sizes(), (100, 0, maxalloc));

    let b = buf.get_mut().unwrap();
    b.memory_mut(0).unwrap().resize(10, 70).unwrap();
    assert_eq!(b.sizes(), (70, 10, maxalloc));

    // A new memory, resized to (20, 60), appended.
    let mut m = zeroed(100);
    assert_eq!(m.sizes(), (100, 0, 100));
    let maxalloc2 = m.maxsize();
    m.resize(20, 60).unwrap();
    assert_eq!(m.sizes(), (60, 20, maxalloc2));
    b.append_memory(m);
    // maxsize = the first memory's offset + size of everything + the padding
    // after the last non-empty memory.
    assert_eq!(b.sizes(), (130, 10, 80 + (maxalloc2 - 20)));

    // An empty memory appended counts its maxsize.
    let mut m = zeroed(100);
    let maxalloc3 = m.maxsize();
    m.resize(0, 0).unwrap();
    b.append_memory(m);
    assert_eq!(b.sizes(), (130, 10, 80 + (maxalloc2 - 20) + maxalloc3));

    // An empty memory prepended adds its maxsize to the offset.
    let mut m = zeroed(100);
    let maxalloc4 = m.maxsize();
    m.resize(0, 0).unwrap();
    b.insert_memory(0, m).unwrap();
    assert_eq!(
        b.sizes(),
        (
            130,
            10 + maxalloc4,
            80 + (maxalloc2 - 20) + maxalloc3 + maxalloc4
        )
    );
}

#[test]
fn sizes_do_not_count_inner_padding() {
    let p = AllocationParams {
        prefix: 4,
        padding: 6,
        ..Default::default()
    };
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.append_memory(Memory::alloc(10, &p).unwrap());
    b.append_memory(Memory::alloc(20, &p).unwrap());
    // offset = prefix of the first, maxsize = offset + size + last padding.
    assert_eq!(b.sizes(), (30, 4, 4 + 30 + 6));
}
