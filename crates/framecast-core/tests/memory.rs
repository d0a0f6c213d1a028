//! Memory and allocators: params honoured exactly (alignment by address,
//! maxsize, zeroed regions), resize, map guards, READONLY, copy, share,
//! is_span, NO_SHARE, size 0, the allocator registry and the memfd allocator.
//!
//! Figures follow GStreamer's `gstmemory.c` checks (section 1.1 of the
//! reference), with framecast's stricter rules where it does better
//! (maxsize exactly `prefix + size + padding`, typed errors, no change on
//! error).

use framecast_core::sync::MutexExt;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, MutexGuard};

use framecast_core::{
    default_allocator, find_allocator, register_allocator, set_default_allocator, AllocationParams,
    Allocator, AllocatorFlags, Block, Error, ErrorKind, MemfdAllocator, Memory, MemoryFlags,
    SystemAllocator, MEMFD_MEMORY, SYSTEM_MEMORY,
};

/// Serialises the tests that change (or depend on) the process-wide default
/// allocator; the other tests only use explicit allocators or ones that
/// behave exactly like the system allocator.
static DEFAULT_ALLOCATOR: Mutex<()> = Mutex::new(());

fn default_lock() -> MutexGuard<'static, ()> {
    DEFAULT_ALLOCATOR.locked()
}

fn params(flags: MemoryFlags, align: usize, prefix: usize, padding: usize) -> AllocationParams {
    AllocationParams {
        flags,
        align,
        prefix,
        padding,
    }
}

fn system() -> Arc<dyn Allocator> {
    Arc::new(SystemAllocator)
}

fn memfd() -> Arc<dyn Allocator> {
    Arc::new(MemfdAllocator)
}

fn data_addr(mem: &Memory) -> usize {
    mem.map_readable().unwrap().as_ptr() as usize
}

/// Makes the whole `maxsize` region visible and returns its bytes.
fn whole_region(mem: &mut Memory) -> Vec<u8> {
    let (offset, maxsize) = (mem.offset(), mem.maxsize());
    mem.resize(-(offset as isize), maxsize).unwrap();
    mem.map_readable().unwrap().to_vec()
}

fn filled(len: usize) -> Memory {
    let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
    Memory::from_slice(&bytes).unwrap()
}

// ---- alloc params ---------------------------------------------------------

#[test]
fn data_pointer_is_aligned_as_asked() {
    for allocator in [system(), memfd()] {
        for align in [0usize, 1, 7, 15, 31, 63, 127, 255, 4095] {
            for prefix in [0usize, 1, 3, 16, 100] {
                for size in [1usize, 7, 100, 5000] {
                    let p = params(MemoryFlags::empty(), align, prefix, 5);
                    let mem = Memory::alloc_from(&allocator, size, &p).unwrap();
                    let addr = data_addr(&mem);
                    let want = (align | 7) + 1;
                    assert_eq!(
                        addr % want,
                        0,
                        "{} align {align} prefix {prefix} size {size}: {addr:#x}",
                        allocator.mem_type()
                    );
                    assert_eq!(mem.align(), align | 7);
                    assert_eq!(mem.offset(), prefix);
                    assert_eq!(mem.size(), size);
                    assert_eq!(mem.maxsize(), prefix + size + 5);
                }
            }
        }
    }
}

#[test]
fn alignment_63_and_4095_by_address() {
    let mem = Memory::alloc_from(&system(), 1000, &AllocationParams::aligned(63)).unwrap();
    assert_eq!(data_addr(&mem) & 63, 0);
    assert_eq!(mem.sizes(), (1000, 0, 1000));

    let mem =
        Memory::alloc_from(&system(), 1000, &params(MemoryFlags::empty(), 4095, 16, 0)).unwrap();
    assert_eq!(data_addr(&mem) & 4095, 0);
    assert_eq!(mem.sizes(), (1000, 16, 1016));

    // Larger than a page: the memfd allocator needs slack in its mapping.
    let mem =
        Memory::alloc_from(&memfd(), 3000, &params(MemoryFlags::empty(), 8191, 24, 8)).unwrap();
    assert_eq!(data_addr(&mem) & 8191, 0);
    assert_eq!(mem.sizes(), (3000, 24, 3032));
}

#[test]
fn maxsize_is_prefix_plus_size_plus_padding() {
    for allocator in [system(), memfd()] {
        let mem =
            Memory::alloc_from(&allocator, 100, &params(MemoryFlags::empty(), 63, 16, 8)).unwrap();
        assert_eq!(mem.sizes(), (100, 16, 124));
        let map = mem.map_readable().unwrap();
        assert_eq!(map.len(), 100);
        // info.maxsize = maxsize - offset
        assert_eq!(map.maxsize(), 108);
    }
}

#[test]
fn zero_prefixed_and_zero_padded_are_zeroed_and_set() {
    for allocator in [system(), memfd()] {
        let flags = MemoryFlags::ZERO_PREFIXED | MemoryFlags::ZERO_PADDED;
        let mut mem = Memory::alloc_from(&allocator, 64, &params(flags, 15, 32, 48)).unwrap();
        assert_eq!(mem.flags(), flags);
        assert_eq!(mem.sizes(), (64, 32, 144));
        mem.map_writable().unwrap().fill(0xAA);
        let all = whole_region(&mut mem);
        assert_eq!(all.len(), 144);
        assert!(all[..32].iter().all(|&b| b == 0), "prefix not zero");
        assert!(all[32..96].iter().all(|&b| b == 0xAA));
        assert!(all[96..].iter().all(|&b| b == 0), "padding not zero");
        // Growing the window into prefix and padding (negative delta, end
        // moves out) clears nothing: those bytes were zero.
        assert_eq!(mem.flags(), flags);
    }
}

/// Fresh memory is zeroed at its first map, not at allocation: it must
/// read as zeros however it is first reached, even where the global
/// allocator recycles the dirty frame freed just before.
#[test]
fn fresh_memory_reads_as_zeros_however_it_is_reached() {
    const FRAME: usize = 3 << 20;
    for round in 0..4u8 {
        let mut dirty = Memory::alloc(FRAME, &AllocationParams::aligned(63)).unwrap();
        dirty.map_writable().unwrap().fill(0xA0 | round);
        drop(dirty);
        // Through a read map, a write map, a share and a copy.
        let mem = Memory::alloc(FRAME, &AllocationParams::aligned(63)).unwrap();
        assert!(mem.map_readable().unwrap().iter().all(|&b| b == 0));
        let mut mem = Memory::alloc(FRAME, &AllocationParams::default()).unwrap();
        assert!(mem.map_writable().unwrap().iter().all(|&b| b == 0));
        let mem = Memory::alloc(FRAME, &AllocationParams::default()).unwrap();
        let share = mem.share(FRAME - 100, None).unwrap();
        assert_eq!(&*share.map_readable().unwrap(), &[0u8; 100][..]);
        drop(share);
        let copy = Memory::alloc(FRAME, &AllocationParams::default())
            .unwrap()
            .copy(10, Some(4096))
            .unwrap();
        assert!(copy.map_readable().unwrap().iter().all(|&b| b == 0));
    }
    // Prefix and padding read as zeros too, when the window grows over them.
    let mut mem = Memory::alloc(64, &params(MemoryFlags::empty(), 15, 32, 48)).unwrap();
    mem.map_writable().unwrap().fill(0x55);
    let all = whole_region(&mut mem);
    assert!(all[..32].iter().all(|&b| b == 0));
    assert!(all[32..96].iter().all(|&b| b == 0x55));
    assert!(all[96..].iter().all(|&b| b == 0));
}

/// A copy into a fresh memory fills it in one pass, and what it holds is
/// the copy and nothing else, whether the source was mapped before or not.
#[test]
fn copies_and_slices_hold_exactly_their_bytes() {
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 + 1).collect();
    for _ in 0..3 {
        let mut dirty = Memory::alloc(bytes.len(), &AllocationParams::default()).unwrap();
        dirty.map_writable().unwrap().fill(0xEE);
        drop(dirty);
        let mem = Memory::from_slice(&bytes).unwrap();
        assert_eq!(&*mem.map_readable().unwrap(), &bytes[..]);
        let copy = mem.copy(1000, Some(5000)).unwrap();
        assert_eq!(&*copy.map_readable().unwrap(), &bytes[1000..6000]);
        let mut copy = copy;
        copy.map_writable().unwrap()[0] = 0;
        assert_eq!(copy.map_readable().unwrap()[..2], [0, bytes[1001]]);
    }
}

#[test]
fn zero_flags_only_when_asked() {
    let mem = Memory::alloc(10, &params(MemoryFlags::ZERO_PADDED, 0, 4, 4)).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::ZERO_PADDED);
    let mem = Memory::alloc(10, &params(MemoryFlags::empty(), 0, 4, 4)).unwrap();
    assert_eq!(mem.flags(), MemoryFlags::empty());
}

#[test]
fn invalid_align_mask_is_an_error() {
    for align in [2usize, 5, 6, 8, 10, 64, 100, 4096, usize::MAX] {
        let err = Memory::alloc(16, &AllocationParams::aligned(align)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidAlignment { align: a } if a == align),
            "{align}: {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(AllocationParams::aligned(align).effective_align().is_err());
    }
    assert_eq!(AllocationParams::aligned(0).effective_align().unwrap(), 7);
    assert_eq!(AllocationParams::aligned(63).effective_align().unwrap(), 63);
    assert_eq!(AllocationParams::aligned(3).effective_align().unwrap(), 7);
}

// ---- resize ---------------------------------------------------------------

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

// ---- map guards -----------------------------------------------------------

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

// ---- copy -----------------------------------------------------------------

#[test]
fn copy_is_writable_with_correct_bytes() {
    let mem = Memory::alloc(10, &params(MemoryFlags::READONLY, 63, 16, 8)).unwrap();
    let mut copy = mem.copy(0, None).unwrap();
    assert!(!Memory::ptr_eq(&mem, &copy));
    assert_eq!(copy.flags(), MemoryFlags::empty());
    assert!(copy.is_writable());
    assert_eq!(copy.sizes(), (10, 0, 10));
    assert_eq!(copy.align(), 63);
    assert_eq!(data_addr(&copy) & 63, 0);
    copy.map_writable().unwrap()[0] = 1;

    let src = filled(10);
    let copy = src.copy(0, None).unwrap();
    assert_ne!(data_addr(&copy), data_addr(&src));
    assert_eq!(
        &*copy.map_readable().unwrap(),
        &*src.map_readable().unwrap()
    );
    // size None = to the end of the visible data.
    let tail = src.copy(3, None).unwrap();
    assert_eq!(&*tail.map_readable().unwrap(), &[3, 4, 5, 6, 7, 8, 9]);
    let mid = src.copy(2, Some(3)).unwrap();
    assert_eq!(&*mid.map_readable().unwrap(), &[2, 3, 4]);
    let none = src.copy(10, None).unwrap();
    assert_eq!(none.sizes(), (0, 0, 0));
    // Copies of a windowed memory copy from the window.
    let mut windowed = filled(10);
    windowed.resize(4, 4).unwrap();
    let c = windowed.copy(1, None).unwrap();
    assert_eq!(&*c.map_readable().unwrap(), &[5, 6, 7]);
    // Copy of a share.
    let share = src.share(5, Some(3)).unwrap();
    let c = share.copy(0, None).unwrap();
    assert_eq!(&*c.map_readable().unwrap(), &[5, 6, 7]);
    assert!(c.parent().is_none());
    assert!(c.is_writable());
}

#[test]
fn copy_out_of_bounds_is_an_error() {
    let src = filled(10);
    assert!(matches!(
        src.copy(8, Some(3)),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(matches!(src.copy(11, None), Err(Error::OutOfBounds { .. })));
}

#[test]
fn copy_of_zero_size_memory() {
    let mem = Memory::alloc(0, &AllocationParams::default()).unwrap();
    let copy = mem.copy(0, None).unwrap();
    assert_eq!(copy.sizes(), (0, 0, 0));
    assert!(copy.map_readable().unwrap().is_empty());
}

#[test]
fn copy_keeps_the_allocator() {
    let mem = Memory::alloc_from(&memfd(), 10, &AllocationParams::default()).unwrap();
    let copy = mem.copy(0, None).unwrap();
    assert!(copy.is_type(MEMFD_MEMORY));
    assert!(copy.fd().is_some());
}

/// An allocator of system memory under another name and with other
/// flags: for the registry and for flags such as `NO_COPY`.
#[derive(Debug)]
struct TestAllocator(&'static str, AllocatorFlags);

impl Allocator for TestAllocator {
    fn mem_type(&self) -> &'static str {
        self.0
    }
    fn flags(&self) -> AllocatorFlags {
        self.1
    }
    fn alloc_block(
        &self,
        size: usize,
        params: &AllocationParams,
        align_mask: usize,
    ) -> framecast_core::Result<Block> {
        SystemAllocator.alloc_block(size, params, align_mask)
    }
}

#[test]
fn copy_of_no_copy_allocator_uses_the_default() {
    let _guard = default_lock();
    let allocator: Arc<dyn Allocator> =
        Arc::new(TestAllocator("NoCopyTest", AllocatorFlags::NO_COPY));
    let mem = Memory::alloc_from(&allocator, 10, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("NoCopyTest"));
    let copy = mem.copy(0, None).unwrap();
    assert!(copy.is_type(SYSTEM_MEMORY));
}

// ---- share ----------------------------------------------------------------

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

// ---- is_span --------------------------------------------------------------

#[test]
fn is_span_rules() {
    let root = Memory::alloc(20, &params(MemoryFlags::empty(), 0, 8, 0)).unwrap();
    let a = root.share(2, Some(3)).unwrap();
    let b = root.share(5, Some(4)).unwrap();
    let c = root.share(10, Some(2)).unwrap();
    // b starts where a ends; output offset = a.offset - root.offset.
    assert_eq!(a.is_span(&b), Some(2));
    assert_eq!(b.is_span(&a), None, "order matters");
    assert_eq!(b.is_span(&c), None, "gap of one byte");
    // The root is never a span partner.
    let head = root.share(0, Some(2)).unwrap();
    assert_eq!(head.is_span(&a), Some(0));
    assert_eq!(root.is_span(&a), None);
    assert_eq!(head.is_span(&root), None);
    // Shares of shares have the root as parent, so they span.
    let ab = root.share(2, Some(7)).unwrap();
    let left = ab.share(0, Some(3)).unwrap();
    let right = ab.share(3, Some(4)).unwrap();
    assert_eq!(left.is_span(&right), Some(2));
    // Different roots never span, even when adjacent in value.
    let other = Memory::alloc(20, &params(MemoryFlags::empty(), 0, 8, 0)).unwrap();
    let d = other.share(5, Some(4)).unwrap();
    assert_eq!(a.is_span(&d), None);
    // Empty shares at the boundary.
    let empty = root.share(5, Some(0)).unwrap();
    assert_eq!(a.is_span(&empty), Some(2));
}

// ---- size 0 ---------------------------------------------------------------

#[test]
fn size_zero_memory() {
    for allocator in [system(), memfd()] {
        let mut mem = Memory::alloc_from(&allocator, 0, &AllocationParams::default()).unwrap();
        assert_eq!(mem.sizes(), (0, 0, 0));
        assert!(mem.map_readable().unwrap().is_empty());
        assert!(mem.map_writable().unwrap().is_empty());
        let share = mem.share(0, None).unwrap();
        assert_eq!(share.sizes(), (0, 0, 0));

        let mem =
            Memory::alloc_from(&allocator, 0, &params(MemoryFlags::empty(), 63, 8, 8)).unwrap();
        assert_eq!(mem.sizes(), (0, 8, 16));
        assert_eq!(data_addr(&mem) & 63, 0);
    }
}

// ---- misc -----------------------------------------------------------------

#[test]
fn ids_and_debug() {
    let a = filled(4);
    let b = a.clone();
    let c = filled(4);
    assert_eq!(a.id(), b.id());
    assert_ne!(a.id(), c.id());
    assert!(Memory::ptr_eq(&a, &b));
    let share = a.share(0, None).unwrap();
    assert_ne!(share.id(), a.id());
    let debug = format!("{share:?}");
    assert!(debug.contains("share: true"), "{debug}");
    assert!(debug.contains("size: 4"), "{debug}");
}

#[derive(Debug)]
struct ShortAllocator;

impl Allocator for ShortAllocator {
    fn mem_type(&self) -> &'static str {
        "ShortTest"
    }
    fn alloc_block(
        &self,
        size: usize,
        _params: &AllocationParams,
        _align_mask: usize,
    ) -> framecast_core::Result<Block> {
        // Ignores prefix and padding: a broken allocator.
        Ok(Block::from_owner_mut(vec![0u8; size]))
    }
}

#[test]
fn allocator_returning_wrong_maxsize_is_rejected() {
    let allocator: Arc<dyn Allocator> = Arc::new(ShortAllocator);
    let err =
        Memory::alloc_from(&allocator, 10, &params(MemoryFlags::empty(), 0, 4, 0)).unwrap_err();
    assert!(matches!(err, Error::AllocationFailed { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::AllocationFailed);
    // Without prefix/padding its block is fine.
    let mem = Memory::alloc_from(&allocator, 10, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("ShortTest"));
    assert!(mem.is_writable());
}

// ---- registry -------------------------------------------------------------

#[test]
fn registry_register_find() {
    let system = find_allocator(Some(SYSTEM_MEMORY)).unwrap();
    assert_eq!(system.mem_type(), SYSTEM_MEMORY);
    let memfd = find_allocator(Some(MEMFD_MEMORY)).unwrap();
    assert_eq!(memfd.mem_type(), MEMFD_MEMORY);
    assert!(find_allocator(Some("NoSuchAllocator")).is_none());

    let mine: Arc<dyn Allocator> =
        Arc::new(TestAllocator("RegistryTestA", AllocatorFlags::empty()));
    assert!(register_allocator("RegistryTestA", mine.clone()).is_none());
    let found = find_allocator(Some("RegistryTestA")).unwrap();
    assert!(Arc::ptr_eq(&found, &mine));
    let mem = Memory::alloc_from(&found, 4, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("RegistryTestA"));
    assert!(!mem.is_type(SYSTEM_MEMORY));

    // Registering again replaces, handing back the old one.
    let second: Arc<dyn Allocator> =
        Arc::new(TestAllocator("RegistryTestA", AllocatorFlags::empty()));
    let old = register_allocator("RegistryTestA", second.clone()).unwrap();
    assert!(Arc::ptr_eq(&old, &mine));
    assert!(Arc::ptr_eq(
        &find_allocator(Some("RegistryTestA")).unwrap(),
        &second
    ));
}

#[test]
fn registry_default_and_set_default() {
    let _guard = default_lock();
    let before = default_allocator();
    assert_eq!(before.mem_type(), SYSTEM_MEMORY);
    assert!(Arc::ptr_eq(&find_allocator(None).unwrap(), &before));
    assert!(Memory::alloc(4, &AllocationParams::default())
        .unwrap()
        .is_type(SYSTEM_MEMORY));

    let mine: Arc<dyn Allocator> = Arc::new(TestAllocator("DefaultTest", AllocatorFlags::empty()));
    let previous = set_default_allocator(mine.clone());
    assert!(Arc::ptr_eq(&previous, &before));
    assert!(Arc::ptr_eq(&default_allocator(), &mine));
    assert!(Arc::ptr_eq(&find_allocator(None).unwrap(), &mine));
    let mem = Memory::alloc(4, &AllocationParams::default()).unwrap();
    assert!(mem.is_type("DefaultTest"));
    // The system allocator stays registered by name.
    assert_eq!(
        find_allocator(Some(SYSTEM_MEMORY)).unwrap().mem_type(),
        SYSTEM_MEMORY
    );

    let restored = set_default_allocator(previous);
    assert!(Arc::ptr_eq(&restored, &mine));
    assert!(Memory::alloc(4, &AllocationParams::default())
        .unwrap()
        .is_type(SYSTEM_MEMORY));
}

// ---- memfd ----------------------------------------------------------------

#[test]
fn memfd_exposes_fd_and_offset() {
    let allocator = memfd();
    let mem =
        Memory::alloc_from(&allocator, 100, &params(MemoryFlags::empty(), 63, 16, 8)).unwrap();
    assert!(mem.is_type(MEMFD_MEMORY));
    let (fd, offset) = mem.fd().unwrap();
    assert!(fd.as_raw_fd() >= 0);
    // The data is aligned in the mapping, and the mapping starts at file
    // offset 0 on a page boundary: so the file offset is aligned too.
    assert_eq!(offset % 64, 0);
    assert!(offset >= 16);
    // Shares report the file offset of their own first byte.
    let share = mem.share(10, Some(20)).unwrap();
    let (sfd, soffset) = share.fd().unwrap();
    assert_eq!(sfd.as_raw_fd(), fd.as_raw_fd());
    assert_eq!(soffset, offset + 10);
    // System memory has no fd.
    assert!(filled(4).fd().is_none());
}

#[test]
fn memfd_second_mapping_sees_the_bytes() {
    let allocator = memfd();
    let mut mem =
        Memory::alloc_from(&allocator, 4096, &params(MemoryFlags::empty(), 4095, 32, 0)).unwrap();
    let pattern: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    mem.map_writable().unwrap().copy_from_slice(&pattern);
    let (fd, offset) = mem.fd().unwrap();
    let raw = fd.as_raw_fd();

    // 1. Read through a new file description of the same memfd.
    let file = std::fs::File::open(format!("/proc/self/fd/{raw}")).unwrap();
    let mut seen = vec![0u8; 4096];
    file.read_exact_at(&mut seen, offset as u64).unwrap();
    assert_eq!(seen, pattern);

    // 2. A second, independent mmap of the descriptor.
    let len = offset + 4096;
    // SAFETY: mapping `len` bytes of a file at least that long, read-only,
    // shared; unmapped below before the descriptor can close.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            raw,
            0,
        )
    };
    assert_ne!(map, libc::MAP_FAILED);
    // SAFETY: the mapping is `len` bytes long and stays mapped while read.
    let second = unsafe { std::slice::from_raw_parts((map as *const u8).add(offset), 4096) };
    assert_eq!(second, &pattern[..]);
    // The mappings are distinct addresses over the same pages.
    assert_ne!(second.as_ptr(), data_addr(&mem) as *const u8);
    // A write through the Memory is visible in the other mapping at once.
    mem.map_writable().unwrap()[100] = 0xEE;
    // SAFETY: same mapping as above, still mapped.
    let byte = unsafe { std::ptr::read_volatile((map as *const u8).add(offset + 100)) };
    assert_eq!(byte, 0xEE);
    // SAFETY: unmapping what we mapped; `second` is not used afterwards.
    assert_eq!(unsafe { libc::munmap(map, len) }, 0);

    // 3. A write by "the other side" (through the file) is visible in the Memory.
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/self/fd/{raw}"))
        .unwrap();
    writer.write_all_at(b"xyz", offset as u64).unwrap();
    assert_eq!(
        &mem.map_readable().unwrap()[..4],
        &[b'x', b'y', b'z', pattern[3]]
    );
}

#[test]
fn memfd_registered_allocator_works_by_name() {
    let allocator = find_allocator(Some(MEMFD_MEMORY)).unwrap();
    let mem = Memory::alloc_from(&allocator, 10, &AllocationParams::default()).unwrap();
    assert_eq!(mem.sizes(), (10, 0, 10));
    assert!(mem.fd().is_some());
    assert!(mem.map_readable().unwrap().iter().all(|&b| b == 0));
}
