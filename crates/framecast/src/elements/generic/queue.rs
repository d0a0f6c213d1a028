//! `queue`: a thread boundary with a bounded, optionally leaky buffer.

use framecast_core::sync::MutexExt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use framecast_core::{Buffer, ClockTime};

use crate::pipeline::base::counters;
use crate::pipeline::base::{settings, FromProperty, Settings, SettingsLock};
use crate::pipeline::{
    Caps, DataQueue, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult,
    FlowSuccess, Item, Limits, Overflow, Pad, PadTemplate, PropertySpec, PropertyValue, Query,
    Refused, StateChange, StateChangeSuccess,
};
use crate::Result;

const LEAKY: &[(&str, &str)] = &[
    ("no", "Not leaky: block when full"),
    ("upstream", "Leaky on upstream: drop new buffers when full"),
    (
        "downstream",
        "Leaky on downstream: drop the oldest buffers when full",
    ),
];

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "queue",
        "Queue",
        "Generic",
        "A thread boundary with a bounded buffer: levels and drops readable",
        PadTemplate::sink_src(Caps::new_any(), Caps::new_any()),
        {
            let mut properties = QueueSettings::properties();
            properties.extend(counters! {
                "current-level-buffers" => "Buffers queued now",
                "current-level-bytes" => "Bytes queued now",
                "current-level-time" => "Time span queued now, ns",
                "dropped" => "Buffers dropped by the leaky policy",
            });
            properties
        },
        || Box::new(Queue::default()),
    )
}

settings! {
    /// `queue`'s writable properties (all of them may change while playing).
    #[derive(Debug, Clone)]
    pub(crate) struct QueueSettings {
        /// `max-size-buffers`, `max-size-bytes`, `max-size-time` (0 = no
        /// limit): the queue's [`Limits`].
        max_size_buffers: u64 => PropertySpec::uint("max-size-buffers", "Max buffers queued (0 = no limit)", 0..=u32::MAX as u64, 200).mutable_in_playing(),
        max_size_bytes: u64 => PropertySpec::uint("max-size-bytes", "Max bytes queued (0 = no limit)", 0..=u32::MAX as u64, 10 * 1024 * 1024).mutable_in_playing(),
        max_size_time: ClockTime as ClockTime::from_nseconds => PropertySpec::uint("max-size-time", "Max time queued in ns (0 = no limit)", 0..=u64::MAX, ClockTime::SECOND.nseconds()).mutable_in_playing(),
        /// `leaky`: what happens to a buffer when the queue is full.
        leaky: Overflow => PropertySpec::enumeration("leaky", "Where the queue leaks when full", LEAKY, "no").mutable_in_playing(),
    }
}

impl QueueSettings {
    /// The queue's limits these settings ask for.
    fn limits(&self) -> Limits {
        Limits {
            buffers: self.max_size_buffers,
            bytes: self.max_size_bytes,
            time: self.max_size_time,
        }
    }
}

/// `leaky` is set by GStreamer's nick (`no`, `upstream`, `downstream`).
impl FromProperty for Overflow {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::Enum(nick) => Overflow::from_leaky_nick(nick),
            _ => None,
        }
    }
}

/// The `queue` element.
pub struct Queue {
    settings: SettingsLock<QueueSettings>,
    queue: Arc<DataQueue>,
    /// Last result of pushing downstream, returned to upstream.
    downstream: Arc<Mutex<FlowResult>>,
    task: Mutex<Option<JoinHandle<()>>>,
    reported_drops: std::sync::atomic::AtomicU64,
}

impl Default for Queue {
    fn default() -> Self {
        let settings = QueueSettings::default();
        Queue {
            queue: Arc::new(DataQueue::new(settings.limits(), settings.leaky)),
            settings: SettingsLock::default(),
            downstream: Arc::new(Mutex::new(Ok(FlowSuccess::Ok))),
            task: Mutex::new(None),
            reported_drops: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl Queue {
    /// The underlying queue (levels, drops).
    pub fn data_queue(&self) -> &DataQueue {
        &self.queue
    }

    fn start(&self, element: &Element) {
        let mut task = self.task.locked();
        if task.is_some() {
            return;
        }
        *self.downstream.locked() = Ok(FlowSuccess::Ok);
        self.queue.set_flushing(false);
        let queue = self.queue.clone();
        let downstream = self.downstream.clone();
        let thread_element = element.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("fc-{}", element.name()))
            .spawn(move || {
                let element = thread_element;
                let Some(src) = element.src_pad() else {
                    return;
                };
                // Ends when the queue flushes (pop returns None).
                while let Some(item) = queue.pop(None) {
                    let result = match item {
                        Item::Buffer(buffer) => src.push(buffer),
                        Item::Event(event) => {
                            let eos = matches!(event, Event::Eos);
                            src.push_event(event);
                            if eos {
                                Err(FlowError::Eos)
                            } else {
                                Ok(FlowSuccess::Ok)
                            }
                        }
                    };
                    if let Err(reason) = result {
                        *downstream.locked() = Err(reason);
                        if reason.is_fatal() {
                            element.post_error(
                                format!("Internal data stream error: streaming stopped, reason {reason}"),
                                None,
                            );
                        }
                        if reason != FlowError::Eos || queue.is_flushing() {
                            // Stop taking data; upstream sees the error on its next push.
                            queue.set_flushing(true);
                            break;
                        }
                    }
                }
            });
        match spawned {
            Ok(handle) => *task = Some(handle),
            Err(e) => element.post_error(format!("cannot start the queue thread: {e}"), None),
        }
    }

    fn stop(&self) {
        self.queue.set_flushing(true);
        let handle = self.task.locked().take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl ElementImpl for Queue {
    /// The new value takes effect at once, as in GStreamer's queue.
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)?;
        let settings = self.settings.get();
        match name {
            "leaky" => self.queue.set_overflow(settings.leaky),
            _ => self.queue.set_limits(settings.limits()),
        }
        Ok(())
    }

    fn read_property(&self, _element: &Element, name: &str) -> Option<PropertyValue> {
        self.queue.levels().property(name).map(PropertyValue::UInt)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let last = *self.downstream.locked();
        last?;
        let pushed = self.queue.push(Item::Buffer(buffer));
        self.queue
            .trace_levels(element.id(), element.name(), &self.reported_drops);
        match pushed {
            Ok(()) | Err((Refused::Dropped, _)) => Ok(FlowSuccess::Ok),
            Err((Refused::Flushing, _)) => {
                let last = *self.downstream.locked();
                Err(last.err().unwrap_or(FlowError::Flushing))
            }
            Err((Refused::Eos, _)) => Err(FlowError::Eos),
        }
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::FlushStart => {
                self.queue.set_flushing(true);
                element.forward_event(pad, Event::FlushStart)
            }
            Event::FlushStop { reset_time } => {
                let handled = element.forward_event(pad, Event::FlushStop { reset_time });
                self.stop();
                self.start(element);
                handled
            }
            event if event.is_serialized() => self.queue.push(Item::Event(event)).is_ok(),
            event => element.forward_event(pad, event),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        let handled = element.default_query(pad, query);
        if let Query::Latency { max, .. } = query {
            // The queue can hold its time limit more before blocking.
            let limit = self.queue.limits().time;
            if let Some(m) = max.as_mut() {
                if limit > ClockTime::ZERO {
                    *m += limit;
                } else {
                    *max = None;
                }
            }
        }
        handled
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.queue.set_limits(self.settings.read(|s| s.limits()));
                self.start(element);
            }
            StateChange::PausedToReady => self.stop(),
            _ => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
