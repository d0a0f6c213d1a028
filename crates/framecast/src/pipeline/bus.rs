//! The bus: how elements tell the application about errors, end-of-stream,
//! state changes and latency.

use framecast_core::sync::{CondvarExt, MutexExt};
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use framecast_core::ClockTime;

use super::caps::Structure;
use super::state::State;

/// A message posted on the bus by an element (or the pipeline).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Message {
    /// A fatal error in `source`.
    Error {
        /// Element name.
        source: String,
        /// What went wrong.
        message: String,
        /// Detail for developers (file, caps, OS error...).
        debug: Option<String>,
    },
    /// A recoverable problem.
    Warning {
        /// Element name.
        source: String,
        /// What went wrong.
        message: String,
        /// Detail.
        debug: Option<String>,
    },
    /// Every sink reached end-of-stream.
    Eos,
    /// An element (or the pipeline, `source` = its name) changed state.
    StateChanged {
        /// Element name.
        source: String,
        /// Previous state.
        old: State,
        /// New state.
        new: State,
    },
    /// The pipeline's latency was computed (or changed): `min` is what the
    /// sinks add to buffer running times before rendering.
    Latency {
        /// Live pipeline.
        live: bool,
        /// Minimum latency.
        min: ClockTime,
        /// Maximum latency (`None` = unlimited).
        max: Option<ClockTime>,
    },
    /// An element-specific message (udpsrc timeout, stats...).
    Element {
        /// Element name.
        source: String,
        /// The payload.
        structure: Structure,
    },
    /// Negotiated caps on a pad (posted with verbose pipelines, `launch -v`).
    Caps {
        /// `element:pad`.
        pad: String,
        /// The caps, as a string.
        caps: String,
    },
}

impl Message {
    /// The element name the message comes from, when it has one.
    pub fn source(&self) -> Option<&str> {
        match self {
            Message::Error { source, .. }
            | Message::Warning { source, .. }
            | Message::StateChanged { source, .. }
            | Message::Element { source, .. } => Some(source),
            Message::Caps { pad, .. } => Some(pad),
            Message::Eos | Message::Latency { .. } => None,
        }
    }
}

/// Most messages kept unread; beyond it the oldest are dropped and counted,
/// so an application that never reads its bus cannot grow without bound.
pub const BUS_CAPACITY: usize = 4096;

type SyncHandler = Arc<dyn Fn(&Message) + Send + Sync>;

struct BusInner {
    queue: Mutex<VecDeque<Message>>,
    wake: Condvar,
    handler: Mutex<Option<SyncHandler>>,
    dropped: AtomicU64,
}

/// The pipeline's bus (`GstBus`): a bounded message queue with blocking pop
/// and an optional callback. `Clone` shares the bus.
#[derive(Clone)]
pub struct Bus(Arc<BusInner>);

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    /// A new bus.
    pub fn new() -> Bus {
        Bus(Arc::new(BusInner {
            queue: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            handler: Mutex::new(None),
            dropped: AtomicU64::new(0),
        }))
    }

    /// Posts a message: the callback (if any) sees it on the posting thread,
    /// then it is queued for [`timed_pop`](Self::timed_pop).
    pub fn post(&self, message: Message) {
        let handler = self.0.handler.locked().clone();
        if let Some(handler) = handler {
            handler(&message);
        }
        let mut queue = self.0.queue.locked();
        if queue.len() >= BUS_CAPACITY {
            queue.pop_front();
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(message);
        self.0.wake.notify_all();
    }

    /// Sets a callback run for every message on the posting thread (the
    /// streaming thread: keep it short). `None` removes it.
    pub fn set_sync_handler(&self, handler: Option<impl Fn(&Message) + Send + Sync + 'static>) {
        *self.0.handler.locked() = handler.map(|h| Arc::new(h) as SyncHandler);
    }

    /// The next message, waiting up to `timeout` (`None` = forever).
    pub fn timed_pop(&self, timeout: Option<Duration>) -> Option<Message> {
        self.timed_pop_filtered(timeout, |_| true)
    }

    /// The next message for which `filter` is true, waiting up to
    /// `timeout`; other messages before it are discarded.
    pub fn timed_pop_filtered(
        &self,
        timeout: Option<Duration>,
        filter: impl Fn(&Message) -> bool,
    ) -> Option<Message> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut queue = self.0.queue.locked();
        loop {
            while let Some(message) = queue.pop_front() {
                if filter(&message) {
                    return Some(message);
                }
            }
            match deadline {
                None => queue = self.0.wake.wait_locked(queue),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    queue = self.0.wake.wait_timeout_locked(queue, deadline - now).0;
                }
            }
        }
    }

    /// Messages dropped because nobody read the bus.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// Discards every queued message.
    pub fn flush(&self) {
        self.0.queue.locked().clear();
    }
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queued = self.0.queue.lock().map(|q| q.len()).unwrap_or(0);
        f.debug_struct("Bus")
            .field("queued", &queued)
            .field("dropped", &self.dropped())
            .finish()
    }
}
