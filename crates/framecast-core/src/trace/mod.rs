//! Lifecycle tracing: the hooks every tracked object reports to.
//!
//! Every [`Memory`](crate::Memory), [`Buffer`](crate::Buffer) and
//! [`BufferPool`](crate::BufferPool) (and, in the `framecast` crate, every
//! element and pad) has an [`ObjectId`] and reports its creation — with the
//! `#[track_caller]` site that created it — and its destruction here. Tracers
//! ([`Tracer`]) plug into these hooks at run time.
//!
//! # Cost
//!
//! While no tracer wants an event, reporting it costs one relaxed atomic load
//! of [`interests`] and a predictable branch: the event's details are built
//! inside a closure that never runs. That is why hooks take closures.
//!
//! # Hooks
//!
//! | hook | fired when |
//! |---|---|
//! | [`object_created`] / [`object_destroyed`] | an object is made / freed |
//! | [`object_labelled`] | a named object (element, pad, pipeline) says its name, or where a foreign caller made it |
//! | [`object_reffed`] / [`object_unreffed`] | a handle is cloned / dropped (not the last) |
//! | [`object_linked`] / [`object_unlinked`] | a child (memory) joins / leaves a parent (buffer) |
//! | [`object_annotated`] | a note is attached (a meta added to a buffer) |
//! | [`pool_acquired`] / [`pool_released`] | a pool hands out / takes back a buffer |
//! | [`pad_push_pre`] / [`pad_push_post`] | a buffer crosses a pad (pipeline) |
//! | [`element_processed`] | an element finished handling one buffer |
//! | [`pool_acquired_at`] | as [`pool_acquired`], with the acquiring call site |
//! | [`queue_level`] / [`queue_dropped`] | a queue's fill changed / it dropped buffers |
//!
//! # Tracers
//!
//! Three tracers come built in, switched on by `FRAMECAST_TRACERS` (read by
//! [`init`], which `framecast::init()` calls, or else by the process's first
//! traced event) or at run time by [`start`]:
//!
//! - [`leaks`](leaks/index.html) ([`LeaksTracer`]): live objects with their
//!   creation sites, grouped, nested (memories under their buffer), checked
//!   at [`deinit`]; snapshots and checkpoints on demand or on
//!   SIGUSR1/SIGUSR2. Reach the active one with [`leaks()`].
//! - [`latency`](latency/index.html) ([`LatencyTracer`]): source-to-element
//!   latency and per-element processing time, with percentiles. [`latency()`].
//! - [`stats`](stats/index.html) ([`StatsTracer`]): buffers and bytes per pad,
//!   pool, queue and object counts. [`stats()`].
//!
//! ```text
//! FRAMECAST_TRACERS='leaks(filters=Buffer,BufferPool,stack-traces=true,check-refs=true,output=/tmp/leaks.json,fatal=true);latency;stats'
//! ```
//!
//! Your own tracer implements [`Tracer`]; activate an instance with
//! [`add_tracer`], or make it nameable in specs with [`register_tracer`].

mod clock;
mod control;
mod histogram;
mod id;
mod json;
pub mod latency;
pub mod leaks;
mod signals;
mod spec;
pub mod stats;

pub use control::{
    build, deinit, init, register_tracer, registered_tracers, start, stop, TracerFactory,
    LEAKS_SIGNALS_ENV, TRACERS_ENV,
};
pub use histogram::{Histogram, Summary, BINS, BIN_BOUNDS};
pub use id::ObjectId;
pub use latency::{LatencySummary, LatencyTracer};
pub use leaks::{Checkpoint, LeakReport, LeaksConfig, LeaksTracer, LiveObject};
pub use spec::{parse as parse_spec, TracerParams, TracerSpec};
pub use stats::{StatsSummary, StatsTracer};

use crate::sync::MutexExt;
use std::cell::RefCell;
use std::panic::Location;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::ClockTime;

/// A creation or reference site, from `#[track_caller]`.
pub type Site = &'static Location<'static>;

bitflags::bitflags! {
    /// The families of events a tracer wants. The union over all active
    /// tracers is kept in one atomic, read (relaxed) before every event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Interest: u32 {
        /// Creation and destruction.
        const LIFECYCLE = 1 << 0;
        /// Handle clones and drops (costly: one event per clone/drop).
        const REFS = 1 << 1;
        /// Parent/child links (memory in buffer) and annotations (metas).
        const LINKS = 1 << 2;
        /// Pool acquire and release.
        const POOL = 1 << 3;
        /// Buffers crossing pads.
        const PADS = 1 << 4;
        /// Element processing times.
        const ELEMENTS = 1 << 5;
        /// Queue levels and drops.
        const QUEUES = 1 << 6;
    }
}

/// What kind of object an event is about. The name is what reports and
/// filters use (`filters=Buffer,BufferPool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A [`Memory`](crate::Memory).
    Memory,
    /// A [`Buffer`](crate::Buffer).
    Buffer,
    /// A [`BufferPool`](crate::BufferPool).
    BufferPool,
    /// An allocator.
    Allocator,
    /// A pipeline element.
    Element,
    /// A pad of an element.
    Pad,
    /// Any other type, named.
    Other(&'static str),
}

impl ObjectKind {
    /// Every kind but [`ObjectKind::Other`], in declaration order: the
    /// kinds tracers count and filter by a bit of their own.
    pub const BUILTIN: [ObjectKind; 6] = [
        ObjectKind::Memory,
        ObjectKind::Buffer,
        ObjectKind::BufferPool,
        ObjectKind::Allocator,
        ObjectKind::Element,
        ObjectKind::Pad,
    ];

    /// The type name used in reports and filters.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Memory => "Memory",
            ObjectKind::Buffer => "Buffer",
            ObjectKind::BufferPool => "BufferPool",
            ObjectKind::Allocator => "Allocator",
            ObjectKind::Element => "Element",
            ObjectKind::Pad => "Pad",
            ObjectKind::Other(name) => name,
        }
    }
}

/// Everything known about an object when it is created.
#[derive(Debug, Clone, Copy)]
pub struct ObjectInfo {
    /// Its id.
    pub id: ObjectId,
    /// Its kind.
    pub kind: ObjectKind,
    /// Where it was created (`#[track_caller]`).
    pub site: Site,
    /// Bytes it holds (a memory's maxsize; 0 for containers).
    pub size: usize,
    /// The object it belongs to: a share's root memory, a pooled buffer's
    /// pool, a pad's element.
    pub parent: Option<ObjectId>,
    /// A short description (allocator name, element name); `""` if none.
    pub description: &'static str,
    /// Intentionally long-lived (registered allocators, factories): never
    /// reported as a leak. GStreamer's `MAY_BE_LEAKED` flag.
    pub may_be_leaked: bool,
}

/// What only named objects add to their [`ObjectInfo`]: an instance name
/// (`leaked-bin`, `videoconvert0`, `src`) and, for an object made on behalf
/// of code outside Rust (a Python `framecast.Sender(...)`), where that code
/// made it (`leak.py:10`), since its `#[track_caller]` site can only point
/// into the bindings. Borrowed: a tracer copies what it keeps, so objects
/// without a label (buffers, memories) cost nothing, and a label costs only
/// while a tracer listens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectLabel<'a> {
    /// The instance name; `""` if none.
    pub name: &'a str,
    /// The foreign caller's `file:line`, if a foreign caller made it.
    pub origin: Option<&'a str>,
}

/// A buffer crossing a pad, for the latency and stats tracers.
#[derive(Debug, Clone, Copy)]
pub struct PadPush<'a> {
    /// The pad pushing (a source pad).
    pub pad: ObjectId,
    /// `element:pad` name of the pushing pad.
    pub pad_name: &'a str,
    /// The element that owns the peer pad (receives the buffer).
    pub peer_element: &'a str,
    /// The buffer's id.
    pub buffer: ObjectId,
    /// The buffer's size in bytes.
    pub size: usize,
    /// The buffer's presentation timestamp.
    pub pts: Option<ClockTime>,
    /// The source time stamped on the buffer (reference timestamp), if any.
    pub source_time: Option<ClockTime>,
}

/// A queue's fill, reported when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueLevel {
    /// Buffers queued.
    pub buffers: usize,
    /// Bytes queued.
    pub bytes: usize,
    /// Capacity in buffers.
    pub max_buffers: usize,
}

/// A plug-in to the lifecycle hooks. Every method has an empty default, so a
/// tracer implements only what it uses and says so in [`Tracer::interests`].
///
/// Methods are called on whatever thread the event happens on, possibly many
/// at once: keep them short and lock-light.
pub trait Tracer: Send + Sync + 'static {
    /// Instance name (`leaks`, `latency`, or a user name).
    fn name(&self) -> &str;
    /// Which event families this tracer wants.
    fn interests(&self) -> Interest;
    /// An object was created.
    fn object_created(&self, _info: &ObjectInfo) {}
    /// A created object's name, or its foreign origin, is known (right after
    /// [`object_created`](Tracer::object_created), or when it changes).
    fn object_labelled(&self, _id: ObjectId, _kind: ObjectKind, _label: &ObjectLabel<'_>) {}
    /// An object was destroyed.
    fn object_destroyed(&self, _id: ObjectId, _kind: ObjectKind) {}
    /// A handle to the object was cloned at `site`.
    fn object_reffed(&self, _id: ObjectId, _kind: ObjectKind, _site: Site) {}
    /// A handle to the object was dropped (not the last one).
    fn object_unreffed(&self, _id: ObjectId, _kind: ObjectKind) {}
    /// `child` now belongs to `parent` (a memory appended to a buffer).
    fn object_linked(&self, _child: ObjectId, _parent: ObjectId) {}
    /// `child` left `parent`.
    fn object_unlinked(&self, _child: ObjectId, _parent: ObjectId) {}
    /// A note was attached to the object (a meta API name on a buffer).
    fn object_annotated(&self, _id: ObjectId, _note: &'static str) {}
    /// A pool handed a buffer out.
    fn pool_acquired(&self, _pool: ObjectId, _buffer: ObjectId) {}
    /// A pool handed a buffer out to the code at `site`. The default
    /// forwards to [`pool_acquired`](Tracer::pool_acquired), so tracers
    /// that do not care about the site implement only that.
    fn pool_acquired_at(&self, pool: ObjectId, buffer: ObjectId, _site: Site) {
        self.pool_acquired(pool, buffer)
    }
    /// A buffer came back to its pool.
    fn pool_released(&self, _pool: ObjectId, _buffer: ObjectId) {}
    /// A buffer is about to be pushed through a pad.
    fn pad_push_pre(&self, _push: &PadPush<'_>) {}
    /// The push returned, after `elapsed`.
    fn pad_push_post(&self, _push: &PadPush<'_>, _elapsed: Duration) {}
    /// An element finished processing one buffer in `elapsed`.
    fn element_processed(&self, _element: ObjectId, _name: &str, _elapsed: Duration) {}
    /// A queue's fill changed.
    fn queue_level(&self, _queue: ObjectId, _name: &str, _level: QueueLevel) {}
    /// A queue dropped `dropped` buffers (its policy: oldest or newest).
    fn queue_dropped(&self, _queue: ObjectId, _name: &str, _dropped: u64) {}
    /// Tracing ends: write final reports. Returns `false` when the tracer
    /// judged the run a failure (the leaks tracer with `fatal=true`).
    fn finish(&self) -> bool {
        true
    }
}

/// Prints the instance name and interests, so lists of active tracers can
/// be debugged and `Result`s holding them unwrapped.
impl std::fmt::Debug for dyn Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("name", &self.name())
            .field("interests", &self.interests())
            .finish()
    }
}

/// An active tracer with the interests it declared when added (read once,
/// so dispatch makes no virtual call to ask again).
type Entry = (Interest, Arc<dyn Tracer>);
type List = Arc<Vec<Entry>>;

/// Set in [`INTERESTS`] until the first event (or [`init`]) has read
/// `FRAMECAST_TRACERS`: tracing starts lazily, from the first tracked object,
/// in every program that uses framecast, whether or not it calls
/// `framecast::init()` (examples, tests, a library user's own `main`). Being
/// a bit of the same atomic, it costs no extra load on the hot path.
const PENDING_INIT: u32 = 1 << 31;

static INTERESTS: AtomicU32 = AtomicU32::new(PENDING_INIT);
/// The active tracers. Changed under its lock; readers use [`CACHE`].
static TRACERS: Mutex<Option<List>> = Mutex::new(None);
/// Bumped after every change of [`TRACERS`].
static GENERATION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Each thread's copy of the tracer list and the generation it was
    /// taken at. Dispatching compares one shared, read-mostly counter and
    /// then iterates this copy: no atomic read-modify-write per event (an
    /// `ArcSwap` load costs one), which matters when two threads fire
    /// events for the same objects. A thread keeps a removed tracer's `Arc`
    /// until its next event or its exit; it never calls it again.
    static CACHE: RefCell<(u64, Option<List>)> = const { RefCell::new((0, None)) };
}

fn lock_tracers() -> std::sync::MutexGuard<'static, Option<List>> {
    TRACERS.locked()
}

fn current() -> Option<List> {
    lock_tracers().clone()
}

/// The union of the active tracers' interests. One relaxed load.
#[inline(always)]
pub fn interests() -> Interest {
    let mut bits = INTERESTS.load(Ordering::Relaxed);
    if bits & PENDING_INIT != 0 {
        init_from_first_event();
        bits = INTERESTS.load(Ordering::Acquire);
    }
    Interest::from_bits_truncate(bits)
}

#[inline(always)]
fn wants(interest: Interest) -> bool {
    let bits = INTERESTS.load(Ordering::Relaxed);
    if bits & (interest.bits() | PENDING_INIT) == 0 {
        return false;
    }
    bits & PENDING_INIT == 0 || first_event_wants(interest)
}

/// The first event of the process: reads `FRAMECAST_TRACERS` (and starts
/// the SIGUSR1/SIGUSR2 watcher), then answers for the event.
#[cold]
#[inline(never)]
fn first_event_wants(interest: Interest) -> bool {
    init_from_first_event();
    INTERESTS.load(Ordering::Acquire) & interest.bits() != 0
}

/// Clears [`PENDING_INIT`] and, on the thread that cleared it, runs
/// [`init`]. Cleared first, so the objects `init` itself may make do not
/// come back here; other threads' events in that instant go untraced.
#[cold]
#[inline(never)]
fn init_from_first_event() {
    if INTERESTS.fetch_and(!PENDING_INIT, Ordering::AcqRel) & PENDING_INIT == 0 {
        return;
    }
    if let Err(e) = control::init() {
        // Nobody to return it to: say it; an explicit `framecast::init()`
        // reads the variable again and returns the error.
        log_text(&format!("framecast: {TRACERS_ENV}: {e}\n"));
    }
}

/// Marks the environment as read: [`init`] ran (explicitly or lazily).
fn init_done() {
    INTERESTS.fetch_and(!PENDING_INIT, Ordering::AcqRel);
}

/// Activates a tracer. Several tracers (and several instances of one) may be
/// active at once. Its [`interests`](Tracer::interests) are read now, once.
pub fn add_tracer(tracer: Arc<dyn Tracer>) {
    let mut guard = lock_tracers();
    let mut list: Vec<Entry> = guard.as_deref().cloned().unwrap_or_default();
    list.push((tracer.interests(), tracer));
    store(&mut guard, list);
}

/// Deactivates every tracer with this instance name and returns them.
pub fn remove_tracer(name: &str) -> Vec<Arc<dyn Tracer>> {
    let mut guard = lock_tracers();
    let (removed, kept): (Vec<Entry>, Vec<Entry>) = guard
        .as_deref()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .partition(|(_, t)| t.name() == name);
    store(&mut guard, kept);
    removed.into_iter().map(|(_, t)| t).collect()
}

/// Deactivates every tracer and returns them (in activation order).
pub fn remove_all_tracers() -> Vec<Arc<dyn Tracer>> {
    let mut guard = lock_tracers();
    let all = guard.as_deref().cloned().unwrap_or_default();
    store(&mut guard, Vec::new());
    all.into_iter().map(|(_, t)| t).collect()
}

/// The active tracers, in activation order.
pub fn active_tracers() -> Vec<Arc<dyn Tracer>> {
    current()
        .map(|l| l.iter().map(|(_, t)| Arc::clone(t)).collect())
        .unwrap_or_default()
}

fn store(guard: &mut Option<List>, list: Vec<Entry>) {
    let union = list.iter().fold(Interest::empty(), |acc, (i, _)| acc | *i);
    *guard = Some(Arc::new(list));
    GENERATION.fetch_add(1, Ordering::Release);
    // Keeps PENDING_INIT as it is: activating a tracer by hand does not
    // count as reading the environment.
    let _ = INTERESTS.fetch_update(Ordering::AcqRel, Ordering::Relaxed, |bits| {
        Some(union.bits() | (bits & PENDING_INIT))
    });
}

#[inline(never)]
#[cold]
fn dispatch(interest: Interest, f: impl Fn(&dyn Tracer)) {
    let generation = GENERATION.load(Ordering::Acquire);
    let done = CACHE
        .try_with(|cell| {
            let stale = cell.try_borrow().map(|c| c.0 != generation).unwrap_or(true);
            if stale {
                // Refresh, unless a hook further up this thread's stack is
                // iterating the copy (a tracer that made an object).
                let Ok(mut c) = cell.try_borrow_mut() else {
                    return false;
                };
                *c = (generation, current());
            }
            let Ok(c) = cell.try_borrow() else {
                return false;
            };
            if c.0 != generation {
                return false;
            }
            for (wants, tracer) in c.1.iter().flat_map(|l| l.iter()) {
                if wants.intersects(interest) {
                    f(tracer.as_ref());
                }
            }
            true
        })
        .unwrap_or(false);
    if !done {
        // Thread-local storage is gone (thread exit) or busy: use the list.
        for (wants, tracer) in current().iter().flat_map(|l| l.iter()) {
            if wants.intersects(interest) {
                f(tracer.as_ref());
            }
        }
    }
}

/// Reports a creation. `info` runs only when a tracer listens.
#[inline(always)]
pub fn object_created(info: impl FnOnce() -> ObjectInfo) {
    if wants(Interest::LIFECYCLE) {
        let info = info();
        dispatch(Interest::LIFECYCLE, |t| t.object_created(&info));
    }
}

/// Reports a created object's label (its instance name, or the foreign
/// caller that made it). `label` runs only when a tracer listens.
#[inline(always)]
pub fn object_labelled<'a>(
    id: ObjectId,
    kind: ObjectKind,
    label: impl FnOnce() -> ObjectLabel<'a>,
) {
    if wants(Interest::LIFECYCLE) {
        let label = label();
        dispatch(Interest::LIFECYCLE, |t| t.object_labelled(id, kind, &label));
    }
}

/// Reports a destruction.
#[inline(always)]
pub fn object_destroyed(id: ObjectId, kind: ObjectKind) {
    if wants(Interest::LIFECYCLE) {
        dispatch(Interest::LIFECYCLE, |t| t.object_destroyed(id, kind));
    }
}

/// Reports a handle clone at `site`.
#[inline(always)]
pub fn object_reffed(id: ObjectId, kind: ObjectKind, site: Site) {
    if wants(Interest::REFS) {
        dispatch(Interest::REFS, |t| t.object_reffed(id, kind, site));
    }
}

/// Reports a handle drop that was not the last.
#[inline(always)]
pub fn object_unreffed(id: ObjectId, kind: ObjectKind) {
    if wants(Interest::REFS) {
        dispatch(Interest::REFS, |t| t.object_unreffed(id, kind));
    }
}

/// Reports that `child` joined `parent`.
#[inline(always)]
pub fn object_linked(child: ObjectId, parent: ObjectId) {
    if wants(Interest::LINKS) {
        dispatch(Interest::LINKS, |t| t.object_linked(child, parent));
    }
}

/// Reports that `child` left `parent`.
#[inline(always)]
pub fn object_unlinked(child: ObjectId, parent: ObjectId) {
    if wants(Interest::LINKS) {
        dispatch(Interest::LINKS, |t| t.object_unlinked(child, parent));
    }
}

/// Attaches a note (a meta API name) to an object.
#[inline(always)]
pub fn object_annotated(id: ObjectId, note: &'static str) {
    if wants(Interest::LINKS) {
        dispatch(Interest::LINKS, |t| t.object_annotated(id, note));
    }
}

/// Reports a pool handing out a buffer.
#[inline(always)]
pub fn pool_acquired(pool: ObjectId, buffer: ObjectId) {
    if wants(Interest::POOL) {
        dispatch(Interest::POOL, |t| t.pool_acquired(pool, buffer));
    }
}

/// Reports a pool handing out a buffer to the code at `site` (the caller of
/// `acquire`, from `#[track_caller]`): the leaks tracer shows it for a
/// pooled buffer that was never given back. Use this or [`pool_acquired`],
/// not both.
#[inline(always)]
pub fn pool_acquired_at(pool: ObjectId, buffer: ObjectId, site: Site) {
    if wants(Interest::POOL) {
        dispatch(Interest::POOL, |t| t.pool_acquired_at(pool, buffer, site));
    }
}

/// Reports a buffer returning to its pool.
#[inline(always)]
pub fn pool_released(pool: ObjectId, buffer: ObjectId) {
    if wants(Interest::POOL) {
        dispatch(Interest::POOL, |t| t.pool_released(pool, buffer));
    }
}

/// Reports a buffer about to cross a pad. `push` runs only when a tracer listens.
#[inline(always)]
pub fn pad_push_pre<'a>(push: impl FnOnce() -> PadPush<'a>) {
    if wants(Interest::PADS) {
        let push = push();
        dispatch(Interest::PADS, |t| t.pad_push_pre(&push));
    }
}

/// Reports a push returning after `elapsed`.
#[inline(always)]
pub fn pad_push_post<'a>(push: impl FnOnce() -> PadPush<'a>, elapsed: Duration) {
    if wants(Interest::PADS) {
        let push = push();
        dispatch(Interest::PADS, |t| t.pad_push_post(&push, elapsed));
    }
}

/// Reports an element's processing time for one buffer.
#[inline(always)]
pub fn element_processed(element: ObjectId, name: &str, elapsed: Duration) {
    if wants(Interest::ELEMENTS) {
        dispatch(Interest::ELEMENTS, |t| {
            t.element_processed(element, name, elapsed)
        });
    }
}

/// Reports a queue's fill. `level` runs only when a tracer listens.
#[inline(always)]
pub fn queue_level(queue: ObjectId, name: &str, level: impl FnOnce() -> QueueLevel) {
    if wants(Interest::QUEUES) {
        let level = level();
        dispatch(Interest::QUEUES, |t| t.queue_level(queue, name, level));
    }
}

/// Reports buffers dropped by a queue's policy.
#[inline(always)]
pub fn queue_dropped(queue: ObjectId, name: &str, dropped: u64) {
    if wants(Interest::QUEUES) {
        dispatch(Interest::QUEUES, |t| t.queue_dropped(queue, name, dropped));
    }
}

/// Whether a tracer records handle clones and drops ([`Interest::REFS`]):
/// lets a handle's `Drop` skip reading its reference count when nobody
/// listens.
#[inline(always)]
pub fn refs_wanted() -> bool {
    wants(Interest::REFS)
}

/// Whether pad and element timing is wanted: lets callers skip reading the
/// clock when nobody listens.
#[inline(always)]
pub fn timing_wanted() -> bool {
    wants(Interest::PADS | Interest::ELEMENTS)
}

/// The first active leaks tracer, for its run-time API
/// ([`live_objects`](LeaksTracer::live_objects),
/// [`log_live_objects`](LeaksTracer::log_live_objects),
/// [`activity_start_tracking`](LeaksTracer::activity_start_tracking),
/// [`activity_checkpoint`](LeaksTracer::activity_checkpoint),
/// [`activity_log_checkpoint`](LeaksTracer::activity_log_checkpoint),
/// [`activity_stop_tracking`](LeaksTracer::activity_stop_tracking)) —
/// GStreamer's action signals as methods. `None` when none is active.
///
/// ```
/// use framecast_core::trace;
///
/// trace::start("leaks(name=doc-leaks,filters=Pad)").unwrap();
/// let leaks = trace::leaks_named("doc-leaks").unwrap();
/// leaks.activity_start_tracking().unwrap();
/// let checkpoint = leaks.activity_checkpoint().unwrap();
/// assert!(checkpoint.is_empty());
/// assert!(trace::stop("doc-leaks"));
/// ```
pub fn leaks() -> Option<Arc<LeaksTracer>> {
    leaks::active().into_iter().next()
}

/// The active leaks tracer with instance name `name` (`leaks(name=...)`).
pub fn leaks_named(name: &str) -> Option<Arc<LeaksTracer>> {
    leaks::active()
        .into_iter()
        .find(|l| Tracer::name(l.as_ref()) == name)
}

/// The first active latency tracer, for its on-demand
/// [`summary`](LatencyTracer::summary).
pub fn latency() -> Option<Arc<LatencyTracer>> {
    latency::active().into_iter().next()
}

/// The first active stats tracer, for its on-demand
/// [`summary`](StatsTracer::summary).
pub fn stats() -> Option<Arc<StatsTracer>> {
    stats::active().into_iter().next()
}

/// Starts the SIGUSR1/SIGUSR2 watcher for leaks tracers activated with
/// [`add_tracer`] rather than a spec (a spec starts it itself when
/// `FRAMECAST_LEAKS_TRACER_SIG` is set). Stopped by [`deinit`].
pub fn enable_leaks_signals() {
    signals::start();
}

/// Whether the SIGUSR1/SIGUSR2 watcher is running.
pub fn leaks_signals_enabled() -> bool {
    signals::running()
}

/// Writes tracer output to stderr. Errors are ignored (a closed stderr must
/// not take the traced program down, so no `eprint!`, which panics on
/// failure); in this crate's unit tests it goes through `eprint!` so the
/// test harness captures it.
pub(crate) fn log_text(text: &str) {
    #[cfg(test)]
    eprint!("{text}");
    #[cfg(not(test))]
    {
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The instances in `instances` that are active now, in activation order.
/// Each tracer type keeps weak references to its instances so typed
/// look-ups need no downcasting of `dyn Tracer`.
fn find_active<T: Tracer>(instances: &Mutex<Vec<Weak<T>>>) -> Vec<Arc<T>> {
    let active = active_tracers();
    let mut list = instances.locked();
    list.retain(|w| w.strong_count() > 0);
    let mut found: Vec<(usize, Arc<T>)> = list
        .iter()
        .filter_map(Weak::upgrade)
        .filter_map(|t| {
            active
                .iter()
                .position(|a| std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(&t)))
                .map(|pos| (pos, t))
        })
        .collect();
    found.sort_by_key(|(pos, _)| *pos);
    found.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests;
