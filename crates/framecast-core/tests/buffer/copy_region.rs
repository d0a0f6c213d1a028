//! Copy_region.

use super::*;

/// A buffer's pts, dts, duration, offset and offset_end, as one value to
/// compare.
type Stamps = (
    Option<ClockTime>,
    Option<ClockTime>,
    Option<ClockTime>,
    Option<u64>,
    Option<u64>,
);

fn stamps(b: &Buffer) -> Stamps {
    (b.pts(), b.dts(), b.duration(), b.offset(), b.offset_end())
}

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
    assert_eq!(stamps(&sub), (None, None, None, None, None));
    // Size 0 region.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 1, Some(0)).unwrap();
    assert_eq!(sub.size(), 0);
    assert_eq!(sub.n_memory(), 0);
    // Offset 0, part: pts, dts, offset only.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 0, Some(1)).unwrap();
    assert_eq!(stamps(&sub), (Some(t(1)), Some(t(5)), None, Some(3), None));
    // The whole buffer: all five.
    let sub = buf.copy_region(BufferCopyFlags::ALL, 0, Some(4)).unwrap();
    assert_eq!(
        stamps(&sub),
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
    let region = |flags, offset, size| has(&buf.copy_region(flags, offset, size).unwrap());
    assert_eq!(has(&buf.copy()), (true, 2));
    assert_eq!(has(&buf.copy_deep().unwrap()), (true, 2));
    assert_eq!(
        region(BufferCopyFlags::ALL, 0, Some(19)),
        (false, 1),
        "region"
    );
    assert_eq!(region(BufferCopyFlags::ALL, 1, None), (false, 1), "region");
    assert_eq!(
        region(BufferCopyFlags::ALL | BufferCopyFlags::MERGE, 0, None),
        (false, 1),
        "merge"
    );
    assert_eq!(
        region(BufferCopyFlags::METADATA, 0, None),
        (false, 1),
        "no memory"
    );
    assert_eq!(
        region(BufferCopyFlags::FLAGS | BufferCopyFlags::MEMORY, 0, None),
        (false, 0),
        "no META"
    );
}
