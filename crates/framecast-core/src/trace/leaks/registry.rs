//! The registry a [`LeaksTracer`] keeps: sharded maps of live objects keyed by id,
//! their reference events, and a small index per thread.

use crate::sync::MutexExt;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use backtrace::Backtrace;
use smallvec::SmallVec;

use crate::trace::{ObjectId, ObjectKind, Site};

static THREAD_NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static THREAD_INDEX: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// The calling thread's index into [`THREAD_NAMES`], registering it on
/// first use. Costs one thread-local read afterwards.
pub(super) fn thread_index() -> u32 {
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

pub(super) fn thread_name(ix: u32) -> String {
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
pub(super) struct IdHasher(u64);

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

/// One recorded clone or drop (a snapshot copies them, traces included).
#[derive(Debug, Clone)]
pub(super) struct RefEvent {
    /// For a clone, its ordinal among the object's clones (1, 2, ...).
    pub(super) ord: u64,
    /// Coarse clock, ns.
    pub(super) at: u64,
    pub(super) reffed: bool,
    pub(super) site: Option<Site>,
    pub(super) thread: u32,
    pub(super) trace: Option<Box<Backtrace>>,
}

/// A reference not yet given back (by the pairing described in the module
/// docs). `ord == 0` is the reference the object was created with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) ord: u64,
    pub(super) at: u64,
    pub(super) site: Site,
    pub(super) thread: u32,
}

/// What only some objects need, boxed to keep [`Entry`] small.
#[derive(Debug, Default)]
pub(super) struct Extra {
    /// Instance name (elements, pads, pipelines): only named objects pay
    /// for it, in this box they already need.
    pub(super) name: Option<Box<str>>,
    /// A foreign caller's `file:line` (a Python `framecast.Sender(...)`).
    pub(super) origin: Option<Box<str>>,
    pub(super) notes: Vec<&'static str>,
    pub(super) trace: Option<Box<Backtrace>>,
    pub(super) acquired_at: Option<Site>,
    pub(super) reffed: u64,
    pub(super) unreffed: u64,
    /// Inline capacities cover the common case (a few clones per object)
    /// with the one allocation of this struct.
    pub(super) held: SmallVec<[Held; 2]>,
    pub(super) history: SmallVec<[RefEvent; 4]>,
    pub(super) history_dropped: u64,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) kind: ObjectKind,
    pub(super) site: Site,
    pub(super) size: usize,
    pub(super) parent: Option<ObjectId>,
    pub(super) description: &'static str,
    /// Coarse clock, ns (see [`clock`](crate::trace::clock)).
    pub(super) created: u64,
    pub(super) thread: u32,
    pub(super) may_be_leaked: bool,
    /// A pool's buffer currently inside its pool (not handed out).
    pub(super) in_pool: bool,
    /// Buffers this memory belongs to.
    pub(super) containers: SmallVec<[ObjectId; 1]>,
    pub(super) extra: Option<Box<Extra>>,
}

impl Entry {
    pub(super) fn extra(&mut self) -> &mut Extra {
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
pub(super) struct Activity {
    pub(super) created: bool,
    pub(super) record: ActivityRecord,
}

#[derive(Debug, Default)]
pub(super) struct ShardInner {
    pub(super) live: IdMap<Entry>,
    pub(super) activity: Vec<Activity>,
    /// Objects tracked here since the tracer started (kept per shard, under
    /// its lock: a shared counter would be one more contended atomic per
    /// object).
    pub(super) tracked: u64,
}

/// One shard on its own cache line, so two threads working on different
/// shards never share a line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(super) struct Shard(pub(super) Mutex<ShardInner>);
