//! Share.

use super::*;

#[test]
fn share_is_zero_copy_and_readonly() {
    let mut root = Memory::alloc(10, &params(MemoryFlags::ZERO_PADDED, 0, 16, 4)).unwrap();
    root.map_writable()
        .unwrap()
        .copy_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let root_addr = data_addr(&root);

    let share = root.share(2, Some(6)).unwrap();
    assert_eq!(data_addr(&share), root_addr + 2);
    assert_eq!(share.sizes(), (6, 18, 30));
    assert_eq!(
        share.flags(),
        MemoryFlags::READONLY | MemoryFlags::ZERO_PADDED
    );
    assert!(!share.is_writable());
    assert!(Memory::ptr_eq(share.parent().unwrap(), &root));
    assert_eq!(&*share.map_readable().unwrap(), &[2, 3, 4, 5, 6, 7]);

    // None = to the end of the visible data.
    let tail = root.share(7, None).unwrap();
    assert_eq!(tail.sizes(), (3, 23, 30));
    assert_eq!(data_addr(&tail), root_addr + 7);

    // Shares of shares point at the root.
    let sub = share.share(1, Some(2)).unwrap();
    assert_eq!(sub.sizes(), (2, 19, 30));
    assert_eq!(data_addr(&sub), root_addr + 3);
    assert!(Memory::ptr_eq(sub.parent().unwrap(), &root));
    assert!(sub.parent().unwrap().parent().is_none());
    assert_eq!(&*sub.map_readable().unwrap(), &[3, 4]);
    let subsub = sub.share(1, None).unwrap();
    assert!(Memory::ptr_eq(subsub.parent().unwrap(), &root));
    assert_eq!(data_addr(&subsub), root_addr + 4);
    assert_eq!(subsub.sizes(), (1, 20, 30));
}

#[test]
fn root_is_not_writable_while_a_share_lives() {
    let mut root = filled(8);
    assert!(root.is_writable());
    assert_eq!(root.ref_count(), 1);
    let share = root.share(0, Some(4)).unwrap();
    assert_eq!(root.ref_count(), 2);
    assert!(!root.is_writable());
    let err = root.map_writable().unwrap_err();
    assert!(matches!(err, Error::NotWritable(_)), "{err:?}");
    assert!(root.resize(1, 2).is_err());

    let sub = share.share(1, Some(2)).unwrap();
    drop(share);
    assert!(
        !root.is_writable(),
        "a share of a share still holds the root"
    );
    drop(sub);
    assert!(root.is_writable());
    assert_eq!(root.ref_count(), 1);
    root.map_writable().unwrap()[0] = 42;
    assert_eq!(root.map_readable().unwrap()[0], 42);
}

#[test]
fn share_outlives_root_handle() {
    let root = filled(8);
    let addr = data_addr(&root);
    let share = root.share(4, None).unwrap();
    drop(root);
    assert_eq!(data_addr(&share), addr + 4);
    assert_eq!(&*share.map_readable().unwrap(), &[4, 5, 6, 7]);
}

#[test]
fn share_out_of_bounds_is_an_error() {
    let root = Memory::alloc(10, &params(MemoryFlags::empty(), 0, 0, 2)).unwrap();
    assert!(matches!(
        root.share(11, Some(2)),
        Err(Error::OutOfBounds { .. })
    ));
    // Inside maxsize (into the padding) is allowed, as in GStreamer.
    assert_eq!(root.share(10, Some(2)).unwrap().sizes(), (2, 10, 12));
    assert!(root.share(0, Some(13)).is_err());
}

#[test]
fn no_share_refuses_sharing() {
    let mem = Memory::alloc(10, &params(MemoryFlags::NO_SHARE, 0, 0, 0)).unwrap();
    let err = mem.share(0, None).unwrap_err();
    assert!(matches!(err, Error::NoShare), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    // Copies still work.
    let copy = mem.copy(0, None).unwrap();
    assert_eq!(copy.size(), 10);
    assert_eq!(copy.flags(), MemoryFlags::empty());
}
