//! The stats tracer: counts of what flowed where.
//!
//! - objects created, destroyed, alive and peak alive, per type;
//! - buffers, bytes and push time per pad;
//! - per pool: acquires, releases, buffers out now and at most;
//! - per queue: level now and at most, capacity, drops;
//! - per element: buffers processed and time spent.
//!
//! Object counts are atomics (they fire for every memory and buffer); the
//! rest sits behind one mutex, touched once per push or pool cycle.

use crate::sync::MutexExt;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::histogram::{fmt_duration, Histogram, Summary};
use super::{
    Interest, ObjectId, ObjectInfo, ObjectKind, PadPush, QueueLevel, Site, Tracer, TracerParams,
};

const BUILTIN: [ObjectKind; 6] = ObjectKind::BUILTIN;

fn builtin_index(kind: ObjectKind) -> Option<usize> {
    BUILTIN.iter().position(|k| *k == kind)
}

#[derive(Debug, Default)]
struct KindCounter {
    created: AtomicU64,
    destroyed: AtomicU64,
    peak: AtomicU64,
}

impl KindCounter {
    fn created(&self) {
        let c = self.created.fetch_add(1, Ordering::Relaxed) + 1;
        let live = c.saturating_sub(self.destroyed.load(Ordering::Relaxed));
        self.peak.fetch_max(live, Ordering::Relaxed);
    }

    fn snapshot(&self, name: &str) -> ObjectStats {
        let created = self.created.load(Ordering::Relaxed);
        let destroyed = self.destroyed.load(Ordering::Relaxed);
        ObjectStats {
            kind: name.to_string(),
            created,
            destroyed,
            alive: created.saturating_sub(destroyed),
            peak: self.peak.load(Ordering::Relaxed),
        }
    }
}

/// Object counts of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectStats {
    /// The type name.
    pub kind: String,
    /// Created since the tracer started.
    pub created: u64,
    /// Destroyed since the tracer started.
    pub destroyed: u64,
    /// `created - destroyed` (objects made before the tracer started are
    /// not counted).
    pub alive: u64,
    /// Most alive at once (approximate under concurrency).
    pub peak: u64,
}

/// What crossed one pad.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PadStats {
    /// `element:pad`.
    pub pad: String,
    /// Buffers pushed.
    pub buffers: u64,
    /// Bytes pushed.
    pub bytes: u64,
    /// Time each push took to return (the downstream chain up to the next
    /// queue).
    pub push_time: Summary,
}

/// One buffer pool's activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// The pool.
    pub pool: ObjectId,
    /// Where it was created, if seen.
    pub site: Option<Site>,
    /// Buffers handed out.
    pub acquired: u64,
    /// Buffers returned.
    pub released: u64,
    /// Buffers out now.
    pub outstanding: u64,
    /// Most buffers out at once.
    pub max_outstanding: u64,
}

/// One queue's fill and drops.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// The queue's name.
    pub queue: String,
    /// Buffers queued at the last report.
    pub level: usize,
    /// Most buffers queued.
    pub max_level: usize,
    /// Bytes queued at the last report.
    pub bytes: usize,
    /// Capacity in buffers.
    pub capacity: usize,
    /// Buffers dropped by its policy.
    pub dropped: u64,
}

/// One element's processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementStats {
    /// The element's name.
    pub element: String,
    /// Time per buffer.
    pub time: Summary,
    /// Total time spent.
    pub total: Duration,
}

/// Everything the stats tracer counted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatsSummary {
    /// Per object type (types never seen are left out).
    pub objects: Vec<ObjectStats>,
    /// Per pad, by name.
    pub pads: Vec<PadStats>,
    /// Per pool, by id.
    pub pools: Vec<PoolStats>,
    /// Per queue, by name.
    pub queues: Vec<QueueStats>,
    /// Per element, by name.
    pub elements: Vec<ElementStats>,
}

impl StatsSummary {
    /// Counts for one type name.
    pub fn objects_of(&self, kind: &str) -> Option<&ObjectStats> {
        self.objects.iter().find(|o| o.kind == kind)
    }
    /// Stats of the pad named `element:pad`.
    pub fn pad(&self, name: &str) -> Option<&PadStats> {
        self.pads.iter().find(|p| p.pad == name)
    }
    /// Stats of one pool.
    pub fn pool(&self, id: ObjectId) -> Option<&PoolStats> {
        self.pools.iter().find(|p| p.pool == id)
    }
    /// Stats of the queue named `name`.
    pub fn queue(&self, name: &str) -> Option<&QueueStats> {
        self.queues.iter().find(|q| q.queue == name)
    }
}

/// Writes a report section: `  title:` and an indented line per item, or
/// nothing when there are no items.
fn section<T>(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    items: &[T],
    mut line: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(f, "  {title}:")?;
    for item in items {
        f.write_str("    ")?;
        line(f, item)?;
        writeln!(f)?;
    }
    Ok(())
}

impl fmt::Display for StatsSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stats:")?;
        section(
            f,
            "objects (created / destroyed / alive / peak)",
            &self.objects,
            |f, o| {
                write!(
                    f,
                    "{}: {} / {} / {} / {}",
                    o.kind, o.created, o.destroyed, o.alive, o.peak
                )
            },
        )?;
        section(f, "pads", &self.pads, |f, p| {
            write!(
                f,
                "{}: {} buffers, {} bytes, push {}",
                p.pad, p.buffers, p.bytes, p.push_time
            )
        })?;
        section(f, "pools", &self.pools, |f, p| {
            let site = p
                .site
                .map(|s| format!(" (created at {s})"))
                .unwrap_or_default();
            write!(
                f,
                "{}{site}: {} acquired, {} released, {} out now, {} out at most",
                p.pool, p.acquired, p.released, p.outstanding, p.max_outstanding
            )
        })?;
        section(f, "queues", &self.queues, |f, q| {
            write!(
                f,
                "{}: level {} ({} bytes), max {} of {}, {} dropped",
                q.queue, q.level, q.bytes, q.max_level, q.capacity, q.dropped
            )
        })?;
        section(f, "elements", &self.elements, |f, e| {
            write!(
                f,
                "{}: {}, total {}",
                e.element,
                e.time,
                fmt_duration(e.total)
            )
        })?;
        Ok(())
    }
}

#[derive(Debug, Default)]
struct PadState {
    buffers: u64,
    bytes: u64,
    push: Histogram,
}

#[derive(Debug, Default)]
struct State {
    other_kinds: BTreeMap<&'static str, (u64, u64, u64)>,
    pads: BTreeMap<String, PadState>,
    pools: BTreeMap<ObjectId, PoolStats>,
    queues: BTreeMap<String, QueueStats>,
    elements: BTreeMap<String, Histogram>,
}

static INSTANCES: Mutex<Vec<Weak<StatsTracer>>> = Mutex::new(Vec::new());

impl State {
    /// Updates the stats of the queue called `name`, made on its first
    /// report (the name allocated once, not per report).
    fn update_queue(&mut self, name: &str, update: impl FnOnce(&mut QueueStats)) {
        match self.queues.get_mut(name) {
            Some(q) => update(q),
            None => update(
                self.queues
                    .entry(name.to_string())
                    .or_insert_with(|| QueueStats {
                        queue: name.to_string(),
                        ..QueueStats::default()
                    }),
            ),
        }
    }
}

/// The stats tracer (`FRAMECAST_TRACERS=stats`). Find the active one with
/// [`trace::stats()`](super::stats).
#[derive(Debug)]
pub struct StatsTracer {
    name: String,
    /// Log the summary when tracing ends (`log-on-deinit`, default true;
    /// off for a tracer that only feeds a live view such as the dashboard).
    log_on_deinit: bool,
    kinds: [KindCounter; 6],
    state: Mutex<State>,
}

/// The active stats tracers, in activation order.
pub(crate) fn active() -> Vec<Arc<StatsTracer>> {
    super::find_active(&INSTANCES)
}

fn pool_entry(state: &mut State, pool: ObjectId) -> &mut PoolStats {
    state.pools.entry(pool).or_insert(PoolStats {
        pool,
        site: None,
        acquired: 0,
        released: 0,
        outstanding: 0,
        max_outstanding: 0,
    })
}

impl StatsTracer {
    /// A stats tracer named `name` (not yet active).
    pub fn new(name: &str) -> Arc<StatsTracer> {
        StatsTracer::with_logging(name, true)
    }

    /// A tracer named `name` that logs its summary at deinit or not.
    fn with_logging(name: &str, log_on_deinit: bool) -> Arc<StatsTracer> {
        let t = Arc::new(StatsTracer {
            name: name.to_string(),
            log_on_deinit,
            kinds: Default::default(),
            state: Mutex::new(State::default()),
        });
        INSTANCES.locked().push(Arc::downgrade(&t));
        t
    }

    /// Builds one from spec parameters (`stats(name=...,log-on-deinit=false)`).
    pub fn from_params(params: &TracerParams) -> Result<Arc<StatsTracer>, crate::Error> {
        params.check_known("stats", &["name", "log-on-deinit"])?;
        Ok(StatsTracer::with_logging(
            params.get("name").unwrap_or("stats"),
            params.bool("log-on-deinit", true)?,
        ))
    }

    /// Everything counted so far.
    pub fn summary(&self) -> StatsSummary {
        let state = self.state.locked();
        let mut objects: Vec<ObjectStats> = BUILTIN
            .iter()
            .zip(&self.kinds)
            .map(|(k, c)| c.snapshot(k.name()))
            .filter(|o| o.created + o.destroyed > 0)
            .collect();
        objects.extend(
            state
                .other_kinds
                .iter()
                .map(|(name, &(created, destroyed, peak))| ObjectStats {
                    kind: name.to_string(),
                    created,
                    destroyed,
                    alive: created.saturating_sub(destroyed),
                    peak,
                }),
        );
        StatsSummary {
            objects,
            pads: state
                .pads
                .iter()
                .map(|(name, p)| PadStats {
                    pad: name.clone(),
                    buffers: p.buffers,
                    bytes: p.bytes,
                    push_time: p.push.summary(),
                })
                .collect(),
            pools: state.pools.values().cloned().collect(),
            queues: state.queues.values().cloned().collect(),
            elements: state
                .elements
                .iter()
                .map(|(name, h)| ElementStats {
                    element: name.clone(),
                    time: h.summary(),
                    total: h.sum(),
                })
                .collect(),
        }
    }

    /// Writes [`summary`](Self::summary) to stderr and returns it.
    pub fn log_summary(&self) -> StatsSummary {
        let summary = self.summary();
        let mut text = String::new();
        let _ = write!(text, "[tracer {:?}] {summary}", self.name);
        super::log_text(&text);
        summary
    }
}

impl Tracer for StatsTracer {
    fn name(&self) -> &str {
        &self.name
    }

    fn interests(&self) -> Interest {
        Interest::LIFECYCLE
            | Interest::POOL
            | Interest::PADS
            | Interest::ELEMENTS
            | Interest::QUEUES
    }

    fn object_created(&self, info: &ObjectInfo) {
        match builtin_index(info.kind) {
            Some(i) => self.kinds[i].created(),
            None => {
                let mut state = self.state.locked();
                let e = state.other_kinds.entry(info.kind.name()).or_default();
                e.0 += 1;
                e.2 = e.2.max(e.0.saturating_sub(e.1));
            }
        }
        if matches!(info.kind, ObjectKind::BufferPool) {
            pool_entry(&mut self.state.locked(), info.id).site = Some(info.site);
        }
    }

    fn object_destroyed(&self, _id: ObjectId, kind: ObjectKind) {
        match builtin_index(kind) {
            Some(i) => {
                self.kinds[i].destroyed.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                self.state
                    .locked()
                    .other_kinds
                    .entry(kind.name())
                    .or_default()
                    .1 += 1
            }
        }
    }

    fn pool_acquired(&self, pool: ObjectId, _buffer: ObjectId) {
        let mut state = self.state.locked();
        let p = pool_entry(&mut state, pool);
        p.acquired += 1;
        p.outstanding += 1;
        p.max_outstanding = p.max_outstanding.max(p.outstanding);
    }

    fn pool_released(&self, pool: ObjectId, _buffer: ObjectId) {
        let mut state = self.state.locked();
        let p = pool_entry(&mut state, pool);
        p.released += 1;
        p.outstanding = p.outstanding.saturating_sub(1);
    }

    fn pad_push_pre(&self, push: &PadPush<'_>) {
        let mut state = self.state.locked();
        let pad = match state.pads.get_mut(push.pad_name) {
            Some(p) => p,
            None => state.pads.entry(push.pad_name.to_string()).or_default(),
        };
        pad.buffers += 1;
        pad.bytes += push.size as u64;
    }

    fn pad_push_post(&self, push: &PadPush<'_>, elapsed: Duration) {
        let mut state = self.state.locked();
        let pad = match state.pads.get_mut(push.pad_name) {
            Some(p) => p,
            None => state.pads.entry(push.pad_name.to_string()).or_default(),
        };
        pad.push.record(elapsed);
    }

    fn element_processed(&self, _element: ObjectId, name: &str, elapsed: Duration) {
        let mut state = self.state.locked();
        match state.elements.get_mut(name) {
            Some(h) => h.record(elapsed),
            None => state
                .elements
                .entry(name.to_string())
                .or_default()
                .record(elapsed),
        }
    }

    fn queue_level(&self, _queue: ObjectId, name: &str, level: QueueLevel) {
        let mut state = self.state.locked();
        state.update_queue(name, |q| {
            q.level = level.buffers;
            q.bytes = level.bytes;
            q.capacity = level.max_buffers;
            q.max_level = q.max_level.max(level.buffers);
        });
    }

    fn queue_dropped(&self, _queue: ObjectId, name: &str, dropped: u64) {
        let mut state = self.state.locked();
        state.update_queue(name, |q| q.dropped += dropped);
    }

    fn finish(&self) -> bool {
        if self.log_on_deinit {
            self.log_summary();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::Location;

    fn info(kind: ObjectKind) -> ObjectInfo {
        ObjectInfo {
            id: ObjectId::next(),
            kind,
            site: Location::caller(),
            size: 64,
            parent: None,
            description: "",
            may_be_leaked: false,
        }
    }

    #[test]
    fn params_name_it_and_say_whether_it_logs_at_deinit() {
        let named = TracerParams::from_pairs([("name", "s2")]);
        let t = StatsTracer::from_params(&named).unwrap();
        assert_eq!((t.name(), t.log_on_deinit), ("s2", true));
        let quiet = TracerParams::from_pairs([("log-on-deinit", "false")]);
        assert!(!StatsTracer::from_params(&quiet).unwrap().log_on_deinit);
        for bad in [("log-on-deinit", "maybe"), ("flags", "x")] {
            assert!(StatsTracer::from_params(&TracerParams::from_pairs([bad])).is_err());
        }
    }

    #[test]
    fn counts_objects_pads_pools_queues_elements() {
        let t = StatsTracer::new("stats");
        let pool = info(ObjectKind::BufferPool);
        t.object_created(&pool);
        let bufs: Vec<ObjectInfo> = (0..5).map(|_| info(ObjectKind::Buffer)).collect();
        for b in &bufs {
            t.object_created(b);
        }
        for b in &bufs[..3] {
            t.object_destroyed(b.id, b.kind);
        }
        let custom = info(ObjectKind::Other("Widget"));
        t.object_created(&custom);
        for b in &bufs {
            t.pool_acquired(pool.id, b.id);
        }
        for b in &bufs[..2] {
            t.pool_released(pool.id, b.id);
        }
        for i in 0..10u64 {
            let push = PadPush {
                pad: ObjectId::next(),
                pad_name: "src:src",
                peer_element: "sink",
                buffer: ObjectId::next(),
                size: 100,
                pts: None,
                source_time: None,
            };
            t.pad_push_pre(&push);
            t.pad_push_post(&push, Duration::from_micros(10 + i));
            t.element_processed(ObjectId::next(), "enc", Duration::from_millis(1));
        }
        let q = ObjectId::next();
        for level in [1, 5, 3] {
            t.queue_level(
                q,
                "queue0",
                QueueLevel {
                    buffers: level,
                    bytes: level * 100,
                    max_buffers: 5,
                },
            );
        }
        t.queue_dropped(q, "queue0", 2);
        t.queue_dropped(q, "queue0", 1);

        let s = t.summary();
        let b = s.objects_of("Buffer").unwrap();
        assert_eq!((b.created, b.destroyed, b.alive, b.peak), (5, 3, 2, 5));
        assert_eq!(s.objects_of("Widget").unwrap().alive, 1);
        assert!(s.objects_of("Memory").is_none());
        let pad = s.pad("src:src").unwrap();
        assert_eq!((pad.buffers, pad.bytes), (10, 1000));
        assert_eq!(pad.push_time.count, 10);
        assert_eq!(pad.push_time.max, Duration::from_micros(19));
        let p = s.pool(pool.id).unwrap();
        assert_eq!(p.site, Some(pool.site));
        assert_eq!(
            (p.acquired, p.released, p.outstanding, p.max_outstanding),
            (5, 2, 3, 5)
        );
        let q = s.queue("queue0").unwrap();
        assert_eq!(
            (q.level, q.max_level, q.bytes, q.capacity, q.dropped),
            (3, 5, 300, 5, 3)
        );
        assert_eq!(s.elements[0].total, Duration::from_millis(10));
        let text = s.to_string();
        for want in [
            "Buffer: 5 / 3 / 2 / 5",
            "src:src: 10 buffers, 1000 bytes",
            "3 out now",
            "3 dropped",
            "enc: count 10",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }
}
