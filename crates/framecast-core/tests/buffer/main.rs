//! Buffers: writability, copy-on-write, the memory list, find_memory and
//! sizes (GStreamer's `test_find` / `test_size` / `test_resize` figures),
//! copy flags, data access, flags, ClockTime, Debug — and a property test
//! that inserting at any index never loses data (GStreamer's 16-memory bug).

use std::cmp::Ordering;
use std::io::Write;

use framecast_core::{
    AllocationParams, Buffer, BufferCopyFlags, BufferFlags, ClockTime, Error, Memory, MemoryFlags,
    ReferenceTimestampMeta, VideoCropMeta, VideoFormat, VideoInfo, VideoMeta,
};
use proptest::prelude::*;

fn mem(bytes: &[u8]) -> Memory {
    Memory::from_slice(bytes).unwrap()
}

fn zeroed(size: usize) -> Memory {
    Memory::alloc(size, &AllocationParams::default()).unwrap()
}

fn addr(mem: &Memory) -> usize {
    mem.map_readable().unwrap().as_ptr() as usize
}

fn bytes(buf: &Buffer) -> Vec<u8> {
    buf.map_readable().unwrap().contiguous().into_owned()
}

/// A buffer of memories [0 B, 10 B, 15 B, 0 B], as GStreamer's test_find.
fn find_buffer() -> Buffer {
    let mut buf = Buffer::new();
    let b = buf.get_mut().unwrap();
    for size in [0, 10, 15, 0] {
        b.append_memory(zeroed(size));
    }
    buf
}

fn two_memory_buffer() -> (Buffer, Memory, Memory) {
    let a = mem(&(0..10).collect::<Vec<u8>>());
    let b = mem(&(10..20).collect::<Vec<u8>>());
    let mut buf = Buffer::new();
    {
        let r = buf.get_mut().unwrap();
        r.append_memory(a.clone());
        r.append_memory(b.clone());
    }
    (buf, a, b)
}

mod copy_region;
mod data_access;
mod flags_and_time;
mod insertion;
mod memory_list;
mod resize;
mod sizes;
mod writability;
