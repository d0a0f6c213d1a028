//! Typed settings (the gst-plugins-rs `Settings` pattern): an element's
//! writable properties as one plain struct, declared from it and written
//! into it, so the element reads fields, not names.
//!
//! The struct's [`Default`] is the one place the defaults are written:
//! [`Settings::properties`] declares the properties from it, the element
//! keeps a `Mutex<S>` that starts as it, and each property the application
//! sets is written into it through [`Settings::set`] (called from
//! `ElementImpl::property_changed`, after the type and range check). When
//! streaming starts the element takes one copy and works from that: no
//! property is looked up by name on the way, and a name the struct does not
//! hold is refused when it is set (a declaration bug the element's tests
//! hit), never read as a silent default.

use std::sync::Mutex;

use framecast_core::sync::MutexExt;

use crate::pipeline::{Element, PropertySpec, PropertyValue};
use crate::{Error, Result};

/// An element's writable properties, typed.
pub(crate) trait Settings: Default + Clone + Send + 'static {
    /// The properties, declared with `Self::default()`'s values as their
    /// defaults.
    fn properties() -> Vec<PropertySpec>;

    /// Writes the property `name` (type- and range-checked already);
    /// `false` when the struct holds no such property or the value is not
    /// of its type.
    fn set(&mut self, name: &str, value: &PropertyValue) -> bool;

    /// [`set`](Settings::set), as `ElementImpl::property_changed` answers:
    /// a property the struct does not take is an error naming it.
    fn write(&mut self, element: &str, name: &str, value: &PropertyValue) -> Result<()> {
        if self.set(name, value) {
            return Ok(());
        }
        Err(Error::InvalidPropertyValue {
            element: element.to_string(),
            property: name.to_string(),
            value: value.to_string(),
            reason: "the element's settings do not hold this property".into(),
        })
    }
}

/// An integer property's value as the type the element uses it as (`u8`
/// for a payload type, `u16` for a port, `usize` for a size); `None` when
/// it is not an integer or does not fit (the declared range should make it
/// fit: a declaration bug, refused by [`Settings::write`]).
pub(crate) fn integer<T: TryFrom<i128>>(value: &PropertyValue) -> Option<T> {
    let wide = match value {
        PropertyValue::Int(v) => i128::from(*v),
        PropertyValue::UInt(v) => i128::from(*v),
        _ => return None,
    };
    T::try_from(wide).ok()
}

/// An element without writable properties of its own.
impl Settings for () {
    fn properties() -> Vec<PropertySpec> {
        Vec::new()
    }

    fn set(&mut self, _name: &str, _value: &PropertyValue) -> bool {
        false
    }
}

/// An element's settings behind their lock: `property_changed` writes into
/// it, streaming takes a copy when it starts (or reads one field, for a
/// property that may change while playing).
#[derive(Debug, Default)]
pub(crate) struct SettingsLock<S>(Mutex<S>);

impl<S: Settings> SettingsLock<S> {
    /// A copy of the settings as they stand.
    pub(crate) fn get(&self) -> S {
        self.0.locked().clone()
    }

    /// One value read from the settings as they stand.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&self.0.locked())
    }

    /// Writes `name` when the settings declare it. A name they do not
    /// declare belongs to someone else (a base class's `sync` or
    /// `num-buffers`, a read-only counter) and is left to it; a declared
    /// name [`Settings::set`] does not take is refused.
    pub(crate) fn write(&self, element: &Element, name: &str, value: &PropertyValue) -> Result<()> {
        if !S::properties().iter().any(|p| p.name == name) {
            return Ok(());
        }
        self.0.locked().write(element.name(), name, value)
    }
}

#[cfg(test)]
mod tests {
    use crate::pipeline::{factories, make_element};

    /// Every factory: each writable property set to its declared default is
    /// taken, so no element declares a property its settings do not hold
    /// (a read-only property may still refuse the write, for its own
    /// reason).
    #[test]
    fn every_writable_property_lands_in_the_settings() {
        for factory in factories() {
            let element = make_element(factory.name, None).expect(factory.name);
            for spec in factory.properties.iter().filter(|p| p.is_writable()) {
                if let Err(e) = element.set_property(spec.name, spec.default_value()) {
                    assert!(
                        !e.to_string().contains("settings do not hold"),
                        "{}.{}: {e}",
                        factory.name,
                        spec.name
                    );
                }
            }
        }
    }
}
