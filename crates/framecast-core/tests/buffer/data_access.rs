//! Data access.

use super::*;

/// `b.memcmp(offset, data)`, which must not fail.
fn cmp(b: &Buffer, offset: usize, data: &[u8]) -> Option<Ordering> {
    b.memcmp(offset, data).unwrap()
}

#[test]
fn memcmp_gstreamer_test_memcmp() {
    let mut buffer = Buffer::with_size(2).unwrap();
    let zeros = [0u8; 3];
    assert_eq!(cmp(&buffer, 0, &zeros[..2]), Some(Ordering::Equal));
    assert_eq!(cmp(&buffer, 0, &zeros[..1]), Some(Ordering::Equal));
    assert_eq!(cmp(&buffer, 1, &zeros[..1]), Some(Ordering::Equal));
    assert_eq!(cmp(&buffer, 0, &zeros), None);
    assert_eq!(cmp(&buffer, 2, &zeros[..1]), None);
    assert_eq!(cmp(&buffer, 4, &zeros[..1]), None);
    assert_eq!(cmp(&buffer, 2, &[]), Some(Ordering::Equal));

    buffer.get_mut().unwrap().fill(0, &[0x20, 0x20]).unwrap();
    assert_eq!(cmp(&buffer, 0, &zeros[..2]), Some(Ordering::Greater));
    assert_eq!(cmp(&buffer, 1, &zeros[..1]), Some(Ordering::Greater));
    assert_eq!(cmp(&buffer, 0, &[0x20, 0x21]), Some(Ordering::Less));
    assert_eq!(cmp(&buffer, 0, &zeros), None);
}

#[test]
fn memcmp_across_memories() {
    let (buf, _, _) = two_memory_buffer();
    let want: Vec<u8> = (7..13).collect();
    assert_eq!(buf.memcmp(7, &want).unwrap(), Some(Ordering::Equal));
    assert_eq!(
        buf.memcmp(7, &[7, 8, 9, 10, 11, 13]).unwrap(),
        Some(Ordering::Less)
    );
    assert_eq!(buf.memcmp(15, &[15, 16, 17, 18, 19, 20]).unwrap(), None);
}

#[test]
fn fill_and_extract_gstreamer_test_fill() {
    let mut buf = find_buffer();
    let data: Vec<u8> = (0..1024).map(|i| (i & 0xff) as u8).collect();
    let b = buf.get_mut().unwrap();
    assert_eq!(b.fill(0, &[]).unwrap(), 0);
    assert_eq!(b.fill(20, &[]).unwrap(), 0);
    assert_eq!(b.fill(0, &data[..1]).unwrap(), 1);
    assert_eq!(b.fill(0, &data[..11]).unwrap(), 11);
    assert_eq!(b.fill(0, &data[..15]).unwrap(), 15);
    assert_eq!(b.fill(0, &data[..25]).unwrap(), 25);
    assert_eq!(b.fill(0, &data[..26]).unwrap(), 25);
    assert_eq!(b.fill(1, &data[..26]).unwrap(), 24);
    assert_eq!(b.fill(10, &data[..100]).unwrap(), 15);
    assert_eq!(b.fill(11, &data[..100]).unwrap(), 14);
    assert_eq!(b.fill(25, &data[..100]).unwrap(), 0);
    assert_eq!(b.fill(0, &data[10..35]).unwrap(), 25);
    let mut out = [0u8; 25];
    assert_eq!(b.extract(0, &mut out).unwrap(), 25);
    assert_eq!(&out[..], &data[10..35]);

    // Extract clips to the buffer.
    let mut out = [0u8; 40];
    assert_eq!(b.extract(20, &mut out).unwrap(), 5);
    assert_eq!(&out[..5], &data[30..35]);
    assert_eq!(b.extract(25, &mut out).unwrap(), 0);
    assert_eq!(b.extract(100, &mut out).unwrap(), 0);
}

#[test]
fn fill_copies_shared_memory_first() {
    let shared = mem(b"abcdef");
    let mut buf = Buffer::from_memory(shared.clone());
    let b = buf.get_mut().unwrap();
    b.unset_flags(BufferFlags::TAG_MEMORY);
    assert_eq!(b.fill(1, b"XY").unwrap(), 2);
    assert_eq!(&*shared.map_readable().unwrap(), b"abcdef");
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"aXYdef"[..]);
    assert_eq!(b.flags(), BufferFlags::TAG_MEMORY);
}

#[test]
fn reading_never_mutates() {
    let (mut buf, a, b) = two_memory_buffer();
    buf.get_mut().unwrap().unset_flags(BufferFlags::TAG_MEMORY);
    {
        let map = buf.map_readable().unwrap();
        assert_eq!(map.len(), 20);
        assert!(!map.is_empty());
        let slices: Vec<&[u8]> = map.slices().collect();
        assert_eq!(slices.len(), 2);
        assert_eq!(slices[0].as_ptr() as usize, addr(&a));
        assert_eq!(slices[1].as_ptr() as usize, addr(&b));
        assert_eq!(map.io_slices().len(), 2);
        let mut out = Vec::new();
        out.write_all(&map.contiguous()).unwrap();
        assert_eq!(out, (0..20).collect::<Vec<u8>>());
        let mut sink = Vec::new();
        let n = sink.write_vectored(&map.io_slices()).unwrap();
        assert_eq!(n, 20);
        let mut part = [0u8; 4];
        assert_eq!(map.copy_to(8, &mut part), 4);
        assert_eq!(part, [8, 9, 10, 11]);
        let dbg = format!("{map:?}");
        assert!(dbg.contains("n_slices: 2"), "{dbg}");
    }
    // Still two memories, no flag set.
    assert_eq!(buf.n_memory(), 2);
    assert_eq!(buf.flags(), BufferFlags::empty());
    // Empty memories give no slice.
    let buf = find_buffer();
    assert_eq!(buf.map_readable().unwrap().slices().count(), 2);
}

#[test]
fn make_contiguous_and_map_writable() {
    let (mut buf, a, _) = two_memory_buffer();
    let b = buf.get_mut().unwrap();
    b.unset_flags(BufferFlags::TAG_MEMORY);
    b.make_contiguous().unwrap();
    assert_eq!(b.n_memory(), 1);
    assert_eq!(b.flags(), BufferFlags::TAG_MEMORY);
    assert_eq!(
        b.map_readable().unwrap().contiguous(),
        &(0..20).collect::<Vec<u8>>()[..]
    );
    let id = b.memory(0).unwrap().id();
    b.make_contiguous().unwrap();
    assert_eq!(b.memory(0).unwrap().id(), id, "one memory: nothing to do");
    {
        let mut w = b.map_writable().unwrap();
        assert_eq!(w.len(), 20);
        w[0] = 0xFF;
    }
    assert_eq!(b.memory(0).unwrap().id(), id, "unique: written in place");
    assert_eq!(
        a.map_readable().unwrap()[0],
        0,
        "the original memory is untouched"
    );

    // A single shared memory is copied before writing.
    let shared = mem(b"xyz");
    let mut buf = Buffer::from_memory(shared.clone());
    let b = buf.get_mut().unwrap();
    b.map_writable().unwrap()[0] = b'X';
    assert_eq!(&*shared.map_readable().unwrap(), b"xyz");
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"Xyz"[..]);
    b.memory_writable(0).unwrap()[1] = b'Y';
    assert_eq!(b.map_readable().unwrap().contiguous(), &b"XYz"[..]);
    assert!(b.memory_writable(1).is_err());
}
