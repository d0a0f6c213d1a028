//! `appsink`: hands buffers to the application, pulled or by callback.

use framecast_core::sync::MutexExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use framecast_core::{
    AllocationQuery, Buffer, BufferPool, Meta, MetaParams, PoolConfig, VideoMeta,
};

use crate::pipeline::base::counters;
use crate::pipeline::base::{settings, sink_properties_with, SettingsLock, Sink, SinkImpl};
use crate::pipeline::{
    Caps, DataQueue, Element, ElementFactory, Event, FlowError, FlowResult, FlowSuccess, Item,
    Limits, Overflow, PadDirection, PadTemplate, PropertySpec, PropertyValue, Refused,
};
use crate::Result;

/// A buffer with the caps it was negotiated with (`GstSample`).
#[derive(Debug, Clone)]
pub struct Sample {
    /// The buffer.
    pub buffer: Buffer,
    /// Its caps (shared: handing them out per frame must not copy them).
    pub caps: Option<Arc<Caps>>,
}

type NewSample = dyn Fn(Sample) -> FlowResult + Send + Sync;
type OnEos = dyn Fn() + Send + Sync;

/// Callbacks run on the streaming thread instead of queueing.
#[derive(Default)]
pub struct AppSinkCallbacks {
    /// Each buffer, as it arrives (its result goes back upstream).
    pub new_sample: Option<Box<NewSample>>,
    /// End of stream.
    pub eos: Option<Box<OnEos>>,
}

impl std::fmt::Debug for AppSinkCallbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSinkCallbacks")
            .field("new_sample", &self.new_sample.is_some())
            .field("eos", &self.eos.is_some())
            .finish()
    }
}

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "appsink",
        "AppSink",
        "Generic/Sink",
        "Hands buffers to the application: pull_sample or a callback; bounded",
        vec![PadTemplate::always_any("sink", PadDirection::Sink)],
        [
            sink_properties_with::<AppSinkSettings>(true),
            counters! {
                "dropped" => "Buffers dropped because the queue was full",
                "current-level-buffers" => "Buffers waiting to be pulled",
            },
        ]
        .concat(),
        || Box::new(Sink::new(AppSink::default())),
    )
}

settings! {
    /// `appsink`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct AppSinkSettings {
        /// `caps`: what to accept (ANY = whatever upstream offers).
        caps: Caps => PropertySpec::caps("caps", "The caps to accept (ANY = whatever upstream offers)"),
        /// `max-buffers`: queued for `pull_sample` (0 = no limit; may change
        /// while playing).
        max_buffers: u64 => PropertySpec::uint("max-buffers", "Most buffers queued for pull_sample (0 = no limit)", 0..=u32::MAX as u64, 8).mutable_in_playing(),
        /// `drop`: when full, drop the oldest instead of blocking (may change
        /// while playing).
        drop: bool => PropertySpec::bool("drop", "When full, drop the oldest buffer instead of blocking the stream", false).mutable_in_playing(),
    }
}

impl AppSinkSettings {
    fn limits(&self) -> Limits {
        Limits {
            buffers: self.max_buffers,
            ..Default::default()
        }
    }

    fn overflow(&self) -> Overflow {
        if self.drop {
            Overflow::DropOldest
        } else {
            Overflow::Block
        }
    }
}

/// The `appsink` element's implementation; reach it with
/// [`AppSink::from_element`].
pub struct AppSink {
    settings: SettingsLock<AppSinkSettings>,
    queue: DataQueue,
    caps: Mutex<Option<Arc<Caps>>>,
    callbacks: Mutex<Option<Arc<AppSinkCallbacks>>>,
    eos: AtomicBool,
    propose: Mutex<Option<(u32, u32)>>,
    proposed: Mutex<Option<BufferPool>>,
}

impl Default for AppSink {
    fn default() -> Self {
        let settings = AppSinkSettings::default();
        AppSink {
            queue: DataQueue::new(settings.limits(), settings.overflow()),
            settings: SettingsLock::default(),
            caps: Mutex::new(None),
            callbacks: Mutex::new(None),
            eos: AtomicBool::new(false),
            propose: Mutex::new(None),
            proposed: Mutex::new(None),
        }
    }
}

impl AppSink {
    /// The appsink behind an `appsink` element.
    pub fn from_element(element: &Element) -> Option<&AppSink> {
        element.imp::<Sink<AppSink>>().map(Sink::imp)
    }

    /// The next sample, waiting up to `timeout` (`None` = until one comes,
    /// EOS, or the element stops). `None` at EOS, on timeout, or stopped.
    pub fn pull_sample(&self, timeout: Option<Duration>) -> Option<Sample> {
        match self.queue.pop(timeout)? {
            Item::Buffer(buffer) => Some(Sample {
                buffer,
                caps: self.caps.locked().clone(),
            }),
            Item::Event(_) => {
                self.eos.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Whether EOS was reached and every buffer was pulled.
    pub fn is_eos(&self) -> bool {
        self.eos.load(Ordering::Acquire)
    }

    /// Runs callbacks on the streaming thread instead of queueing.
    pub fn set_callbacks(&self, callbacks: AppSinkCallbacks) {
        *self.callbacks.locked() = Some(Arc::new(callbacks));
    }

    /// Offers upstream a video pool of `min..max` buffers (with video meta)
    /// in the allocation query, so frames arrive in buffers this sink chose.
    pub fn propose_pool(&self, min_buffers: u32, max_buffers: u32) {
        *self.propose.locked() = Some((min_buffers, max_buffers));
    }

    /// The pool this sink proposed, once it did.
    pub fn proposed_pool(&self) -> Option<BufferPool> {
        self.proposed.locked().clone()
    }

    /// Buffers dropped because the queue was full (with `drop=true`).
    pub fn dropped(&self) -> u64 {
        self.queue.levels().dropped
    }

    fn callbacks(&self) -> Option<Arc<AppSinkCallbacks>> {
        self.callbacks.locked().clone()
    }
}

impl SinkImpl for AppSink {
    fn caps(&self, _element: &Element, template: &Caps) -> Caps {
        self.settings.read(|s| match &s.caps {
            c if !c.is_any() => template.intersect(c),
            _ => template.clone(),
        })
    }

    fn set_caps(&self, _element: &Element, caps: &Caps) -> Result<()> {
        *self.caps.locked() = Some(Arc::new(caps.clone()));
        Ok(())
    }

    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult {
        if let Some(callbacks) = self.callbacks() {
            if let Some(new_sample) = &callbacks.new_sample {
                let caps = self.caps.locked().clone();
                return new_sample(Sample { buffer, caps });
            }
        }
        let _ = element;
        match self.queue.push(Item::Buffer(buffer)) {
            Ok(()) | Err((Refused::Dropped, _)) => Ok(FlowSuccess::Ok),
            Err((Refused::Flushing, _)) => Err(FlowError::Flushing),
            Err((Refused::Eos, _)) => Err(FlowError::Eos),
        }
    }

    fn propose_allocation(&self, _element: &Element, query: &mut AllocationQuery) -> bool {
        query.add_meta(VideoMeta::API, MetaParams::None);
        let propose = *self.propose.locked();
        if let (Some((min, max)), Some(info)) = (propose, query.layout) {
            let pool = BufferPool::new_video();
            if pool
                .set_config(PoolConfig::for_video(info, min, max).with_video_meta())
                .is_ok()
            {
                query.add_pool(Some(pool.clone()), info.size, min, max);
                *self.proposed.locked() = Some(pool);
            }
        } else if query.pools.is_empty() {
            // What this sink holds at once: its queue full, the buffer
            // the application pulled, and the one upstream waits to push.
            // Upstream's pool starts that big; with its own 2 it grew a
            // frame at a time whenever a slow pull let the queue fill (a
            // 1080p receiver: +3 MiB after 570 s). No limit: no claim.
            let queued = self.settings.read(|s| s.max_buffers);
            if let Ok(queued @ 1..) = u32::try_from(queued) {
                query.add_pool(None, query.size, queued.saturating_add(2), 0);
            }
        }
        true
    }

    fn eos(&self, _element: &Element) {
        if let Some(callbacks) = self.callbacks() {
            if let Some(eos) = &callbacks.eos {
                eos();
                self.eos.store(true, Ordering::Release);
                return;
            }
        }
        let _ = self.queue.push(Item::Event(Event::Eos));
    }

    fn start(&self, _element: &Element) -> Result<()> {
        self.eos.store(false, Ordering::Release);
        let settings = self.settings.get();
        self.queue.set_limits(settings.limits());
        self.queue.set_overflow(settings.overflow());
        self.queue.set_flushing(false);
        Ok(())
    }

    fn stop(&self, _element: &Element) {
        self.queue.set_flushing(true);
        self.proposed.locked().take();
    }

    fn unlock(&self, _element: &Element) {
        self.queue.set_flushing(true);
    }

    /// `max-buffers` and `drop` take effect at once.
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)?;
        let settings = self.settings.get();
        match name {
            "max-buffers" => self.queue.set_limits(settings.limits()),
            "drop" => self.queue.set_overflow(settings.overflow()),
            _ => {}
        }
        Ok(())
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        let levels = self.queue.levels();
        match name {
            "dropped" => Some(PropertyValue::UInt(levels.dropped)),
            "current-level-buffers" => Some(PropertyValue::UInt(levels.buffers)),
            _ => None,
        }
    }
}
