//! Alloc params.

use super::*;

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
