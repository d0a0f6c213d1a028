//! `capsfilter`: passes data through unchanged while restricting the caps
//! that can be negotiated across it to its `caps` property.
//!
//! `parse_launch` makes one for each caps string written between two
//! links: `testsrc ! video/x-raw,format=I420,width=640 ! fakesink`.
//!
//! Caps queries from either side are answered with the peer's caps
//! intersected with the filter, so the source upstream fixates inside it;
//! a caps event that does not fit the filter is refused (not negotiated).
//! A byte stream that arrives with no caps event at all gets the filter's
//! caps when they are fixed, as GStreamer's capsfilter does.

use std::sync::atomic::{AtomicBool, Ordering};

use framecast_core::Buffer;

use crate::pipeline::base::{settings, Settings, SettingsLock};
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, Event, FlowError, FlowResult, Pad, PadDirection,
    PadTemplate, PropertySpec, PropertyValue, Query,
};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "capsfilter",
        "CapsFilter",
        "Generic",
        "Pass data without modification, limiting formats",
        PadTemplate::sink_src(Caps::new_any(), Caps::new_any()),
        CapsFilterSettings::properties(),
        || Box::new(CapsFilter::default()),
    )
}

settings! {
    /// `capsfilter`'s writable property.
    #[derive(Debug, Clone)]
    pub(crate) struct CapsFilterSettings {
        /// `caps`: what may be negotiated across (ANY by default, as
        /// [`PropertySpec::caps`] declares it; may change while playing).
        caps: Caps => PropertySpec::caps("caps", "Restrict the possible allowed capabilities (ANY = no restriction)").mutable_in_playing(),
    }
}

/// The `capsfilter` element.
#[derive(Debug, Default)]
pub struct CapsFilter {
    settings: SettingsLock<CapsFilterSettings>,
    /// A caps event went downstream in this stream.
    caps_sent: AtomicBool,
}

impl CapsFilter {
    fn filter_caps(&self) -> Caps {
        self.settings.read(|s| s.caps.clone())
    }
}

impl ElementImpl for CapsFilter {
    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        self.settings.write(element, name, value)
    }

    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let Some(src) = element.src_pad() else {
            return Err(FlowError::NotLinked);
        };
        if !self.caps_sent.load(Ordering::Acquire) {
            // No caps came from upstream (a byte stream): announce the
            // filter's, when they say exactly what the data is.
            let filter = self.filter_caps();
            if !filter.is_any() && filter.is_fixed() {
                if !src.push_event(Event::Caps(filter.clone())) {
                    element.post_error(format!("downstream refused caps {filter}"), None);
                    return Err(FlowError::NotNegotiated);
                }
                self.caps_sent.store(true, Ordering::Release);
            }
        }
        src.push(buffer)
    }

    fn sink_event(&self, element: &Element, pad: &Pad, event: Event) -> bool {
        match &event {
            Event::Caps(caps) => {
                let filter = self.filter_caps();
                if !caps.can_intersect(&filter) {
                    element.post_error(
                        format!("caps {caps} do not match the filter {filter}"),
                        None,
                    );
                    return false;
                }
                self.caps_sent.store(true, Ordering::Release);
            }
            Event::StreamStart { .. } | Event::FlushStop { .. } => {
                self.caps_sent.store(false, Ordering::Release);
            }
            _ => {}
        }
        element.forward_event(pad, event)
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        let filter = self.filter_caps();
        match query {
            Query::Caps {
                filter: asked,
                result,
            } => {
                let narrowed = match asked.take() {
                    Some(f) => f.intersect(&filter),
                    None => filter.clone(),
                };
                let mut inner = Query::new_caps(Some(narrowed));
                let handled = element.default_query(pad, &mut inner);
                if let Query::Caps {
                    filter: f,
                    result: r,
                } = inner
                {
                    *asked = f;
                    *result = r.map(|caps| caps.intersect(&filter));
                }
                handled
            }
            Query::AcceptCaps { caps, result } => {
                let fits = caps.can_intersect(&filter);
                let other = match pad.direction() {
                    PadDirection::Sink => element.src_pad(),
                    PadDirection::Src => element.sink_pad(),
                };
                *result = fits
                    && match other {
                        Some(o) if o.is_linked() && pad.direction() == PadDirection::Sink => {
                            o.peer_accept_caps(caps)
                        }
                        _ => true,
                    };
                true
            }
            _ => element.default_query(pad, query),
        }
    }

    fn change_state(
        &self,
        _element: &Element,
        change: crate::pipeline::StateChange,
    ) -> Result<crate::pipeline::StateChangeSuccess> {
        if change == crate::pipeline::StateChange::ReadyToPaused {
            self.caps_sent.store(false, Ordering::Release);
        }
        Ok(crate::pipeline::StateChangeSuccess::Success)
    }
}
