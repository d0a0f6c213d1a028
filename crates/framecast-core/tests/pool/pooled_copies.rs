//! Copies of pooled buffers.

use super::*;

#[test]
fn copy_of_a_pooled_buffer_keeps_it_out_of_the_pool() {
    let pool = active_pool(PoolConfig::new(64, 1, 1));
    let a = pool.acquire().unwrap();
    let id = a.id();
    let copy = a.copy();
    let parent = copy.meta::<ParentBufferMeta>().unwrap();
    assert!(Buffer::ptr_eq(&parent.buffer, &a));
    assert!(Memory::ptr_eq(
        copy.memory(0).unwrap(),
        a.memory(0).unwrap()
    ));
    drop(a);
    // Still out: the copy holds it.
    assert_eq!(pool.stats().outstanding, 1);
    assert!(matches!(
        pool.acquire_with(AcquireFlags::DONT_WAIT),
        Err(Error::WouldBlock { max: 1 })
    ));
    drop(copy);
    let s = pool.stats();
    assert_eq!((s.outstanding, s.queued, s.discarded()), (0, 1, 0));
    assert_eq!(pool.acquire().unwrap().id(), id);
}

#[test]
fn make_mut_of_a_shared_pooled_buffer_adds_parent_meta() {
    // GStreamer test_make_writable_parent_meta.
    let pool = active_pool(PoolConfig::new(16, 1, 1));
    let a = pool.acquire().unwrap();
    let mut b = a.clone();
    b.make_mut().set_flags(BufferFlags::MARKER);
    assert!(!Buffer::ptr_eq(&a, &b));
    assert!(b.meta::<ParentBufferMeta>().is_some());
    assert_eq!(b.pool_id(), None, "the copy is not a pool buffer");
    drop(a);
    assert_eq!(pool.stats().outstanding, 1);
    // Writing the copy's bytes copies its memory; still the parent is held.
    b.make_mut().fill(0, b"x").unwrap();
    drop(b);
    assert_eq!(pool.stats().outstanding, 0);
    assert_eq!(pool.stats().discarded(), 0);
}

#[test]
fn deep_and_region_copies_of_pooled_buffers() {
    let pool = active_pool(PoolConfig::new(16, 1, 1));
    let a = pool.acquire().unwrap();
    // A deep copy shares nothing: no parent meta.
    let deep = a.copy_deep().unwrap();
    assert!(deep.meta::<ParentBufferMeta>().is_none());
    // A region shares memory: parent meta.
    let region = a
        .copy_region(framecast_core::BufferCopyFlags::ALL, 4, Some(4))
        .unwrap();
    assert!(region.meta::<ParentBufferMeta>().is_some());
    drop(a);
    assert_eq!(pool.stats().outstanding, 1);
    drop(region);
    assert_eq!(pool.stats().outstanding, 0);
    assert_eq!(pool.stats().discarded(), 0);
    drop(deep);
}

#[test]
fn pool_with_memfd_allocator_and_zero_flags() {
    let allocator = framecast_core::find_allocator(Some(framecast_core::MEMFD_MEMORY));
    let params = AllocationParams {
        flags: MemoryFlags::ZERO_PREFIXED,
        prefix: 8,
        ..Default::default()
    };
    let pool = active_pool(PoolConfig::new(4096, 1, 1).with_allocator(allocator, params));
    let buf = pool.acquire().unwrap();
    let m = buf.memory(0).unwrap();
    assert!(m.is_type(framecast_core::MEMFD_MEMORY));
    assert_eq!(m.sizes(), (4096, 8, 4104));
    assert_eq!(m.flags(), MemoryFlags::ZERO_PREFIXED);
    assert_eq!(m.fd().unwrap().1 % 8, 0);
}

#[test]
fn the_whole_shell_is_reused() {
    let pool = active_pool(PoolConfig::new(64, 1, 1));
    let mut buf = pool.acquire().unwrap();
    let shell = &*buf as *const framecast_core::BufferRef as usize;
    let mem_addr = buf.memory(0).unwrap().map_readable().unwrap().as_ptr() as usize;
    {
        // Spill the meta storage past its inline slots once.
        let b = buf.get_mut().unwrap();
        for i in 0..8 {
            b.add_meta(ReferenceTimestampMeta::capture(ClockTime::from_nseconds(i)));
        }
    }
    drop(buf);
    for _ in 0..10 {
        let buf = pool.acquire().unwrap();
        assert_eq!(&*buf as *const framecast_core::BufferRef as usize, shell);
        assert_eq!(
            buf.memory(0).unwrap().map_readable().unwrap().as_ptr() as usize,
            mem_addr
        );
        assert_eq!(buf.n_meta(), 0);
    }
    assert_eq!(pool.stats().total_allocated, 1);
}

#[test]
fn last_handle_drop_deactivates_the_pool() {
    let pool = active_pool(PoolConfig::new(64, 2, 3));
    let second = pool.clone();
    drop(pool);
    // Another handle is alive: still active.
    assert!(second.is_active());
    let out = second.acquire().unwrap();
    let stats_before = second.stats();
    assert_eq!((stats_before.allocated, stats_before.queued), (2, 1));
    drop(second);
    // The outstanding buffer is still usable and freed on drop.
    assert_eq!(out.size(), 64);
    drop(out);
}

#[test]
fn buffer_returning_during_another_return_does_not_deadlock() {
    // b holds a (through a ParentBufferMeta); dropping b resets it, which
    // drops the meta, which sends a home first — re-entering the pool.
    let pool = active_pool(PoolConfig::new(16, 0, 2));
    let a = pool.acquire().unwrap();
    let mut b = pool.acquire().unwrap();
    let a_id = a.id();
    b.get_mut()
        .unwrap()
        .add_meta(ParentBufferMeta { buffer: a });
    assert_eq!(pool.stats().outstanding, 2);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        drop(b);
        let _ = tx.send(());
    });
    rx.recv_timeout(TIMEOUT).expect("release finished");
    let s = pool.stats();
    assert_eq!((s.outstanding, s.queued, s.discarded()), (0, 2, 0));
    // a came home first (FIFO), then b.
    assert_eq!(pool.acquire().unwrap().id(), a_id);
}

#[test]
fn metas_copied_from_a_pooled_buffer_are_not_locked() {
    let info = VideoInfo::new(VideoFormat::Gray8, 8, 8).unwrap();
    let pool = activated(
        BufferPool::new_video(),
        PoolConfig::for_video(info, 1, 1).with_video_meta(),
    );
    let a = pool.acquire().unwrap();
    let mut copy = a.copy();
    drop(a);
    let flags: Vec<_> = copy.iter_meta().map(|m| (m.api(), m.flags())).collect();
    assert_eq!(
        flags,
        [
            (VideoMeta::API, framecast_core::MetaFlags::empty()),
            (ParentBufferMeta::API, framecast_core::MetaFlags::empty()),
        ]
    );
    let b = copy.get_mut().unwrap();
    assert!(b.remove_meta::<VideoMeta>().unwrap().is_some());
    assert!(b.remove_meta::<ParentBufferMeta>().unwrap().is_some());
    // Removing the parent meta released the pooled buffer.
    assert_eq!(pool.stats().outstanding, 0);
}

#[test]
fn default_pool_is_a_plain_pool() {
    let pool = BufferPool::default();
    assert!(!pool.is_video());
    assert!(!pool.is_active());
}
