//! [`Sink`]: clock synchronisation, EOS and allocation proposals of a sink
//! element (`GstBaseSink`).

use super::Settings;
use crate::pipeline::element::property_hooks;
use framecast_core::{AllocationQuery, Buffer};

use crate::pipeline::caps::Caps;
use crate::pipeline::clock::ClockCancel;
use crate::pipeline::element::{Element, ElementImpl};
use crate::pipeline::event::Event;
use crate::pipeline::flow::{FlowError, FlowResult};
use crate::pipeline::pad::Pad;
use crate::pipeline::property::{PropertySpec, PropertyValue};
use crate::pipeline::query::Query;
use crate::pipeline::state::{StateChange, StateChangeSuccess};
use crate::Result;

/// What a sink element implements; [`Sink`] adds clock sync, EOS
/// accounting and the default queries.
pub trait SinkImpl: Send + Sync + 'static {
    /// The caps this sink accepts (default: its pad template).
    fn caps(&self, _element: &Element, template: &Caps) -> Caps {
        template.clone()
    }

    /// The stream's caps are now `caps`.
    fn set_caps(&self, _element: &Element, _caps: &Caps) -> Result<()> {
        Ok(())
    }

    /// Consumes one buffer (after waiting for its time when `sync` is on).
    fn render(&self, element: &Element, buffer: Buffer) -> FlowResult;

    /// Answers the allocation query: offer a pool, metas. Default: nothing
    /// (upstream makes its own pool).
    fn propose_allocation(&self, _element: &Element, _query: &mut AllocationQuery) -> bool {
        true
    }

    /// End of stream reached this sink.
    fn eos(&self, _element: &Element) {}

    /// Other serialized events (custom events).
    fn event(&self, _element: &Element, _event: &Event) {}

    /// Ready -> Paused.
    fn start(&self, _element: &Element) -> Result<()> {
        Ok(())
    }

    /// Paused -> Ready.
    fn stop(&self, _element: &Element) {}

    /// Wake a blocked `render` (flushing).
    fn unlock(&self, _element: &Element) {}

    property_hooks!();
}

/// A sink's properties: those every sink has, then `S`'s own.
pub(crate) fn sink_properties_with<S: Settings>(sync_default: bool) -> Vec<PropertySpec> {
    let mut properties = sink_properties(sync_default);
    properties.extend(S::properties());
    properties
}

/// Properties every sink has: `sync`.
pub fn sink_properties(sync_default: bool) -> Vec<PropertySpec> {
    vec![PropertySpec::bool(
        "sync",
        "Wait for each buffer's time on the clock before rendering it",
        sync_default,
    )
    .mutable_in_playing()]
}

/// A sink element: wraps a [`SinkImpl`].
pub struct Sink<S: SinkImpl> {
    imp: S,
    cancel: ClockCancel,
    /// Running time of the last rendered buffer + 1 ns (0 = none yet), for
    /// the position query.
    position: std::sync::atomic::AtomicU64,
    /// The `sync` property, cached: read per buffer without the property lock.
    sync: std::sync::atomic::AtomicBool,
}

impl<S: SinkImpl> Sink<S> {
    /// Wraps `imp`.
    pub fn new(imp: S) -> Sink<S> {
        Sink {
            imp,
            cancel: ClockCancel::default(),
            position: std::sync::atomic::AtomicU64::new(0),
            sync: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The wrapped implementation.
    pub fn imp(&self) -> &S {
        &self.imp
    }

    /// Waits until `buffer` is due; false when flushing.
    fn wait_for(&self, element: &Element, pad: &Pad, buffer: &Buffer) -> bool {
        if !self.sync.load(std::sync::atomic::Ordering::Relaxed) {
            return true;
        }
        let (Some(ctx), Some(pts)) = (element.context(), buffer.pts()) else {
            return true;
        };
        let Some(rt) = pad.segment().to_running_time(pts) else {
            return true;
        };
        ctx.clock
            .wait_until(ctx.base_time() + rt + ctx.latency(), &self.cancel)
    }
}

impl<S: SinkImpl> ElementImpl for Sink<S> {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.imp.property_changed(element, name, value)?;
        if name == "sync" {
            self.sync.store(
                value.as_bool().unwrap_or(false),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        Ok(())
    }

    fn read_property(&self, element: &Element, name: &str) -> Option<PropertyValue> {
        self.imp.read_property(element, name)
    }

    fn chain(&self, element: &Element, pad: &Pad, buffer: Buffer) -> FlowResult {
        if !self.wait_for(element, pad, &buffer) {
            return Err(FlowError::Flushing);
        }
        if let Some(rt) = buffer
            .pts()
            .and_then(|pts| pad.segment().to_running_time(pts))
        {
            self.position.store(
                rt.nseconds().saturating_add(1),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        self.imp.render(element, buffer)
    }

    fn sink_event(&self, element: &Element, _pad: &Pad, event: Event) -> bool {
        match &event {
            Event::Caps(caps) => match self.imp.set_caps(element, caps) {
                Ok(()) => true,
                Err(e) => {
                    element.post_error(format!("cannot handle caps {caps}: {e}"), None);
                    false
                }
            },
            Event::Eos => {
                self.imp.eos(element);
                if let Some(ctx) = element.context() {
                    ctx.sink_eos();
                }
                true
            }
            Event::FlushStart => {
                self.cancel.cancel();
                self.imp.unlock(element);
                true
            }
            Event::FlushStop { .. } => {
                self.cancel.reset();
                true
            }
            other => {
                self.imp.event(element, other);
                true
            }
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        match query {
            Query::Caps { filter, result } => {
                let mut caps = self.imp.caps(element, pad.template_caps());
                if let Some(f) = filter {
                    caps = caps.intersect(f);
                }
                *result = Some(caps);
                true
            }
            Query::AcceptCaps { caps, result } => {
                *result = caps.can_intersect(&self.imp.caps(element, pad.template_caps()));
                true
            }
            Query::Allocation(q) => self.imp.propose_allocation(element, q),
            Query::Position { result } => {
                let stored = self.position.load(std::sync::atomic::Ordering::Relaxed);
                *result = stored
                    .checked_sub(1)
                    .map(framecast_core::ClockTime::from_nseconds);
                true
            }
            _ => element.default_query(pad, query),
        }
    }

    fn change_state(&self, element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        match change {
            StateChange::ReadyToPaused => {
                self.sync.store(
                    element.prop_bool("sync"),
                    std::sync::atomic::Ordering::Relaxed,
                );
                self.cancel.reset();
                self.position.store(0, std::sync::atomic::Ordering::Relaxed);
                self.imp.start(element)?;
            }
            StateChange::PausedToReady => {
                self.cancel.cancel();
                self.imp.unlock(element);
                self.imp.stop(element);
            }
            StateChange::PlayingToPaused => {}
            StateChange::PausedToPlaying => self.cancel.reset(),
            StateChange::NullToReady | StateChange::ReadyToNull => {}
        }
        Ok(StateChangeSuccess::Success)
    }
}
