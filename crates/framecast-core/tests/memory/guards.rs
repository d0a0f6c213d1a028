//! Map guards.

use super::*;

#[test]
fn map_guards() {
    let mut mem = Memory::alloc(8, &params(MemoryFlags::empty(), 0, 4, 4)).unwrap();
    {
        let mut w = mem.map_writable().unwrap();
        assert_eq!(w.len(), 8);
        assert_eq!(w.maxsize(), 12);
        w.copy_from_slice(b"abcdefgh");
        w.as_mut_slice()[0] = b'A';
    }
    // Several read maps at once, same data pointer (nested maps).
    {
        let r1 = mem.map_readable().unwrap();
        let r2 = mem.map_readable().unwrap();
        assert_eq!(r1.as_ptr(), r2.as_ptr());
        assert_eq!(&*r1, b"Abcdefgh");
        assert_eq!(r2.as_slice(), b"Abcdefgh");
        assert_eq!(r1.as_ref(), b"Abcdefgh");
        assert_eq!(r1.maxsize(), 12);
        let debug = format!("{r1:?}");
        assert!(debug.contains("size: 8"), "{debug}");
    }
    // Write map again once the read maps are gone; same pointer.
    let p = mem.map_readable().unwrap().as_ptr();
    assert_eq!(mem.map_writable().unwrap().as_ptr(), p);
    // A read map does not change writability (GStreamer test_writable).
    assert_eq!(mem.map_readable().unwrap().len(), 8);
    assert!(mem.is_writable());
}

#[test]
fn readonly_never_maps_writable() {
    let mut mem = Memory::alloc(8, &params(MemoryFlags::READONLY, 0, 0, 0)).unwrap();
    assert!(mem.flags().contains(MemoryFlags::READONLY));
    assert!(!mem.is_writable());
    for _ in 0..3 {
        let err = mem.map_writable().unwrap_err();
        assert!(matches!(err, Error::ReadOnly), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::NotWritable);
        assert_eq!(mem.map_readable().unwrap().len(), 8);
    }
    // Foreign read-only owners and shares are READONLY as well.
    let mut foreign = Memory::from_owner(vec![1u8, 2, 3]);
    assert!(matches!(foreign.map_writable(), Err(Error::ReadOnly)));
    let root = filled(4);
    let mut share = root.share(0, None).unwrap();
    assert!(matches!(share.map_writable(), Err(Error::ReadOnly)));
}

#[test]
fn not_mappable_memory_does_not_map() {
    let mut mem = Memory::alloc(8, &params(MemoryFlags::NOT_MAPPABLE, 0, 0, 0)).unwrap();
    assert!(matches!(mem.map_readable(), Err(Error::NotMappable)));
    assert!(matches!(mem.map_writable(), Err(Error::NotMappable)));
}
