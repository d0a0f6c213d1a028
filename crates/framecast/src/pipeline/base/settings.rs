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

use framecast_core::Fraction;

use crate::pipeline::{Caps, Element, PropertySpec, PropertyValue};
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

/// A settings field's type, read from a [`PropertyValue`] (the value the
/// application set, or the declared default): `None` when the value is
/// not of this type or does not fit it.
pub(crate) trait FromProperty: Sized {
    /// The field's value for `value`.
    fn from_property(value: &PropertyValue) -> Option<Self>;
}

/// Integer fields take `Int` or `UInt`, as [`integer`] converts them.
macro_rules! integer_fields {
    ($($t:ty),*) => {$(
        impl FromProperty for $t {
            fn from_property(value: &PropertyValue) -> Option<Self> {
                integer(value)
            }
        }
    )*};
}
integer_fields!(u8, u16, u32, u64, usize, i32, i64);

impl FromProperty for bool {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        value.as_bool()
    }
}

impl FromProperty for f64 {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        value.as_f64()
    }
}

/// A string property: `None` when unset.
impl FromProperty for Option<String> {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// An enumeration, by nick (the nicks are the declaration's `'static`
/// strings).
impl FromProperty for &'static str {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::Enum(nick) => Some(nick),
            _ => None,
        }
    }
}

impl FromProperty for Fraction {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        value.as_fraction()
    }
}

impl FromProperty for Caps {
    fn from_property(value: &PropertyValue) -> Option<Self> {
        value.as_caps().cloned()
    }
}

/// Declares an element's typed settings from one line per property: the
/// struct, its [`Default`] (each field the declared default of its
/// property), and its [`Settings`] impl (`properties()` in the order
/// written, `set()` writing each property into its field).
///
/// ```ignore
/// settings! {
///     /// `fakesrc`'s writable properties.
///     #[derive(Debug, Clone, Copy)]
///     pub(crate) struct FakeSrcSettings {
///         sizemax: usize => PropertySpec::int("sizemax", "Maximum buffer size", 0..=i64::from(i32::MAX), 4096),
///         /// A field may be stored as another type than the property's:
///         /// `as` names the conversion from it.
///         timeout: Duration as Duration::from_secs => PropertySpec::uint("timeout", "Seconds", 1..=60, 10),
///     }
/// }
/// ```
///
/// The default is written once, in the [`PropertySpec`]; a field whose type
/// cannot hold its property's default is a declaration bug that panics
/// when the element is made (every factory is made in the tests).
macro_rules! settings {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field_vis:vis $field:ident : $ty:ty $(as $conv:path)? => $spec:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $(
                        $field: $crate::pipeline::base::settings!(@from &$spec.default_value() $(, $conv)?)
                            .expect(concat!(
                                stringify!($name), ".", stringify!($field),
                                ": the declared default does not fit the field"
                            )),
                    )*
                }
            }
        }

        impl $crate::pipeline::base::Settings for $name {
            fn properties() -> Vec<$crate::pipeline::PropertySpec> {
                vec![$($spec),*]
            }

            fn set(&mut self, name: &str, value: &$crate::pipeline::PropertyValue) -> bool {
                $(
                    if name == $spec.name {
                        return match $crate::pipeline::base::settings!(@from value $(, $conv)?) {
                            Some(v) => {
                                self.$field = v;
                                true
                            }
                            None => false,
                        };
                    }
                )*
                false
            }
        }
    };
    (@from $value:expr) => {
        $crate::pipeline::base::FromProperty::from_property($value)
    };
    (@from $value:expr, $conv:path) => {
        $crate::pipeline::base::FromProperty::from_property($value).map($conv)
    };
}
pub(crate) use settings;

/// An element's read-only counters (GStreamer's readable statistics),
/// declared as a table of `"name" => "blurb"`: the
/// [`PropertySpec::counter`]s, in the order written, as a
/// `Vec<PropertySpec>`. The element answers them in
/// `ElementImpl::read_property`.
macro_rules! counters {
    ($($name:literal => $blurb:expr),* $(,)?) => {
        vec![$($crate::pipeline::PropertySpec::counter($name, $blurb)),*]
    };
}
pub(crate) use counters;

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
