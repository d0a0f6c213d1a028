//! Return and reuse.

use super::*;

#[test]
fn returned_buffer_is_reset() {
    let pool = active_pool(PoolConfig::new(32, 1, 1));
    let mut buf = pool.acquire().unwrap();
    let id = buf.id();
    let mem_id = buf.memory(0).unwrap().id();
    {
        let b = buf.get_mut().unwrap();
        b.set_flags(BufferFlags::DISCONT | BufferFlags::MARKER | BufferFlags::DELTA_UNIT);
        b.set_pts(Some(ClockTime::SECOND));
        b.set_dts(Some(ClockTime::SECOND));
        b.set_duration(Some(ClockTime::MSECOND));
        b.set_offset(Some(1));
        b.set_offset_end(Some(2));
        b.add_meta(ReferenceTimestampMeta::capture(ClockTime::SECOND));
        b.add_meta(VideoCropMeta::default());
        b.fill(0, b"written").unwrap();
        b.resize(3, Some(10)).unwrap();
    }
    drop(buf);
    let s = pool.stats();
    assert_eq!((s.outstanding, s.queued, s.discarded()), (0, 1, 0));

    let buf = pool.acquire().unwrap();
    assert_eq!(buf.id(), id);
    assert_eq!(buf.memory(0).unwrap().id(), mem_id, "same memory, reused");
    assert_eq!(buf.flags(), BufferFlags::empty());
    assert_eq!(
        (
            buf.pts(),
            buf.dts(),
            buf.duration(),
            buf.offset(),
            buf.offset_end()
        ),
        (None, None, None, None, None)
    );
    assert_eq!(buf.n_meta(), 0);
    assert_eq!(buf.size(), 32);
    assert_eq!(mem_layout(&buf), (32, 0, 32));
    // The bytes are not cleared (as GStreamer): a pool recycles memory.
    assert_eq!(
        buf.memcmp(0, b"written").unwrap(),
        Some(std::cmp::Ordering::Equal)
    );
}

#[test]
fn configured_prefix_is_kept_after_every_recycle() {
    // GStreamer resizes to offset 0 on return and loses the prefix; the
    // original offset and size are restored here.
    let params = AllocationParams {
        prefix: 16,
        padding: 8,
        align: 31,
        ..Default::default()
    };
    let pool = active_pool(PoolConfig::new(100, 1, 1).with_allocator(None, params));
    for round in 0..5 {
        let mut buf = pool.acquire().unwrap();
        assert_eq!(mem_layout(&buf), (100, 16, 124), "round {round}");
        assert_eq!(buf.sizes(), (100, 16, 124));
        let addr = buf.memory(0).unwrap().map_readable().unwrap().as_ptr() as usize;
        assert_eq!(addr % 32, 0);
        let b = buf.get_mut().unwrap();
        match round % 3 {
            0 => b.resize(-16, Some(124)).unwrap(),
            1 => b.resize(40, Some(10)).unwrap(),
            _ => b.memory_mut(0).unwrap().resize(-10, 5).unwrap(),
        }
        assert_ne!(mem_layout(&buf), (100, 16, 124));
    }
    let s = pool.stats();
    assert_eq!((s.total_allocated, s.reused, s.discarded()), (1, 5, 0));
}

#[test]
fn reuse_is_fifo() {
    let pool = active_pool(PoolConfig::new(8, 3, 3));
    let [a, b, c] = acquire_n(&pool);
    let (ia, ib, ic) = (a.id(), b.id(), c.id());
    assert!(ia != ib && ib != ic && ia != ic);
    // Return in the order b, c, a: they come back in that order.
    drop(b);
    drop(c);
    drop(a);
    let order: Vec<_> = (0..3).map(|_| pool.acquire().unwrap()).collect();
    let ids: Vec<_> = order.iter().map(|b| b.id()).collect();
    assert_eq!(ids, [ib, ic, ia]);
    assert_eq!(pool.stats().total_allocated, 3);
}

#[test]
fn buffer_with_memory_removed_is_discarded() {
    let pool = active_pool(PoolConfig::new(8, 1, 2));
    for (what, change) in [
        ("removed", 0usize),
        ("replaced", 1),
        ("added", 2),
        ("merged", 3),
    ] {
        let mut buf = pool.acquire().unwrap();
        let id = buf.id();
        let b = buf.get_mut().unwrap();
        match change {
            0 => {
                b.remove_memory(0).unwrap();
            }
            1 => {
                b.replace_memory(0, Memory::from_slice(&[0; 8]).unwrap())
                    .unwrap();
            }
            2 => b.append_memory(Memory::from_slice(&[1]).unwrap()),
            _ => {
                b.append_memory(Memory::from_slice(&[1]).unwrap());
                b.make_contiguous().unwrap();
            }
        }
        let before = pool.stats();
        drop(buf);
        let after = pool.stats();
        assert_eq!(
            after.discarded_memory_changed,
            before.discarded_memory_changed + 1,
            "{what}"
        );
        assert_eq!(after.allocated, before.allocated - 1, "{what}");
        assert_eq!(after.queued, before.queued, "{what}");
        assert_ne!(pool.acquire().unwrap().id(), id, "{what}: not reused");
    }
    assert_eq!(pool.stats().discarded_memory_shared, 0);
}

#[test]
fn buffer_whose_memory_is_cloned_elsewhere_is_discarded() {
    let pool = active_pool(PoolConfig::new(8, 1, 1));
    let buf = pool.acquire().unwrap();
    let id = buf.id();
    let kept = buf.memory(0).unwrap().clone();
    drop(buf);
    let s = pool.stats();
    assert_eq!(
        (
            s.discarded_memory_shared,
            s.discarded_memory_changed,
            s.allocated,
            s.queued
        ),
        (1, 0, 0, 0)
    );
    assert_eq!(s.discarded(), 1);
    // A share of the memory counts as well.
    let buf = pool.acquire().unwrap();
    assert_ne!(buf.id(), id);
    let share = buf.memory(0).unwrap().share(0, Some(4)).unwrap();
    drop(buf);
    assert_eq!(pool.stats().discarded_memory_shared, 2);
    drop((kept, share));
    // Copies taken and dropped before the return do not prevent reuse.
    let buf = pool.acquire().unwrap();
    let id = buf.id();
    drop(buf.copy());
    drop(buf);
    assert_eq!(pool.acquire().unwrap().id(), id);
    assert_eq!(pool.stats().discarded(), 2);
}

#[test]
fn deactivate_with_outstanding_buffers_frees_them_on_return() {
    let pool = active_pool(PoolConfig::new(64, 2, 4));
    let [a, b, c] = acquire_n(&pool);
    drop(c);
    assert_eq!(pool.stats().allocated, 3);
    pool.set_active(false).unwrap();
    assert!(!pool.is_active());
    assert!(matches!(pool.acquire(), Err(Error::Flushing)));
    let s = pool.stats();
    assert_eq!((s.allocated, s.outstanding), (3, 2));
    drop(a);
    assert_eq!(pool.stats().allocated, 2);
    drop(b);
    let s = pool.stats();
    assert_eq!((s.allocated, s.outstanding, s.queued), (0, 0, 0));

    // Reactivation preallocates again.
    pool.set_active(true).unwrap();
    let s = pool.stats();
    assert_eq!((s.allocated, s.queued, s.total_allocated), (2, 2, 5));
}

#[test]
fn deactivate_with_nothing_out_frees_at_once() {
    let pool = active_pool(PoolConfig::new(64, 3, 3));
    pool.set_active(false).unwrap();
    let s = pool.stats();
    assert_eq!((s.allocated, s.queued), (0, 0));
}

#[test]
fn dropping_the_pool_while_a_buffer_is_out() {
    let pool = active_pool(PoolConfig::new(64, 2, 2));
    let mut buf = pool.acquire().unwrap();
    drop(pool);
    // The buffer still works and is simply freed at the end.
    buf.get_mut().unwrap().fill(0, b"still fine").unwrap();
    let copy = buf.copy();
    assert!(copy.meta::<ParentBufferMeta>().is_some());
    drop(buf);
    assert_eq!(
        copy.memcmp(0, b"still fine").unwrap(),
        Some(std::cmp::Ordering::Equal)
    );
    drop(copy);
}

#[test]
fn stats_count_everything() {
    let pool = active_pool(PoolConfig::new(16, 1, 0));
    let a = pool.acquire().unwrap(); // reused (preallocated)
    let b = pool.acquire().unwrap(); // new
    let c = pool.acquire().unwrap(); // new
    let s = pool.stats();
    assert_eq!(
        s,
        PoolStats {
            allocated: 3,
            outstanding: 3,
            queued: 0,
            waiting: 0,
            total_allocated: 3,
            reused: 1,
            discarded_memory_changed: 0,
            discarded_memory_shared: 0,
        }
    );
    let kept = c.memory(0).unwrap().clone();
    drop((a, b, c));
    let s = pool.stats();
    assert_eq!(
        (
            s.allocated,
            s.outstanding,
            s.queued,
            s.discarded_memory_shared
        ),
        (2, 0, 2, 1)
    );
    drop(kept);
    let _x = pool.acquire().unwrap();
    assert_eq!(pool.stats().reused, 2);
}
