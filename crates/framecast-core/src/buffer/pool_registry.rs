//! The registry of live [`BufferPool`](super::BufferPool)s, for dashboards
//! and reports: [`live_pools`] lists every pool that still exists with its
//! creation site, configuration and [`PoolStats`].
//!
//! The stats tracer only sees pools that acquire or release while it runs;
//! a leak hunt wants the pools themselves (how many buffers are free, how
//! many were discarded and why), tracer or not. Pools register once, at
//! creation, as a weak reference; nothing here runs per buffer, so the
//! acquire/release cycle stays allocation-free and lock-free of this list.

use std::panic::Location;
use std::sync::{Arc, Mutex, Weak};

use super::pool::PoolShared;
use super::{PoolConfig, PoolStats};
use crate::sync::MutexExt;
use crate::trace::ObjectId;

/// Every pool ever created whose [`PoolShared`] may still exist; dead
/// entries are pruned when a pool registers and when the list is read.
static POOLS: Mutex<Vec<Weak<PoolShared>>> = Mutex::new(Vec::new());

/// One live pool, as [`live_pools`] sees it.
#[derive(Debug, Clone)]
pub struct PoolSnapshot {
    /// The pool's process-unique id (as the tracers name it).
    pub id: ObjectId,
    /// Its name, when its owner gave it one (the pipeline names each pool
    /// it negotiates `<element>:pool:<pad>`).
    pub name: Option<std::sync::Arc<str>>,
    /// Where the pool was created: `BufferPool::new` / `new_video`'s
    /// caller, or for a pool the ALLOCATION decision made,
    /// `AllocationQuery::decide`'s (a base class, for most elements: the
    /// name tells which element).
    pub site: &'static Location<'static>,
    /// Whether this is a video pool.
    pub video: bool,
    /// Whether the pool is active. An inactive pool may still exist while
    /// its last outstanding buffers are out.
    pub active: bool,
    /// The configuration, as edited by the pool; `None` before `set_config`.
    pub config: Option<PoolConfig>,
    /// Its counters, `queued` (free buffers) included.
    pub stats: PoolStats,
}

impl PoolSnapshot {
    /// The most buffers the pool hands out, `None` when unbounded (or not
    /// configured).
    pub fn max_buffers(&self) -> Option<u32> {
        self.config
            .as_ref()
            .map(|c| c.max_buffers)
            .filter(|&m| m != 0)
    }
}

/// Records a new pool. Called once per pool, from its creation.
pub(super) fn register(pool: &Arc<PoolShared>) {
    let mut pools = POOLS.locked();
    pools.retain(|w| w.strong_count() > 0);
    pools.push(Arc::downgrade(pool));
}

/// Every pool alive now, oldest first.
///
/// # Examples
///
/// ```
/// use framecast_core::{buffer::live_pools, BufferPool, PoolConfig};
/// let pool = BufferPool::new();
/// pool.set_config(PoolConfig::new(64, 1, 2)).unwrap();
/// let snap = live_pools().into_iter().find(|p| p.id == pool.id()).unwrap();
/// assert_eq!(snap.max_buffers(), Some(2));
/// assert!(snap.site.file().ends_with(".rs"));
/// ```
pub fn live_pools() -> Vec<PoolSnapshot> {
    let alive: Vec<Arc<PoolShared>> = {
        let mut pools = POOLS.locked();
        pools.retain(|w| w.strong_count() > 0);
        pools.iter().filter_map(Weak::upgrade).collect()
    };
    // Snapshots are taken outside the registry's lock; dropping `alive`
    // may free a pool whose last buffer returned meanwhile, which never
    // touches the registry.
    alive.iter().map(|p| p.snapshot()).collect()
}
