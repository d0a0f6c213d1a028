//! Activation and config.

use super::*;

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
