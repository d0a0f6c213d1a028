//! Writability.

use super::*;

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
