//! The gst-launch grammar: tokens to chains of elements, bins, pad
//! references and caps filters.

use super::*;
use crate::pipeline::factory::find_factory;
use crate::Result;
use std::ops::Range;

#[derive(Debug)]
pub(super) struct Property {
    pub(super) key: String,
    pub(super) key_span: Range<usize>,
    pub(super) value: Value,
}

#[derive(Debug)]
pub(super) struct ElementSpec {
    pub(super) factory: String,
    pub(super) span: Range<usize>,
    pub(super) properties: Vec<Property>,
}

#[derive(Debug)]
pub(super) enum Item {
    /// Index into the element specs.
    Element(usize),
    Ref {
        name: String,
        pad: Option<String>,
        span: Range<usize>,
    },
    /// Caps text (span in the input, or a quoted string).
    Caps {
        span: Range<usize>,
        value: Option<Value>,
    },
}

impl Item {
    pub(super) fn span<'s>(&'s self, specs: &'s [ElementSpec]) -> Range<usize> {
        match self {
            Item::Element(i) => specs.get(*i).map_or(0..0, |s| s.span.clone()),
            Item::Ref { span, .. } | Item::Caps { span, .. } => span.clone(),
        }
    }
}

/// A chain: items, each after the first with the span of the `!` before it.
#[derive(Debug, Default)]
pub(super) struct Chain {
    pub(super) items: Vec<(Item, Option<Range<usize>>)>,
}

#[derive(Debug)]
pub(super) struct Chains {
    pub(super) specs: Vec<ElementSpec>,
    pub(super) chains: Vec<Chain>,
}

pub(super) struct Grammar<'a> {
    pub(super) input: &'a str,
}

impl<'a> Grammar<'a> {
    pub(super) fn new(input: &'a str) -> Grammar<'a> {
        Grammar { input }
    }

    pub(super) fn chains(&self, tokens: Vec<Token>) -> Result<Chains> {
        let input = self.input;
        if tokens.is_empty() {
            return Err(error(
                input,
                0..input.len(),
                "empty pipeline: expected at least one element",
            ));
        }
        let mut specs: Vec<ElementSpec> = Vec::new();
        let mut chains: Vec<Chain> = Vec::new();
        let mut current = Chain::default();
        let mut pending_link: Option<Range<usize>> = None;
        // The element that properties go to (none right after a link,
        // a reference or caps).
        let mut last_element: Option<usize> = None;
        for token in tokens {
            let item = match token.kind {
                Kind::Link => {
                    if let Some(previous) = &pending_link {
                        return Err(error(
                            input,
                            token.span,
                            format!(
                                "`!` right after the `!` at {}: expected an element, a reference or caps between them",
                                previous.start
                            ),
                        ));
                    }
                    if current.items.is_empty() {
                        return Err(error(
                            input,
                            token.span,
                            "`!` with nothing before it to link from",
                        ));
                    }
                    pending_link = Some(token.span);
                    last_element = None;
                    continue;
                }
                Kind::Assign {
                    key,
                    key_span,
                    eq,
                    value,
                } => {
                    let Some(spec) = last_element.and_then(|i| specs.get_mut(i)) else {
                        if find_factory(&key).is_some() {
                            return Err(error(
                                input,
                                eq..eq + 1,
                                format!(
                                    "`=` without a property name before it (`{key}` is an element)"
                                ),
                            ));
                        }
                        return Err(error(
                            input,
                            key_span.start..value.span.end,
                            format!("property {key:?} does not follow an element to set it on"),
                        ));
                    };
                    spec.properties.push(Property {
                        key,
                        key_span,
                        value,
                    });
                    continue;
                }
                Kind::Word(factory) => {
                    specs.push(ElementSpec {
                        factory,
                        span: token.span.clone(),
                        properties: Vec::new(),
                    });
                    last_element = Some(specs.len() - 1);
                    Item::Element(specs.len() - 1)
                }
                Kind::Ref { name, pad } => {
                    last_element = None;
                    Item::Ref {
                        name,
                        pad,
                        span: token.span.clone(),
                    }
                }
                Kind::Caps(span) => {
                    last_element = None;
                    if pending_link.is_none() {
                        return Err(error(
                            input,
                            span,
                            "caps must come after a `!` (a caps filter goes between two elements)",
                        ));
                    }
                    Item::Caps { span, value: None }
                }
                Kind::Quoted(value) => {
                    last_element = None;
                    if pending_link.is_none() {
                        return Err(error(
                            input,
                            token.span,
                            "expected an element name, not a quoted string (quoted caps go between two `!`)",
                        ));
                    }
                    Item::Caps {
                        span: token.span.clone(),
                        value: Some(value),
                    }
                }
            };
            match pending_link.take() {
                Some(link) => current.items.push((item, Some(link))),
                None => {
                    // Not linked to what came before: a new chain.
                    if !current.items.is_empty() {
                        chains.push(std::mem::take(&mut current));
                    }
                    current.items.push((item, None));
                }
            }
        }
        if let Some(link) = pending_link {
            return Err(error(
                input,
                link,
                "`!` at the end links to nothing: expected an element after it",
            ));
        }
        if !current.items.is_empty() {
            chains.push(current);
        }
        for chain in &chains {
            if let Some((item @ Item::Caps { .. }, _)) = chain.items.last() {
                return Err(error(
                    input,
                    item.span(&specs),
                    "caps filter at the end of a chain links to nothing: expected `!` and an element after it",
                ));
            }
            if let [(item @ Item::Ref { name, .. }, None)] = chain.items.as_slice() {
                return Err(error(
                    input,
                    item.span(&specs),
                    format!("reference `{name}.` is not linked to anything: expected `!` before or after it"),
                ));
            }
        }
        Ok(Chains { specs, chains })
    }
}
