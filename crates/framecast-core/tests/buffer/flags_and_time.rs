//! Flags, ClockTime, Debug.

use super::*;

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
