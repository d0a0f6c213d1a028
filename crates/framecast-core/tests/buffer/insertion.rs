//! Insertion at every index (GStreamer loses data here).

use super::*;

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
