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

use crate::pipeline::{PropertySpec, PropertyValue};
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

/// An element without writable properties of its own.
impl Settings for () {
    fn properties() -> Vec<PropertySpec> {
        Vec::new()
    }

    fn set(&mut self, _name: &str, _value: &PropertyValue) -> bool {
        false
    }
}
