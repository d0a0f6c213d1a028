//! `tee`: sends every buffer and event to several branches.
//!
//! Source pads are requested (`src_%u`; `parse_launch` requests one per
//! `t. ! ...` branch). A buffer goes to each linked branch as a new
//! reference to the same memory — no copy; a branch that wants to write
//! into it copies on write (`make_mut`).
//!
//! Flow, as GStreamer's tee: a push succeeds when at least one branch took
//! the buffer; when every branch is unlinked it fails with `NotLinked`
//! unless `allow-not-linked` is set; when every linked branch is at
//! end-of-stream it answers `Eos`; a fatal error (or flushing) of any
//! branch is returned at once.
//!
//! The ALLOCATION query is asked of every linked branch and the answers
//! merged with [`AllocationQuery::aggregate`]: the largest size, alignment
//! and minimum (+1 for the buffer the tee holds), and only the metas every
//! branch supports. A branch that fails the query fails it for the tee, and
//! so does an unlinked branch unless `allow-not-linked` is set (as in
//! GStreamer): upstream then decides its pool without downstream's advice.

use framecast_core::{AllocationQuery, Buffer};

use crate::pipeline::base::{settings, Settings, SettingsLock};
use crate::pipeline::read_only_error;
use crate::pipeline::{
    Caps, Element, ElementFactory, ElementImpl, FlowError, FlowResult, FlowSuccess, Pad,
    PadDirection, PadTemplate, PropertySpec, PropertyValue, Query,
};
use crate::Result;

/// The factory.
pub fn factory() -> ElementFactory {
    ElementFactory::new(
        "tee",
        "Tee pipe fitting",
        "Generic",
        "1-to-N pipe fitting",
        vec![
            PadTemplate::always("sink", PadDirection::Sink, Caps::new_any()),
            PadTemplate::request("src_%u", PadDirection::Src, Caps::new_any()),
        ],
        {
            let mut properties = TeeSettings::properties();
            properties.push(
                PropertySpec::int(
                    "num-src-pads",
                    "The number of source pads (read-only)",
                    0..=i32::MAX as i64,
                    0,
                )
                .mutable_in_playing(),
            );
            properties
        },
        || Box::new(Tee::default()),
    )
}

settings! {
    /// `tee`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct TeeSettings {
        /// `allow-not-linked`: a push with every branch unlinked succeeds
        /// (may change while playing).
        allow_not_linked: bool => PropertySpec::bool("allow-not-linked", "Return Ok even if there are no source pads or they are all unlinked", false).mutable_in_playing(),
    }
}

/// The `tee` element.
#[derive(Debug, Default)]
pub struct Tee {
    settings: SettingsLock<TeeSettings>,
}

impl Tee {
    fn allow_not_linked(&self) -> bool {
        self.settings.read(|s| s.allow_not_linked)
    }

    fn allocation(&self, element: &Element, query: &mut AllocationQuery) -> bool {
        let allow_not_linked = self.allow_not_linked();
        let mut branches: Vec<framecast_core::Result<AllocationQuery>> = Vec::new();
        for pad in element.src_pads() {
            let Some(peer) = pad.peer() else {
                // GStreamer's tee: an unlinked branch fails the query (the
                // pool must also serve the branch linked later) unless
                // allow-not-linked says such branches do not count.
                if allow_not_linked {
                    continue;
                }
                return false;
            };
            let mut wrapped = Query::Allocation(query.clone());
            let answered = pad.peer_query(&mut wrapped);
            branches.push(match wrapped {
                Query::Allocation(q) if answered => Ok(q),
                _ => Err(framecast_core::Error::Allocation(format!(
                    "{} refused the allocation query",
                    peer.full_name()
                ))),
            });
        }
        match query.aggregate(&branches) {
            Ok(merged) => {
                *query = merged;
                true
            }
            Err(_) => false,
        }
    }
}

impl ElementImpl for Tee {
    fn chain(&self, element: &Element, _pad: &Pad, buffer: Buffer) -> FlowResult {
        let pads = element.src_pads();
        let mut any_ok = false;
        let mut any_eos = false;
        for pad in &pads {
            if !pad.is_linked() {
                continue;
            }
            // A clone is a new reference to the same buffer, not a copy.
            match pad.push(buffer.clone()) {
                Ok(_) => any_ok = true,
                Err(FlowError::NotLinked) => {}
                Err(FlowError::Eos) => any_eos = true,
                Err(e) => return Err(e),
            }
        }
        drop(buffer);
        if any_ok {
            Ok(FlowSuccess::Ok)
        } else if any_eos {
            Err(FlowError::Eos)
        } else if self.allow_not_linked() {
            Ok(FlowSuccess::Ok)
        } else {
            Err(FlowError::NotLinked)
        }
    }

    fn query(&self, element: &Element, pad: &Pad, query: &mut Query) -> bool {
        match query {
            Query::Allocation(q) if pad.direction() == PadDirection::Sink => {
                self.allocation(element, q)
            }
            Query::AcceptCaps { caps, result } if pad.direction() == PadDirection::Sink => {
                // Every linked branch must take them.
                let caps = caps.clone();
                *result = element
                    .src_pads()
                    .iter()
                    .filter(|p| p.is_linked())
                    .all(|p| p.peer_accept_caps(&caps));
                true
            }
            _ => element.default_query(pad, query),
        }
    }

    fn property_changed(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        match name {
            "num-src-pads" => Err(read_only_error(element, name, value)),
            _ => self.settings.write(element, name, value),
        }
    }

    fn read_property(&self, element: &Element, name: &str) -> Option<PropertyValue> {
        match name {
            "num-src-pads" => Some(PropertyValue::Int(element.src_pads().len() as i64)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{make_element, State};

    #[test]
    fn unlinked_branches_are_an_error_unless_allowed() {
        let tee = make_element("tee", None).unwrap();
        let _unlinked = tee.request_pad("src_%u").unwrap();
        tee.set_state(State::Paused).unwrap();
        let sink = tee.sink_pad().unwrap();
        let imp = tee.imp::<Tee>().unwrap();
        let buffer = || Buffer::from_slice(b"x").unwrap();
        assert_eq!(imp.chain(&tee, &sink, buffer()), Err(FlowError::NotLinked));
        tee.set_property("allow-not-linked", true).unwrap();
        assert_eq!(imp.chain(&tee, &sink, buffer()), Ok(FlowSuccess::Ok));
        assert_eq!(tee.property("num-src-pads").unwrap(), PropertyValue::Int(1));
        assert!(tee.set_property("num-src-pads", 3i64).is_err());
        tee.set_state(State::Null).unwrap();
    }
}
