//! Memfd.

use super::*;

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
