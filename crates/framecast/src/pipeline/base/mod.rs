//! Base classes: the common behaviour of sources, sinks and transforms
//! (GStreamer's `GstBaseSrc`, `GstBaseSink`, `GstBaseTransform`), so an
//! element implements only what makes it different.

mod settings;
mod sink;
mod src;
mod transform;

pub(crate) use settings::{counters, integer, settings, FromProperty, Settings, SettingsLock};
pub(crate) use sink::sink_properties_with;
pub use sink::{sink_properties, Sink, SinkImpl};
pub(crate) use src::source_properties_with;
pub use src::{source_properties, CreateContext, Source, SourceImpl};
pub use transform::{Transform, TransformImpl};

use framecast_core::{AllocationQuery, BufferPool, VideoInfo};

use super::caps::Caps;
use super::element::Element;
use super::pad::Pad;
use super::query::Query;
use crate::{Error, Result};

/// Runs the allocation query on `src_pad` for buffers of `caps` and decides
/// a pool from the answer (made and configured when downstream offers none),
/// activated and ready to acquire from, and named after the element and
/// pad (`h264enc0:pool:src`) unless downstream's pool has a name: its
/// creation site is this function's caller, often a base class.
#[track_caller]
pub fn negotiate_pool(
    element: &Element,
    src_pad: &Pad,
    caps: &Caps,
    size: usize,
    min_buffers: u32,
) -> Result<BufferPool> {
    let layout: Option<VideoInfo> = caps.video_info().ok();
    let mut query = match layout {
        Some(info) => AllocationQuery::new(Some(info), true),
        None => AllocationQuery::for_size(size, true),
    };
    query.size = query.size.max(size);
    let mut wrapped = Query::Allocation(query);
    src_pad.peer_query(&mut wrapped);
    let Query::Allocation(mut query) = wrapped else {
        return Err(Error::Element {
            element: element.name().to_string(),
            message: "allocation query changed type".into(),
        });
    };
    if query.pools.is_empty() {
        query.add_pool(None, query.size, min_buffers, 0);
    } else if let Some(first) = query.pools.first_mut() {
        first.min_buffers = first.min_buffers.max(min_buffers);
    }
    let decision = query.decide()?;
    if decision.pool.name().is_none() {
        // Downstream's own pool keeps its name.
        decision
            .pool
            .set_name(&format!("{}:pool:{}", element.name(), src_pad.name()));
    }
    decision.pool.set_active(true)?;
    // The element acquiring from the pool owns it: leak reports nest the
    // pool (and its idle buffers) under the element.
    framecast_core::trace::object_linked(decision.pool.id(), element.id());
    Ok(decision.pool)
}
