//! `appsrc`: the application pushes frames into a pipeline — done right.
//!
//! What GStreamer's appsrc gets wrong by default, and what this one does:
//! the queue is bounded (buffers, bytes, time) with a named overflow policy
//! (`block` for files, `drop-oldest` — the latest frame wins — for live
//! sources, or `drop-newest`), and drops are counted; `push_buffer` takes
//! ownership and hands the buffer back when it cannot take it; frames can be
//! written straight into pooled memory from the negotiated pool
//! ([`AppSrc::acquire_buffer`]); live timestamps are taken at push time, not
//! when the streaming thread gets round to it.

use framecast_core::sync::{CondvarExt, MutexExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use framecast_core::{Buffer, BufferPool, ClockTime, ReferenceTimestampMeta};

use crate::pipeline::base::counters;
use crate::pipeline::base::{
    settings, source_properties_with, CreateContext, SettingsLock, Source, SourceImpl,
};
use crate::pipeline::{
    Caps, DataQueue, Element, ElementFactory, Event, FlowError, FlowSuccess, Item, Levels, Limits,
    Overflow, PadDirection, PadTemplate, PipelineContext, PropertySpec, PropertyValue, Refused,
};
use crate::Result;

const OVERFLOW: &[(&str, &str)] = &[
    ("auto", "drop-oldest when is-live, else block"),
    (
        "block",
        "Wait for room: the pusher is paced by the pipeline",
    ),
    (
        "drop-oldest",
        "Drop the oldest queued buffer: the latest frame wins",
    ),
    (
        "drop-newest",
        "Refuse the new buffer: it comes back to the caller",
    ),
];
const LEAKY_TYPE: &[(&str, &str)] = &[
    ("none", "Use `overflow`"),
    ("upstream", "GStreamer name for drop-newest"),
    ("downstream", "GStreamer name for drop-oldest"),
];

/// How long [`AppSrc::acquire_buffer`] waits for caps and a pool to be
/// negotiated after the pipeline starts.
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "appsrc",
        "AppSrc",
        "Generic/Source",
        "Frames pushed by the application; bounded queue with a named overflow policy",
        vec![PadTemplate::always_any("src", PadDirection::Src)],
        [
            source_properties_with::<AppSrcSettings>(),
            counters! {
                "current-level-buffers" => "Buffers queued now",
                "current-level-bytes" => "Bytes queued now",
                "current-level-time" => "Time span queued now, ns",
                "dropped" => "Buffers dropped by the overflow policy",
                "in" => "Buffers accepted",
                "out" => "Buffers handed downstream",
            },
        ]
        .concat(),
        || Box::new(Source::new(AppSrc::default())),
    )
}

/// Why [`AppSrc::push_buffer`] did not take a buffer; the buffer is inside.
#[derive(Debug)]
pub enum PushError {
    /// The queue is full and the policy is `drop-newest`.
    Full(Buffer),
    /// The element is not running (not Paused/Playing) or is flushing.
    Flushing(Buffer),
    /// End of stream was signalled.
    Eos(Buffer),
}

impl PushError {
    /// The refused buffer.
    pub fn into_buffer(self) -> Buffer {
        match self {
            PushError::Full(b) | PushError::Flushing(b) | PushError::Eos(b) => b,
        }
    }

    /// The matching flow error.
    pub fn flow_error(&self) -> FlowError {
        match self {
            PushError::Full(_) => FlowError::Error,
            PushError::Flushing(_) => FlowError::Flushing,
            PushError::Eos(_) => FlowError::Eos,
        }
    }
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PushError::Full(_) => "appsrc queue is full (drop-newest)",
            PushError::Flushing(_) => "appsrc is not running",
            PushError::Eos(_) => "appsrc is at end of stream",
        })
    }
}

impl std::error::Error for PushError {}

type NeedData = dyn Fn(&AppSrc, u32) + Send + Sync;
type EnoughData = dyn Fn(&AppSrc) + Send + Sync;

/// Callbacks (`need-data`, `enough-data`).
#[derive(Default)]
pub struct AppSrcCallbacks {
    /// The queue is empty: push more. Runs on the streaming thread; the
    /// hint is the number of buffers wanted (1).
    pub need_data: Option<Box<NeedData>>,
    /// A push found the queue full.
    pub enough_data: Option<Box<EnoughData>>,
}

impl std::fmt::Debug for AppSrcCallbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSrcCallbacks")
            .field("need_data", &self.need_data.is_some())
            .field("enough_data", &self.enough_data.is_some())
            .finish()
    }
}

settings! {
    /// `appsrc`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct AppSrcSettings {
        /// `caps`: what the pushed buffers are (ANY by default).
        caps: Caps => PropertySpec::caps("caps", "The caps of the pushed buffers (raw video caps enable acquire_buffer)"),
        is_live: bool => PropertySpec::bool("is-live", "Live source: produce only in Playing; timestamps are capture times", false),
        /// `format`: only `time`.
        format: &'static str => PropertySpec::enumeration("format", "Segment format (only time is supported)", &[("time", "Timestamps in nanoseconds")], "time"),
        /// `max-buffers`, `max-bytes`, `max-time`: the queue's [`Limits`]
        /// (may change while playing).
        max_buffers: u64 => PropertySpec::uint("max-buffers", "Most buffers queued (0 = no limit)", 0..=u32::MAX as u64, 4).mutable_in_playing(),
        max_bytes: u64 => PropertySpec::uint("max-bytes", "Most bytes queued (0 = no limit)", 0..=u64::MAX, 0).mutable_in_playing(),
        max_time: ClockTime as ClockTime::from_nseconds => PropertySpec::uint("max-time", "Most time queued, ns (0 = no limit)", 0..=u64::MAX, 0).mutable_in_playing(),
        /// `overflow`: a nick of [`OVERFLOW`] (may change while playing).
        overflow: &'static str => PropertySpec::enumeration("overflow", "What a push into a full queue does", OVERFLOW, "auto").mutable_in_playing(),
        /// `leaky-type`: a nick of [`LEAKY_TYPE`]; other than `none` it wins
        /// over `overflow`.
        leaky_type: &'static str => PropertySpec::enumeration("leaky-type", "GStreamer-compatible alias of overflow", LEAKY_TYPE, "none").mutable_in_playing(),
        min_latency: ClockTime as ClockTime::from_nseconds => PropertySpec::uint("min-latency", "Latency the source adds, ns", 0..=u64::MAX, 0).mutable_in_playing(),
    }
}

impl AppSrcSettings {
    /// The queue's limits these settings ask for.
    fn limits(&self) -> Limits {
        Limits {
            buffers: self.max_buffers,
            bytes: self.max_bytes,
            time: self.max_time,
        }
    }

    /// The queue's overflow policy these settings ask for.
    fn policy(&self) -> Overflow {
        match self.leaky_type {
            "upstream" => return Overflow::DropNewest,
            "downstream" => return Overflow::DropOldest,
            _ => {}
        }
        match self.overflow {
            "block" => Overflow::Block,
            "drop-oldest" => Overflow::DropOldest,
            "drop-newest" => Overflow::DropNewest,
            _ if self.is_live => Overflow::DropOldest,
            _ => Overflow::Block,
        }
    }
}

/// The `appsrc` element's implementation; reach it with
/// [`AppSrc::from_element`].
pub struct AppSrc {
    settings: SettingsLock<AppSrcSettings>,
    queue: DataQueue,
    pool: Mutex<Option<BufferPool>>,
    pool_ready: Condvar,
    context: Mutex<Option<Arc<PipelineContext>>>,
    callbacks: Mutex<Option<Arc<AppSrcCallbacks>>>,
    live: AtomicBool,
    do_timestamp: AtomicBool,
    running: AtomicBool,
    out: std::sync::atomic::AtomicU64,
    reported_drops: std::sync::atomic::AtomicU64,
}

impl Default for AppSrc {
    fn default() -> Self {
        AppSrc {
            queue: DataQueue::new(AppSrcSettings::default().limits(), Overflow::Block),
            settings: SettingsLock::default(),
            pool: Mutex::new(None),
            pool_ready: Condvar::new(),
            context: Mutex::new(None),
            callbacks: Mutex::new(None),
            live: AtomicBool::new(false),
            do_timestamp: AtomicBool::new(false),
            running: AtomicBool::new(false),
            out: std::sync::atomic::AtomicU64::new(0),
            reported_drops: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl AppSrc {
    /// The appsrc behind an `appsrc` element.
    pub fn from_element(element: &Element) -> Option<&AppSrc> {
        element.imp::<Source<AppSrc>>().map(Source::imp)
    }

    /// Queues a buffer for the pipeline, taking ownership. With
    /// `do-timestamp` (or when live) an unstamped buffer gets the running
    /// time now as PTS, and every buffer without one gets a capture
    /// [`ReferenceTimestampMeta`] (for latency measurement).
    ///
    /// With the `block` policy this waits for room. A buffer that cannot be
    /// taken comes back in the error.
    pub fn push_buffer(&self, mut buffer: Buffer) -> std::result::Result<FlowSuccess, PushError> {
        if !self.running.load(Ordering::Acquire) {
            return Err(PushError::Flushing(buffer));
        }
        let ctx = self.context.locked().clone();
        if let Some(ctx) = ctx {
            let stamp =
                self.do_timestamp.load(Ordering::Relaxed) || self.live.load(Ordering::Relaxed);
            let needs_pts = stamp && buffer.pts().is_none();
            let needs_meta = buffer.meta::<ReferenceTimestampMeta>().is_none();
            if needs_pts || needs_meta {
                let b = buffer.make_mut();
                if needs_pts {
                    let now = ctx.running_time();
                    b.set_pts(Some(now));
                    b.set_dts(Some(now));
                }
                if needs_meta {
                    b.add_meta(ReferenceTimestampMeta::capture(ctx.clock.time()));
                }
            }
        }
        let result = self.queue.push(Item::Buffer(buffer));
        if self.queue.is_full() || matches!(result, Err((Refused::Dropped, _))) {
            if let Some(cb) = self
                .callbacks()
                .and_then(|c| c.enough_data.as_ref().map(|_| c.clone()))
            {
                if let Some(enough) = &cb.enough_data {
                    enough(self);
                }
            }
        }
        match result {
            Ok(()) => Ok(FlowSuccess::Ok),
            Err((why, Item::Buffer(buffer))) => Err(match why {
                Refused::Dropped => PushError::Full(buffer),
                Refused::Flushing => PushError::Flushing(buffer),
                Refused::Eos => PushError::Eos(buffer),
            }),
            Err((_, Item::Event(_))) => Ok(FlowSuccess::Ok),
        }
    }

    /// Signals end of stream: queued after the data; later pushes return
    /// [`PushError::Eos`]. A push blocked on a full queue is released.
    pub fn end_of_stream(&self) -> std::result::Result<FlowSuccess, FlowError> {
        match self.queue.push(Item::Event(Event::Eos)) {
            Ok(()) => Ok(FlowSuccess::Ok),
            Err((Refused::Eos, _)) => Err(FlowError::Eos),
            Err(_) => Err(FlowError::Flushing),
        }
    }

    /// A buffer from the negotiated pool, to write a frame straight into
    /// pooled memory. Waits (up to [`NEGOTIATION_TIMEOUT`]) for caps and the
    /// pool after the pipeline starts, and while every pooled buffer is in
    /// use. Needs raw video `caps` on the element.
    pub fn acquire_buffer(&self) -> std::result::Result<Buffer, FlowError> {
        self.acquire_buffer_timeout(NEGOTIATION_TIMEOUT)
    }

    /// [`acquire_buffer`](Self::acquire_buffer) with a given negotiation timeout.
    pub fn acquire_buffer_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<Buffer, FlowError> {
        let deadline = Instant::now() + timeout;
        let mut pool = self.pool.locked();
        loop {
            if let Some(p) = pool.as_ref() {
                let p = p.clone();
                drop(pool);
                return p.acquire().map_err(FlowError::from_acquire);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(FlowError::NotNegotiated);
            }
            pool = self.pool_ready.wait_timeout_locked(pool, deadline - now).0;
        }
    }

    /// Sets the callbacks.
    pub fn set_callbacks(&self, callbacks: AppSrcCallbacks) {
        *self.callbacks.locked() = Some(Arc::new(callbacks));
    }

    /// Queue levels and counters (`current-level-*`, `dropped`, `in`).
    pub fn levels(&self) -> Levels {
        self.queue.levels()
    }

    /// The current overflow policy.
    pub fn overflow(&self) -> Overflow {
        self.queue.overflow()
    }

    fn callbacks(&self) -> Option<Arc<AppSrcCallbacks>> {
        self.callbacks.locked().clone()
    }

    fn apply_settings(&self, element: &Element) {
        let settings = self.settings.get();
        self.live.store(settings.is_live, Ordering::Relaxed);
        // `do-timestamp` is the base source's property.
        self.do_timestamp
            .store(element.prop_bool("do-timestamp"), Ordering::Relaxed);
        self.queue.set_limits(settings.limits());
        self.queue.set_overflow(settings.policy());
    }
}

impl SourceImpl for AppSrc {
    fn caps(&self, _element: &Element) -> Caps {
        self.settings.read(|s| s.caps.clone())
    }

    fn set_caps(&self, _element: &Element, caps: &Caps) -> Result<usize> {
        Ok(caps.video_info().map(|info| info.size).unwrap_or(0))
    }

    /// Its queue full, the frame the application fills, and the one
    /// downstream works on: with fewer the pool grew by a frame whenever
    /// load lined all three up (a 1080p BGR sender: +6 MiB at 60 s). Like
    /// GStreamer's, the larger of this and downstream's claim wins, so a
    /// queueing element right after (an appsink) may still add a frame.
    fn pool_min_buffers(&self, _element: &Element) -> u32 {
        // 0, no limit, has no bound to size for: the pool grows with it.
        let queued = self.settings.read(|s| s.max_buffers);
        u32::try_from(queued).unwrap_or(u32::MAX).saturating_add(2)
    }

    fn pool_decided(&self, _element: &Element, pool: &BufferPool) {
        *self.pool.locked() = Some(pool.clone());
        self.pool_ready.notify_all();
    }

    fn create(
        &self,
        element: &Element,
        _ctx: &mut CreateContext<'_>,
    ) -> std::result::Result<Buffer, FlowError> {
        self.queue
            .trace_levels(element.id(), element.name(), &self.reported_drops);
        if self.queue.is_empty() {
            if let Some(cb) = self.callbacks() {
                if let Some(need) = &cb.need_data {
                    need(self, 1);
                }
            }
        }
        match self.queue.pop(None) {
            Some(Item::Buffer(buffer)) => {
                self.out.fetch_add(1, Ordering::Relaxed);
                Ok(buffer)
            }
            Some(Item::Event(_)) => Err(FlowError::Eos),
            None => Err(FlowError::Flushing),
        }
    }

    fn is_live(&self, _element: &Element) -> bool {
        self.settings.read(|s| s.is_live)
    }

    fn eos_requested(&self, _element: &Element) -> bool {
        // Queued behind the data already pushed.
        let _ = self.end_of_stream();
        true
    }

    fn latency(&self, _element: &Element) -> (ClockTime, Option<ClockTime>) {
        (self.settings.read(|s| s.min_latency), None)
    }

    fn start(&self, element: &Element) -> Result<()> {
        self.apply_settings(element);
        *self.context.locked() = element.context();
        self.out.store(0, Ordering::Relaxed);
        self.queue.set_flushing(false);
        self.running.store(true, Ordering::Release);
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        self.running.store(false, Ordering::Release);
        self.queue.set_flushing(true);
        self.pool.locked().take();
    }

    fn unlock(&self, _element: &Element) {
        self.running.store(false, Ordering::Release);
        self.queue.set_flushing(true);
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)?;
        let settings = self.settings.get();
        match name {
            "max-buffers" | "max-bytes" | "max-time" => {
                let mut limits = self.queue.limits();
                let v = value.as_u64().unwrap_or(0);
                match name {
                    "max-buffers" => limits.buffers = v,
                    "max-bytes" => limits.bytes = v,
                    _ => limits.time = ClockTime::from_nseconds(v),
                }
                self.queue.set_limits(limits);
            }
            "overflow" | "leaky-type" => {
                // An explicit value is the policy; `auto` or `none`
                // resolves from the settings, the new value in them.
                let policy = match (name, value.as_str()) {
                    ("leaky-type", Some("upstream")) => Overflow::DropNewest,
                    ("leaky-type", Some("downstream")) => Overflow::DropOldest,
                    ("overflow", Some("block")) => Overflow::Block,
                    ("overflow", Some("drop-oldest")) => Overflow::DropOldest,
                    ("overflow", Some("drop-newest")) => Overflow::DropNewest,
                    _ => settings.policy(),
                };
                self.queue.set_overflow(policy);
            }
            "is-live" => {
                let live = value.as_bool().unwrap_or(false);
                self.live.store(live, Ordering::Relaxed);
                if settings.overflow == "auto" && settings.leaky_type == "none" {
                    self.queue.set_overflow(if live {
                        Overflow::DropOldest
                    } else {
                        Overflow::Block
                    });
                }
            }
            "do-timestamp" => self
                .do_timestamp
                .store(value.as_bool().unwrap_or(false), Ordering::Relaxed),
            _ => {}
        }
        Ok(())
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let levels = self.queue.levels();
        let value = match name {
            "in" => levels.pushed,
            "out" => self.out.load(Ordering::Relaxed),
            _ => levels.property(name)?,
        };
        Some(PropertyValue::UInt(value))
    }
}
