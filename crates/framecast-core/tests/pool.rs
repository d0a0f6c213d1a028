//! Buffer pools: activation, acquire (blocking, DONT_WAIT, flushing),
//! configuration rules, reset on return (prefix kept!), FIFO reuse,
//! discards by reason, deactivation, statistics, video pools and the
//! ParentBufferMeta that keeps a pooled buffer out while a copy shares it.
//!
//! Every wait is bounded: blocked acquirers run on helper threads and are
//! observed through channels with timeouts.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use framecast_core::{
    AcquireFlags, AllocationParams, Buffer, BufferFlags, BufferPool, ClockTime, Error, ErrorKind,
    Memory, MemoryFlags, Meta, ParentBufferMeta, PoolConfig, PoolStats, ReferenceTimestampMeta,
    VideoAlignment, VideoCropMeta, VideoFormat, VideoInfo, VideoMeta,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn active_pool(config: PoolConfig) -> BufferPool {
    let pool = BufferPool::new();
    pool.set_config(config).unwrap();
    pool.set_active(true).unwrap();
    pool
}

/// Polls `cond` until it holds or the deadline passes.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Starts an acquire on another thread; its result arrives on the channel.
fn acquire_in_thread(pool: &BufferPool) -> mpsc::Receiver<Result<Buffer, Error>> {
    let (tx, rx) = mpsc::channel();
    let pool = pool.clone();
    thread::spawn(move || {
        let _ = tx.send(pool.acquire());
    });
    rx
}

fn mem_layout(buf: &Buffer) -> (usize, usize, usize) {
    buf.memory(0).unwrap().sizes()
}

// ---- activation and config ----------------------------------------------------

#[test]
fn new_pool_state() {
    let pool = BufferPool::new();
    assert!(!pool.is_active());
    assert!(!pool.is_video());
    assert!(pool.config().is_none());
    assert_eq!(pool.stats(), PoolStats::default());
    assert!(BufferPool::new_video().is_video());
    let other = pool.clone();
    assert!(BufferPool::ptr_eq(&pool, &other));
    assert_eq!(pool.id(), other.id());
    assert!(!BufferPool::ptr_eq(&pool, &BufferPool::new()));
    assert!(format!("{pool:?}").contains("active: false"));
}

#[test]
fn inactive_pool_acquire_is_flushing() {
    let pool = BufferPool::new();
    let err = pool.acquire().unwrap_err();
    assert!(matches!(err, Error::Flushing), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Pool);
    pool.set_config(PoolConfig::new(10, 0, 0)).unwrap();
    assert!(matches!(pool.acquire(), Err(Error::Flushing)));
    assert!(matches!(
        pool.acquire_with(AcquireFlags::DONT_WAIT),
        Err(Error::Flushing)
    ));
}

#[test]
fn unconfigured_set_active_fails() {
    let pool = BufferPool::new();
    let err = pool.set_active(true).unwrap_err();
    assert!(matches!(err, Error::PoolNotConfigured), "{err:?}");
    assert!(!pool.is_active());
    // Deactivating an inactive pool is a no-op.
    pool.set_active(false).unwrap();
}

#[test]
fn set_active_preallocates_min() {
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(1000, 3, 5)).unwrap();
    assert_eq!(pool.stats().allocated, 0);
    pool.set_active(true).unwrap();
    assert!(pool.is_active());
    let s = pool.stats();
    assert_eq!(
        (s.allocated, s.queued, s.outstanding, s.total_allocated),
        (3, 3, 0, 3)
    );
    // Activating twice does nothing.
    pool.set_active(true).unwrap();
    assert_eq!(pool.stats().total_allocated, 3);

    let buf = pool.acquire().unwrap();
    assert_eq!(buf.size(), 1000);
    assert_eq!(buf.n_memory(), 1);
    assert_eq!(buf.ref_count(), 1);
    assert_eq!(buf.pool_id(), Some(pool.id()));
    assert_eq!(buf.flags(), BufferFlags::empty(), "TAG_MEMORY clear");
    let s = pool.stats();
    assert_eq!(
        (s.allocated, s.queued, s.outstanding, s.reused),
        (3, 2, 1, 1)
    );
}

#[test]
fn set_config_rules() {
    let pool = BufferPool::new();
    let config = PoolConfig::new(100, 1, 2);
    pool.set_config(config.clone()).unwrap();
    assert_eq!(pool.config(), Some(config.clone()));
    // Reconfiguring while inactive with nothing out is fine.
    pool.set_config(PoolConfig::new(200, 1, 2)).unwrap();
    pool.set_config(config.clone()).unwrap();
    pool.set_active(true).unwrap();

    // Same config while active: accepted.
    pool.set_config(config.clone()).unwrap();
    // A different one: refused, the active config kept.
    let err = pool.set_config(PoolConfig::new(300, 1, 2)).unwrap_err();
    assert!(matches!(err, Error::PoolActive(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Pool);
    assert_eq!(pool.config(), Some(config.clone()));

    // Inactive but with a buffer out: refused too.
    let out = pool.acquire().unwrap();
    pool.set_active(false).unwrap();
    let err = pool.set_config(PoolConfig::new(300, 1, 2)).unwrap_err();
    assert!(matches!(err, Error::PoolActive(_)), "{err:?}");
    pool.set_config(config.clone()).unwrap();
    drop(out);
    pool.set_config(PoolConfig::new(300, 1, 2)).unwrap();
    assert_eq!(pool.config().unwrap().size, 300);
}

#[test]
fn min_greater_than_max_is_rejected_with_a_suggestion() {
    let pool = BufferPool::new();
    let err = pool.set_config(PoolConfig::new(100, 4, 2)).unwrap_err();
    let Error::PoolConfigRejected { suggested, reason } = &err else {
        panic!("{err:?}");
    };
    assert!(reason.contains("min_buffers 4 > max_buffers 2"), "{reason}");
    let suggested = suggested.as_deref().unwrap().clone();
    assert_eq!(
        (suggested.size, suggested.min_buffers, suggested.max_buffers),
        (100, 4, 4)
    );
    assert!(pool.config().is_none(), "nothing stored");
    pool.set_config(suggested).unwrap();
    // max 0 = unlimited: any min is fine.
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(100, 4, 0)).unwrap();
}

#[test]
fn invalid_alignment_in_config_is_rejected() {
    let pool = BufferPool::new();
    let config = PoolConfig::new(100, 0, 0).with_allocator(None, AllocationParams::aligned(6));
    let err = pool.set_config(config).unwrap_err();
    assert!(
        matches!(err, Error::InvalidAlignment { align: 6 }),
        "{err:?}"
    );
}

#[test]
fn config_validate() {
    let info = VideoInfo::new(VideoFormat::I420, 64, 64).unwrap();
    let config = PoolConfig::for_video(info, 2, 4);
    assert_eq!(config.size, 6144);
    assert!(config.validate(Some(&info), 6144, 2, 0));
    assert!(
        config.validate(Some(&info), 100, 1, 99),
        "max is not checked"
    );
    assert!(!config.validate(Some(&info), 6145, 2, 4));
    assert!(!config.validate(Some(&info), 6144, 3, 4));
    assert!(!config.validate(None, 6144, 2, 4));
    let plain = PoolConfig::new(10, 0, 0);
    assert!(plain.validate(None, 10, 0, 0));
}

// ---- acquire ------------------------------------------------------------------

#[test]
fn acquire_blocks_while_max_out_and_wakes_on_return() {
    let pool = active_pool(PoolConfig::new(64, 0, 2));
    let a = pool.acquire().unwrap();
    let b = pool.acquire().unwrap();
    let a_id = a.id();
    assert_eq!(pool.stats().outstanding, 2);

    let rx = acquire_in_thread(&pool);
    wait_until("a blocked acquirer", || pool.stats().waiting == 1);
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "must block while 2 are out"
    );
    drop(a);
    let got = rx.recv_timeout(TIMEOUT).expect("woken").unwrap();
    assert_eq!(got.id(), a_id, "it got the returned buffer");
    let s = pool.stats();
    assert_eq!((s.waiting, s.outstanding, s.allocated), (0, 2, 2));
    drop((b, got));
    assert_eq!(pool.stats().outstanding, 0);
}

#[test]
fn blocked_acquire_wakes_when_a_buffer_is_discarded() {
    let pool = active_pool(PoolConfig::new(64, 0, 1));
    let mut a = pool.acquire().unwrap();
    let rx = acquire_in_thread(&pool);
    wait_until("a blocked acquirer", || pool.stats().waiting == 1);
    a.get_mut().unwrap().remove_all_memory();
    drop(a);
    let got = rx.recv_timeout(TIMEOUT).expect("woken").unwrap();
    assert_eq!(got.size(), 64, "a fresh buffer was allocated");
    let s = pool.stats();
    assert_eq!(
        (s.discarded_memory_changed, s.total_allocated, s.allocated),
        (1, 2, 1)
    );
}

#[test]
fn dont_wait_returns_would_block() {
    let pool = active_pool(PoolConfig::new(64, 0, 1));
    let a = pool.acquire_with(AcquireFlags::DONT_WAIT).unwrap();
    let start = Instant::now();
    let err = pool.acquire_with(AcquireFlags::DONT_WAIT).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(matches!(err, Error::WouldBlock { max: 1 }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Pool);
    assert_eq!(pool.stats().waiting, 0);
    drop(a);
    assert!(pool.acquire_with(AcquireFlags::DONT_WAIT).is_ok());
}

#[test]
fn acquire_flags_discont_marks_the_buffer() {
    let pool = active_pool(PoolConfig::new(8, 0, 1));
    let a = pool.acquire_with(AcquireFlags::DISCONT).unwrap();
    assert_eq!(a.flags(), BufferFlags::DISCONT);
    drop(a);
    let a = pool.acquire_with(AcquireFlags::KEY_UNIT).unwrap();
    assert_eq!(a.flags(), BufferFlags::empty());
}

#[test]
fn set_flushing_wakes_blocked_acquirers() {
    let pool = active_pool(PoolConfig::new(64, 0, 1));
    let a = pool.acquire().unwrap();
    let rx1 = acquire_in_thread(&pool);
    let rx2 = acquire_in_thread(&pool);
    wait_until("two blocked acquirers", || pool.stats().waiting == 2);
    pool.set_flushing(true);
    for rx in [rx1, rx2] {
        let res = rx.recv_timeout(TIMEOUT).expect("woken");
        assert!(matches!(res, Err(Error::Flushing)), "{res:?}");
    }
    assert_eq!(pool.stats().waiting, 0);
    assert!(matches!(
        pool.acquire_with(AcquireFlags::DONT_WAIT),
        Err(Error::Flushing)
    ));
    drop(a);
    pool.set_flushing(false);
    assert!(pool.acquire().is_ok());
    // Ignored on an inactive pool.
    pool.set_active(false).unwrap();
    pool.set_flushing(false);
    assert!(matches!(pool.acquire(), Err(Error::Flushing)));
}

#[test]
fn deactivate_wakes_blocked_acquirers() {
    let pool = active_pool(PoolConfig::new(64, 0, 1));
    let a = pool.acquire().unwrap();
    let rx = acquire_in_thread(&pool);
    wait_until("a blocked acquirer", || pool.stats().waiting == 1);
    pool.set_active(false).unwrap();
    let res = rx.recv_timeout(TIMEOUT).expect("woken");
    assert!(matches!(res, Err(Error::Flushing)), "{res:?}");
    drop(a);
    assert_eq!(pool.stats().allocated, 0);
}

// ---- return and reuse -------------------------------------------------------------

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
    let a = pool.acquire().unwrap();
    let b = pool.acquire().unwrap();
    let c = pool.acquire().unwrap();
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
    let a = pool.acquire().unwrap();
    let b = pool.acquire().unwrap();
    let c = pool.acquire().unwrap();
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

// ---- video pool ------------------------------------------------------------------------

#[test]
fn video_pool_with_meta_and_alignment() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    assert_eq!(info.size, 15200);
    let pool = BufferPool::new_video();
    let config = PoolConfig::for_video(info, 1, 2)
        .with_video_meta()
        .with_video_alignment(VideoAlignment {
            stride_align: [15; 4],
            ..Default::default()
        });
    assert_eq!(config.size, 15200);
    pool.set_config(config).unwrap();
    let stored = pool.config().unwrap();
    assert_eq!(stored.size, 19200, "raised to the aligned frame size");
    assert_eq!(stored.params.align, 15, "raised to the stride alignment");
    let alignment = stored.video_alignment.unwrap();
    assert_eq!(alignment.padding_right, 28);
    assert_eq!(alignment.stride_align, [15; 4]);
    let layout = pool.frame_layout().unwrap();
    assert_eq!(layout.stride[..3], [128, 64, 64]);
    assert_eq!(layout.size, 19200);

    pool.set_active(true).unwrap();
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.size(), 19200);
    let addr = buf.memory(0).unwrap().map_readable().unwrap().as_ptr() as usize;
    assert_eq!(addr % 16, 0);
    let meta = buf.meta::<VideoMeta>().unwrap();
    assert_eq!(meta.format, VideoFormat::I420);
    assert_eq!((meta.width, meta.height, meta.n_planes), (100, 100, 3));
    assert_eq!(meta.stride[..3], [128, 64, 64]);
    assert_eq!(meta.offset[..3], [0, 12800, 16000]);
    assert_eq!(meta.alignment.padding_right, 28);
}

#[test]
fn video_pool_alignment_honours_params_align() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let pool = BufferPool::new_video();
    pool.set_config(
        PoolConfig::for_video(info, 0, 0)
            .with_allocator(None, AllocationParams::aligned(31))
            .with_video_meta()
            .with_video_alignment(VideoAlignment::default()),
    )
    .unwrap();
    let stored = pool.config().unwrap();
    // Every stride alignment is ORed with params.align (31).
    assert_eq!(stored.video_alignment.unwrap().stride_align, [31; 4]);
    assert_eq!(stored.params.align, 31);
    let layout = pool.frame_layout().unwrap();
    assert_eq!(layout.stride[..3], [128, 64, 64]);
}

#[test]
fn video_pool_without_meta_ignores_alignment_and_adds_no_meta() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let pool = BufferPool::new_video();
    pool.set_config(
        PoolConfig::for_video(info, 0, 1).with_video_alignment(VideoAlignment {
            stride_align: [15; 4],
            ..Default::default()
        }),
    )
    .unwrap();
    assert_eq!(pool.config().unwrap().size, 15200);
    assert_eq!(pool.frame_layout().unwrap().stride[..3], [100, 52, 52]);
    pool.set_active(true).unwrap();
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.n_meta(), 0);
    assert_eq!(buf.size(), 15200);
}

#[test]
fn video_pool_rejects_a_too_small_size_with_the_frame_size() {
    let info = VideoInfo::new(VideoFormat::I420, 100, 100).unwrap();
    let pool = BufferPool::new_video();
    let config = PoolConfig {
        size: 1000,
        ..PoolConfig::for_video(info, 1, 2).with_video_meta()
    };
    let err = pool.set_config(config).unwrap_err();
    let Error::PoolConfigRejected { suggested, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let suggested = suggested.as_deref().unwrap().clone();
    assert_eq!(suggested.size, 15200);
    assert_eq!((suggested.min_buffers, suggested.max_buffers), (1, 2));
    assert!(suggested.video_meta);
    assert!(pool.config().is_none());
    pool.set_config(suggested).unwrap();
    assert_eq!(pool.config().unwrap().size, 15200);
}

#[test]
fn video_pool_without_layout_is_rejected() {
    let pool = BufferPool::new_video();
    let err = pool.set_config(PoolConfig::new(100, 0, 0)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolConfigRejected {
                suggested: None,
                ..
            }
        ),
        "{err:?}"
    );
    // A plain pool asked for video meta without a layout: rejected as well.
    let pool = BufferPool::new();
    let err = pool
        .set_config(PoolConfig::new(100, 0, 0).with_video_meta())
        .unwrap_err();
    assert!(matches!(err, Error::PoolConfigRejected { .. }), "{err:?}");
    // A plain pool with a layout and video meta works.
    let info = VideoInfo::new(VideoFormat::Rgba, 8, 8).unwrap();
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::for_video(info, 0, 1).with_video_meta())
        .unwrap();
    pool.set_active(true).unwrap();
    let buf = pool.acquire().unwrap();
    assert_eq!(buf.meta::<VideoMeta>().unwrap().stride[0], 32);
}

// ---- copies of pooled buffers -----------------------------------------------------------

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
    let pool = BufferPool::new_video();
    pool.set_config(PoolConfig::for_video(info, 1, 1).with_video_meta())
        .unwrap();
    pool.set_active(true).unwrap();
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
