//! Element factories and the registry that finds them by name.

use framecast_core::sync::RwLockExt;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use super::caps::Caps;
use super::element::{Element, ElementImpl};
use super::pad::PadTemplate;
use super::property::PropertySpec;
use crate::error::closest;
use crate::{Error, Result};

/// Caps for a pad template, from the text in the element's source
/// (`"video/x-raw,format=I420"`).
///
/// # Panics
///
/// When `text` does not parse. Template strings are constants, not input:
/// the test `every_factory_makes_an_element_and_checks_out` builds every
/// registered factory, so a typo fails the tests instead of silently
/// turning the template into ANY.
#[track_caller]
pub fn template_caps(text: &str) -> Caps {
    match text.parse() {
        Ok(caps) => caps,
        Err(e) => panic!("pad template caps {text:?} do not parse: {e}"),
    }
}

/// How to make an element, and what it looks like from outside.
pub struct ElementFactory {
    /// Factory name (`videoconvert`), used in pipeline strings.
    pub name: &'static str,
    /// Human-readable name.
    pub long_name: &'static str,
    /// Classification (`Source/Video`, `Filter/Converter/Video`).
    pub klass: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Preference among factories doing the same job (higher wins).
    pub rank: u32,
    /// Its pad templates.
    pub pad_templates: Vec<PadTemplate>,
    /// Its properties.
    pub properties: Vec<PropertySpec>,
    /// Makes the implementation.
    pub create: fn() -> Box<dyn ElementImpl>,
    counter: AtomicU32,
}

impl ElementFactory {
    /// A factory description.
    pub fn new(
        name: &'static str,
        long_name: &'static str,
        klass: &'static str,
        description: &'static str,
        pad_templates: Vec<PadTemplate>,
        properties: Vec<PropertySpec>,
        create: fn() -> Box<dyn ElementImpl>,
    ) -> ElementFactory {
        ElementFactory {
            name,
            long_name,
            klass,
            description,
            rank: 0,
            pad_templates,
            properties,
            create,
            counter: AtomicU32::new(0),
        }
    }

    /// The property spec named `name`.
    pub fn property(&self, name: &str) -> Option<&PropertySpec> {
        self.properties.iter().find(|p| p.name == name)
    }
}

impl fmt::Debug for ElementFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElementFactory")
            .field("name", &self.name)
            .field("klass", &self.klass)
            .finish()
    }
}

static REGISTRY: LazyLock<RwLock<BTreeMap<&'static str, Arc<ElementFactory>>>> =
    LazyLock::new(|| {
        let mut map = BTreeMap::new();
        for factory in crate::elements::builtin_factories() {
            map.insert(factory.name, Arc::new(factory));
        }
        RwLock::new(map)
    });

/// Registers an element factory (replacing one of the same name).
pub fn register_element(factory: ElementFactory) {
    REGISTRY
        .write_locked()
        .insert(factory.name, Arc::new(factory));
}

/// The factory named `name`.
pub fn find_factory(name: &str) -> Option<Arc<ElementFactory>> {
    REGISTRY.read_locked().get(name).cloned()
}

/// All factories, by name.
pub fn factories() -> Vec<Arc<ElementFactory>> {
    REGISTRY.read_locked().values().cloned().collect()
}

/// Makes an element from the factory `factory_name`, named `name` (or
/// `<factory><n>`). An unknown factory name is an error with the closest
/// known name as a suggestion. Tracers report the element as made at the
/// caller's site.
#[track_caller]
pub fn make_element(factory_name: &str, name: Option<&str>) -> Result<Element> {
    let factory = find_factory(factory_name).ok_or_else(|| {
        let registry = REGISTRY.read_locked();
        Error::NoSuchElement {
            name: factory_name.to_string(),
            suggestion: closest(factory_name, registry.keys().copied()),
        }
    })?;
    let name = match name {
        Some(n) => n.to_string(),
        None => format!(
            "{}{}",
            factory.name,
            factory.counter.fetch_add(1, Ordering::Relaxed)
        ),
    };
    Ok(Element::new(factory, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in factory: its templates parsed (building the registry
    /// runs every `factory()`), its property names unique, each default
    /// inside its own range, and an element made from it.
    #[test]
    fn every_factory_makes_an_element_and_checks_out() {
        let all = factories();
        assert!(all.len() >= 29, "{} factories", all.len());
        for factory in &all {
            let mut names = std::collections::BTreeSet::new();
            for spec in &factory.properties {
                assert!(
                    names.insert(spec.name),
                    "{}: property {} declared twice",
                    factory.name,
                    spec.name
                );
                assert!(
                    !spec.blurb.is_empty(),
                    "{}.{}: no blurb",
                    factory.name,
                    spec.name
                );
                if spec.is_writable() {
                    spec.validate(factory.name, spec.default_value())
                        .unwrap_or_else(|e| panic!("{}.{}: default: {e}", factory.name, spec.name));
                }
            }
            assert!(
                !factory.pad_templates.is_empty(),
                "{}: no pad templates",
                factory.name
            );
            let element = make_element(factory.name, None)
                .unwrap_or_else(|e| panic!("{}: {e}", factory.name));
            for spec in &factory.properties {
                element
                    .property(spec.name)
                    .unwrap_or_else(|e| panic!("{}.{}: {e}", factory.name, spec.name));
            }
        }
    }

    #[test]
    #[should_panic(expected = "declares no property \"max-size-bufers\"")]
    fn reading_an_undeclared_property_panics() {
        let queue = make_element("queue", None).unwrap();
        assert_eq!(queue.prop_u64("max-size-buffers"), 200);
        queue.prop_u64("max-size-bufers");
    }

    #[test]
    #[should_panic(expected = "not a boolean")]
    fn reading_a_property_as_another_type_panics() {
        make_element("queue", None)
            .unwrap()
            .prop_bool("max-size-buffers");
    }

    #[test]
    #[should_panic(expected = "do not parse")]
    fn a_template_that_does_not_parse_fails() {
        template_caps("video/x-raw,width=[1");
    }
}
