//! [`Transform`]: one buffer in, one buffer out, with caps negotiation on
//! both sides and a pool for the output (`GstBaseTransform`).

use crate::pipeline::element::property_hooks;
use framecast_core::sync::MutexExt;
use std::sync::Mutex;

use framecast_core::{AllocationQuery, Buffer, BufferPool, BufferRef, ReferenceTimestampMeta};

use super::negotiate_pool;
use crate::pipeline::caps::Caps;
use crate::pipeline::element::{Element, ElementImpl};
use crate::pipeline::event::Event;
use crate::pipeline::flow::{FlowError, FlowResult};
use crate::pipeline::pad::{Pad, PadDirection};
use crate::pipeline::property::PropertyValue;
use crate::pipeline::query::Query;
use crate::pipeline::state::{StateChange, StateChangeSuccess};
use crate::{Error, Result};

/// What a transform element implements.
pub trait TransformImpl: Send + Sync + 'static {
    /// The caps possible on the other side of `direction` for `caps` on
    /// that side (e.g. a converter: any format, same size).
    fn transform_caps(&self, element: &Element, direction: PadDirection, caps: &Caps) -> Caps;

    /// Fixates the output caps given fixed input caps (default: GStreamer's
    /// default fixation of `othercaps`).
    fn fixate_caps(&self, _element: &Element, _incaps: &Caps, othercaps: Caps) -> Caps {
        othercaps.fixate().unwrap_or(othercaps)
    }

    /// Caps are decided on both sides. Returns the output buffer size.
    fn set_caps(&self, element: &Element, incaps: &Caps, outcaps: &Caps) -> Result<usize>;

    /// Whether buffers pass through unchanged with these caps (same format
    /// both sides): then no output pool is used and `transform` is skipped.
    fn passthrough(&self, _element: &Element, incaps: &Caps, outcaps: &Caps) -> bool {
        incaps == outcaps
    }

    /// Fills `output` (from the output pool) from `input`.
    fn transform(&self, element: &Element, input: &Buffer, output: &mut BufferRef) -> FlowResult;

    /// What to offer upstream in the allocation query (pools, metas) when
    /// not in passthrough. Default: ask for video metas to be accepted.
    fn propose_allocation(&self, _element: &Element, _query: &mut AllocationQuery) -> bool {
        true
    }

    property_hooks!();
}

#[derive(Default)]
struct Negotiated {
    passthrough: bool,
    pool: Option<BufferPool>,
}

/// A transform element: wraps a [`TransformImpl`].
pub struct Transform<T: TransformImpl> {
    imp: T,
    state: Mutex<Negotiated>,
}

impl<T: TransformImpl> Transform<T> {
    /// Wraps `imp`.
    pub fn new(imp: T) -> Transform<T> {
        Transform {
            imp,
            state: Mutex::new(Negotiated::default()),
        }
    }

    /// The wrapped implementation.
    pub fn imp(&self) -> &T {
        &self.imp
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Negotiated> {
        self.state.locked()
    }

    fn negotiate(&self, element: &Element, incaps: &Caps) -> Result<()> {
        let src = element.src_pad().ok_or_else(|| Error::Element {
            element: element.name().to_string(),
            message: "no source pad".into(),
        })?;
        let possible = self
            .imp
            .transform_caps(element, PadDirection::Sink, incaps)
            .intersect(src.template_caps());
        let peer = src.peer_query_caps(Some(&possible));
        let candidates = possible.intersect(&peer);
        let downstream = src.peer_element_name();
        if candidates.is_empty() {
            return Err(Error::NotNegotiated {
                upstream: element.name().to_string(),
                downstream,
                reason: format!("no output caps for input {incaps}: downstream accepts {peer}"),
            });
        }
        let outcaps = self.imp.fixate_caps(element, incaps, candidates);
        if !outcaps.is_fixed() {
            return Err(Error::NotNegotiated {
                upstream: element.name().to_string(),
                downstream,
                reason: format!("could not fixate {outcaps}"),
            });
        }
        let size = self.imp.set_caps(element, incaps, &outcaps)?;
        let passthrough = self.imp.passthrough(element, incaps, &outcaps);
        if !src.push_event(Event::Caps(outcaps.clone())) {
            return Err(Error::NotNegotiated {
                upstream: element.name().to_string(),
                downstream,
                reason: format!("downstream refused {outcaps}"),
            });
        }
        let pool = if passthrough {
            None
        } else {
            Some(negotiate_pool(element, &src, &outcaps, size, 2)?)
        };
        let old = {
            let mut state = self.lock();
            state.passthrough = passthrough;
            std::mem::replace(&mut state.pool, pool)
        };
        if let Some(old) = old {
            let _ = old.set_active(false);
        }
        Ok(())
    }
}

impl<T: TransformImpl> ElementImpl for Transform<T> {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.imp.property_changed(element, name, value)
    }

    fn read_property(&self, element: &Element, name: &str) -> Option<PropertyValue> {
        self.imp.read_property(element, name)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        let (passthrough, pool) = {
            let state = self.lock();
            (state.passthrough, state.pool.clone())
        };
        if passthrough {
            return src.push(buffer);
        }
        let Some(pool) = pool else {
            return Err(FlowError::NotNegotiated);
        };
        let mut out = pool.acquire().map_err(FlowError::from_acquire)?;
        {
            let Some(o) = out.get_mut() else {
                return Err(FlowError::Error);
            };
            o.set_pts(buffer.pts());
            o.set_dts(buffer.dts());
            o.set_duration(buffer.duration());
            o.set_offset(buffer.offset());
            o.set_offset_end(buffer.offset_end());
            o.set_flags(buffer.flags() - framecast_core::BufferFlags::TAG_MEMORY);
            ReferenceTimestampMeta::copy_all(&buffer, o);
            self.imp.transform(element, &buffer, o)?;
        }
        drop(buffer);
        src.push(out)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match event {
            Event::Caps(caps) => match self.negotiate(element, &caps) {
                Ok(()) => true,
                Err(e) => {
                    element.post_error(e.to_string(), None);
                    false
                }
            },
            other => element.forward_event(pad, other),
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        match query {
            Query::Caps { filter, result } => {
                let (other, direction) = match pad.direction() {
                    PadDirection::Sink => (element.src_pad(), PadDirection::Src),
                    PadDirection::Src => (element.sink_pad(), PadDirection::Sink),
                };
                let peer = other
                    .as_ref()
                    .map(|o| {
                        let template = o.template_caps().clone();
                        o.peer_query_caps(Some(&template))
                    })
                    .unwrap_or_else(Caps::new_any);
                let mut caps = self
                    .imp
                    .transform_caps(element, direction, &peer)
                    .intersect(pad.template_caps());
                if let Some(f) = filter {
                    caps = caps.intersect(f);
                }
                *result = Some(caps);
                true
            }
            Query::AcceptCaps { caps, result } => {
                *result = caps.can_intersect(pad.template_caps());
                true
            }
            Query::Allocation(_)
                if pad.direction() == PadDirection::Sink && self.lock().passthrough =>
            {
                element.default_query(pad, query)
            }
            Query::Allocation(q) if pad.direction() == PadDirection::Sink => {
                self.imp.propose_allocation(element, q)
            }
            _ => element.default_query(pad, query),
        }
    }

    fn change_state(&self, _element: &Element, change: StateChange) -> Result<StateChangeSuccess> {
        if change == StateChange::PausedToReady {
            let pool = self.lock().pool.take();
            if let Some(pool) = pool {
                let _ = pool.set_active(false);
            }
            self.lock().passthrough = false;
        }
        Ok(StateChangeSuccess::Success)
    }
}
