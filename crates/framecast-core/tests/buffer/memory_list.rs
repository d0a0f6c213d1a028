//! Memory list.

use super::*;

#[test]
fn new_buffer_defaults() {
    let buf = Buffer::new();
    assert_eq!(buf.n_memory(), 0);
    assert_eq!(buf.size(), 0);
    assert_eq!(buf.sizes(), (0, 0, 0));
    assert_eq!(buf.pts(), None);
    assert_eq!(buf.dts(), None);
    assert_eq!(buf.duration(), None);
    assert_eq!(buf.offset(), None);
    assert_eq!(buf.offset_end(), None);
    assert_eq!(buf.flags(), BufferFlags::empty());
    assert_eq!(buf.n_meta(), 0);
    assert_eq!(buf.pool_id(), None);
    assert!(buf.map_readable().unwrap().is_empty());

    // Size 0: no memory, as gst_buffer_new_allocate.
    let empty = Buffer::with_size(0).unwrap();
    assert_eq!(empty.n_memory(), 0);
    let empty = Buffer::from_slice(&[]).unwrap();
    assert_eq!(empty.n_memory(), 0);
    let mut empty = Buffer::new();
    assert!(empty.get_mut().unwrap().map_writable().unwrap().is_empty());

    let buf = Buffer::with_params(10, &AllocationParams::aligned(63)).unwrap();
    assert_eq!(buf.n_memory(), 1);
    assert_eq!(addr(buf.memory(0).unwrap()) & 63, 0);
    assert_eq!(
        buf.flags(),
        BufferFlags::empty(),
        "constructors leave TAG_MEMORY clear"
    );
    let buf = Buffer::from_slice(b"hello").unwrap();
    assert_eq!(bytes(&buf), b"hello");
    assert!(buf.memory(0).unwrap().is_writable());
}

#[test]
fn append_insert_remove_replace() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.append_memory(mem(b"b"));
    assert_eq!(b.flags(), BufferFlags::TAG_MEMORY);
    b.append_memory(mem(b"d"));
    b.prepend_memory(mem(b"a"));
    b.insert_memory(2, mem(b"c")).unwrap();
    b.insert_memory(4, mem(b"e")).unwrap();
    assert_eq!(b.n_memory(), 5);
    assert_eq!(b.size(), 5);
    let (err, back) = b.insert_memory(6, mem(b"zz")).unwrap_err();
    assert!(matches!(err, Error::OutOfBounds { .. }), "{err:?}");
    assert_eq!(&*back.map_readable().unwrap(), b"zz", "memory handed back");
    assert_eq!(b.n_memory(), 5);
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"abcde"[..]);

    // peek
    assert_eq!(&*b.memory(3).unwrap().map_readable().unwrap(), b"d");
    assert!(b.memory(5).is_none());

    // remove one
    let removed = b.remove_memory(1).unwrap();
    assert_eq!(&*removed.map_readable().unwrap(), b"b");
    assert!(b.remove_memory(4).is_err());
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"acde"[..]);

    // replace one
    let old = b.replace_memory(0, mem(b"A")).unwrap();
    assert_eq!(&*old.map_readable().unwrap(), b"a");
    let (_, back) = b.replace_memory(4, mem(b"Q")).unwrap_err();
    assert_eq!(&*back.map_readable().unwrap(), b"Q");
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"Acde"[..]);

    // replace a range: [A c d e] -> [A XY e]
    b.replace_memory_range(1, Some(2), mem(b"XY")).unwrap();
    assert_eq!(b.n_memory(), 3);
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"AXYe"[..]);
    // replace to the end
    b.replace_memory_range(2, None, mem(b"!")).unwrap();
    assert_eq!(b.n_memory(), 3);
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"AXY!"[..]);
    let (err, back) = b.replace_memory_range(2, Some(2), mem(b"?")).unwrap_err();
    assert!(matches!(err, Error::OutOfBounds { .. }));
    assert_eq!(&*back.map_readable().unwrap(), b"?");
    // An empty range is refused rather than turned into an insert.
    let (_, _) = b.replace_memory_range(3, None, mem(b"?")).unwrap_err();
    let (_, _) = b.replace_memory_range(1, Some(0), mem(b"?")).unwrap_err();
    assert_eq!(b.n_memory(), 3);
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"AXY!"[..]);

    // remove a range, then all to the end
    b.append_memory(mem(b"1"));
    b.append_memory(mem(b"2"));
    b.remove_memory_range(1, Some(2)).unwrap();
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"A12"[..]);
    assert!(b.remove_memory_range(2, Some(2)).is_err());
    assert_eq!(b.n_memory(), 3);
    b.remove_memory_range(1, None).unwrap();
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"A"[..]);
    b.remove_memory_range(1, Some(0)).unwrap();
    assert_eq!(b.n_memory(), 1);

    b.replace_all_memory(mem(b"all"));
    assert_eq!(b.n_memory(), 1);
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"all"[..]);
    b.remove_all_memory();
    assert_eq!(b.n_memory(), 0);
    assert_eq!(b.size(), 0);
    assert!(b.flags().contains(BufferFlags::TAG_MEMORY));
}

#[test]
fn more_than_sixteen_memories_are_kept_apart() {
    // GStreamer merges 16 memories into one when a 17th arrives; here every
    // memory stays, in order, with no copy.
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    let mut addrs = Vec::new();
    for i in 0..17u8 {
        let m = mem(&[i; 10]);
        addrs.push(addr(&m));
        b.append_memory(m);
    }
    assert_eq!(b.n_memory(), 17);
    assert_eq!(b.size(), 170);
    let got: Vec<_> = b.memories().iter().map(addr).collect();
    assert_eq!(got, addrs);
    b.insert_memory(5, mem(&[99; 7])).unwrap();
    assert_eq!(b.n_memory(), 18);
    assert_eq!(b.size(), 177);
    let all = b.map_readable().unwrap().contiguous().into_owned();
    assert_eq!(&all[50..57], &[99; 7]);
    assert_eq!(&all[57..67], &[5; 10]);
}
