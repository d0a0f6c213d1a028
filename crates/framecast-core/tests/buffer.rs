//! Buffers: writability, copy-on-write, the memory list, find_memory and
//! sizes (GStreamer's `test_find` / `test_size` / `test_resize` figures),
//! copy flags, data access, flags, ClockTime, Debug — and a property test
//! that inserting at any index never loses data (GStreamer's 16-memory bug).

use std::cmp::Ordering;
use std::io::Write;

use framecast_core::{
    AllocationParams, Buffer, BufferCopyFlags, BufferFlags, ClockTime, Error, Memory, MemoryFlags,
    ReferenceTimestampMeta, VideoCropMeta, VideoFormat, VideoInfo, VideoMeta,
};
use proptest::prelude::*;

fn mem(bytes: &[u8]) -> Memory {
    Memory::from_slice(bytes).unwrap()
}

fn zeroed(size: usize) -> Memory {
    Memory::alloc(size, &AllocationParams::default()).unwrap()
}

fn addr(mem: &Memory) -> usize {
    mem.map_readable().unwrap().as_ptr() as usize
}

fn bytes(buf: &Buffer) -> Vec<u8> {
    buf.map_readable().unwrap().contiguous().into_owned()
}

/// A buffer of memories [0 B, 10 B, 15 B, 0 B], as GStreamer's test_find.
fn find_buffer() -> Buffer {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    for size in [0, 10, 15, 0] {
        b.append_memory(zeroed(size));
    }
    buf
}

// ---- writability ----------------------------------------------------------

#[test]
fn writable_iff_unique() {
    let mut buf = Buffer::with_size(4).unwrap();
    assert!(buf.is_writable());
    assert_eq!(buf.ref_count(), 1);
    assert!(buf.get_mut().is_some());

    let other = buf.clone();
    assert!(Buffer::ptr_eq(&buf, &other));
    assert_eq!(buf.ref_count(), 2);
    assert!(!buf.is_writable());
    assert!(!other.is_writable());
    assert!(buf.get_mut().is_none());

    drop(other);
    assert!(buf.is_writable());
    assert!(buf.get_mut().is_some());
}

#[test]
fn make_mut_on_unique_buffer_is_the_same_buffer() {
    let mut buf = Buffer::with_size(4).unwrap();
    let id = buf.id();
    buf.make_mut().set_flags(BufferFlags::DISCONT);
    assert_eq!(buf.id(), id);
    assert_eq!(buf.flags(), BufferFlags::DISCONT);
}

#[test]
fn make_mut_copies_on_write_sharing_memories() {
    let mut buf = Buffer::new();
    {
        let b = buf.get_mut().unwrap();
        b.append_memory(mem(b"abcd"));
        b.append_memory(mem(b"efgh"));
        b.set_pts(Some(ClockTime::from_mseconds(40)));
        b.set_duration(Some(ClockTime::from_mseconds(20)));
        b.set_flags(BufferFlags::DISCONT | BufferFlags::DELTA_UNIT);
        b.add_meta(VideoCropMeta {
            x: 1,
            y: 2,
            width: 3,
            height: 4,
        });
    }
    let original = buf.clone();
    let ids: Vec<_> = buf.memories().iter().map(Memory::id).collect();
    let addrs: Vec<_> = buf.memories().iter().map(addr).collect();

    let b = buf.make_mut();
    b.set_pts(None);
    b.unset_flags(BufferFlags::DISCONT);
    assert!(!Buffer::ptr_eq(&buf, &original));
    assert!(buf.is_writable());
    assert!(
        original.is_writable(),
        "the copy dropped our second reference"
    );

    // Memories are shared, not copied.
    let copy_ids: Vec<_> = buf.memories().iter().map(Memory::id).collect();
    let copy_addrs: Vec<_> = buf.memories().iter().map(addr).collect();
    assert_eq!(copy_ids, ids);
    assert_eq!(copy_addrs, addrs);
    assert!(Memory::ptr_eq(
        buf.memory(0).unwrap(),
        original.memory(0).unwrap()
    ));
    // The copy took flags (but TAG_MEMORY), timestamps and metas.
    assert_eq!(buf.flags(), BufferFlags::DELTA_UNIT);
    assert_eq!(buf.duration(), Some(ClockTime::from_mseconds(20)));
    assert_eq!(buf.meta::<VideoCropMeta>().unwrap().width, 3);

    // The other reference is unchanged.
    assert_eq!(original.pts(), Some(ClockTime::from_mseconds(40)));
    assert_eq!(
        original.flags(),
        BufferFlags::DISCONT | BufferFlags::DELTA_UNIT | BufferFlags::TAG_MEMORY
    );
    assert_eq!(bytes(&original), b"abcdefgh");

    // Writing bytes through the copy copies that memory only.
    buf.make_mut().fill(0, b"X").unwrap();
    assert_ne!(buf.memory(0).unwrap().id(), ids[0]);
    assert_eq!(buf.memory(1).unwrap().id(), ids[1]);
    assert_eq!(bytes(&buf), b"Xbcdefgh");
    assert_eq!(bytes(&original), b"abcdefgh");
}

#[test]
fn metadata_writable_gstreamer_test() {
    // GStreamer test_metadata_writable.
    let mut buffer = Buffer::with_size(4).unwrap();
    buffer
        .get_mut()
        .unwrap()
        .set_flags(BufferFlags::DISCONT | BufferFlags::DELTA_UNIT);
    let second = buffer.clone();
    assert!(!buffer.is_writable());
    let mut sub = second;
    sub.make_mut()
        .unset_flags(BufferFlags::DISCONT | BufferFlags::DELTA_UNIT);
    assert!(sub.is_writable());
    assert!(buffer
        .flags()
        .contains(BufferFlags::DISCONT | BufferFlags::DELTA_UNIT));
    assert_eq!(sub.flags(), BufferFlags::empty());
    drop(sub);
    assert!(buffer.is_writable());
    assert_eq!(buffer.ref_count(), 1);
}

// ---- memory list ----------------------------------------------------------

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

// ---- find_memory and sizes --------------------------------------------------

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

// ---- resize ---------------------------------------------------------------

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

// ---- copy_region ------------------------------------------------------------

fn timed_buffer() -> Buffer {
    let mut buf = Buffer::from_slice(b"data").unwrap();
    let b = buf.get_mut().unwrap();
    b.set_pts(Some(ClockTime::from_nseconds(1)));
    b.set_dts(Some(ClockTime::from_nseconds(5)));
    b.set_duration(Some(ClockTime::from_nseconds(2)));
    b.set_offset(Some(3));
    b.set_offset_end(Some(4));
    b.set_flags(BufferFlags::DISCONT | BufferFlags::HEADER | BufferFlags::TAG_MEMORY);
    buf
}

#[test]
fn copy_flags_excludes_tag_memory() {
    let buf = timed_buffer();
    let copy = buf.copy_region(BufferCopyFlags::FLAGS, 0, None).unwrap();
    assert_eq!(copy.flags(), BufferFlags::DISCONT | BufferFlags::HEADER);
    assert_eq!(copy.n_memory(), 0);
    assert_eq!(copy.pts(), None);
    let copy = buf.copy_region(BufferCopyFlags::MEMORY, 0, None).unwrap();
    assert_eq!(copy.flags(), BufferFlags::empty());
    let copy = buf.copy();
    assert_eq!(copy.flags(), BufferFlags::DISCONT | BufferFlags::HEADER);
}

#[test]
fn copy_timestamps_rules() {
    // GStreamer test_subbuffer.
    let buf = timed_buffer();
    let t = ClockTime::from_nseconds;

    // Offset > 0: nothing.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 1, Some(2)).unwrap();
    assert_eq!(sub.size(), 2);
    assert_eq!(bytes(&sub), b"at");
    assert_eq!(
        (
            sub.pts(),
            sub.dts(),
            sub.duration(),
            sub.offset(),
            sub.offset_end()
        ),
        (None, None, None, None, None)
    );
    // Size 0 region.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 1, Some(0)).unwrap();
    assert_eq!(sub.size(), 0);
    assert_eq!(sub.n_memory(), 0);
    // Offset 0, part: pts, dts, offset only.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 0, Some(1)).unwrap();
    assert_eq!(
        (
            sub.pts(),
            sub.dts(),
            sub.duration(),
            sub.offset(),
            sub.offset_end()
        ),
        (Some(t(1)), Some(t(5)), None, Some(3), None)
    );
    // The whole buffer: all five.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 0, Some(4)).unwrap();
    assert_eq!(
        (
            sub.pts(),
            sub.dts(),
            sub.duration(),
            sub.offset(),
            sub.offset_end()
        ),
        (Some(t(1)), Some(t(5)), Some(t(2)), Some(3), Some(4))
    );
    // Without TIMESTAMPS: none.
    let sub = buf
        .copy_region(BufferCopyFlags::FLAGS | BufferCopyFlags::MEMORY, 0, None)
        .unwrap();
    assert_eq!((sub.pts(), sub.duration()), (None, None));
}

#[test]
fn copy_region_out_of_bounds() {
    let buf = timed_buffer();
    assert!(matches!(
        buf.copy_region(BufferCopyFlags::ALL, 3, Some(2)),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(buf.copy_region(BufferCopyFlags::ALL, 5, None).is_err());
    assert_eq!(
        buf.copy_region(BufferCopyFlags::ALL, 4, None)
            .unwrap()
            .size(),
        0
    );
}

fn two_memory_buffer() -> (Buffer, Memory, Memory) {
    let a = mem(&(0..10).collect::<Vec<u8>>());
    let b = mem(&(10..20).collect::<Vec<u8>>());
    let mut buf = Buffer::new();
    {
        let r = buf.get_mut().unwrap();
        r.append_memory(a.clone());
        r.append_memory(b.clone());
    }
    (buf, a, b)
}

#[test]
fn copy_memory_shares_partial_and_references_whole() {
    let (buf, a, b) = two_memory_buffer();

    // Partial memories are shares (read-only, same bytes, same address).
    let copy = buf
        .copy_region(BufferCopyFlags::MEMORY, 5, Some(10))
        .unwrap();
    assert_eq!(copy.n_memory(), 2);
    let (m0, m1) = (copy.memory(0).unwrap(), copy.memory(1).unwrap());
    assert!(Memory::ptr_eq(m0.parent().unwrap(), &a));
    assert!(Memory::ptr_eq(m1.parent().unwrap(), &b));
    assert_eq!(addr(m0), addr(&a) + 5);
    assert_eq!(addr(m1), addr(&b));
    assert_eq!(m0.sizes(), (5, 5, 10));
    assert_eq!(m1.sizes(), (5, 0, 10));
    assert!(m0.flags().contains(MemoryFlags::READONLY));
    assert_eq!(bytes(&copy), (5..15).collect::<Vec<u8>>());
    assert_eq!(copy.flags(), BufferFlags::empty(), "TAG_MEMORY cleared");

    // A whole memory is referenced (the very same memory).
    let copy = buf
        .copy_region(BufferCopyFlags::MEMORY, 10, Some(10))
        .unwrap();
    assert_eq!(copy.n_memory(), 1);
    assert!(Memory::ptr_eq(copy.memory(0).unwrap(), &b));

    let copy = buf.copy();
    assert_eq!(copy.n_memory(), 2);
    assert!(Memory::ptr_eq(copy.memory(0).unwrap(), &a));
    assert!(Memory::ptr_eq(copy.memory(1).unwrap(), &b));
    assert_eq!(copy.flags(), BufferFlags::empty());

    // A region inside one memory.
    let copy = buf
        .copy_region(BufferCopyFlags::MEMORY, 12, Some(3))
        .unwrap();
    assert_eq!(copy.n_memory(), 1);
    assert_eq!(addr(copy.memory(0).unwrap()), addr(&b) + 2);
}

#[test]
fn copy_memory_of_no_share_memory_copies() {
    let p = AllocationParams {
        flags: MemoryFlags::NO_SHARE,
        ..Default::default()
    };
    let mut nosh = Memory::alloc(10, &p).unwrap();
    nosh.map_writable().unwrap().copy_from_slice(b"0123456789");
    let buf = Buffer::from_memory(nosh.clone());
    let copy = buf.copy_region(BufferCopyFlags::ALL, 2, Some(4)).unwrap();
    let m = copy.memory(0).unwrap();
    assert!(m.parent().is_none());
    assert_ne!(addr(m), addr(&nosh) + 2);
    assert_eq!(bytes(&copy), b"2345");
}

#[test]
fn copy_deep_copies_bytes() {
    let (buf, a, b) = two_memory_buffer();
    let deep = buf.copy_deep().unwrap();
    assert_eq!(deep.n_memory(), 2);
    assert_ne!(addr(deep.memory(0).unwrap()), addr(&a));
    assert_ne!(addr(deep.memory(1).unwrap()), addr(&b));
    assert!(deep.memory(0).unwrap().is_writable());
    assert!(deep.memory(0).unwrap().parent().is_none());
    assert_eq!(bytes(&deep), bytes(&buf));

    let deep = buf
        .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::DEEP, 8, Some(4))
        .unwrap();
    assert_eq!(deep.n_memory(), 2);
    assert_eq!(bytes(&deep), vec![8, 9, 10, 11]);
    assert!(deep.memories().iter().all(Memory::is_writable));
}

#[test]
fn copy_merge_gives_one_memory() {
    let (buf, a, _) = two_memory_buffer();
    let merged = buf
        .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::MERGE, 3, Some(14))
        .unwrap();
    assert_eq!(merged.n_memory(), 1);
    assert_eq!(merged.size(), 14);
    assert_eq!(bytes(&merged), (3..17).collect::<Vec<u8>>());
    assert!(merged.memory(0).unwrap().is_writable());
    assert_ne!(addr(merged.memory(0).unwrap()), addr(&a) + 3);
    assert_eq!(merged.flags(), BufferFlags::empty());
}

#[test]
fn copy_meta_drops_layout_metas_where_the_layout_changes() {
    let info = VideoInfo::new(VideoFormat::Gray8, 4, 5).unwrap();
    let mut buf = Buffer::with_size(20).unwrap();
    {
        let b = buf.get_mut().unwrap();
        b.add_meta(VideoMeta::from_info(&info, Default::default()));
        b.add_meta(ReferenceTimestampMeta::capture(ClockTime::SECOND));
    }
    let has = |b: &Buffer| (b.meta::<VideoMeta>().is_some(), b.n_meta());
    assert_eq!(has(&buf.copy()), (true, 2));
    assert_eq!(has(&buf.copy_deep().unwrap()), (true, 2));
    assert_eq!(
        has(&buf.copy_region(BufferCopyFlags::ALL, 0, Some(19)).unwrap()),
        (false, 1),
        "region"
    );
    assert_eq!(
        has(&buf.copy_region(BufferCopyFlags::ALL, 1, None).unwrap()),
        (false, 1),
        "region"
    );
    assert_eq!(
        has(&buf
            .copy_region(BufferCopyFlags::ALL | BufferCopyFlags::MERGE, 0, None)
            .unwrap()),
        (false, 1),
        "merge"
    );
    assert_eq!(
        has(&buf.copy_region(BufferCopyFlags::METADATA, 0, None).unwrap()),
        (false, 1),
        "no memory"
    );
    assert_eq!(
        has(&buf
            .copy_region(BufferCopyFlags::FLAGS | BufferCopyFlags::MEMORY, 0, None)
            .unwrap()),
        (false, 0),
        "no META"
    );
}

// ---- data access ------------------------------------------------------------

#[test]
fn memcmp_gstreamer_test_memcmp() {
    let mut buffer = Buffer::with_size(2).unwrap();
    let zeros = [0u8; 3];
    assert_eq!(
        buffer.memcmp(0, &zeros[..2]).unwrap(),
        Some(Ordering::Equal)
    );
    assert_eq!(
        buffer.memcmp(0, &zeros[..1]).unwrap(),
        Some(Ordering::Equal)
    );
    assert_eq!(
        buffer.memcmp(1, &zeros[..1]).unwrap(),
        Some(Ordering::Equal)
    );
    assert_eq!(buffer.memcmp(0, &zeros).unwrap(), None);
    assert_eq!(buffer.memcmp(2, &zeros[..1]).unwrap(), None);
    assert_eq!(buffer.memcmp(4, &zeros[..1]).unwrap(), None);
    assert_eq!(buffer.memcmp(2, &[]).unwrap(), Some(Ordering::Equal));

    buffer.get_mut().unwrap().fill(0, &[0x20, 0x20]).unwrap();
    assert_eq!(
        buffer.memcmp(0, &zeros[..2]).unwrap(),
        Some(Ordering::Greater)
    );
    assert_eq!(
        buffer.memcmp(1, &zeros[..1]).unwrap(),
        Some(Ordering::Greater)
    );
    assert_eq!(
        buffer.memcmp(0, &[0x20, 0x21]).unwrap(),
        Some(Ordering::Less)
    );
    assert_eq!(buffer.memcmp(0, &zeros).unwrap(), None);
}

#[test]
fn memcmp_across_memories() {
    let (buf, _, _) = two_memory_buffer();
    let want: Vec<u8> = (7..13).collect();
    assert_eq!(buf.memcmp(7, &want).unwrap(), Some(Ordering::Equal));
    assert_eq!(
        buf.memcmp(7, &[7, 8, 9, 10, 11, 13]).unwrap(),
        Some(Ordering::Less)
    );
    assert_eq!(buf.memcmp(15, &[15, 16, 17, 18, 19, 20]).unwrap(), None);
}

#[test]
fn fill_and_extract_gstreamer_test_fill() {
    let mut buf = find_buffer();
    let data: Vec<u8> = (0..1024).map(|i| (i & 0xff) as u8).collect();
    let b = buf.get_mut().unwrap();
    assert_eq!(b.fill(0, &[]).unwrap(), 0);
    assert_eq!(b.fill(20, &[]).unwrap(), 0);
    assert_eq!(b.fill(0, &data[..1]).unwrap(), 1);
    assert_eq!(b.fill(0, &data[..11]).unwrap(), 11);
    assert_eq!(b.fill(0, &data[..15]).unwrap(), 15);
    assert_eq!(b.fill(0, &data[..25]).unwrap(), 25);
    assert_eq!(b.fill(0, &data[..26]).unwrap(), 25);
    assert_eq!(b.fill(1, &data[..26]).unwrap(), 24);
    assert_eq!(b.fill(10, &data[..100]).unwrap(), 15);
    assert_eq!(b.fill(11, &data[..100]).unwrap(), 14);
    assert_eq!(b.fill(25, &data[..100]).unwrap(), 0);
    assert_eq!(b.fill(0, &data[10..35]).unwrap(), 25);
    let mut out = [0u8; 25];
    assert_eq!(b.extract(0, &mut out).unwrap(), 25);
    assert_eq!(&out[..], &data[10..35]);

    // Extract clips to the buffer.
    let mut out = [0u8; 40];
    assert_eq!(b.extract(20, &mut out).unwrap(), 5);
    assert_eq!(&out[..5], &data[30..35]);
    assert_eq!(b.extract(25, &mut out).unwrap(), 0);
    assert_eq!(b.extract(100, &mut out).unwrap(), 0);
}

#[test]
fn fill_copies_shared_memory_first() {
    let shared = mem(b"abcdef");
    let mut buf = Buffer::from_memory(shared.clone());
    let b = buf.get_mut().unwrap();
    b.unset_flags(BufferFlags::TAG_MEMORY);
    assert_eq!(b.fill(1, b"XY").unwrap(), 2);
    assert_eq!(&*shared.map_readable().unwrap(), b"abcdef");
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"aXYdef"[..]);
    assert_eq!(b.flags(), BufferFlags::TAG_MEMORY);
}

#[test]
fn reading_never_mutates() {
    let (mut buf, a, b) = two_memory_buffer();
    buf.get_mut().unwrap().unset_flags(BufferFlags::TAG_MEMORY);
    {
        let map = buf.map_readable().unwrap();
        assert_eq!(map.len(), 20);
        assert!(!map.is_empty());
        let slices: Vec<&[u8]> = map.slices().collect();
        assert_eq!(slices.len(), 2);
        assert_eq!(slices[0].as_ptr() as usize, addr(&a));
        assert_eq!(slices[1].as_ptr() as usize, addr(&b));
        assert_eq!(map.io_slices().len(), 2);
        let mut out = Vec::new();
        out.write_all(&map.contiguous()).unwrap();
        assert_eq!(out, (0..20).collect::<Vec<u8>>());
        let mut sink = Vec::new();
        let n = sink.write_vectored(&map.io_slices()).unwrap();
        assert_eq!(n, 20);
        let mut part = [0u8; 4];
        assert_eq!(map.copy_to(8, &mut part), 4);
        assert_eq!(part, [8, 9, 10, 11]);
        let dbg = format!("{map:?}");
        assert!(dbg.contains("n_slices: 2"), "{dbg}");
    }
    // Still two memories, no flag set.
    assert_eq!(buf.n_memory(), 2);
    assert_eq!(buf.flags(), BufferFlags::empty());
    // Empty memories give no slice.
    let buf = find_buffer();
    assert_eq!(buf.map_readable().unwrap().slices().count(), 2);
}

#[test]
fn make_contiguous_and_map_writable() {
    let (mut buf, a, _) = two_memory_buffer();
    let b = buf.get_mut().unwrap();
    b.unset_flags(BufferFlags::TAG_MEMORY);
    b.make_contiguous().unwrap();
    assert_eq!(b.n_memory(), 1);
    assert_eq!(b.flags(), BufferFlags::TAG_MEMORY);
    assert_eq!(
        b.map_readable().unwrap().contiguous(),
        &(0..20).collect::<Vec<u8>>()[..]
    );
    let id = b.memory(0).unwrap().id();
    b.make_contiguous().unwrap();
    assert_eq!(b.memory(0).unwrap().id(), id, "one memory: nothing to do");
    {
        let mut w = b.map_writable().unwrap();
        assert_eq!(w.len(), 20);
        w[0] = 0xFF;
    }
    assert_eq!(b.memory(0).unwrap().id(), id, "unique: written in place");
    assert_eq!(
        a.map_readable().unwrap()[0],
        0,
        "the original memory is untouched"
    );

    // A single shared memory is copied before writing.
    let shared = mem(b"xyz");
    let mut buf = Buffer::from_memory(shared.clone());
    let b = buf.get_mut().unwrap();
    b.map_writable().unwrap()[0] = b'X';
    assert_eq!(&*shared.map_readable().unwrap(), b"xyz");
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"Xyz"[..]);
    b.memory_writable(0).unwrap()[1] = b'Y';
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"XYz"[..]);
    assert!(b.memory_writable(1).is_err());
}

// ---- flags, ClockTime, Debug --------------------------------------------------

#[test]
fn flags_values_contains_and_intersects() {
    assert_eq!(BufferFlags::LIVE.bits(), 16);
    assert_eq!(BufferFlags::DISCONT.bits(), 64);
    assert_eq!(BufferFlags::MARKER.bits(), 512);
    assert_eq!(BufferFlags::DELTA_UNIT.bits(), 8192);
    assert_eq!(BufferFlags::TAG_MEMORY.bits(), 16384);
    assert_eq!(BufferFlags::NON_DROPPABLE.bits(), 16 << 12);
    assert_eq!(BufferCopyFlags::METADATA.bits(), 7);
    assert_eq!(BufferCopyFlags::ALL.bits(), 15);
    assert_eq!(BufferCopyFlags::DEEP.bits(), 32);
    assert_eq!(MemoryFlags::READONLY.bits(), 2);
    assert_eq!(MemoryFlags::NO_SHARE.bits(), 16);
    assert_eq!(MemoryFlags::ZERO_PREFIXED.bits(), 32);
    assert_eq!(MemoryFlags::ZERO_PADDED.bits(), 64);

    let mut buf = Buffer::with_size(1).unwrap();
    let b = buf.get_mut().unwrap();
    b.set_flags(BufferFlags::DISCONT | BufferFlags::MARKER);
    b.set_flags(BufferFlags::LIVE);
    let f = b.flags();
    assert_eq!(
        f,
        BufferFlags::DISCONT | BufferFlags::MARKER | BufferFlags::LIVE
    );
    // contains = all
    assert!(f.contains(BufferFlags::DISCONT | BufferFlags::MARKER));
    assert!(!f.contains(BufferFlags::DISCONT | BufferFlags::HEADER));
    // intersects = any (what gst_buffer_has_flags really does)
    assert!(f.intersects(BufferFlags::DISCONT | BufferFlags::HEADER));
    assert!(!f.intersects(BufferFlags::HEADER | BufferFlags::GAP));
    b.unset_flags(BufferFlags::MARKER | BufferFlags::GAP);
    assert_eq!(b.flags(), BufferFlags::DISCONT | BufferFlags::LIVE);
}

#[test]
fn timestamps_and_clock_time() {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    b.set_pts(Some(ClockTime::from_mseconds(40)));
    assert_eq!(b.dts_or_pts(), Some(ClockTime::from_mseconds(40)));
    b.set_dts(Some(ClockTime::from_mseconds(20)));
    assert_eq!(b.dts_or_pts(), Some(ClockTime::from_mseconds(20)));
    b.set_offset(Some(7));
    b.set_offset_end(Some(8));
    assert_eq!((b.offset(), b.offset_end()), (Some(7), Some(8)));

    let t = ClockTime::from_seconds(3723) + ClockTime::from_nseconds(5);
    assert_eq!(t.to_string(), "1:02:03.000000005");
    assert_eq!(format!("{t:?}"), "1:02:03.000000005");
    assert_eq!(t.nseconds(), 3_723_000_000_005);
    assert_eq!(t.seconds(), 3723);
    assert_eq!(t.mseconds(), 3_723_000);
    assert_eq!(t.useconds(), 3_723_000_000);
    assert_eq!(ClockTime::from_useconds(1500).nseconds(), 1_500_000);
    assert_eq!(
        ClockTime::SECOND - ClockTime::MSECOND * 1001,
        ClockTime::ZERO
    );
    assert_eq!(ClockTime::SECOND / 4, ClockTime::from_mseconds(250));
    let mut acc = ClockTime::ZERO;
    acc += ClockTime::USECOND;
    acc -= ClockTime::from_nseconds(1);
    assert_eq!(acc.nseconds(), 999);
    assert_eq!(ClockTime::MAX + ClockTime::SECOND, ClockTime::MAX);
    assert_eq!(
        ClockTime::MAX.checked_add(ClockTime::from_nseconds(1)),
        None
    );
    assert_eq!(
        ClockTime::from(std::time::Duration::from_millis(3)),
        ClockTime::from_mseconds(3)
    );
    assert!(ClockTime::from_mseconds(1) < ClockTime::from_mseconds(2));
    assert_eq!(
        ClockTime::from_seconds(1).mul_div_floor(1, 3),
        Some(ClockTime::from_nseconds(333_333_333))
    );
}

#[test]
fn debug_of_a_big_buffer_does_not_print_bytes() {
    let mut buf = Buffer::with_size(1 << 20).unwrap();
    {
        let b = buf.get_mut().unwrap();
        b.fill(0, &vec![0xAB; 1 << 20]).unwrap();
        b.set_pts(Some(ClockTime::from_mseconds(40)));
        b.add_meta(ReferenceTimestampMeta::capture(ClockTime::SECOND));
    }
    let debug = format!("{buf:?}");
    assert!(debug.len() < 600, "{} bytes: {debug}", debug.len());
    assert!(debug.contains("size: 1048576"), "{debug}");
    assert!(debug.contains("0:00:00.040000000"), "{debug}");
    assert!(debug.contains("GstReferenceTimestampMetaAPI"), "{debug}");
    assert!(!debug.contains("171"), "{debug}");
    assert!(!debug.to_lowercase().contains("abab"), "{debug}");
    let pretty = format!("{buf:#?}");
    assert!(pretty.len() < 1000);
}

// ---- insertion at every index (GStreamer loses data here) ----------------------

/// Builds a buffer of `n` one-of-a-kind memories, inserts a marked memory
/// at `index` and checks order, identity and bytes.
fn check_insert(n: usize, index: usize) {
    let mut buf = Buffer::new();
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let mut ids = Vec::new();
    {
        let b = buf.get_mut().unwrap();
        for i in 0..n {
            let content = vec![i as u8; 1 + i % 3];
            let m = mem(&content);
            ids.push(m.id());
            b.append_memory(m);
            expected.push(content);
        }
    }
    let inserted = vec![0xEE; 7];
    let m = mem(&inserted);
    ids.insert(index, m.id());
    expected.insert(index, inserted);
    buf.get_mut().unwrap().insert_memory(index, m).unwrap();

    assert_eq!(buf.n_memory(), n + 1);
    let got_ids: Vec<_> = buf.memories().iter().map(Memory::id).collect();
    assert_eq!(got_ids, ids, "n {n} index {index}");
    for (i, (m, want)) in buf.memories().iter().zip(&expected).enumerate() {
        assert_eq!(&*m.map_readable().unwrap(), &want[..], "memory {i}");
    }
    let flat: Vec<u8> = expected.concat();
    assert_eq!(buf.size(), flat.len());
    assert_eq!(bytes(&buf), flat);
}

#[test]
fn insert_at_every_index_for_up_to_40_memories() {
    for n in 0..40 {
        for index in 0..=n {
            check_insert(n, index);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn insert_preserves_order_and_content(
        (n, index) in (0usize..40).prop_flat_map(|n| (Just(n), 0..=n))
    ) {
        check_insert(n, index);
    }

    #[test]
    fn remove_range_preserves_the_rest(
        (n, index, len) in (1usize..40)
            .prop_flat_map(|n| (Just(n), 0..n))
            .prop_flat_map(|(n, i)| (Just(n), Just(i), 0..=(n - i)))
    ) {
        let mut buf = Buffer::new();
        let b = buf.get_mut().unwrap();
        for i in 0..n {
            b.append_memory(mem(&[i as u8]));
        }
        b.remove_memory_range(index, Some(len)).unwrap();
        let want: Vec<u8> = (0..n as u8)
            .filter(|&i| (i as usize) < index || (i as usize) >= index + len)
            .collect();
        prop_assert_eq!(b.map_readable().unwrap().contiguous().into_owned(), want);
    }
}

/// An allocator that serves `budget` allocations, then fails.
#[derive(Debug)]
struct LimitedAllocator(std::sync::atomic::AtomicUsize);

impl framecast_core::Allocator for LimitedAllocator {
    fn mem_type(&self) -> &'static str {
        "LimitedTest"
    }
    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        align_mask: usize,
    ) -> framecast_core::Result<framecast_core::Block> {
        use std::sync::atomic::Ordering::SeqCst;
        if self
            .0
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            return Err(Error::AllocationFailed {
                size,
                allocator: "LimitedTest".into(),
                reason: "budget spent".into(),
            });
        }
        framecast_core::SystemAllocator.alloc_block(size, params, align_mask)
    }
}

#[test]
fn copy_of_no_share_memory_never_panics() {
    // A whole NO_SHARE memory is copied (as GStreamer); when that copy
    // cannot be made, the shallow copy still succeeds by referencing it.
    let allocator: std::sync::Arc<dyn framecast_core::Allocator> =
        std::sync::Arc::new(LimitedAllocator(std::sync::atomic::AtomicUsize::new(2)));
    let p = AllocationParams {
        flags: MemoryFlags::NO_SHARE,
        ..Default::default()
    };
    let m = Memory::alloc_from(&allocator, 8, &p).unwrap();
    let buf = Buffer::from_memory(m.clone());
    // Budget left: the copy gets its own memory.
    let copy = buf.copy();
    assert!(!Memory::ptr_eq(copy.memory(0).unwrap(), &m));
    // Budget spent: referenced instead of a panic.
    let copy = buf.copy();
    assert!(Memory::ptr_eq(copy.memory(0).unwrap(), &m));
    let mut shared = buf.clone();
    shared.make_mut().set_flags(BufferFlags::MARKER);
    assert!(shared.flags().contains(BufferFlags::MARKER));
    // Explicit copies that must copy report the failure.
    assert!(buf.copy_deep().is_err());
    assert!(buf.copy_region(BufferCopyFlags::ALL, 1, Some(2)).is_err());
}
