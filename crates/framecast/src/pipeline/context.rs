//! What a pipeline shares with its elements: bus, clock, base time, latency,
//! and the end-of-stream count.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use framecast_core::ClockTime;

use super::bus::{Bus, Message};
use super::clock::SystemClock;

/// Shared by a pipeline and its elements.
pub struct PipelineContext {
    /// The pipeline's name.
    pub name: String,
    /// The bus.
    pub bus: Bus,
    /// The clock.
    pub clock: SystemClock,
    base_time: AtomicU64,
    latency: AtomicU64,
    /// Sinks that have not reached EOS yet.
    sinks_pending_eos: AtomicUsize,
    eos_posted: AtomicBool,
    verbose: AtomicBool,
    latency_hook: Mutex<Option<LatencyHook>>,
}

type LatencyHook = Box<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for PipelineContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineContext")
            .field("name", &self.name)
            .field("base_time", &self.base_time())
            .field("latency", &self.latency())
            .finish()
    }
}

impl PipelineContext {
    pub(crate) fn new(name: &str) -> Arc<PipelineContext> {
        Arc::new(PipelineContext {
            name: name.to_string(),
            bus: Bus::new(),
            clock: SystemClock,
            base_time: AtomicU64::new(0),
            latency: AtomicU64::new(0),
            sinks_pending_eos: AtomicUsize::new(0),
            eos_posted: AtomicBool::new(false),
            verbose: AtomicBool::new(false),
            latency_hook: Mutex::new(None),
        })
    }

    /// Clock time at which running time 0 was (set when going to Playing).
    pub fn base_time(&self) -> ClockTime {
        ClockTime::from_nseconds(self.base_time.load(Ordering::Acquire))
    }

    pub(crate) fn set_base_time(&self, t: ClockTime) {
        self.base_time.store(t.nseconds(), Ordering::Release);
    }

    /// Running time now: clock time minus base time.
    pub fn running_time(&self) -> ClockTime {
        self.clock.time().saturating_sub(self.base_time())
    }

    /// The pipeline latency sinks add before rendering.
    pub fn latency(&self) -> ClockTime {
        ClockTime::from_nseconds(self.latency.load(Ordering::Acquire))
    }

    pub(crate) fn set_latency(&self, latency: ClockTime) {
        self.latency.store(latency.nseconds(), Ordering::Release);
    }

    pub(crate) fn reset_eos(&self, sinks: usize) {
        self.sinks_pending_eos.store(sinks, Ordering::Release);
        self.eos_posted.store(false, Ordering::Release);
    }

    /// A sink reached end-of-stream; the last one makes the pipeline post
    /// [`Message::Eos`].
    pub fn sink_eos(&self) {
        let before = self
            .sinks_pending_eos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .unwrap_or(0);
        if before <= 1 && !self.eos_posted.swap(true, Ordering::AcqRel) {
            self.bus.post(Message::Eos);
        }
    }

    pub(crate) fn set_latency_hook(&self, hook: LatencyHook) {
        *self.latency_hook.locked() = Some(hook);
    }

    /// An element's latency changed (a source negotiated its framerate, an
    /// encoder was configured): the pipeline queries its sinks again,
    /// updates the latency they apply, and posts [`Message::Latency`].
    pub fn update_latency(&self) {
        let hook = self.latency_hook.locked();
        if let Some(hook) = hook.as_ref() {
            hook();
        }
    }

    /// Whether negotiated caps are posted on the bus (`launch -v`).
    pub fn verbose(&self) -> bool {
        self.verbose.load(Ordering::Relaxed)
    }

    pub(crate) fn set_verbose(&self, verbose: bool) {
        self.verbose.store(verbose, Ordering::Relaxed);
    }
}
