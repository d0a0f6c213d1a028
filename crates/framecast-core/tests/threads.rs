//! Concurrency: reference counts under contention (GStreamer's
//! test_ref_threaded) and a pool with max 2 shared by 4 threads. Every
//! thread is joined against a deadline, so a deadlock fails the test
//! instead of hanging it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use framecast_core::{
    AcquireFlags, Buffer, BufferCopyFlags, BufferPool, ClockTime, Memory, PoolConfig,
    ReferenceTimestampMeta,
};

const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `n` copies of `work` on threads and waits for all of them, failing
/// if they do not finish within `DEADLINE` or any of them panics.
fn run_bounded<F>(n: usize, work: F)
where
    F: Fn(usize) + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let work = work.clone();
            let tx = tx.clone();
            thread::spawn(move || {
                work(i);
                let _ = tx.send(i);
            })
        })
        .collect();
    drop(tx);
    let start = Instant::now();
    for _ in 0..n {
        let left = DEADLINE.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("threads did not finish within {DEADLINE:?}")
            }
            // A thread panicked before sending: join reports it below.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for h in handles {
        h.join().expect("worker panicked");
    }
    assert!(start.elapsed() < DEADLINE);
}

#[test]
fn ten_threads_cloning_and_dropping_leave_one_reference() {
    let buf = Buffer::with_size(64).unwrap();
    let shared = Arc::new(buf.clone());
    let peak = Arc::new(AtomicUsize::new(0));
    {
        let shared = shared.clone();
        let peak = peak.clone();
        run_bounded(10, move |_| {
            for _ in 0..10_000 {
                let c = (*shared).clone();
                peak.fetch_max(c.ref_count(), Ordering::Relaxed);
                drop(c);
            }
        });
    }
    // Only the Arc's handle and ours remain.
    assert_eq!(buf.ref_count(), 2);
    drop(Arc::try_unwrap(shared).expect("workers are gone"));
    assert_eq!(buf.ref_count(), 1);
    assert!(buf.is_writable());
    assert!(peak.load(Ordering::Relaxed) >= 3);
    let mut buf = buf;
    assert!(buf.get_mut().is_some());
}

#[test]
fn ten_threads_holding_then_dropping_leave_one_reference() {
    // GStreamer's shape: every thread takes 10 000 references (held at
    // once), then drops them all.
    let buf = Buffer::with_size(16).unwrap();
    let shared = Arc::new(buf.clone());
    let total = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(std::sync::Barrier::new(10));
    {
        let shared = shared.clone();
        let total = total.clone();
        run_bounded(10, move |_| {
            let held: Vec<Buffer> = (0..10_000).map(|_| (*shared).clone()).collect();
            total.fetch_add(held.len(), Ordering::SeqCst);
            // All 100 000 references are alive between the two waits.
            barrier.wait();
            assert_eq!(total.load(Ordering::SeqCst), 100_000);
            assert_eq!(shared.ref_count(), 100_002);
            barrier.wait();
            drop(held);
        });
    }
    drop(Arc::try_unwrap(shared).expect("workers are gone"));
    assert_eq!(buf.ref_count(), 1);
    assert!(buf.is_writable());
}

#[test]
fn memory_clones_across_threads_leave_one_reference() {
    let mem = Memory::from_slice(&[1, 2, 3, 4]).unwrap();
    let shared = Arc::new(mem.clone());
    {
        let shared = shared.clone();
        run_bounded(8, move |i| {
            for _ in 0..5_000 {
                let s = shared.share(i % 4, Some(0)).unwrap();
                let c = (*shared).clone();
                drop((s, c));
            }
        });
    }
    drop(Arc::try_unwrap(shared).unwrap());
    assert_eq!(mem.ref_count(), 1);
    assert!(mem.is_writable());
}

#[test]
fn four_threads_share_a_pool_of_two() {
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(1024, 0, 2)).unwrap();
    pool.set_active(true).unwrap();
    let out = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let acquired = Arc::new(AtomicUsize::new(0));
    {
        let pool = pool.clone();
        let out = out.clone();
        let max_seen = max_seen.clone();
        let acquired = acquired.clone();
        run_bounded(4, move |t| {
            for i in 0..2_000u64 {
                let mut buf = pool.acquire().unwrap();
                let now = out.fetch_add(1, Ordering::SeqCst) + 1;
                max_seen.fetch_max(now, Ordering::SeqCst);
                assert!(now <= 2, "{now} buffers out of a pool of max 2");
                acquired.fetch_add(1, Ordering::Relaxed);
                {
                    let b = buf.get_mut().expect("acquired buffers are unique");
                    b.fill(0, &(t as u64 * 1_000_000 + i).to_le_bytes())
                        .unwrap();
                    b.set_pts(Some(ClockTime::from_nseconds(i)));
                    b.add_meta(ReferenceTimestampMeta::capture(ClockTime::from_nseconds(i)));
                }
                if i % 3 == 0 {
                    // A region copy keeps the buffer out until it goes.
                    let region = buf.copy_region(BufferCopyFlags::ALL, 0, Some(8)).unwrap();
                    assert_eq!(
                        region
                            .memcmp(0, &(t as u64 * 1_000_000 + i).to_le_bytes())
                            .unwrap(),
                        Some(std::cmp::Ordering::Equal)
                    );
                    out.fetch_sub(1, Ordering::SeqCst);
                    drop(buf);
                    drop(region);
                } else {
                    out.fetch_sub(1, Ordering::SeqCst);
                    drop(buf);
                }
            }
        });
    }
    assert_eq!(acquired.load(Ordering::Relaxed), 8_000);
    let peak = max_seen.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak {peak}");
    let s = pool.stats();
    assert_eq!((s.outstanding, s.waiting), (0, 0));
    assert!(s.allocated <= 2, "{s:?}");
    assert!(s.total_allocated <= 2, "{s:?}");
    assert_eq!(s.discarded(), 0);
    assert_eq!(s.reused + s.total_allocated, 8_000);
}

#[test]
fn flushing_releases_every_blocked_thread() {
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(64, 0, 1)).unwrap();
    pool.set_active(true).unwrap();
    let held = pool.acquire().unwrap();
    let flushed = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicBool::new(false));
    let (pool2, flushed2, started2) = (pool.clone(), flushed.clone(), started.clone());
    let flusher = {
        let pool = pool.clone();
        thread::spawn(move || {
            let deadline = Instant::now() + DEADLINE;
            while pool.stats().waiting < 4 && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            pool.set_flushing(true);
        })
    };
    run_bounded(4, move |_| {
        started2.store(true, Ordering::SeqCst);
        match pool2.acquire() {
            Err(framecast_core::Error::Flushing) => {
                flushed2.fetch_add(1, Ordering::SeqCst);
            }
            other => panic!("expected Flushing, got {other:?}"),
        }
    });
    flusher.join().unwrap();
    assert!(started.load(Ordering::SeqCst));
    assert_eq!(flushed.load(Ordering::SeqCst), 4);
    assert_eq!(pool.stats().waiting, 0);
    drop(held);
    pool.set_flushing(false);
    assert!(pool.acquire_with(AcquireFlags::DONT_WAIT).is_ok());
}

#[test]
fn buffers_move_between_threads() {
    // A pooled buffer produced on one thread, consumed (dropped) on another,
    // returns home each time.
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(256, 2, 2)).unwrap();
    pool.set_active(true).unwrap();
    let (tx, rx) = mpsc::sync_channel::<Buffer>(1);
    let consumer = thread::spawn(move || {
        let mut n = 0u64;
        while let Ok(buf) = rx.recv_timeout(DEADLINE) {
            assert_eq!(buf.pts(), Some(ClockTime::from_nseconds(n)));
            n += 1;
            drop(buf);
        }
        n
    });
    for i in 0..1_000u64 {
        let mut buf = pool.acquire().unwrap();
        buf.get_mut()
            .unwrap()
            .set_pts(Some(ClockTime::from_nseconds(i)));
        tx.send(buf).unwrap();
    }
    drop(tx);
    assert_eq!(consumer.join().unwrap(), 1_000);
    let s = pool.stats();
    assert_eq!((s.total_allocated, s.outstanding, s.queued), (2, 0, 2));
}
