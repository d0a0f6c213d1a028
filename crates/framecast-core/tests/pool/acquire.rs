//! Acquire.

use super::*;

#[test]
fn acquire_blocks_while_max_out_and_wakes_on_return() {
    let pool = active_pool(PoolConfig::new(64, 0, 2));
    let [a, b] = acquire_n(&pool);
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
