//! Building a [`Pipeline`] from parsed chains: make the elements, set their
//! properties, link their pads (request and sometimes pads included).

use super::*;
use crate::error::closest;
use crate::pipeline::bin::Pipeline;
use crate::pipeline::caps::{parse_caps_span, Caps};
use crate::pipeline::element::Element;
use crate::pipeline::factory::make_element;
use crate::pipeline::pad::{Pad, PadDirection, PadPresence};
use crate::pipeline::property::{PropertyType, PropertyValue};
use crate::{Error, Result};
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

static PIPELINES: AtomicU32 = AtomicU32::new(0);

/// Parses caps written in the pipeline at `value` (or the span `span`),
/// with error positions in the whole input.
fn caps_at(input: &str, span: Range<usize>, value: Option<&Value>) -> Result<Caps> {
    let reposition =
        |e: Error, at: usize| e.within(WHAT, input, at, |m| format!("invalid caps: {m}"));
    match value {
        None => parse_caps_span(input, span).map_err(|e| reposition(e, 0)),
        Some(Value {
            verbatim: Some(range),
            ..
        }) => parse_caps_span(input, range.clone()).map_err(|e| reposition(e, 0)),
        Some(value) => value
            .text
            .parse::<Caps>()
            .map_err(|e| reposition(e, value.span.start)),
    }
}

/// The element's name from its `name=` properties (the last wins).
fn name_of<'s>(input: &str, spec: &'s ElementSpec) -> Result<Option<&'s Value>> {
    let value = spec
        .properties
        .iter()
        .rev()
        .find(|p| p.key == "name")
        .map(|p| &p.value);
    if let Some(v) = value {
        if v.text.is_empty() {
            return Err(error(
                input,
                v.span.clone(),
                "an element name cannot be empty",
            ));
        }
    }
    Ok(value)
}

fn set_property(input: &str, element: &Element, property: &Property) -> Result<()> {
    let factory = element.factory();
    let spec = factory.property(&property.key).or_else(|| {
        let dashed = property.key.replace('_', "-");
        factory.property(&dashed)
    });
    let Some(spec) = spec else {
        let names = factory
            .properties
            .iter()
            .map(|p| p.name)
            .chain(std::iter::once("name"));
        return Err(error_suggest(
            input,
            property.key_span.clone(),
            format!(
                "element {:?} ({}) has no property {:?}",
                element.name(),
                factory.name,
                property.key
            ),
            closest(&property.key, names),
        ));
    };
    let value = &property.value;
    let result = if matches!(spec.kind, PropertyType::Caps) {
        let caps = caps_at(input, value.span.clone(), Some(value))?;
        element.set_property(spec.name, PropertyValue::Caps(caps))
    } else {
        element.set_property_from_str(spec.name, &value.text)
    };
    result.map_err(|e| {
        let message = match e {
            Error::InvalidPropertyValue { reason, .. } => format!(
                "invalid value {:?} for property {:?} of {:?}: {reason}",
                value.text,
                spec.name,
                element.name()
            ),
            other => format!(
                "cannot set property {:?} of {:?}: {other}",
                spec.name,
                element.name()
            ),
        };
        error(input, value.span.clone(), message)
    })
}

/// A pad named `name` of `element` for linking `direction`-wards: an
/// existing pad, or a new one from a request template.
fn named_pad(
    element: &Element,
    name: &str,
    direction: PadDirection,
) -> std::result::Result<Pad, String> {
    let side = |d: PadDirection| {
        if d == PadDirection::Src {
            "source"
        } else {
            "sink"
        }
    };
    if let Some(pad) = element.static_pad(name) {
        if pad.direction() != direction {
            return Err(format!(
                "{} is a {} pad, but a {} pad is needed here",
                pad.full_name(),
                side(pad.direction()),
                side(direction)
            ));
        }
        return Ok(pad);
    }
    let factory = element.factory();
    let template = factory.pad_templates.iter().find(|t| {
        t.presence == PadPresence::Request
            && t.direction == direction
            && (t.name == name || template_matches(t.name, name))
    });
    let Some(template) = template else {
        let names: Vec<String> = element
            .pads()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        let templates = factory
            .pad_templates
            .iter()
            .filter(|t| t.presence == PadPresence::Request)
            .map(|t| t.name.to_string());
        let all: Vec<String> = names.into_iter().chain(templates).collect();
        let hint = closest(name, all.iter().map(String::as_str))
            .map(|s| format!(" (did you mean {s:?}?)"))
            .unwrap_or_default();
        return Err(format!("{} has no pad {name:?}{hint}", element.name()));
    };
    let pad = element
        .request_pad(template.name)
        .map_err(|e| e.to_string())?;
    if pad.name() != name && template.name != name {
        return Err(format!(
            "pad {name:?} of {} is not available (the next request pad is {:?})",
            element.name(),
            pad.name()
        ));
    }
    Ok(pad)
}

/// Whether `name` is an instance of the template `template` (`src_3` of
/// `src_%u`).
pub(super) fn template_matches(template: &str, name: &str) -> bool {
    let Some((prefix, suffix)) = template
        .split_once("%u")
        .or_else(|| template.split_once("%d"))
    else {
        return false;
    };
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// An item resolved to its element (and pad, for references with one).
struct Endpoint {
    pub(super) element: Element,
    pub(super) pad: Option<String>,
    pub(super) span: Range<usize>,
}

/// `#[track_caller]` down from [`parse_launch`], so tracers report the
/// pipeline and its elements as made where `parse_launch` was called.
#[track_caller]
pub(super) fn build(input: &str, parsed: Chains) -> Result<Pipeline> {
    let n = PIPELINES.fetch_add(1, Ordering::Relaxed);
    let pipeline = Pipeline::new(&format!("pipeline{n}"));
    // Elements, named and configured, in the order written.
    let mut elements: Vec<Element> = Vec::with_capacity(parsed.specs.len());
    for spec in &parsed.specs {
        let name = name_of(input, spec)?;
        let element =
            make_element(&spec.factory, name.map(|v| v.text.as_str())).map_err(|e| match e {
                Error::NoSuchElement { name, suggestion } => error_suggest(
                    input,
                    spec.span.clone(),
                    format!("no element {name:?}"),
                    suggestion,
                ),
                other => error(input, spec.span.clone(), other.to_string()),
            })?;
        if pipeline.add(&element).is_err() {
            let span = name.map_or(spec.span.clone(), |v| v.span.clone());
            return Err(error(
                input,
                span,
                format!(
                    "two elements are named {:?}: names must be unique",
                    element.name()
                ),
            ));
        }
        for property in spec.properties.iter().filter(|p| p.key != "name") {
            set_property(input, &element, property)?;
        }
        elements.push(element);
    }
    // Caps filters, then links, chain by chain.
    for chain in &parsed.chains {
        let mut endpoints: Vec<(Endpoint, Option<Range<usize>>)> = Vec::new();
        for (item, link) in &chain.items {
            let endpoint = match item {
                Item::Element(i) => Endpoint {
                    element: elements.get(*i).cloned().ok_or_else(|| {
                        error(input, item.span(&parsed.specs), "internal: missing element")
                    })?,
                    pad: None,
                    span: item.span(&parsed.specs),
                },
                Item::Ref { name, pad, span } => {
                    let Some(element) = pipeline.by_name(name) else {
                        let names: Vec<String> = pipeline
                            .elements()
                            .iter()
                            .map(|e| e.name().to_string())
                            .collect();
                        return Err(error_suggest(
                            input,
                            span.clone(),
                            format!(
                                "no element named {name:?} to refer to (name one with name={name})"
                            ),
                            closest(name, names.iter().map(String::as_str)),
                        ));
                    };
                    Endpoint {
                        element,
                        pad: pad.clone(),
                        span: span.clone(),
                    }
                }
                Item::Caps { span, value } => {
                    let caps = caps_at(input, span.clone(), value.as_ref())?;
                    let filter = make_element("capsfilter", None)
                        .map_err(|e| error(input, span.clone(), e.to_string()))?;
                    filter
                        .set_property("caps", PropertyValue::Caps(caps))
                        .map_err(|e| error(input, span.clone(), e.to_string()))?;
                    pipeline
                        .add(&filter)
                        .map_err(|e| error(input, span.clone(), e.to_string()))?;
                    Endpoint {
                        element: filter,
                        pad: None,
                        span: span.clone(),
                    }
                }
            };
            endpoints.push((endpoint, link.clone()));
        }
        for pair in endpoints.windows(2) {
            let (from, _) = &pair[0];
            let (to, link) = &pair[1];
            let link = link.clone().unwrap_or_else(|| to.span.clone());
            link_endpoints(input, from, to, link)?;
        }
    }
    Ok(pipeline)
}

fn link_endpoints(input: &str, from: &Endpoint, to: &Endpoint, link: Range<usize>) -> Result<()> {
    let fail = |reason: String| {
        error(
            input,
            link.clone(),
            format!(
                "cannot link {} to {}: {reason}",
                from.element.name(),
                to.element.name()
            ),
        )
    };
    let src = match &from.pad {
        Some(name) => named_pad(&from.element, name, PadDirection::Src).map_err(fail)?,
        None => from
            .element
            .free_pad(PadDirection::Src)
            .map_err(|_| fail(no_free_pad(&from.element, PadDirection::Src)))?,
    };
    let sink = match &to.pad {
        Some(name) => named_pad(&to.element, name, PadDirection::Sink).map_err(fail)?,
        None => to
            .element
            .free_pad(PadDirection::Sink)
            .map_err(|_| fail(no_free_pad(&to.element, PadDirection::Sink)))?,
    };
    src.link(&sink).map_err(|e| match e {
        Error::Link { reason, .. } => fail(format!(
            "{} -> {}: {reason}",
            src.full_name(),
            sink.full_name()
        )),
        other => fail(other.to_string()),
    })
}

fn no_free_pad(element: &Element, direction: PadDirection) -> String {
    let (side, has_any) = match direction {
        PadDirection::Src => ("source", !element.src_pads().is_empty()),
        PadDirection::Sink => ("sink", !element.sink_pads().is_empty()),
    };
    let can_request = element
        .factory()
        .pad_templates
        .iter()
        .any(|t| t.direction == direction && t.presence == PadPresence::Request);
    if has_any || can_request {
        format!(
            "every {side} pad of {} ({}) is already linked",
            element.name(),
            element.factory().name
        )
    } else {
        format!(
            "{} ({}) has no {side} pad",
            element.name(),
            element.factory().name
        )
    }
}
