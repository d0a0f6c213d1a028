//! Elements: the [`ElementImpl`] trait an element type implements, and the
//! [`Element`] handle the engine and applications use.

use framecast_core::sync::{MutexExt, RwLockExt};
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use framecast_core::trace::{self, ObjectId, ObjectInfo, ObjectKind, ObjectLabel};
use framecast_core::Buffer;

use super::bus::Message;
use super::context::PipelineContext;
use super::event::Event;
use super::factory::ElementFactory;
use super::flow::{FlowError, FlowResult};
use super::pad::{Pad, PadDirection, PadPresence};
use super::property::{PropertySpec, PropertyValue};
use super::query::Query;
use super::refs;
use super::state::{State, StateChange, StateChangeSuccess};
use crate::error::closest;
use crate::{Error, Result};

/// The property hooks of [`ElementImpl`], written once for it and for the
/// base classes' traits (`SourceImpl`, `SinkImpl`, `TransformImpl`, whose
/// element forwards them), with their defaults: every value is taken, none
/// is computed.
macro_rules! property_hooks {
    () => {
        /// A property was set (already type- and range-checked). Return an
        /// error to refuse it; the stored value then stays unchanged.
        fn property_changed(
            &self,
            _element: &$crate::pipeline::Element,
            _name: &str,
            _value: &$crate::pipeline::PropertyValue,
        ) -> $crate::Result<()> {
            Ok(())
        }

        /// The current value of a read-only or computed property (levels,
        /// counters); `None` to use the stored value.
        fn read_property(
            &self,
            _element: &$crate::pipeline::Element,
            _name: &str,
        ) -> Option<$crate::pipeline::PropertyValue> {
            None
        }
    };
}
pub(crate) use property_hooks;

/// What an element type implements. Every method has a default that does
/// what a simple one-in, one-out element would: events and queries are
/// forwarded to the other side.
///
/// Methods receive the [`Element`] handle so an implementation can reach its
/// pads, properties, bus and clock without storing a reference to itself.
/// Per-stream state belongs behind the implementation's own locks or
/// atomics; it is touched on the streaming thread, while properties may be
/// set from the application thread.
pub trait ElementImpl: Any + Send + Sync + 'static {
    /// Called once, after the element's always-pads exist.
    fn constructed(&self, _element: &Element) {}

    property_hooks!();

    /// A buffer arrived on sink pad `pad`.
    fn chain(&self, _element: &Element, _pad: &Pad, _buffer: Buffer) -> FlowResult {
        Err(FlowError::NotSupported)
    }

    /// An event arrived on sink pad `pad` (from upstream).
    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        element.forward_event(pad, event)
    }

    /// An upstream event arrived on source pad `pad` (from downstream).
    fn src_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        element.forward_event(pad, event)
    }

    /// A query on one of the element's pads.
    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        element.default_query(pad, query)
    }

    /// One state step. Pads are activated before an upward Ready -> Paused
    /// and deactivated (flushing) before a downward Paused -> Ready, so a
    /// streaming thread blocked downstream is released before this runs.
    fn change_state(&self, _element: &Element, _change: StateChange) -> Result<StateChangeSuccess> {
        Ok(StateChangeSuccess::Success)
    }

    /// A request pad was added (`tee`'s `src_%u`).
    fn pad_added(&self, _element: &Element, _pad: &Pad) {}

    /// An event sent to the element by the application (`gst_element_send_event`):
    /// by default a source pushes it downstream from its source pads, other
    /// elements pass it upstream through their sink pads.
    fn send_event(&self, element: &Element, event: Event) -> bool {
        let pads = element.sink_pads();
        if pads.is_empty() {
            let mut handled = false;
            for pad in element.src_pads() {
                handled |= pad.push_event(event.clone());
            }
            handled
        } else {
            pads.iter().any(|p| p.push_event(event.clone()))
        }
    }
}

pub(crate) struct ElementInner {
    pub(crate) id: ObjectId,
    name: String,
    factory: Arc<ElementFactory>,
    pub(crate) imp: Box<dyn ElementImpl>,
    pads: RwLock<Vec<Pad>>,
    properties: Mutex<HashMap<&'static str, PropertyValue>>,
    state: Mutex<State>,
    context: RwLock<Option<Arc<PipelineContext>>>,
    request_counter: AtomicU32,
}

impl Drop for ElementInner {
    fn drop(&mut self) {
        trace::object_destroyed(self.id, ObjectKind::Element);
    }
}

/// A list of pads (inline up to four).
pub type Pads = smallvec::SmallVec<[Pad; 4]>;

/// An element (`GstElement`): a handle; clones refer to the same element.
///
/// Every handle is a reference, reported with its site to
/// reference-tracking tracers (`leaks(check-refs=true)`), as [`Pad`]'s are.
pub struct Element(pub(crate) Arc<ElementInner>);

refs::reported_handle!(Element, ObjectKind::Element);

impl Element {
    /// Reported to tracers as created at the caller's site, named by its
    /// instance name (`videoconvert0`), its factory as the description.
    #[track_caller]
    pub(crate) fn new(factory: Arc<ElementFactory>, name: String) -> Element {
        let id = ObjectId::next();
        let site = std::panic::Location::caller();
        let description = factory.name;
        trace::object_created(|| ObjectInfo {
            id,
            kind: ObjectKind::Element,
            site,
            size: 0,
            parent: None,
            description,
            may_be_leaked: false,
        });
        trace::object_labelled(id, ObjectKind::Element, || ObjectLabel {
            name: &name,
            origin: None,
        });
        let properties = factory
            .properties
            .iter()
            .map(|spec| (spec.name, spec.default_value()))
            .collect();
        let imp = (factory.create)();
        let inner = Arc::new(ElementInner {
            id,
            name,
            imp,
            pads: RwLock::new(Vec::new()),
            properties: Mutex::new(properties),
            state: Mutex::new(State::Null),
            context: RwLock::new(None),
            request_counter: AtomicU32::new(0),
            factory,
        });
        let element = Element(inner);
        // A loop, not `map`: the pads are reported as made where the
        // element was (a closure would lose the caller).
        let mut always: Vec<Pad> = Vec::new();
        for t in element.0.factory.pad_templates.iter() {
            if t.presence == PadPresence::Always {
                always.push(Pad::new(&element.0, &element.0.name, t.name, t));
            }
        }
        element.0.pads.write_locked().extend(always);
        element.0.imp.constructed(&element);
        element
    }

    /// A handle for a strong reference taken elsewhere (an upgraded weak
    /// reference), reported as taken at the caller's site. Takes an
    /// `Option` so callers need no `map`, which would lose the caller.
    #[track_caller]
    pub(crate) fn from_inner(inner: Option<Arc<ElementInner>>) -> Option<Element> {
        let inner = inner?;
        refs::taken(inner.id, ObjectKind::Element);
        Some(Element(inner))
    }

    /// The element's name (unique within its pipeline).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Process-unique id.
    pub fn id(&self) -> ObjectId {
        self.0.id
    }

    /// The factory that made it.
    pub fn factory(&self) -> &ElementFactory {
        &self.0.factory
    }

    /// The implementation as its concrete type (to reach an element's own
    /// API, e.g. `AppSrc::push_buffer`).
    pub fn imp<T: ElementImpl>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.0.imp;
        any.downcast_ref::<T>()
    }

    /// Whether both handles refer to the same element.
    pub fn ptr_eq(a: &Element, b: &Element) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    // ---- pads -----------------------------------------------------------

    // Every accessor that hands out a pad is `#[track_caller]`: the handle
    // is a reference, reported as taken at the caller's site.

    /// All pads.
    #[track_caller]
    pub fn pads(&self) -> Vec<Pad> {
        refs::clone_all(self.0.pads.read_locked().iter())
    }

    /// The pad named `name`.
    #[track_caller]
    pub fn static_pad(&self, name: &str) -> Option<Pad> {
        self.find_pad(|p| p.name() == name)
    }

    #[track_caller]
    fn find_pad(&self, matches: impl Fn(&Pad) -> bool) -> Option<Pad> {
        let pads = self.0.pads.read_locked();
        let pad = pads.iter().find(|p| matches(p))?;
        Some(pad.clone())
    }

    /// Source pads. Up to four are returned without a heap allocation, so
    /// per-buffer fan-out (`tee`) stays allocation-free.
    #[track_caller]
    pub fn src_pads(&self) -> Pads {
        self.pads_in(PadDirection::Src)
    }

    /// Sink pads.
    #[track_caller]
    pub fn sink_pads(&self) -> Pads {
        self.pads_in(PadDirection::Sink)
    }

    #[track_caller]
    fn pads_in(&self, direction: PadDirection) -> Pads {
        let pads = self.0.pads.read_locked();
        refs::clone_all(pads.iter().filter(|p| p.direction() == direction))
    }

    /// The first source pad (the only one, for most elements).
    #[track_caller]
    pub fn src_pad(&self) -> Option<Pad> {
        self.first_pad(PadDirection::Src)
    }

    /// The first sink pad.
    #[track_caller]
    pub fn sink_pad(&self) -> Option<Pad> {
        self.first_pad(PadDirection::Sink)
    }

    #[track_caller]
    fn first_pad(&self, direction: PadDirection) -> Option<Pad> {
        self.find_pad(|p| p.direction() == direction)
    }

    /// Makes a pad from a request template (`src_%u`), named with the next
    /// free number.
    #[track_caller]
    pub fn request_pad(&self, template_name: &str) -> Result<Pad> {
        let template = self
            .0
            .factory
            .pad_templates
            .iter()
            .find(|t| t.name == template_name && t.presence == PadPresence::Request)
            .cloned()
            .ok_or_else(|| Error::Link {
                from: self.name().to_string(),
                to: template_name.to_string(),
                reason: format!(
                    "{} has no request pad template {template_name:?}",
                    self.factory().name
                ),
            })?;
        let n = self.0.request_counter.fetch_add(1, Ordering::Relaxed);
        let name = template
            .name
            .replace("%u", &n.to_string())
            .replace("%d", &n.to_string());
        let pad = Pad::new(&self.0, &self.0.name, &name, &template);
        if *self.0.state.locked() >= State::Paused {
            pad.set_flushing(false);
            if pad.direction() == PadDirection::Src {
                // A branch added mid-stream starts where the stream is.
                if let Some(sink) = self.sink_pad() {
                    pad.adopt_sticky(&sink);
                }
            }
        }
        self.0.pads.write_locked().push(pad.clone());
        self.0.imp.pad_added(self, &pad);
        Ok(pad)
    }

    /// A free pad to link `direction`-wards: an unlinked always-pad, or a
    /// new request pad.
    pub fn free_pad(&self, direction: PadDirection) -> Result<Pad> {
        if let Some(pad) = self.pads_in(direction).into_iter().find(|p| !p.is_linked()) {
            return Ok(pad);
        }
        let template = self
            .0
            .factory
            .pad_templates
            .iter()
            .find(|t| t.direction == direction && t.presence == PadPresence::Request)
            .map(|t| t.name);
        match template {
            Some(name) => self.request_pad(name),
            None => Err(Error::Link {
                from: self.name().to_string(),
                to: String::new(),
                reason: format!(
                    "{} has no free {} pad",
                    self.name(),
                    if direction == PadDirection::Src {
                        "source"
                    } else {
                        "sink"
                    }
                ),
            }),
        }
    }

    /// Links a free source pad of this element to a free sink pad of
    /// `downstream`.
    pub fn link(&self, downstream: &Element) -> Result<()> {
        let src = self.free_pad(PadDirection::Src)?;
        let sink = downstream.free_pad(PadDirection::Sink)?;
        src.link(&sink)
    }

    // ---- properties -----------------------------------------------------

    fn no_such_property(&self, name: &str) -> Error {
        Error::NoSuchProperty {
            element: self.name().to_string(),
            property: name.to_string(),
            suggestion: closest(name, self.0.factory.properties.iter().map(|p| p.name)),
        }
    }

    /// The spec of the factory's property `name`, or the error that names
    /// the properties there are.
    fn property_spec(&self, name: &str) -> Result<&PropertySpec> {
        self.0
            .factory
            .properties
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| self.no_such_property(name))
    }

    /// Sets a property from a typed value (checked against its type and range).
    pub fn set_property(&self, name: &str, value: impl Into<PropertyValue>) -> Result<()> {
        let spec = self.property_spec(name)?;
        let value = spec.validate(self.name(), value.into())?;
        self.store_property(spec.name, spec.mutable_in_playing, value)
    }

    /// Sets a property from text, as pipeline strings do (`max-buffers=2`).
    pub fn set_property_from_str(&self, name: &str, text: &str) -> Result<()> {
        let spec = self.property_spec(name)?;
        let value = spec.parse(self.name(), text)?;
        self.store_property(spec.name, spec.mutable_in_playing, value)
    }

    fn store_property(
        &self,
        name: &'static str,
        mutable_in_playing: bool,
        value: PropertyValue,
    ) -> Result<()> {
        if !mutable_in_playing && self.state() >= State::Paused {
            return Err(Error::InvalidPropertyValue {
                element: self.name().to_string(),
                property: name.to_string(),
                value: value.to_string(),
                reason: "can only be changed in the Null or Ready state".into(),
            });
        }
        self.0.imp.property_changed(self, name, &value)?;
        self.0.properties.locked().insert(name, value);
        Ok(())
    }

    /// A property's current value.
    pub fn property(&self, name: &str) -> Result<PropertyValue> {
        if let Some(value) = self.0.imp.read_property(self, name) {
            return Ok(value);
        }
        self.0
            .properties
            .locked()
            .get(name)
            .cloned()
            .ok_or_else(|| self.no_such_property(name))
    }

    /// A counter's value (`packets-sent`, `num-lost`, ...), or 0 when the
    /// element has no such number: for statistics read every frame, which
    /// must not allocate.
    pub fn counter(&self, name: &str) -> u64 {
        self.property(name)
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    }

    /// The stored value of a property the element declares (for element
    /// implementations, which read their own settings with it or with the
    /// typed `prop_*` readers below; applications use
    /// [`property`](Element::property)).
    ///
    /// # Panics
    ///
    /// When the element's factory declares no property `name`: the name
    /// is a constant in the element's source, and a misspelt one must fail
    /// the element's tests, not read as a silent default.
    #[track_caller]
    pub fn prop(&self, name: &str) -> PropertyValue {
        match self.0.properties.locked().get(name) {
            Some(value) => value.clone(),
            None => panic!(
                "element {} ({}) declares no property {name:?}",
                self.name(),
                self.0.factory.name
            ),
        }
    }

    #[track_caller]
    fn typed_prop<T>(
        &self,
        name: &str,
        kind: &str,
        read: impl Fn(&PropertyValue) -> Option<T>,
    ) -> T {
        let value = self.prop(name);
        match read(&value) {
            Some(v) => v,
            None => panic!(
                "property {name:?} of {} ({}) is {value:?}, not {kind}",
                self.name(),
                self.0.factory.name
            ),
        }
    }

    /// A boolean property's value. Panics, as [`prop`](Element::prop), on
    /// an undeclared name, and on a property of another type.
    #[track_caller]
    pub fn prop_bool(&self, name: &str) -> bool {
        self.typed_prop(name, "a boolean", PropertyValue::as_bool)
    }

    /// An integer property's value (signed or unsigned, in `i64`'s range).
    /// Panics as [`prop_bool`](Element::prop_bool).
    #[track_caller]
    pub fn prop_i64(&self, name: &str) -> i64 {
        self.typed_prop(name, "an integer", PropertyValue::as_i64)
    }

    /// An unsigned integer property's value. Panics as
    /// [`prop_bool`](Element::prop_bool).
    #[track_caller]
    pub fn prop_u64(&self, name: &str) -> u64 {
        self.typed_prop(name, "an unsigned integer", PropertyValue::as_u64)
    }

    /// An integer property's value as the type the element uses it in
    /// (`u8` for a payload type, `u16` for a port, `usize` for a size):
    /// the declared range fits the type, so no fallback is needed. Panics
    /// as [`prop_bool`](Element::prop_bool), and when the range does not
    /// fit `T` (a declaration bug the element's tests hit).
    #[track_caller]
    pub fn prop_as<T: TryFrom<i128>>(&self, name: &str) -> T {
        let wide = |v: &PropertyValue| match v {
            PropertyValue::Int(v) => Some(i128::from(*v)),
            PropertyValue::UInt(v) => Some(i128::from(*v)),
            _ => None,
        };
        let v = self.typed_prop(name, "an integer", wide);
        match T::try_from(v) {
            Ok(v) => v,
            Err(_) => panic!(
                "property {name:?} of {} is {v}, outside the {} it is used as",
                self.name(),
                std::any::type_name::<T>()
            ),
        }
    }

    /// A string property's value (`None` when unset), or an enum's nick.
    /// Panics as [`prop_bool`](Element::prop_bool).
    #[track_caller]
    pub fn prop_str(&self, name: &str) -> Option<String> {
        self.typed_prop(name, "a string", |v| match v {
            PropertyValue::String(s) => Some(s.clone()),
            PropertyValue::Enum(nick) => Some(Some((*nick).to_string())),
            _ => None,
        })
    }

    /// An enum property's nick. Panics as [`prop_bool`](Element::prop_bool).
    #[track_caller]
    pub fn prop_enum(&self, name: &str) -> &'static str {
        self.typed_prop(name, "an enum", |v| match v {
            PropertyValue::Enum(nick) => Some(*nick),
            _ => None,
        })
    }

    /// A caps property's value. Panics as [`prop_bool`](Element::prop_bool).
    #[track_caller]
    pub fn prop_caps(&self, name: &str) -> super::caps::Caps {
        self.typed_prop(name, "caps", |v| v.as_caps().cloned())
    }

    /// A fraction property's value. Panics as
    /// [`prop_bool`](Element::prop_bool).
    #[track_caller]
    pub fn prop_fraction(&self, name: &str) -> framecast_core::Fraction {
        self.typed_prop(name, "a fraction", PropertyValue::as_fraction)
    }

    // ---- pipeline context ---------------------------------------------------

    /// The pipeline context (bus, clock, base time), once in a pipeline.
    pub fn context(&self) -> Option<Arc<PipelineContext>> {
        self.0.context.read_locked().clone()
    }

    pub(crate) fn set_context(&self, context: Option<Arc<PipelineContext>>) {
        *self.0.context.write_locked() = context;
    }

    /// Sends an event to the element from the application (EOS to a source
    /// ends its stream after what it has already produced).
    pub fn send_event(&self, event: Event) -> bool {
        self.0.imp.send_event(self, event)
    }

    /// Posts a message on the pipeline's bus (dropped when not in a pipeline).
    pub fn post_message(&self, message: Message) {
        if let Some(ctx) = self.context() {
            ctx.bus.post(message);
        }
    }

    /// Posts an error message naming this element.
    pub fn post_error(&self, message: impl Into<String>, debug: Option<String>) {
        self.post_message(Message::Error {
            source: self.name().to_string(),
            message: message.into(),
            debug,
        });
    }

    /// Posts a warning message naming this element.
    pub fn post_warning(&self, message: impl Into<String>, debug: Option<String>) {
        self.post_message(Message::Warning {
            source: self.name().to_string(),
            message: message.into(),
            debug,
        });
    }

    // ---- state ----------------------------------------------------------

    /// The current state.
    pub fn state(&self) -> State {
        *self.0.state.locked()
    }

    /// Steps the element to `target` one state at a time.
    pub fn set_state(&self, target: State) -> Result<StateChangeSuccess> {
        let mut result = StateChangeSuccess::Success;
        loop {
            let current = self.state();
            if current == target {
                return Ok(result);
            }
            let next = current.next_towards(target);
            let Some(change) = StateChange::between(current, next) else {
                return Ok(result);
            };
            result = self.change_state(change)?;
        }
    }

    /// Performs one state step.
    pub fn change_state(&self, change: StateChange) -> Result<StateChangeSuccess> {
        if change == StateChange::ReadyToPaused {
            for pad in self.pads() {
                pad.set_flushing(false);
            }
        }
        if change == StateChange::PausedToReady {
            for pad in self.pads() {
                pad.set_flushing(true);
            }
        }
        let result = self.0.imp.change_state(self, change);
        match &result {
            Ok(_) => {
                *self.0.state.locked() = change.to();
                self.post_message(Message::StateChanged {
                    source: self.name().to_string(),
                    old: change.from(),
                    new: change.to(),
                });
            }
            Err(_) if change == StateChange::ReadyToPaused => {
                for pad in self.pads() {
                    pad.set_flushing(true);
                }
            }
            Err(_) => {}
        }
        result
    }

    // ---- default event and query handling -----------------------------

    /// Forwards an event to the other side: from a sink pad to every source
    /// pad, from a source pad to every sink pad. True if any peer handled it
    /// (or there was nobody to send it to).
    pub fn forward_event(&self, from: &Pad, event: Event) -> bool {
        let targets = match from.direction() {
            PadDirection::Sink => self.src_pads(),
            PadDirection::Src => self.sink_pads(),
        };
        if targets.is_empty() {
            return true;
        }
        let mut handled = false;
        for pad in targets {
            handled |= pad.push_event(event.clone());
        }
        handled
    }

    /// The default query handling of a one-in, one-out element that does not
    /// change the data: caps and accept-caps are answered from the other
    /// side intersected with the pad template; allocation and latency are
    /// forwarded.
    pub fn default_query(&self, pad: &Pad, query: &mut Query) -> bool {
        let others = match pad.direction() {
            PadDirection::Sink => self.src_pads(),
            PadDirection::Src => self.sink_pads(),
        };
        match query {
            Query::Caps { filter, result } => {
                let mut caps = pad.template_caps().clone();
                if let Some(f) = filter.as_ref() {
                    caps = caps.intersect(f);
                }
                for other in &others {
                    if other.is_linked() {
                        caps = caps.intersect(&other.peer_query_caps(Some(&caps)));
                    }
                }
                *result = Some(caps);
                true
            }
            Query::AcceptCaps { caps, result } => {
                *result = caps.can_intersect(pad.template_caps());
                true
            }
            _ => match others.first() {
                Some(other) => other.peer_query(query),
                None => false,
            },
        }
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element")
            .field("name", &self.0.name)
            .field("factory", &self.0.factory.name)
            .field("state", &self.state())
            .finish()
    }
}
