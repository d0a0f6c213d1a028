//! What a [`LeaksTracer`] reports: live objects grouped by type and site,
//! checkpoints, and their text and JSON forms.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::trace::histogram::fmt_duration;

use super::*;
use crate::trace::json::{self, Obj};
use crate::trace::{ObjectId, ObjectKind, Site};

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

    pub(super) fn events(&self) -> Vec<(bool, &ActivityRecord)> {
        let mut all: Vec<(bool, &ActivityRecord)> = self
            .created
            .iter()
            .map(|r| (true, r))
            .chain(self.removed.iter().map(|r| (false, r)))
            .collect();
        all.sort_by_key(|(_, r)| r.seq);
        all
    }

    pub(super) fn to_text(&self, tracer: &str) -> String {
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

    pub(super) fn to_json_lines(&self, tracer: &str) -> String {
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
