//! The [`LeaksTracer`]: the [`Tracer`] hooks that fill the registry, and the
//! snapshot, checkpoint and report entry points.

use crate::sync::MutexExt;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use backtrace::Backtrace;
use smallvec::SmallVec;

use crate::trace::clock::{coarse_ns, precise_ns};

use super::*;
use crate::trace::{
    Interest, ObjectId, ObjectInfo, ObjectKind, ObjectLabel, Site, Tracer, TracerParams,
};

/// Live [`LeaksTracer`]s, so [`active`] can find them by type.
static INSTANCES: Mutex<Vec<Weak<LeaksTracer>>> = Mutex::new(Vec::new());

/// The leaks tracer. Make one with [`LeaksTracer::new`] and activate it with
/// [`add_tracer`](crate::trace::add_tracer), or through `FRAMECAST_TRACERS=leaks`;
/// find the active one with [`trace::leaks()`](crate::trace::leaks()).
pub struct LeaksTracer {
    pub(super) config: LeaksConfig,
    pub(super) filter: Filter,
    pub(super) interests: Interest,
    pub(super) shards: Box<[Shard]>,
    pub(super) tracking: AtomicBool,
    pub(super) seq: AtomicU64,
    pub(super) output: Mutex<Option<BufWriter<File>>>,
}

impl fmt::Debug for LeaksTracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaksTracer")
            .field("config", &self.config)
            .field("live", &self.live_count())
            .field("tracking", &self.is_tracking())
            .finish()
    }
}

/// The active leaks tracers, in activation order.
pub(crate) fn active() -> Vec<Arc<LeaksTracer>> {
    crate::trace::find_active(&INSTANCES)
}

impl LeaksTracer {
    /// A leaks tracer (not yet active). Fails only when `output=` cannot be
    /// created.
    pub fn new(config: LeaksConfig) -> Result<Arc<LeaksTracer>, crate::Error> {
        let output = match &config.output {
            Some(path) => Some(BufWriter::new(File::create(path).map_err(|source| {
                crate::Error::TracerOutput {
                    tracer: config.name.clone(),
                    path: path.clone(),
                    source,
                }
            })?)),
            None => None,
        };
        let mut interests = Interest::LIFECYCLE | Interest::LINKS | Interest::POOL;
        if config.check_refs {
            interests |= Interest::REFS;
        }
        let tracer = Arc::new(LeaksTracer {
            filter: Filter::new(&config.filters),
            config,
            interests,
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            tracking: AtomicBool::new(false),
            seq: AtomicU64::new(1),
            output: Mutex::new(output),
        });
        INSTANCES.locked().push(Arc::downgrade(&tracer));
        Ok(tracer)
    }

    /// Builds one from spec parameters (`leaks(...)`).
    pub fn from_params(params: &TracerParams) -> Result<Arc<LeaksTracer>, crate::Error> {
        LeaksTracer::new(LeaksConfig::from_params(params)?)
    }

    /// Its configuration.
    pub fn config(&self) -> &LeaksConfig {
        &self.config
    }

    #[inline]
    pub(super) fn shard(&self, id: ObjectId) -> MutexGuard<'_, ShardInner> {
        let h = id.get().wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let ix = (h >> 58) as usize % SHARDS;
        self.shards[ix].0.locked()
    }

    #[inline]
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn capture(&self) -> Option<Box<Backtrace>> {
        self.config
            .stack_traces
            .then(|| Box::new(Backtrace::new_unresolved()))
    }

    /// A reference to `id` was taken (`reffed` is where) or dropped
    /// (`None`): the held references and the history follow it. The first
    /// change also records the creation as the oldest reference held.
    fn ref_changed(&self, id: ObjectId, kind: ObjectKind, reffed: Option<Site>) {
        if !self.filter.matches(kind) {
            return;
        }
        let trace = self.capture();
        let now = coarse_ns();
        let thread = thread_index();
        let mut shard = self.shard(id);
        let Some(e) = shard.live.get_mut(&id) else {
            return;
        };
        let (created, creation_site, creation_thread) = (e.created, e.site, e.thread);
        let x = e.extra();
        if x.reffed == 0 && x.unreffed == 0 {
            x.held.push(Held {
                ord: 0,
                at: created,
                site: creation_site,
                thread: creation_thread,
            });
        }
        let ord = match reffed {
            Some(site) => {
                x.reffed += 1;
                let ord = x.reffed;
                x.held.push(Held {
                    ord,
                    at: now,
                    site,
                    thread,
                });
                ord
            }
            None => {
                x.unreffed += 1;
                // The pairing rule from the module docs: a drop gives back
                // the oldest reference still held.
                if !x.held.is_empty() {
                    x.held.remove(0);
                }
                0
            }
        };
        push_history(
            x,
            RefEvent {
                ord,
                at: now,
                reffed: reffed.is_some(),
                site: reffed,
                thread,
                trace,
            },
        );
    }

    /// Number of tracked objects alive now (all of them, including
    /// may-be-leaked ones and children), without building a snapshot.
    pub fn live_count(&self) -> usize {
        self.shards.iter().map(|s| s.0.locked().live.len()).sum()
    }

    /// A snapshot of the live objects: top-level objects oldest first, each
    /// with its children. Objects marked may-be-leaked are left out.
    ///
    /// Takes each shard's lock in turn, so it is consistent per object, not
    /// across objects created or destroyed while it runs.
    pub fn live_objects(&self) -> Vec<LiveObject> {
        let now = precise_ns();
        build_trees(self.collect(), now)
    }

    /// The live objects as a report (groups and objects).
    pub fn report(&self, at_deinit: bool) -> LeakReport {
        let objects = self.live_objects();
        let mut groups: HashMap<(ObjectKind, Site, Option<&str>), LeakGroup> = HashMap::new();
        for o in &objects {
            let key = (o.kind, o.site, o.origin.as_deref());
            let g = groups.entry(key).or_insert_with(|| LeakGroup {
                kind: o.kind,
                site: o.site,
                origin: o.origin.clone(),
                count: 0,
                parts: 0,
                bytes: 0,
                oldest: Duration::ZERO,
            });
            g.count += 1;
            g.parts += o.iter().count();
            g.bytes += o.bytes;
            g.oldest = g.oldest.max(o.age);
        }
        let mut groups: Vec<LeakGroup> = groups.into_values().collect();
        groups.sort_by(|a, b| {
            (b.bytes, b.count, b.oldest)
                .cmp(&(a.bytes, a.count, a.oldest))
                .then_with(|| {
                    (a.kind.name(), &a.origin, a.site.to_string()).cmp(&(
                        b.kind.name(),
                        &b.origin,
                        b.site.to_string(),
                    ))
                })
        });
        LeakReport {
            tracer: self.config.name.clone(),
            groups,
            objects,
            tracked: self.shards.iter().map(|s| s.0.locked().tracked).sum(),
            at_deinit,
        }
    }

    /// Writes the live objects to stderr (and as JSON lines to `output=`):
    /// GStreamer's `log-live-objects` action, and what SIGUSR1 does.
    pub fn log_live_objects(&self) -> LeakReport {
        let report = self.report(false);
        self.emit(&report.to_string(), || report.to_json_lines());
        report
    }

    /// Whether activity tracking is on.
    pub fn is_tracking(&self) -> bool {
        self.tracking.load(Ordering::Acquire)
    }

    /// Starts recording creations and removals for
    /// [`activity_checkpoint`](Self::activity_checkpoint). Objects alive
    /// before this call are never listed as created.
    pub fn activity_start_tracking(&self) -> Result<(), crate::Error> {
        for shard in self.shards.iter() {
            shard.0.locked().activity.clear();
        }
        self.tracking
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| crate::Error::AlreadyTracking)
    }

    /// What was created and removed since the previous checkpoint (or since
    /// tracking started), in order; then starts a new interval.
    pub fn activity_checkpoint(&self) -> Result<Checkpoint, crate::Error> {
        if !self.is_tracking() {
            return Err(crate::Error::NotTracking);
        }
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            all.append(&mut shard.0.locked().activity);
        }
        all.sort_by_key(|a| a.record.seq);
        let mut cp = Checkpoint::default();
        for a in all {
            if a.created {
                cp.created.push(a.record);
            } else {
                cp.removed.push(a.record);
            }
        }
        Ok(cp)
    }

    /// Takes a checkpoint and writes it to stderr (and `output=`): what
    /// SIGUSR2 does after the first time.
    pub fn activity_log_checkpoint(&self) -> Result<Checkpoint, crate::Error> {
        let cp = self.activity_checkpoint()?;
        self.emit(&cp.to_text(&self.config.name), || {
            cp.to_json_lines(&self.config.name)
        });
        Ok(cp)
    }

    /// Stops activity tracking and forgets what was recorded. Returns
    /// whether tracking was on.
    pub fn activity_stop_tracking(&self) -> bool {
        let was = self.tracking.swap(false, Ordering::AcqRel);
        for shard in self.shards.iter() {
            shard.0.locked().activity = Vec::new();
        }
        was
    }

    /// Writes `text` to stderr and `json()` to the output file, if any.
    /// Errors are reported once on stderr, never raised: a full disk must
    /// not take the traced program down.
    fn emit(&self, text: &str, json: impl FnOnce() -> String) {
        crate::trace::log_text(text);
        let mut output = self.output.locked();
        if let Some(w) = output.as_mut() {
            let lines = json();
            if let Err(e) = w.write_all(lines.as_bytes()).and_then(|()| w.flush()) {
                crate::trace::log_text(&format!(
                    "framecast leaks: writing {:?} failed: {e}; JSON output stopped\n",
                    self.config.output
                ));
                *output = None;
            }
        }
    }

    /// Copies every live entry out of the shards.
    pub(super) fn collect(&self) -> Vec<Raw> {
        let mut raws = Vec::new();
        for shard in self.shards.iter() {
            let inner = shard.0.locked();
            raws.reserve(inner.live.len());
            for (&id, e) in inner.live.iter() {
                raws.push(Raw::from_entry(id, e));
            }
        }
        raws
    }
}

impl Tracer for LeaksTracer {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn interests(&self) -> Interest {
        self.interests
    }

    fn object_created(&self, info: &ObjectInfo) {
        if !self.filter.matches(info.kind) {
            return;
        }
        let trace = self.capture();
        let entry = Entry {
            kind: info.kind,
            site: info.site,
            size: info.size,
            parent: info.parent,
            description: info.description,
            created: coarse_ns(),
            thread: thread_index(),
            may_be_leaked: info.may_be_leaked,
            in_pool: matches!(info.kind, ObjectKind::Buffer) && info.parent.is_some(),
            containers: SmallVec::new(),
            extra: trace.map(|t| {
                Box::new(Extra {
                    trace: Some(t),
                    ..Extra::default()
                })
            }),
        };
        let replaced = {
            let mut shard = self.shard(info.id);
            shard.tracked += 1;
            if self.tracking.load(Ordering::Relaxed) {
                let seq = self.next_seq();
                shard.activity.push(Activity {
                    created: true,
                    record: ActivityRecord {
                        seq,
                        id: info.id,
                        kind: info.kind,
                        site: info.site,
                        size: info.size,
                    },
                });
            }
            shard.live.insert(info.id, entry)
        };
        // Free outside the lock (ids are never reused, so this is only a
        // caller reporting the same object twice).
        drop(replaced);
    }

    fn object_labelled(&self, id: ObjectId, kind: ObjectKind, label: &ObjectLabel<'_>) {
        if !self.filter.matches(kind) {
            return;
        }
        let name = (!label.name.is_empty()).then(|| Box::<str>::from(label.name));
        let origin = label.origin.map(Box::<str>::from);
        let replaced = {
            let mut shard = self.shard(id);
            shard.live.get_mut(&id).map(|e| {
                let x = e.extra();
                (
                    std::mem::replace(&mut x.name, name),
                    std::mem::replace(&mut x.origin, origin),
                )
            })
        };
        drop(replaced);
    }

    fn object_destroyed(&self, id: ObjectId, kind: ObjectKind) {
        if !self.filter.matches(kind) {
            return;
        }
        let removed = {
            let mut shard = self.shard(id);
            let removed = shard.live.remove(&id);
            if let Some(e) = &removed {
                if self.tracking.load(Ordering::Relaxed) {
                    let seq = self.next_seq();
                    shard.activity.push(Activity {
                        created: false,
                        record: ActivityRecord {
                            seq,
                            id,
                            kind: e.kind,
                            site: e.site,
                            size: e.size,
                        },
                    });
                }
            }
            removed
        };
        // Backtraces and histories are freed outside the lock.
        drop(removed);
    }

    fn object_reffed(&self, id: ObjectId, kind: ObjectKind, site: Site) {
        self.ref_changed(id, kind, Some(site));
    }

    fn object_unreffed(&self, id: ObjectId, kind: ObjectKind) {
        self.ref_changed(id, kind, None);
    }

    fn object_linked(&self, child: ObjectId, parent: ObjectId) {
        let mut shard = self.shard(child);
        if let Some(e) = shard.live.get_mut(&child) {
            if !e.containers.contains(&parent) {
                e.containers.push(parent);
            }
        }
    }

    fn object_unlinked(&self, child: ObjectId, parent: ObjectId) {
        let mut shard = self.shard(child);
        if let Some(e) = shard.live.get_mut(&child) {
            e.containers.retain(|c| *c != parent);
        }
    }

    fn object_annotated(&self, id: ObjectId, note: &'static str) {
        let mut shard = self.shard(id);
        if let Some(e) = shard.live.get_mut(&id) {
            let x = e.extra();
            if !x.notes.contains(&note) {
                x.notes.push(note);
            }
        }
    }

    fn pool_acquired(&self, _pool: ObjectId, buffer: ObjectId) {
        let mut shard = self.shard(buffer);
        if let Some(e) = shard.live.get_mut(&buffer) {
            e.in_pool = false;
        }
    }

    fn pool_acquired_at(&self, _pool: ObjectId, buffer: ObjectId, site: Site) {
        let mut shard = self.shard(buffer);
        if let Some(e) = shard.live.get_mut(&buffer) {
            e.in_pool = false;
            e.extra().acquired_at = Some(site);
        }
    }

    fn pool_released(&self, _pool: ObjectId, buffer: ObjectId) {
        let mut shard = self.shard(buffer);
        if let Some(e) = shard.live.get_mut(&buffer) {
            e.in_pool = true;
        }
    }

    fn finish(&self) -> bool {
        if !self.config.log_on_deinit {
            return true;
        }
        let report = self.report(true);
        self.emit(&report.to_string(), || report.to_json_lines());
        !self.config.fatal || report.is_clean()
    }
}

/// Appends to the bounded history: when full, the older half goes (in one
/// move, so a hot object's events stay O(1) amortized).
fn push_history(x: &mut Extra, event: RefEvent) {
    if x.history.len() >= HISTORY {
        x.history.drain(..HISTORY / 2);
        x.history_dropped += (HISTORY / 2) as u64;
    }
    x.history.push(event);
}
