//! The leaks tracer: which tracked objects are still alive, where they were
//! made, who holds them.
//!
//! It does what GStreamer's `leaks` tracer does — list objects alive at
//! exit, snapshots and checkpoints on demand or on SIGUSR1/SIGUSR2, a
//! warning QA can fail on — and fixes what the reference notes measured as
//! its weaknesses:
//!
//! | GStreamer | here |
//! |---|---|
//! | one global hash table lock; a weak ref and a malloc per object | 64 sharded maps keyed by id; one insert, no weak ref |
//! | file:line only from debug-built stack traces (0.5–3 ms each) | `#[track_caller]` site on every object, always; optional unresolved backtraces (µs), resolved only when reported |
//! | a leaked buffer is several unrelated objects | memories nest under their buffer, idle pool buffers under their pool, meta names on the buffer |
//! | no grouping | grouped by (type, creation site) with count, bytes, oldest age |
//! | `check-refs` lists refs, never says which one leaked | each clone's site is kept, and the references not yet given back are named |
//! | checkpoints in hash-table order | ordered by a global sequence number |
//! | checkpoint without tracking: criticals + empty lists | [`crate::Error::NotTracking`] |
//! | construct-only properties | add and remove the tracer at run time |
//!
//! # Reading reports
//!
//! A drop carries no site (Rust's drop glue hides the caller), so when an
//! object's handles were cloned the tracer pairs each drop with the oldest
//! reference still held (the creation first). For the common leak — a clone
//! stored somewhere and never released while the original was passed on and
//! dropped — that names the clone. With `stack-traces=true` every recorded
//! drop also has its backtrace.

use crate::sync::MutexExt;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use backtrace::Backtrace;
use smallvec::SmallVec;

use super::clock::{coarse_ns, precise_ns, ClockUser};
use super::histogram::fmt_duration;

use super::json::{self, Obj};
use super::{Interest, ObjectId, ObjectInfo, ObjectKind, ObjectLabel, Site, Tracer, TracerParams};

const SHARDS: usize = 64;
/// Reference events kept per object for the history (the references still
/// held are always kept, whatever their number).
const HISTORY: usize = 256;
/// Frames shown per stack trace.
const MAX_FRAMES: usize = 32;

// ---------------------------------------------------------------------------
// Configuration

/// How a [`LeaksTracer`] behaves. `Default` is GStreamer's plain `leaks`:
/// every type, no stack traces, no reference tracking, not fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaksConfig {
    /// Instance name (`name=`), `leaks` by default.
    pub name: String,
    /// Type names to track (`filters=Buffer,BufferPool`); `None` tracks all.
    pub filters: Option<Vec<String>>,
    /// Capture a backtrace for every tracked object and recorded reference
    /// event (`stack-traces=true`). Captured unresolved (a few µs), resolved
    /// only when a report is produced.
    pub stack_traces: bool,
    /// Record every clone and non-last drop of a tracked handle
    /// (`check-refs=true`).
    pub check_refs: bool,
    /// Also write reports as JSON lines to this file (`output=PATH`).
    pub output: Option<PathBuf>,
    /// Make [`Tracer::finish`] report failure when anything leaked, so
    /// `framecast::deinit()` exits with status 3 (`fatal=true`).
    pub fatal: bool,
    /// Report live objects when tracing ends (`log-leaks-on-deinit`, default
    /// true, as GStreamer's).
    pub log_on_deinit: bool,
}

impl Default for LeaksConfig {
    fn default() -> Self {
        LeaksConfig {
            name: "leaks".to_string(),
            filters: None,
            stack_traces: false,
            check_refs: false,
            output: None,
            fatal: false,
            log_on_deinit: true,
        }
    }
}

/// Type names framecast itself reports; a filter outside this list is kept
/// (user types report [`ObjectKind::Other`]) but warned about, since it is
/// most often a typo.
const KNOWN_TYPES: &[&str] = &[
    "Memory",
    "Buffer",
    "BufferPool",
    "Allocator",
    "Element",
    "Pad",
];

impl LeaksConfig {
    /// Reads `filters`, `stack-traces`, `check-refs`, `output`, `fatal`,
    /// `log-leaks-on-deinit` and `name` from spec parameters.
    pub fn from_params(params: &TracerParams) -> Result<LeaksConfig, crate::Error> {
        params.check_known(
            "leaks",
            &[
                "name",
                "filters",
                "stack-traces",
                "check-refs",
                "output",
                "fatal",
                "log-leaks-on-deinit",
            ],
        )?;
        let name = match params.get("name") {
            Some("") => return Err(params.error("name", "empty name".into())),
            Some(n) => n.to_string(),
            None => "leaks".to_string(),
        };
        let filters = params.list("filters")?;
        for f in filters.iter().flatten() {
            if !KNOWN_TYPES.contains(&f.as_str()) {
                super::log_text(&format!(
                    "framecast leaks: filter {f:?} is not one of {} (kept for custom object kinds)\n",
                    KNOWN_TYPES.join(", ")
                ));
            }
        }
        let output = match params.get("output") {
            Some("") => return Err(params.error("output", "empty path".into())),
            Some(p) => Some(PathBuf::from(p)),
            None => None,
        };
        Ok(LeaksConfig {
            name,
            filters,
            stack_traces: params.bool("stack-traces", false)?,
            check_refs: params.bool("check-refs", false)?,
            output,
            fatal: params.bool("fatal", false)?,
            log_on_deinit: params.bool("log-leaks-on-deinit", true)?,
        })
    }
}

/// Which kinds are tracked, checked on every event: a bit test for the
/// built-in kinds, a short list for named ones.
#[derive(Debug)]
struct Filter {
    all: bool,
    mask: u32,
    others: Vec<String>,
}

fn kind_bit(kind: ObjectKind) -> u32 {
    match kind {
        ObjectKind::Memory => 1,
        ObjectKind::Buffer => 2,
        ObjectKind::BufferPool => 4,
        ObjectKind::Allocator => 8,
        ObjectKind::Element => 16,
        ObjectKind::Pad => 32,
        ObjectKind::Other(_) => 0,
    }
}

impl Filter {
    fn new(filters: &Option<Vec<String>>) -> Filter {
        let Some(names) = filters else {
            return Filter {
                all: true,
                mask: 0,
                others: Vec::new(),
            };
        };
        let mut mask = 0;
        let mut others = Vec::new();
        for name in names {
            let bit = [
                ObjectKind::Memory,
                ObjectKind::Buffer,
                ObjectKind::BufferPool,
                ObjectKind::Allocator,
                ObjectKind::Element,
                ObjectKind::Pad,
            ]
            .into_iter()
            .find(|k| k.name() == name)
            .map(kind_bit);
            match bit {
                Some(bit) => mask |= bit,
                None => others.push(name.clone()),
            }
        }
        Filter {
            all: false,
            mask,
            others,
        }
    }

    #[inline]
    fn matches(&self, kind: ObjectKind) -> bool {
        if self.all {
            return true;
        }
        match kind {
            ObjectKind::Other(name) => self.others.iter().any(|o| o == name),
            k => self.mask & kind_bit(k) != 0,
        }
    }
}

// ---------------------------------------------------------------------------
// Threads: a small index per thread instead of a name per object.

static THREAD_NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static THREAD_INDEX: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// The calling thread's index into [`THREAD_NAMES`], registering it on
/// first use. Costs one thread-local read afterwards.
fn thread_index() -> u32 {
    THREAD_INDEX
        .try_with(|cell| {
            let ix = cell.get();
            if ix != u32::MAX {
                return ix;
            }
            let current = std::thread::current();
            let name = match current.name() {
                Some(n) => n.to_string(),
                None => format!("{:?}", current.id()),
            };
            let mut names = THREAD_NAMES.locked();
            names.push(name);
            let ix = u32::try_from(names.len() - 1).unwrap_or(u32::MAX - 1);
            cell.set(ix);
            ix
        })
        // Thread-local storage is being torn down.
        .unwrap_or(u32::MAX - 1)
}

fn thread_name(ix: u32) -> String {
    THREAD_NAMES
        .locked()
        .get(ix as usize)
        .cloned()
        .unwrap_or_else(|| "<exiting thread>".to_string())
}

// ---------------------------------------------------------------------------
// The registry

/// Object ids are unique, so a multiply-xorshift is all the hashing needed.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        let x = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}

type IdMap<V> = HashMap<ObjectId, V, BuildHasherDefault<IdHasher>>;

/// One recorded clone or drop.
#[derive(Debug)]
struct RefEvent {
    /// For a clone, its ordinal among the object's clones (1, 2, ...).
    ord: u64,
    /// Coarse clock, ns.
    at: u64,
    reffed: bool,
    site: Option<Site>,
    thread: u32,
    trace: Option<Box<Backtrace>>,
}

/// A reference not yet given back (by the pairing described in the module
/// docs). `ord == 0` is the reference the object was created with.
#[derive(Debug, Clone, Copy)]
struct Held {
    ord: u64,
    at: u64,
    site: Site,
    thread: u32,
}

/// What only some objects need, boxed to keep [`Entry`] small.
#[derive(Debug, Default)]
struct Extra {
    /// Instance name (elements, pads, pipelines): only named objects pay
    /// for it, in this box they already need.
    name: Option<Box<str>>,
    /// A foreign caller's `file:line` (a Python `framecast.Sender(...)`).
    origin: Option<Box<str>>,
    notes: Vec<&'static str>,
    trace: Option<Box<Backtrace>>,
    acquired_at: Option<Site>,
    reffed: u64,
    unreffed: u64,
    /// Inline capacities cover the common case (a few clones per object)
    /// with the one allocation of this struct.
    held: SmallVec<[Held; 2]>,
    history: SmallVec<[RefEvent; 4]>,
    history_dropped: u64,
}

#[derive(Debug)]
struct Entry {
    kind: ObjectKind,
    site: Site,
    size: usize,
    parent: Option<ObjectId>,
    description: &'static str,
    /// Coarse clock, ns (see [`clock`](super::clock)).
    created: u64,
    thread: u32,
    may_be_leaked: bool,
    /// A pool's buffer currently inside its pool (not handed out).
    in_pool: bool,
    /// Buffers this memory belongs to.
    containers: SmallVec<[ObjectId; 1]>,
    extra: Option<Box<Extra>>,
}

impl Entry {
    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }
}

/// One created or removed object, for checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityRecord {
    /// Global order of the event.
    pub seq: u64,
    /// The object.
    pub id: ObjectId,
    /// Its kind.
    pub kind: ObjectKind,
    /// Where it was created.
    pub site: Site,
    /// Its size in bytes (memories).
    pub size: usize,
}

#[derive(Debug)]
struct Activity {
    created: bool,
    record: ActivityRecord,
}

#[derive(Debug, Default)]
struct ShardInner {
    live: IdMap<Entry>,
    activity: Vec<Activity>,
    /// Objects tracked here since the tracer started (kept per shard, under
    /// its lock: a shared counter would be one more contended atomic per
    /// object).
    tracked: u64,
}

/// One shard on its own cache line, so two threads working on different
/// shards never share a line.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<ShardInner>);

// ---------------------------------------------------------------------------
// Public report types

/// The pool a buffer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRef {
    /// The pool's id.
    pub id: ObjectId,
    /// Where the pool was created, when it is tracked and alive.
    pub site: Option<Site>,
}

/// Whether a recorded reference event was a clone or a drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefChange {
    /// A handle was cloned.
    Reffed,
    /// A handle was dropped (not the last).
    Unreffed,
}

/// One clone or drop of a handle (`check-refs=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefRecord {
    /// Clone or drop.
    pub change: RefChange,
    /// Where the clone happened (drops have no site).
    pub site: Option<Site>,
    /// The thread it happened on.
    pub thread: String,
    /// Time since the object was created.
    pub after: Duration,
    /// Number of references right after this event.
    pub refcount: u64,
    /// For a clone: that reference is still held.
    pub held: bool,
    /// Resolved backtrace, with `stack-traces=true`.
    pub stack_trace: Option<Vec<String>>,
}

/// A reference to an object that was never given back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRef {
    /// Where the reference was taken (the creation site for the first one).
    pub site: Site,
    /// `true` for the reference the object was created with.
    pub from_creation: bool,
    /// The thread that took it.
    pub thread: String,
    /// Time from the object's creation to the reference being taken.
    pub after: Duration,
}

/// One live object in a snapshot. A snapshot holds copies of what the
/// tracer recorded, never the object itself: taking one changes no
/// reference count (GStreamer's `get-live-objects` hands the caller a
/// reference it must release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveObject {
    /// The object's id.
    pub id: ObjectId,
    /// Its kind.
    pub kind: ObjectKind,
    /// Where it was created (`file:line:column`).
    pub site: Site,
    /// The thread that created it.
    pub thread: String,
    /// Time since creation.
    pub age: Duration,
    /// Its own bytes (a root memory's maxsize; 0 for containers and for
    /// shares, whose bytes belong to their root).
    pub size: usize,
    /// Its bytes plus its children's: what leaking it costs.
    pub bytes: usize,
    /// Allocator or element factory name; `""` if none.
    pub description: &'static str,
    /// The instance name (`leaked-bin`, `videoconvert0`, `src`), for named
    /// objects.
    pub name: Option<String>,
    /// Where a foreign caller made it (`leak.py:10`), for objects made on
    /// behalf of Python code; reports show it instead of [`site`](Self::site).
    pub origin: Option<String>,
    /// The object it was created under (share root, pool, element).
    pub parent: Option<ObjectId>,
    /// For a pooled buffer: its pool.
    pub pool: Option<PoolRef>,
    /// For a pooled buffer: it sits idle inside its pool.
    pub in_pool: bool,
    /// For a pooled buffer: where it was last acquired, if the pool reports
    /// acquire sites.
    pub acquired_at: Option<Site>,
    /// Notes attached to it (meta API names on a buffer).
    pub notes: Vec<&'static str>,
    /// The reference count derived from recorded clones and drops
    /// (`check-refs=true` only).
    pub refcount: Option<u64>,
    /// References never given back (`check-refs=true` only).
    pub held: Vec<HeldRef>,
    /// Recorded clones and drops, oldest first (`check-refs=true`; the most
    /// recent 128 to 256).
    pub refs: Vec<RefRecord>,
    /// Events left out of `refs` because the history is bounded.
    pub refs_dropped: u64,
    /// Creation backtrace, resolved (`stack-traces=true`).
    pub stack_trace: Option<Vec<String>>,
    /// Objects it keeps alive: a buffer's memories, a share's root, a pool's
    /// idle buffers, and — for the oldest buffer handed out by a pool — that
    /// pool.
    pub children: Vec<LiveObject>,
}

impl LiveObject {
    /// This object and all its descendants, depth first.
    pub fn iter(&self) -> impl Iterator<Item = &LiveObject> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let next = stack.pop()?;
            stack.extend(next.children.iter().rev());
            Some(next)
        })
    }
}

/// Leaked objects sharing a type and creation site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakGroup {
    /// Their kind.
    pub kind: ObjectKind,
    /// Where they were created.
    pub site: Site,
    /// The foreign caller's `file:line` they were made at, if any (see
    /// [`LiveObject::origin`]).
    pub origin: Option<String>,
    /// How many.
    pub count: usize,
    /// How many objects they are with everything they hold (a pipeline's
    /// elements and pads, a buffer's memories).
    pub parts: usize,
    /// Their bytes, children included.
    pub bytes: usize,
    /// Age of the oldest.
    pub oldest: Duration,
}

/// What the leaks tracer found alive: the deinit report, or a live-objects
/// log. `Display` gives the human text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakReport {
    /// The tracer instance.
    pub tracer: String,
    /// Groups by (type, site), largest first.
    pub groups: Vec<LeakGroup>,
    /// Top-level objects (children nested), oldest first.
    pub objects: Vec<LiveObject>,
    /// Objects tracked since the tracer started.
    pub tracked: u64,
    /// `true` for the end-of-run report (leaks), `false` for a live
    /// snapshot.
    pub at_deinit: bool,
}

impl LeakReport {
    /// No live objects.
    pub fn is_clean(&self) -> bool {
        self.objects.is_empty()
    }

    /// Bytes held by the reported objects.
    pub fn bytes(&self) -> usize {
        self.objects.iter().map(|o| o.bytes).sum()
    }

    /// Objects reported, children included.
    pub fn object_count(&self) -> usize {
        self.objects.iter().map(|o| o.iter().count()).sum()
    }

    /// The report as JSON lines: one per group, one per top-level object
    /// (children nested), and a final summary line.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let (group_event, object_event) = if self.at_deinit {
            ("leak-group", "leak")
        } else {
            ("live-group", "live-object")
        };
        for g in &self.groups {
            let mut o = Obj::new(&mut out);
            o.str("event", group_event)
                .str("tracer", &self.tracer)
                .str("type", g.kind.name());
            site_fields(&mut o, g.site);
            o.opt_str("origin", g.origin.as_deref());
            o.uint("count", g.count as u64)
                .uint("parts", g.parts as u64)
                .uint("bytes", g.bytes as u64)
                .uint("oldest_age_us", micros(g.oldest));
            o.end();
            out.push('\n');
        }
        for obj in &self.objects {
            let mut o = Obj::new(&mut out);
            o.str("event", object_event).str("tracer", &self.tracer);
            object_fields(&mut o, obj);
            o.end();
            out.push('\n');
        }
        let mut o = Obj::new(&mut out);
        let event = match (self.at_deinit, self.is_clean()) {
            (true, true) => "no-leaks",
            (true, false) => "leaks-summary",
            (false, _) => "live-summary",
        };
        o.str("event", event)
            .str("tracer", &self.tracer)
            .uint("objects", self.objects.len() as u64)
            .uint("objects_with_children", self.object_count() as u64)
            .uint("bytes", self.bytes() as u64)
            .uint("tracked", self.tracked);
        o.end();
        out.push('\n');
        out
    }
}

/// Ages come from the millisecond clock: below a millisecond says so
/// rather than printing a misleading `0ns`.
fn fmt_age(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        "<1ms".to_string()
    } else {
        fmt_duration(d)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn site_fields(o: &mut Obj<'_>, site: Site) {
    o.str("site", &site.to_string())
        .str("file", site.file())
        .uint("line", u64::from(site.line()))
        .uint("column", u64::from(site.column()));
}

fn object_fields(o: &mut Obj<'_>, obj: &LiveObject) {
    o.uint("id", obj.id.get()).str("type", obj.kind.name());
    site_fields(o, obj.site);
    o.str("thread", &obj.thread)
        .uint("age_us", micros(obj.age))
        .uint("size", obj.size as u64)
        .uint("bytes", obj.bytes as u64)
        .str("description", obj.description)
        .opt_str("name", obj.name.as_deref())
        .opt_str("origin", obj.origin.as_deref());
    match obj.parent {
        Some(p) => o.uint("parent", p.get()),
        None => o.opt_str("parent", None),
    };
    match obj.pool {
        Some(pool) => o.nested("pool", |out| {
            let mut p = Obj::new(out);
            p.uint("id", pool.id.get())
                .opt_str("site", pool.site.map(|s| s.to_string()).as_deref());
            p.end();
        }),
        None => o.opt_str("pool", None),
    };
    if obj.pool.is_some() {
        o.bool("in_pool", obj.in_pool).opt_str(
            "acquired_at",
            obj.acquired_at.map(|s| s.to_string()).as_deref(),
        );
    }
    o.strs("notes", obj.notes.iter().copied());
    if let Some(rc) = obj.refcount {
        o.uint("refcount", rc);
        o.nested("held", |out| {
            json::array(out, &obj.held, |out, h| {
                let mut r = Obj::new(out);
                r.str("site", &h.site.to_string())
                    .bool("from_creation", h.from_creation)
                    .str("thread", &h.thread)
                    .uint("after_us", micros(h.after));
                r.end();
            })
        });
        o.nested("refs", |out| {
            json::array(out, &obj.refs, |out, rec| {
                let mut r = Obj::new(out);
                r.str(
                    "change",
                    match rec.change {
                        RefChange::Reffed => "reffed",
                        RefChange::Unreffed => "unreffed",
                    },
                )
                .opt_str("site", rec.site.map(|s| s.to_string()).as_deref())
                .str("thread", &rec.thread)
                .uint("after_us", micros(rec.after))
                .uint("refcount", rec.refcount)
                .bool("held", rec.held);
                if let Some(t) = &rec.stack_trace {
                    r.strs("stack_trace", t.iter().map(String::as_str));
                }
                r.end();
            })
        });
        o.uint("refs_dropped", obj.refs_dropped);
    }
    match &obj.stack_trace {
        Some(t) => o.strs("stack_trace", t.iter().map(String::as_str)),
        None => o.opt_str("stack_trace", None),
    };
    o.nested("children", |out| {
        json::array(out, &obj.children, |out, child| {
            let mut c = Obj::new(out);
            object_fields(&mut c, child);
            c.end();
        })
    });
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.objects.len();
        let plural = if n == 1 { "" } else { "s" };
        if self.at_deinit {
            if self.is_clean() {
                return writeln!(
                    f,
                    "no leaks ({} objects tracked by tracer {:?})",
                    self.tracked, self.tracer
                );
            }
            writeln!(
                f,
                "Leaks detected: {n} object{plural} still alive at deinit ({} counting their parts, {} bytes) [tracer {:?}]",
                self.object_count(),
                self.bytes(),
                self.tracer
            )?;
        } else {
            writeln!(
                f,
                "live objects: {n} ({} counting their parts, {} bytes) [tracer {:?}]",
                self.object_count(),
                self.bytes(),
                self.tracer
            )?;
        }
        if n == 0 {
            return Ok(());
        }
        writeln!(f, "  by type and creation site:")?;
        for g in &self.groups {
            write!(f, "    {} x {} created at ", g.count, g.kind.name())?;
            match &g.origin {
                Some(origin) => write!(f, "{origin}")?,
                None => write!(f, "{}", g.site)?,
            }
            if g.parts > g.count {
                write!(f, ": {} objects counting their parts", g.parts)?;
                write!(f, ", {} bytes, oldest {}", g.bytes, fmt_age(g.oldest))?;
            } else {
                write!(f, ": {} bytes, oldest {}", g.bytes, fmt_age(g.oldest))?;
            }
            writeln!(f)?;
        }
        writeln!(f, "  objects:")?;
        for obj in &self.objects {
            write_object(f, obj, 2)?;
        }
        Ok(())
    }
}

fn write_object(f: &mut fmt::Formatter<'_>, obj: &LiveObject, depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    write!(f, "{pad}{} {}", obj.kind.name(), obj.id)?;
    if let Some(name) = &obj.name {
        // GStreamer's `GstPipeline (leaked-bin)`.
        write!(f, " ({name})")?;
    }
    match &obj.origin {
        Some(origin) => write!(f, " created at {origin} (in {})", obj.site)?,
        None => write!(f, " created at {}", obj.site)?,
    }
    write!(
        f,
        " on {}, {} ago, {} bytes",
        obj.thread,
        fmt_age(obj.age),
        obj.bytes
    )?;
    if !obj.description.is_empty() {
        write!(f, ", {}", obj.description)?;
    }
    if let Some(pool) = obj.pool {
        write!(f, ", pool {}", pool.id)?;
        if let Some(site) = pool.site {
            write!(f, " (created at {site})")?;
        }
        if obj.in_pool {
            write!(f, ", idle in pool")?;
        }
        if let Some(at) = obj.acquired_at {
            write!(f, ", acquired at {at}")?;
        }
    } else if let Some(parent) = obj.parent {
        write!(f, ", parent {parent}")?;
    }
    writeln!(f)?;
    for note in &obj.notes {
        writeln!(f, "{pad}  meta {note}")?;
    }
    if let Some(rc) = obj.refcount {
        writeln!(f, "{pad}  references: {rc}; held ones were taken at:")?;
        for h in &obj.held {
            let how = if h.from_creation { "created" } else { "cloned" };
            writeln!(
                f,
                "{pad}    {how} at {} on {} (+{})",
                h.site,
                h.thread,
                fmt_age(h.after)
            )?;
        }
        if !obj.refs.is_empty() {
            let dropped = if obj.refs_dropped > 0 {
                format!(" ({} older events not kept)", obj.refs_dropped)
            } else {
                String::new()
            };
            writeln!(f, "{pad}  reference history{dropped}:")?;
            for r in &obj.refs {
                let what = match (r.change, r.site) {
                    (RefChange::Reffed, Some(site)) => format!("cloned at {site}"),
                    (RefChange::Reffed, None) => "cloned".to_string(),
                    (RefChange::Unreffed, _) => "dropped".to_string(),
                };
                let held = if r.held { "  <- never given back" } else { "" };
                writeln!(
                    f,
                    "{pad}    +{} {what} on {} -> {} ref{}{held}",
                    fmt_age(r.after),
                    r.thread,
                    r.refcount,
                    if r.refcount == 1 { "" } else { "s" }
                )?;
                if let Some(trace) = &r.stack_trace {
                    for line in trace {
                        writeln!(f, "{pad}        {line}")?;
                    }
                }
            }
        }
    }
    if let Some(trace) = &obj.stack_trace {
        writeln!(f, "{pad}  created by:")?;
        for line in trace {
            writeln!(f, "{pad}    {line}")?;
        }
    }
    for child in &obj.children {
        write_object(f, child, depth + 1)?;
    }
    Ok(())
}

/// What was created and removed between two checkpoints, each list in the
/// order it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Objects created since the previous checkpoint (or the start of
    /// tracking), oldest first.
    pub created: Vec<ActivityRecord>,
    /// Objects destroyed since then, in order. An object created and
    /// destroyed in the same interval is in both lists.
    pub removed: Vec<ActivityRecord>,
}

impl Checkpoint {
    /// Nothing happened.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.removed.is_empty()
    }

    fn events(&self) -> Vec<(bool, &ActivityRecord)> {
        let mut all: Vec<(bool, &ActivityRecord)> = self
            .created
            .iter()
            .map(|r| (true, r))
            .chain(self.removed.iter().map(|r| (false, r)))
            .collect();
        all.sort_by_key(|(_, r)| r.seq);
        all
    }

    fn to_text(&self, tracer: &str) -> String {
        let mut out = format!(
            "activity checkpoint [tracer {tracer:?}]: {} created, {} removed\n",
            self.created.len(),
            self.removed.len()
        );
        for (created, r) in self.events() {
            let _ = if created {
                writeln!(
                    out,
                    "  + created {} {} at {}, {} bytes",
                    r.kind.name(),
                    r.id,
                    r.site,
                    r.size
                )
            } else {
                writeln!(
                    out,
                    "  - removed {} {} (created at {})",
                    r.kind.name(),
                    r.id,
                    r.site
                )
            };
        }
        out
    }

    fn to_json_lines(&self, tracer: &str) -> String {
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        o.str("event", "checkpoint")
            .str("tracer", tracer)
            .uint("created", self.created.len() as u64)
            .uint("removed", self.removed.len() as u64);
        o.end();
        out.push('\n');
        for (created, r) in self.events() {
            let mut o = Obj::new(&mut out);
            o.str(
                "event",
                if created {
                    "object-created"
                } else {
                    "object-removed"
                },
            )
            .str("tracer", tracer)
            .uint("seq", r.seq)
            .uint("id", r.id.get())
            .str("type", r.kind.name());
            site_fields(&mut o, r.site);
            o.uint("size", r.size as u64);
            o.end();
            out.push('\n');
        }
        out
    }
}

// ---------------------------------------------------------------------------
// The tracer

/// Live [`LeaksTracer`]s, so [`active`] can find them by type.
static INSTANCES: Mutex<Vec<Weak<LeaksTracer>>> = Mutex::new(Vec::new());

/// The leaks tracer. Make one with [`LeaksTracer::new`] and activate it with
/// [`add_tracer`](super::add_tracer), or through `FRAMECAST_TRACERS=leaks`;
/// find the active one with [`trace::leaks()`](super::leaks).
pub struct LeaksTracer {
    config: LeaksConfig,
    filter: Filter,
    interests: Interest,
    shards: Box<[Shard]>,
    tracking: AtomicBool,
    seq: AtomicU64,
    _clock: ClockUser,
    output: Mutex<Option<BufWriter<File>>>,
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
    super::find_active(&INSTANCES)
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
            _clock: ClockUser::new(),
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
    fn shard(&self, id: ObjectId) -> MutexGuard<'_, ShardInner> {
        let h = id.get().wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let ix = (h >> 58) as usize % SHARDS;
        self.shards[ix].0.locked()
    }

    #[inline]
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    fn capture(&self) -> Option<Box<Backtrace>> {
        self.config
            .stack_traces
            .then(|| Box::new(Backtrace::new_unresolved()))
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
        super::log_text(text);
        let mut output = self.output.locked();
        if let Some(w) = output.as_mut() {
            let lines = json();
            if let Err(e) = w.write_all(lines.as_bytes()).and_then(|()| w.flush()) {
                super::log_text(&format!(
                    "framecast leaks: writing {:?} failed: {e}; JSON output stopped\n",
                    self.config.output
                ));
                *output = None;
            }
        }
    }

    /// Copies every live entry out of the shards.
    fn collect(&self) -> Vec<Raw> {
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
        if !self.filter.matches(kind) {
            return;
        }
        let trace = self.capture();
        let now = coarse_ns();
        let thread = thread_index();
        let mut shard = self.shard(id);
        if let Some(e) = shard.live.get_mut(&id) {
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
            x.reffed += 1;
            let ord = x.reffed;
            x.held.push(Held {
                ord,
                at: now,
                site,
                thread,
            });
            push_history(
                x,
                RefEvent {
                    ord,
                    at: now,
                    reffed: true,
                    site: Some(site),
                    thread,
                    trace,
                },
            );
        }
    }

    fn object_unreffed(&self, id: ObjectId, kind: ObjectKind) {
        if !self.filter.matches(kind) {
            return;
        }
        let trace = self.capture();
        let now = coarse_ns();
        let thread = thread_index();
        let mut shard = self.shard(id);
        if let Some(e) = shard.live.get_mut(&id) {
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
            x.unreffed += 1;
            // The pairing rule from the module docs: a drop gives back the
            // oldest reference still held.
            if !x.held.is_empty() {
                x.held.remove(0);
            }
            push_history(
                x,
                RefEvent {
                    ord: 0,
                    at: now,
                    reffed: false,
                    site: None,
                    thread,
                    trace,
                },
            );
        }
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

// ---------------------------------------------------------------------------
// Snapshots: copy out under the shard locks, then build trees and resolve
// backtraces with no lock held.

#[derive(Debug)]
struct RawRef {
    ord: u64,
    at: u64,
    reffed: bool,
    site: Option<Site>,
    thread: u32,
    trace: Option<Backtrace>,
}

#[derive(Debug)]
struct Raw {
    id: ObjectId,
    kind: ObjectKind,
    site: Site,
    size: usize,
    parent: Option<ObjectId>,
    description: &'static str,
    name: Option<String>,
    origin: Option<String>,
    created: u64,
    thread: u32,
    may_be_leaked: bool,
    in_pool: bool,
    containers: SmallVec<[ObjectId; 1]>,
    notes: Vec<&'static str>,
    trace: Option<Backtrace>,
    acquired_at: Option<Site>,
    refs: Option<RawRefs>,
}

/// A copy of an object's reference records.
#[derive(Debug)]
struct RawRefs {
    reffed: u64,
    unreffed: u64,
    held: Vec<Held>,
    history: Vec<RawRef>,
    dropped: u64,
}

impl Raw {
    fn from_entry(id: ObjectId, e: &Entry) -> Raw {
        let x = e.extra.as_deref();
        let refs = x.filter(|x| x.reffed + x.unreffed > 0).map(|x| RawRefs {
            reffed: x.reffed,
            unreffed: x.unreffed,
            held: x.held.iter().copied().collect(),
            history: x
                .history
                .iter()
                .map(|r| RawRef {
                    ord: r.ord,
                    at: r.at,
                    reffed: r.reffed,
                    site: r.site,
                    thread: r.thread,
                    trace: r.trace.as_deref().cloned(),
                })
                .collect(),
            dropped: x.history_dropped,
        });
        Raw {
            id,
            kind: e.kind,
            site: e.site,
            size: e.size,
            parent: e.parent,
            description: e.description,
            name: x.and_then(|x| x.name.as_deref()).map(str::to_string),
            origin: x.and_then(|x| x.origin.as_deref()).map(str::to_string),
            created: e.created,
            thread: e.thread,
            may_be_leaked: e.may_be_leaked,
            in_pool: e.in_pool,
            containers: e.containers.clone(),
            notes: x.map(|x| x.notes.clone()).unwrap_or_default(),
            trace: x.and_then(|x| x.trace.as_deref().cloned()),
            acquired_at: x.and_then(|x| x.acquired_at),
            refs,
        }
    }

    /// A share's bytes belong to its root memory.
    fn own_bytes(&self) -> usize {
        if matches!(self.kind, ObjectKind::Memory) && self.parent.is_some() {
            0
        } else {
            self.size
        }
    }
}

/// Nests children under their owners and returns the top-level objects,
/// oldest first, leaving out may-be-leaked ones.
///
/// "Owner" means "keeps it alive": a buffer its memories; a share its root
/// memory (when no buffer holds the root); a pool its idle buffers; the
/// oldest buffer handed out by a pool, the pool (a pooled buffer holds its
/// pool until it comes home); an element its pads; and any object the
/// objects linked to it ([`object_linked`](super::object_linked)): a
/// pipeline its elements, a Python `Sender` its pipeline. So one leaked
/// pooled buffer is one entry — the buffer, its memory, and the pool it
/// pins — and one leaked pipeline one entry with all its parts.
fn build_trees(mut raws: Vec<Raw>, now: u64) -> Vec<LiveObject> {
    raws.sort_by_key(|r| (r.created, r.id));
    let index: HashMap<ObjectId, usize> = raws.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    // Shares by root, oldest first (raws are sorted).
    let mut shares: HashMap<ObjectId, usize> = HashMap::new();
    for (i, r) in raws.iter().enumerate() {
        if let (ObjectKind::Memory, Some(root)) = (r.kind, r.parent) {
            shares.entry(root).or_insert(i);
        }
    }
    // Buffers handed out, by pool, oldest first: they keep their pool alive.
    let mut outstanding: HashMap<ObjectId, usize> = HashMap::new();
    for (i, r) in raws.iter().enumerate() {
        if let (ObjectKind::Buffer, Some(pool), false) = (r.kind, r.parent, r.in_pool) {
            outstanding.entry(pool).or_insert(i);
        }
    }
    let mut owner: Vec<Option<usize>> = raws
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let container = r.containers.iter().find_map(|c| index.get(c).copied());
            match r.kind {
                ObjectKind::Memory => {
                    container.or_else(|| shares.get(&r.id).copied().filter(|&s| s != i))
                }
                ObjectKind::Buffer if r.in_pool => r.parent.and_then(|p| index.get(&p).copied()),
                ObjectKind::BufferPool => container.or_else(|| outstanding.get(&r.id).copied()),
                ObjectKind::Pad => {
                    container.or_else(|| r.parent.and_then(|p| index.get(&p).copied()))
                }
                _ => container,
            }
        })
        .collect();
    // Break any cycle (a root inside a buffer that holds one of its shares
    // can point back): walk each chain at most `len` steps.
    for i in 0..owner.len() {
        let mut at = i;
        let mut steps = 0;
        while let Some(next) = owner[at] {
            steps += 1;
            if next == i || steps > owner.len() {
                owner[i] = None;
                break;
            }
            at = next;
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); raws.len()];
    let mut tops = Vec::new();
    for (i, o) in owner.iter().enumerate() {
        match o {
            Some(p) => children[*p].push(i),
            None if !raws[i].may_be_leaked => tops.push(i),
            None => {}
        }
    }
    let pools: HashMap<ObjectId, Site> = raws
        .iter()
        .filter(|r| matches!(r.kind, ObjectKind::BufferPool))
        .map(|r| (r.id, r.site))
        .collect();
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut slots: Vec<Option<Raw>> = raws.into_iter().map(Some).collect();
    tops.into_iter()
        .filter_map(|i| build_one(i, &mut slots, &children, &pools, &mut names, now))
        .collect()
}

fn build_one(
    i: usize,
    slots: &mut [Option<Raw>],
    children: &[Vec<usize>],
    pools: &HashMap<ObjectId, Site>,
    names: &mut HashMap<u32, String>,
    now: u64,
) -> Option<LiveObject> {
    let raw = slots.get_mut(i)?.take()?;
    let kids: Vec<LiveObject> = children
        .get(i)
        .map(|c| c.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|&c| build_one(c, slots, children, pools, names, now))
        .collect();
    let mut name_of = |ix: u32| names.entry(ix).or_insert_with(|| thread_name(ix)).clone();
    let own = raw.own_bytes();
    let bytes = own + kids.iter().map(|k| k.bytes).sum::<usize>();
    let pool = match raw.kind {
        ObjectKind::Buffer => raw.parent.map(|id| PoolRef {
            id,
            site: pools.get(&id).copied(),
        }),
        _ => None,
    };
    let (refcount, held, refs, refs_dropped) = match raw.refs {
        None => (None, Vec::new(), Vec::new(), 0),
        Some(RawRefs {
            reffed,
            unreffed,
            held: held_raw,
            history,
            dropped,
        }) => {
            let held_ords: Vec<u64> = held_raw.iter().map(|h| h.ord).collect();
            let held = held_raw
                .iter()
                .map(|h| HeldRef {
                    site: h.site,
                    from_creation: h.ord == 0,
                    thread: name_of(h.thread),
                    after: Duration::from_nanos(h.at.saturating_sub(raw.created)),
                })
                .collect();
            // Reference count after each kept event, counting back from the
            // current total so a truncated history still shows true counts.
            let total = (1 + reffed).saturating_sub(unreffed);
            let mut count_after = Vec::with_capacity(history.len());
            let mut rc = total;
            for r in history.iter().rev() {
                count_after.push(rc);
                rc = if r.reffed {
                    rc.saturating_sub(1)
                } else {
                    rc + 1
                };
            }
            count_after.reverse();
            let refs = history
                .into_iter()
                .zip(count_after)
                .map(|(r, refcount)| RefRecord {
                    change: if r.reffed {
                        RefChange::Reffed
                    } else {
                        RefChange::Unreffed
                    },
                    site: r.site,
                    thread: name_of(r.thread),
                    after: Duration::from_nanos(r.at.saturating_sub(raw.created)),
                    refcount,
                    held: r.reffed && held_ords.contains(&r.ord),
                    stack_trace: r.trace.map(resolve),
                })
                .collect();
            (Some(total), held, refs, dropped)
        }
    };
    Some(LiveObject {
        id: raw.id,
        kind: raw.kind,
        site: raw.site,
        thread: name_of(raw.thread),
        age: Duration::from_nanos(now.saturating_sub(raw.created)),
        size: own,
        bytes,
        description: raw.description,
        name: raw.name,
        origin: raw.origin,
        parent: raw.parent,
        pool,
        in_pool: pool.is_some() && raw.in_pool,
        acquired_at: raw.acquired_at,
        notes: raw.notes,
        refcount,
        held,
        refs,
        refs_dropped,
        stack_trace: raw.trace.map(resolve),
        children: kids,
    })
}

/// Resolves a backtrace into `function at file:line` lines, leaving out the
/// capture machinery and the tracer's own frames at the top (everything up
/// to the last `backtrace::` or `framecast_core::trace::` frame among the
/// first few) and the runtime's frames below `main` or the test harness.
fn resolve(mut trace: Backtrace) -> Vec<String> {
    trace.resolve();
    let mut symbols: Vec<(String, Option<String>)> = Vec::new();
    for frame in trace.frames() {
        if frame.symbols().is_empty() {
            symbols.push((String::new(), Some(format!("?? at {:?}", frame.ip()))));
        }
        for sym in frame.symbols() {
            let name = sym.name().map(|n| format!("{n:#}")).unwrap_or_default();
            let place = match (sym.filename(), sym.lineno()) {
                (Some(file), Some(line)) => Some(format!("{}:{line}", file.display())),
                _ => None,
            };
            symbols.push((name, place));
        }
    }
    let internal = |name: &str| {
        name.starts_with("backtrace::")
            || (name.contains("framecast_core::trace::") && !name.contains("::tests::"))
    };
    let start = symbols
        .iter()
        .take(24)
        .rposition(|(name, _)| internal(name))
        .map_or(0, |i| i + 1);
    let mut lines = Vec::new();
    for (name, place) in &symbols[start..] {
        if name.contains("__rust_begin_short_backtrace") || name.starts_with("std::rt::lang_start")
        {
            break;
        }
        // Closure-call shims say nothing about the program.
        if name.starts_with("core::ops::function::") {
            continue;
        }
        lines.push(match (name.is_empty(), place) {
            (false, Some(place)) => format!("{name} at {place}"),
            (false, None) => name.clone(),
            (true, Some(place)) => place.clone(),
            (true, None) => "??".to_string(),
        });
        if lines.len() >= MAX_FRAMES {
            lines.push("...".to_string());
            break;
        }
    }
    lines
}

#[cfg(test)]
mod tests;
