//! [`BufferPool`]: buffers of one configuration, recycled whole.
//!
//! A pooled buffer's last drop hands its heap shell — struct, memories,
//! meta storage — back to the pool ([`handle`](super::handle)), which resets
//! it and queues it for the next `acquire`. In steady state acquiring and
//! releasing allocates nothing. Returning buffers that cannot be reused
//! (memory removed or held elsewhere) are discarded, and the reason counted.

use crate::flags::gst_flags;
use crate::sync::{CondvarExt, MutexExt};
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use smallvec::smallvec;

use super::buffer_ref::PoolLink;
use super::handle::BufferBox;
use super::meta::VideoMeta;
use super::pool_registry::PoolSnapshot;
use super::{BufferFlags, BufferRef, PoolConfig};
use crate::memory::{default_allocator, Memory};
use crate::trace::{self, ObjectId, ObjectInfo, ObjectKind};
use crate::video::{VideoAlignment, VideoInfo};
use crate::{Buffer, Error, Result};

gst_flags! {
    /// Flags for [`BufferPool::acquire_with`] (`GstBufferPoolAcquireFlags`).
    pub struct AcquireFlags: u32 {
        /// Hint: the buffer starts a key unit.
        const KEY_UNIT = 1;
        /// Return [`Error::WouldBlock`] at once instead of waiting.
        const DONT_WAIT = 2;
        /// Mark the buffer DISCONT.
        const DISCONT = 4;
    }
}

/// Why a returning buffer was freed instead of reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiscardReason {
    /// A memory was removed, replaced or added.
    MemoryChanged,
    /// A memory is still referenced elsewhere (a clone or a share of it).
    MemoryShared,
}

/// Counters of a pool, readable at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers in existence now (outstanding + queued).
    pub allocated: u32,
    /// Buffers handed out and not yet back.
    pub outstanding: u32,
    /// Buffers queued for reuse.
    pub queued: u32,
    /// Threads blocked in `acquire` now.
    pub waiting: u32,
    /// Buffers allocated over the pool's life.
    pub total_allocated: u64,
    /// Acquires served by a recycled buffer.
    pub reused: u64,
    /// Returns discarded because a memory was changed.
    pub discarded_memory_changed: u64,
    /// Returns discarded because a memory was shared.
    pub discarded_memory_shared: u64,
}

impl PoolStats {
    /// All discards.
    pub fn discarded(&self) -> u64 {
        self.discarded_memory_changed + self.discarded_memory_shared
    }
}

struct PoolState {
    config: Option<PoolConfig>,
    /// The layout buffers are made with (aligned for video pools).
    frame_layout: Option<(VideoInfo, VideoAlignment)>,
    active: bool,
    flushing: bool,
    free: VecDeque<Box<BufferBox>>,
    stats: PoolStats,
    /// What the pool is for, as its owner named it (`h264enc0:pool:src`).
    name: Option<Arc<str>>,
}

impl PoolState {
    /// The counters, `queued` read from the free queue itself.
    fn stats(&self) -> PoolStats {
        PoolStats {
            queued: self.free.len() as u32,
            ..self.stats
        }
    }
}

/// The pool proper. Each of its buffers, queued or outstanding, holds an
/// `Arc` to it, so a returning buffer reaches home without upgrading a weak
/// reference; the cycle through the free queue is broken by [`PoolOwner`].
pub(crate) struct PoolShared {
    id: ObjectId,
    site: &'static Location<'static>,
    video: bool,
    state: Mutex<PoolState>,
    wake: Condvar,
}

/// What user handles share. When the last [`BufferPool`] handle goes, the
/// pool deactivates and frees its queued buffers; outstanding buffers keep
/// [`PoolShared`] alive until they return (and are freed).
struct PoolOwner {
    shared: Arc<PoolShared>,
}

impl Drop for PoolOwner {
    fn drop(&mut self) {
        let drained = {
            let mut state = self.shared.lock();
            state.active = false;
            state.flushing = true;
            let queued = state.free.len() as u32;
            state.stats.allocated = state.stats.allocated.saturating_sub(queued);
            std::mem::take(&mut state.free)
        };
        self.shared.wake.notify_all();
        drop(drained);
    }
}

impl Drop for PoolShared {
    fn drop(&mut self) {
        // Queued buffers are freed with the state; report the pool after them.
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        state.free.clear();
        trace::object_destroyed(self.id, ObjectKind::BufferPool);
    }
}

/// A pool of buffers of one configuration (`GstBufferPool`).
///
/// Configure it while inactive ([`set_config`](Self::set_config)), activate
/// it (`min` buffers are preallocated), then [`acquire`](Self::acquire).
/// Dropping an acquired buffer sends it back. `acquire` blocks while `max`
/// buffers are out; [`AcquireFlags::DONT_WAIT`] returns
/// [`Error::WouldBlock`] instead; an inactive or flushing pool returns
/// [`Error::Flushing`].
///
/// `BufferPool` is a handle: clones share the pool. When the last handle
/// goes, the pool deactivates; an outstanding buffer that returns after that
/// is freed.
///
/// # Examples
///
/// ```
/// use framecast_core::{BufferPool, PoolConfig};
/// let pool = BufferPool::new();
/// pool.set_config(PoolConfig::new(1024, 1, 1)).unwrap();
/// pool.set_active(true).unwrap();
/// let a = pool.acquire().unwrap();
/// let id = a.id();
/// drop(a); // back to the pool
/// assert_eq!(pool.acquire().unwrap().id(), id); // the same buffer again
/// assert_eq!(pool.stats().total_allocated, 1);
/// ```
#[derive(Clone)]
pub struct BufferPool(Arc<PoolOwner>);

impl Default for BufferPool {
    #[track_caller]
    fn default() -> Self {
        Self::create(false, Location::caller())
    }
}

impl BufferPool {
    /// A plain pool. Video options in its config need `layout`.
    #[track_caller]
    #[doc(alias = "gst_buffer_pool_new")]
    pub fn new() -> BufferPool {
        Self::create(false, Location::caller())
    }

    /// A video pool (`GstVideoBufferPool`): its config must carry a frame
    /// layout, and a size at least the frame size.
    #[track_caller]
    #[doc(alias = "gst_video_buffer_pool_new")]
    pub fn new_video() -> BufferPool {
        Self::create(true, Location::caller())
    }

    /// A pool recorded as made at `site` (for makers that pass their own
    /// caller's site on, as the ALLOCATION decision does).
    pub(crate) fn create(video: bool, site: &'static Location<'static>) -> BufferPool {
        let id = ObjectId::next();
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::BufferPool,
            site,
            size: 0,
            parent: None,
            description: if video { "video" } else { "" },
            may_be_leaked: false,
        });
        let shared = Arc::new(PoolShared {
            id,
            site,
            video,
            state: Mutex::new(PoolState {
                config: None,
                frame_layout: None,
                active: false,
                flushing: true,
                free: VecDeque::new(),
                stats: PoolStats::default(),
                name: None,
            }),
            wake: Condvar::new(),
        });
        super::pool_registry::register(&shared);
        BufferPool(Arc::new(PoolOwner { shared }))
    }

    /// The pool's process-unique id.
    pub fn id(&self) -> ObjectId {
        self.0.shared.id
    }

    /// Names the pool after what it serves, as GStreamer's base classes
    /// name theirs (`<element>:pool:<pad>`): the element that negotiated
    /// it, which its creation site (often a base class) does not tell.
    /// Shown by [`live_pools`](super::live_pools) and the dashboard.
    pub fn set_name(&self, name: &str) {
        self.0.shared.lock().name = Some(Arc::from(name));
    }

    /// The pool's name, if it was given one.
    pub fn name(&self) -> Option<Arc<str>> {
        self.0.shared.lock().name.clone()
    }

    /// Whether both handles refer to the same pool.
    pub fn ptr_eq(a: &BufferPool, b: &BufferPool) -> bool {
        Arc::ptr_eq(&a.0.shared, &b.0.shared)
    }

    /// Whether this is a video pool.
    pub fn is_video(&self) -> bool {
        self.0.shared.video
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.0.shared.lock()
    }

    /// The current configuration, as edited by the pool (a video pool raises
    /// the size to the aligned frame size and the alignment to the stride
    /// alignment).
    pub fn config(&self) -> Option<PoolConfig> {
        self.lock().config.clone()
    }

    /// The frame layout buffers are made with (aligned), for video configs.
    pub fn frame_layout(&self) -> Option<VideoInfo> {
        self.lock().frame_layout.map(|(info, _)| info)
    }

    /// Whether the pool is active.
    pub fn is_active(&self) -> bool {
        self.lock().active
    }

    /// Counters.
    pub fn stats(&self) -> PoolStats {
        self.lock().stats()
    }

    /// Sets the configuration. Only while inactive with no buffer out —
    /// except that re-setting the current config is always accepted. A
    /// config the pool cannot use is rejected with
    /// [`Error::PoolConfigRejected`], carrying a corrected config when one
    /// can be computed (e.g. the frame size for a too-small video size).
    #[doc(alias = "gst_buffer_pool_set_config")]
    pub fn set_config(&self, config: PoolConfig) -> Result<()> {
        let mut state = self.lock();
        if state.config.as_ref() == Some(&config) {
            return Ok(());
        }
        if state.active {
            return Err(Error::PoolActive(
                "deactivate the pool before changing its config",
            ));
        }
        if state.stats.outstanding > 0 {
            return Err(Error::PoolActive(
                "buffers from the old config are still outstanding",
            ));
        }
        let (config, layout) = self.edit_config(config)?;
        state.config = Some(config);
        state.frame_layout = layout;
        Ok(())
    }

    fn edit_config(
        &self,
        mut config: PoolConfig,
    ) -> Result<(PoolConfig, Option<(VideoInfo, VideoAlignment)>)> {
        let reject = |reason: String, suggested: Option<PoolConfig>| Error::PoolConfigRejected {
            reason,
            suggested: suggested.map(Box::new),
        };
        if config.max_buffers != 0 && config.min_buffers > config.max_buffers {
            let suggested = PoolConfig {
                max_buffers: config.min_buffers,
                ..config.clone()
            };
            return Err(reject(
                format!(
                    "min_buffers {} > max_buffers {}",
                    config.min_buffers, config.max_buffers
                ),
                Some(suggested),
            ));
        }
        config.params.effective_align()?;
        let needs_layout =
            self.0.shared.video || config.video_meta || config.video_alignment.is_some();
        let Some(info) = config.layout else {
            if needs_layout {
                return Err(reject(
                    "a video pool needs a frame layout (caps)".into(),
                    None,
                ));
            }
            return Ok((config, None));
        };
        if config.size < info.size {
            let suggested = PoolConfig {
                size: info.size,
                ..config.clone()
            };
            return Err(reject(
                format!(
                    "size {} is smaller than one {}x{} {} frame ({} bytes)",
                    config.size, info.width, info.height, info.format, info.size
                ),
                Some(suggested),
            ));
        }
        let mut aligned = info;
        let mut alignment = VideoAlignment::default();
        if config.video_meta {
            if let Some(requested) = config.video_alignment {
                // As GstVideoBufferPool: every plane's stride alignment also
                // honours the allocation alignment, and the allocation is
                // aligned as strictly as the strictest stride.
                alignment = requested;
                for align in alignment.stride_align.iter_mut() {
                    *align |= config.params.align as u32;
                }
                aligned.align(&mut alignment)?;
                let max_align =
                    alignment.stride_align.iter().fold(0u32, |acc, &a| acc | a) as usize;
                config.params.align = config.params.align.max(max_align);
                config.video_alignment = Some(alignment);
                config.size = config.size.max(aligned.size);
            }
        }
        Ok((config, Some((aligned, alignment))))
    }

    /// Activates (preallocating `min_buffers`) or deactivates the pool.
    /// Deactivating makes acquires fail with [`Error::Flushing`], wakes
    /// blocked acquirers, and frees the buffers as soon as all are back.
    #[track_caller]
    #[doc(alias = "gst_buffer_pool_set_active")]
    pub fn set_active(&self, active: bool) -> Result<()> {
        let site = Location::caller();
        let mut state = self.lock();
        if state.active == active {
            return Ok(());
        }
        if active {
            let config = state.config.clone().ok_or(Error::PoolNotConfigured)?;
            let reserve = config.max_buffers.max(config.min_buffers) as usize;
            state.free.reserve(reserve);
            let mut made = Vec::with_capacity(config.min_buffers as usize);
            for _ in 0..config.min_buffers {
                match self
                    .0
                    .shared
                    .alloc_buffer(&config, state.frame_layout, site)
                {
                    Ok(b) => made.push(b),
                    Err(e) => {
                        drop(state);
                        drop(made);
                        return Err(e);
                    }
                }
            }
            state.stats.allocated += made.len() as u32;
            state.stats.total_allocated += made.len() as u64;
            state.free.extend(made);
            state.active = true;
            state.flushing = false;
            Ok(())
        } else {
            state.active = false;
            state.flushing = true;
            self.0.shared.wake.notify_all();
            let drained = if state.stats.outstanding == 0 {
                state.stats.allocated = 0;
                std::mem::take(&mut state.free)
            } else {
                VecDeque::new()
            };
            drop(state);
            drop(drained);
            Ok(())
        }
    }

    /// Starts or stops flushing: while flushing, acquires fail with
    /// [`Error::Flushing`] and blocked ones wake up. Ignored on an inactive pool.
    #[doc(alias = "gst_buffer_pool_set_flushing")]
    pub fn set_flushing(&self, flushing: bool) {
        let mut state = self.lock();
        if !state.active {
            return;
        }
        state.flushing = flushing;
        if flushing {
            self.0.shared.wake.notify_all();
        }
    }

    /// A buffer from the pool, waiting while `max_buffers` are out.
    #[track_caller]
    #[doc(alias = "gst_buffer_pool_acquire_buffer")]
    pub fn acquire(&self) -> Result<Buffer> {
        self.acquire_at(AcquireFlags::empty(), Location::caller())
    }

    /// A buffer from the pool, with flags (`DONT_WAIT`, `DISCONT`, …).
    #[track_caller]
    pub fn acquire_with(&self, flags: AcquireFlags) -> Result<Buffer> {
        self.acquire_at(flags, Location::caller())
    }

    fn acquire_at(&self, flags: AcquireFlags, site: &'static Location<'static>) -> Result<Buffer> {
        let mut state = self.lock();
        let boxed = loop {
            if !state.active || state.flushing {
                return Err(Error::Flushing);
            }
            if let Some(boxed) = state.free.pop_front() {
                state.stats.reused += 1;
                break boxed;
            }
            let Some(max) = state.config.as_ref().map(|c| c.max_buffers) else {
                return Err(Error::PoolNotConfigured);
            };
            if max == 0 || state.stats.allocated < max {
                // Reserve the slot, allocate without holding the lock.
                state.stats.allocated += 1;
                state.stats.total_allocated += 1;
                let needed = state.stats.allocated as usize;
                if state.free.capacity() < needed {
                    let extra = needed - state.free.len();
                    state.free.reserve(extra);
                }
                let Some(config) = state.config.clone() else {
                    return Err(Error::PoolNotConfigured);
                };
                let layout = state.frame_layout;
                drop(state);
                let made = self.0.shared.alloc_buffer(&config, layout, site);
                state = self.lock();
                match made {
                    Ok(boxed) if state.active && !state.flushing => break boxed,
                    Ok(boxed) => {
                        // Deactivated or flushing while we allocated.
                        state.stats.allocated -= 1;
                        drop(state);
                        drop(boxed);
                        return Err(Error::Flushing);
                    }
                    Err(e) => {
                        state.stats.allocated -= 1;
                        self.0.shared.wake.notify_one();
                        return Err(e);
                    }
                }
            }
            if flags.contains(AcquireFlags::DONT_WAIT) {
                return Err(Error::WouldBlock { max });
            }
            state.stats.waiting += 1;
            state = self.0.shared.wake.wait_locked(state);
            state.stats.waiting -= 1;
        };
        state.stats.outstanding += 1;
        drop(state);
        let mut buffer = Buffer::from_box(boxed);
        trace::pool_acquired_at(self.0.shared.id, buffer.id(), site);
        if flags.contains(AcquireFlags::DISCONT) {
            if let Some(b) = buffer.get_mut() {
                b.set_flags(BufferFlags::DISCONT);
            }
        }
        Ok(buffer)
    }
}

impl PoolShared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.locked()
    }

    /// What [`live_pools`](super::live_pools) reports of this pool.
    pub(super) fn snapshot(&self) -> PoolSnapshot {
        let state = self.lock();
        PoolSnapshot {
            id: self.id,
            name: state.name.clone(),
            site: self.site,
            video: self.video,
            active: state.active,
            config: state.config.clone(),
            stats: state.stats(),
        }
    }

    fn alloc_buffer(
        self: &Arc<Self>,
        config: &PoolConfig,
        layout: Option<(VideoInfo, VideoAlignment)>,
        site: &'static Location<'static>,
    ) -> Result<Box<BufferBox>> {
        let allocator = config.allocator.clone().unwrap_or_else(default_allocator);
        let memory = Memory::alloc_from(&allocator, config.size, &config.params)?;
        let mut buf = BufferRef::new(site, Some(self.id));
        buf.pool = Some(PoolLink {
            home: self.clone(),
            pool_id: self.id,
            layout: smallvec![(memory.id(), memory.offset(), memory.size())],
        });
        buf.push_memory_untracked(memory);
        if config.video_meta {
            if let Some((info, alignment)) = layout {
                buf.add_meta(VideoMeta::from_info(&info, alignment));
            }
        }
        buf.metas_list_mut().mark_pooled();
        Ok(BufferBox::new(buf))
    }

    /// Takes back a buffer whose last handle was dropped; frees it instead
    /// when it cannot be reused or the pool is inactive.
    pub(crate) fn release(mut boxed: Box<BufferBox>) {
        let Some(link) = boxed.buf.pool.as_ref() else {
            drop(boxed);
            return;
        };
        // SAFETY: the PoolShared is kept alive by the Arc in the buffer's own
        // pool link. `pool` is used only (a) while this function owns
        // `boxed`, or (b) after `boxed` moved into `pool.free`, while the
        // pool's lock is held — nobody can take it out before we unlock, and
        // we touch `pool` no more after unlocking. Freed boxes (whose Arc may
        // be the last) are dropped only after the last use. The one window
        // left is the unlock itself: once the lock is released another
        // thread may free the pool while `MutexGuard::drop` finishes — the
        // pattern of std's own `Arc::drop` (rust-lang/rust#55005), sound
        // because `PoolShared` holds `UnsafeCell`s and so `&PoolShared` is
        // not assumed dereferenceable for the whole call. Measured: this
        // saves the Arc clone/drop pair, ~15 ns of a ~65 ns pool cycle.
        let pool: &PoolShared = unsafe { &*Arc::as_ptr(&link.home) };
        trace::pool_released(pool.id, boxed.buf.id());
        // Reset outside the lock: dropping metas may drop other buffers,
        // which may come back to this very pool.
        let verdict = boxed.buf.reset_for_pool();
        let mut state = pool.lock();
        state.stats.outstanding = state.stats.outstanding.saturating_sub(1);
        let mut freed = None;
        match verdict {
            Ok(()) if state.active => state.free.push_back(boxed),
            Ok(()) => {
                state.stats.allocated = state.stats.allocated.saturating_sub(1);
                freed = Some(boxed);
            }
            Err(reason) => {
                state.stats.allocated = state.stats.allocated.saturating_sub(1);
                match reason {
                    DiscardReason::MemoryChanged => state.stats.discarded_memory_changed += 1,
                    DiscardReason::MemoryShared => state.stats.discarded_memory_shared += 1,
                }
                freed = Some(boxed);
            }
        }
        let drained = if !state.active && state.stats.outstanding == 0 {
            let queued = state.free.len() as u32;
            state.stats.allocated = state.stats.allocated.saturating_sub(queued);
            std::mem::take(&mut state.free)
        } else {
            VecDeque::new()
        };
        if state.stats.waiting > 0 {
            pool.wake.notify_one();
        }
        drop(state);
        // `pool` is not used past this point: these drops may free it.
        drop(freed);
        drop(drained);
    }
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("BufferPool")
            .field("id", &self.0.shared.id)
            .field("video", &self.0.shared.video)
            .field("active", &state.active)
            .field("config", &state.config)
            .field("stats", &state.stats)
            .finish()
    }
}
