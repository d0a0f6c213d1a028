//! The pipeline engine: elements linked by pads, negotiating caps and
//! allocation, pushing pooled buffers on streaming threads, reporting to a
//! bus, in a live clock.
//!
//! The shape is GStreamer's push model: a source element runs a loop on its
//! own streaming thread and pushes into its peer; the call chain runs
//! downstream on that thread until a `queue`, which hands buffers to the
//! next thread through a bounded ring. Serialized events (stream-start,
//! caps, segment, eos) travel in order with the buffers; flushes and queries
//! go out of band.

pub mod base;
mod bin;
pub mod bus;
pub mod caps;
mod clock;
mod context;
pub mod data_queue;
mod element;
mod event;
mod factory;
mod first_error;
mod flow;
mod pad;
mod parse;
mod property;
mod query;
mod refs;
mod state;

pub use bin::Pipeline;
pub use bus::{Bus, Message};
pub use caps::{Caps, Structure, Value};
pub use clock::{ClockCancel, SystemClock};
pub use context::PipelineContext;
pub use data_queue::{DataQueue, Item, Levels, Limits, Overflow, Refused};
pub use element::{Element, ElementImpl, Pads};
pub use event::{Event, Segment};
pub use factory::{
    factories, find_factory, make_element, register_element, template_caps, ElementFactory,
};
pub(crate) use first_error::FirstError;
pub use flow::{FlowError, FlowResult, FlowSuccess};
pub use pad::{Pad, PadDirection, PadPresence, PadTemplate};
pub use parse::parse_launch;
pub(crate) use property::read_only_error;
pub use property::{PropertySpec, PropertyType, PropertyValue};
pub use query::Query;
pub use state::{State, StateChange, StateChangeSuccess};
