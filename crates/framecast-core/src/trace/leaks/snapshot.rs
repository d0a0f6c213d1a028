//! Snapshots: copy out under the shard locks, then build trees and resolve
//! backtraces with no lock held.

use std::collections::HashMap;
use std::time::Duration;

use backtrace::Backtrace;
use smallvec::SmallVec;

use super::*;
use crate::trace::{ObjectId, ObjectKind, Site};

#[derive(Debug)]
pub(super) struct Raw {
    pub(super) id: ObjectId,
    pub(super) kind: ObjectKind,
    pub(super) site: Site,
    pub(super) size: usize,
    pub(super) parent: Option<ObjectId>,
    pub(super) description: &'static str,
    pub(super) name: Option<String>,
    pub(super) origin: Option<String>,
    pub(super) created: u64,
    pub(super) thread: u32,
    pub(super) may_be_leaked: bool,
    pub(super) in_pool: bool,
    pub(super) containers: SmallVec<[ObjectId; 1]>,
    pub(super) notes: Vec<&'static str>,
    pub(super) trace: Option<Backtrace>,
    pub(super) acquired_at: Option<Site>,
    pub(super) refs: Option<RawRefs>,
}

/// A copy of an object's reference records.
#[derive(Debug)]
pub(super) struct RawRefs {
    pub(super) reffed: u64,
    pub(super) unreffed: u64,
    pub(super) held: Vec<Held>,
    pub(super) history: Vec<RefEvent>,
    pub(super) dropped: u64,
}

impl Raw {
    pub(super) fn from_entry(id: ObjectId, e: &Entry) -> Raw {
        let x = e.extra.as_deref();
        let refs = x.filter(|x| x.reffed + x.unreffed > 0).map(|x| RawRefs {
            reffed: x.reffed,
            unreffed: x.unreffed,
            held: x.held.iter().copied().collect(),
            history: x.history.to_vec(),
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
/// objects linked to it ([`object_linked`](crate::trace::object_linked)): a
/// pipeline its elements, a Python `Sender` its pipeline. So one leaked
/// pooled buffer is one entry — the buffer, its memory, and the pool it
/// pins — and one leaked pipeline one entry with all its parts.
pub(super) fn build_trees(mut raws: Vec<Raw>, now: u64) -> Vec<LiveObject> {
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
                    stack_trace: r.trace.map(|t| resolve(*t)),
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
