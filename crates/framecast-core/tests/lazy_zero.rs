//! A fresh system memory is zeroed at its first map, not when it is
//! allocated: making a buffer costs a `malloc`, as in GStreamer, and the
//! zeroing moves to first use. Measured by the process's resident set, so
//! this file holds one test (tests in one binary share the process).

use framecast_core::{AllocationParams, Buffer, Memory};

/// `VmRSS` of this process, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a VmRSS line")
}

#[test]
fn allocating_touches_no_page_and_the_first_map_zeroes() {
    const SIZE: usize = 64 << 20;
    const SIZE_KIB: u64 = (SIZE / 1024) as u64;
    // An aligned allocation (a video pool's) and a plain one.
    for params in [AllocationParams::aligned(63), AllocationParams::default()] {
        let before = rss_kib();
        let mem = Memory::alloc(SIZE, &params).unwrap();
        let buf = Buffer::with_params(SIZE, &params).unwrap();
        let allocated = rss_kib();
        assert!(
            allocated < before + SIZE_KIB / 4,
            "allocating 2 x 64 MiB (align mask {}) made {} KiB resident: the bytes were written",
            params.align,
            allocated.saturating_sub(before)
        );
        // The first map zeroes all of it (pages become resident).
        assert!(mem.map_readable().unwrap().iter().all(|&b| b == 0));
        let mapped = rss_kib();
        assert!(
            mapped >= allocated + SIZE_KIB * 3 / 4,
            "mapping made only {} KiB resident",
            mapped.saturating_sub(allocated)
        );
        let map = buf.memory(0).unwrap().map_readable().unwrap();
        assert!(map.iter().all(|&b| b == 0));
    }
}
