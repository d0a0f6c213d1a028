//! Size 0.

use super::*;

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
