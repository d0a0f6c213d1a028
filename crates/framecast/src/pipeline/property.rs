//! Element properties: typed values, settable from strings (for pipeline
//! strings and the CLI) with range and type checks.

use std::fmt;
use std::ops::RangeInclusive;

use framecast_core::Fraction;

use super::caps::Caps;
use crate::{Error, Result};

/// The type, range and default of a property.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PropertyType {
    /// true/false (also yes/no, on/off, 1/0).
    Bool {
        /// Default.
        default: bool,
    },
    /// A signed integer in `min..=max`.
    Int {
        /// Minimum.
        min: i64,
        /// Maximum.
        max: i64,
        /// Default.
        default: i64,
    },
    /// An unsigned integer in `min..=max`.
    UInt {
        /// Minimum.
        min: u64,
        /// Maximum.
        max: u64,
        /// Default.
        default: u64,
    },
    /// A floating-point number in `min..=max`.
    Double {
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
        /// Default.
        default: f64,
    },
    /// A string.
    String {
        /// Default (`None` = unset).
        default: Option<&'static str>,
    },
    /// A fraction such as a framerate (`30/1`).
    Fraction {
        /// Default.
        default: Fraction,
    },
    /// Caps (`video/x-raw,format=I420`).
    Caps,
    /// One of named values (GStreamer enums are set by nick).
    Enum {
        /// `(nick, description)` of each value; the index is its number.
        values: &'static [(&'static str, &'static str)],
        /// Default nick.
        default: &'static str,
    },
    /// A count the element reports (packets sent, frames dropped):
    /// readable only, as GStreamer's `G_PARAM_READABLE` statistics. Setting
    /// it, from code or a pipeline string, is an error that says so.
    Counter,
}

/// A property an element factory declares.
///
/// Made with one constructor per type, each taking the name, a one-line
/// blurb, the range where the type has one, and the default, in that
/// order (the `ParamSpec::builder` of gstreamer-rs, reduced):
///
/// ```
/// use framecast::pipeline::PropertySpec;
/// let specs = [
///     PropertySpec::uint("max-size-buffers", "Max buffers queued (0 = no limit)", 0..=u64::from(u32::MAX), 200)
///         .mutable_in_playing(),
///     PropertySpec::bool("sync", "Sync on the clock", true),
///     PropertySpec::counter("dropped", "Buffers dropped by the leaky policy"),
/// ];
/// assert_eq!(specs[0].type_description(), "unsigned integer in [0, 4294967295]");
/// assert!(!specs[2].is_writable());
/// ```
///
/// A property may change only in the Null and Ready states unless
/// [`mutable_in_playing`](PropertySpec::mutable_in_playing) says otherwise
/// (GStreamer's `GST_PARAM_MUTABLE_PLAYING`).
#[derive(Debug, Clone)]
pub struct PropertySpec {
    /// Name (`max-buffers`).
    pub name: &'static str,
    /// One line on what it does.
    pub blurb: &'static str,
    /// Type, range, default.
    pub kind: PropertyType,
    /// Whether it may change while the element is Paused or Playing.
    pub mutable_in_playing: bool,
}

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Double(f64),
    /// A string (`None` = unset).
    String(Option<String>),
    /// A fraction.
    Fraction(Fraction),
    /// Caps.
    Caps(Caps),
    /// An enum value, by nick.
    Enum(&'static str),
}

impl PropertyValue {
    /// As bool, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PropertyValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// As i64 (from Int or UInt in range).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PropertyValue::Int(v) => Some(*v),
            PropertyValue::UInt(v) => i64::try_from(*v).ok(),
            _ => None,
        }
    }
    /// As u64 (from UInt or non-negative Int).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            PropertyValue::UInt(v) => Some(*v),
            PropertyValue::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }
    /// As f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropertyValue::Double(v) => Some(*v),
            PropertyValue::Int(v) => Some(*v as f64),
            PropertyValue::UInt(v) => Some(*v as f64),
            _ => None,
        }
    }
    /// As a string, if it is a set string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PropertyValue::String(s) => s.as_deref(),
            PropertyValue::Enum(s) => Some(s),
            _ => None,
        }
    }
    /// As a fraction.
    pub fn as_fraction(&self) -> Option<Fraction> {
        match self {
            PropertyValue::Fraction(f) => Some(*f),
            _ => None,
        }
    }
    /// As caps.
    pub fn as_caps(&self) -> Option<&Caps> {
        match self {
            PropertyValue::Caps(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Bool(b) => write!(f, "{b}"),
            PropertyValue::Int(v) => write!(f, "{v}"),
            PropertyValue::UInt(v) => write!(f, "{v}"),
            PropertyValue::Double(v) => write!(f, "{v}"),
            PropertyValue::String(Some(s)) => write!(f, "{s:?}"),
            PropertyValue::String(None) => f.write_str("NULL"),
            PropertyValue::Fraction(v) => write!(f, "{v}"),
            PropertyValue::Caps(c) => write!(f, "{c}"),
            PropertyValue::Enum(nick) => f.write_str(nick),
        }
    }
}

impl From<bool> for PropertyValue {
    fn from(v: bool) -> Self {
        PropertyValue::Bool(v)
    }
}
impl From<i64> for PropertyValue {
    fn from(v: i64) -> Self {
        PropertyValue::Int(v)
    }
}
impl From<i32> for PropertyValue {
    fn from(v: i32) -> Self {
        PropertyValue::Int(v as i64)
    }
}
impl From<u64> for PropertyValue {
    fn from(v: u64) -> Self {
        PropertyValue::UInt(v)
    }
}
impl From<u32> for PropertyValue {
    fn from(v: u32) -> Self {
        PropertyValue::UInt(v as u64)
    }
}
impl From<f64> for PropertyValue {
    fn from(v: f64) -> Self {
        PropertyValue::Double(v)
    }
}
impl From<&str> for PropertyValue {
    fn from(v: &str) -> Self {
        PropertyValue::String(Some(v.to_string()))
    }
}
impl From<String> for PropertyValue {
    fn from(v: String) -> Self {
        PropertyValue::String(Some(v))
    }
}
impl From<Fraction> for PropertyValue {
    fn from(v: Fraction) -> Self {
        PropertyValue::Fraction(v)
    }
}
impl From<Caps> for PropertyValue {
    fn from(v: Caps) -> Self {
        PropertyValue::Caps(v)
    }
}

fn parse_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(hex, 16).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

impl PropertySpec {
    const fn new(name: &'static str, blurb: &'static str, kind: PropertyType) -> PropertySpec {
        PropertySpec {
            name,
            blurb,
            kind,
            mutable_in_playing: false,
        }
    }

    /// A boolean.
    pub const fn bool(name: &'static str, blurb: &'static str, default: bool) -> PropertySpec {
        Self::new(name, blurb, PropertyType::Bool { default })
    }

    /// A signed integer in `range`.
    pub const fn int(
        name: &'static str,
        blurb: &'static str,
        range: RangeInclusive<i64>,
        default: i64,
    ) -> PropertySpec {
        let (min, max) = (*range.start(), *range.end());
        Self::new(name, blurb, PropertyType::Int { min, max, default })
    }

    /// An unsigned integer in `range`.
    pub const fn uint(
        name: &'static str,
        blurb: &'static str,
        range: RangeInclusive<u64>,
        default: u64,
    ) -> PropertySpec {
        let (min, max) = (*range.start(), *range.end());
        Self::new(name, blurb, PropertyType::UInt { min, max, default })
    }

    /// A floating-point number in `range`.
    pub const fn double(
        name: &'static str,
        blurb: &'static str,
        range: RangeInclusive<f64>,
        default: f64,
    ) -> PropertySpec {
        let (min, max) = (*range.start(), *range.end());
        Self::new(name, blurb, PropertyType::Double { min, max, default })
    }

    /// A string (`None`: unset by default).
    pub const fn string(
        name: &'static str,
        blurb: &'static str,
        default: Option<&'static str>,
    ) -> PropertySpec {
        Self::new(name, blurb, PropertyType::String { default })
    }

    /// A fraction such as a framerate.
    pub const fn fraction(
        name: &'static str,
        blurb: &'static str,
        default: Fraction,
    ) -> PropertySpec {
        Self::new(name, blurb, PropertyType::Fraction { default })
    }

    /// Caps (ANY by default).
    pub const fn caps(name: &'static str, blurb: &'static str) -> PropertySpec {
        Self::new(name, blurb, PropertyType::Caps)
    }

    /// One of `values`, `(nick, description)` each, set by nick or index.
    pub const fn enumeration(
        name: &'static str,
        blurb: &'static str,
        values: &'static [(&'static str, &'static str)],
        default: &'static str,
    ) -> PropertySpec {
        Self::new(name, blurb, PropertyType::Enum { values, default })
    }

    /// A read-only counter the element reports (it answers
    /// [`ElementImpl::read_property`](super::ElementImpl::read_property)
    /// for it).
    pub const fn counter(name: &'static str, blurb: &'static str) -> PropertySpec {
        Self::new(name, blurb, PropertyType::Counter)
    }

    /// Lets the property change while the element is Paused or Playing.
    pub const fn mutable_in_playing(mut self) -> PropertySpec {
        self.mutable_in_playing = true;
        self
    }

    /// The default value.
    pub fn default_value(&self) -> PropertyValue {
        match &self.kind {
            PropertyType::Bool { default } => PropertyValue::Bool(*default),
            PropertyType::Int { default, .. } => PropertyValue::Int(*default),
            PropertyType::UInt { default, .. } => PropertyValue::UInt(*default),
            PropertyType::Double { default, .. } => PropertyValue::Double(*default),
            PropertyType::String { default } => PropertyValue::String(default.map(str::to_string)),
            PropertyType::Fraction { default } => PropertyValue::Fraction(*default),
            PropertyType::Caps => PropertyValue::Caps(Caps::new_any()),
            PropertyType::Enum { default, .. } => PropertyValue::Enum(default),
            PropertyType::Counter => PropertyValue::UInt(0),
        }
    }

    /// Whether the application may set it (counters are read-only).
    pub fn is_writable(&self) -> bool {
        !matches!(self.kind, PropertyType::Counter)
    }

    /// A short type description for `inspect` and error messages.
    pub fn type_description(&self) -> String {
        match &self.kind {
            PropertyType::Bool { .. } => "boolean".into(),
            PropertyType::Int { min, max, .. } => format!("integer in [{min}, {max}]"),
            PropertyType::UInt { min, max, .. } => format!("unsigned integer in [{min}, {max}]"),
            PropertyType::Double { min, max, .. } => format!("number in [{min}, {max}]"),
            PropertyType::String { .. } => "string".into(),
            PropertyType::Fraction { .. } => "fraction (e.g. 30/1)".into(),
            PropertyType::Caps => "caps".into(),
            PropertyType::Enum { values, .. } => {
                let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
                format!("one of {}", names.join(", "))
            }
            PropertyType::Counter => "read-only counter".into(),
        }
    }

    fn invalid(&self, element: &str, value: &str, reason: String) -> Error {
        Error::InvalidPropertyValue {
            element: element.to_string(),
            property: self.name.to_string(),
            value: value.to_string(),
            reason,
        }
    }

    /// Parses a value given as text (`max-buffers=5`, `leaky=downstream`,
    /// `framerate=30/1`), checking type and range. `element` names the
    /// element in errors.
    pub fn parse(&self, element: &str, text: &str) -> Result<PropertyValue> {
        let expected = || format!("expected {}", self.type_description());
        let value = match &self.kind {
            PropertyType::Bool { .. } => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => PropertyValue::Bool(true),
                "false" | "no" | "off" | "0" => PropertyValue::Bool(false),
                _ => return Err(self.invalid(element, text, expected())),
            },
            PropertyType::Int { .. } => {
                let v = parse_int(text).ok_or_else(|| self.invalid(element, text, expected()))?;
                PropertyValue::Int(
                    i64::try_from(v).map_err(|_| self.invalid(element, text, expected()))?,
                )
            }
            PropertyType::UInt { .. } => {
                let v = parse_int(text).ok_or_else(|| self.invalid(element, text, expected()))?;
                PropertyValue::UInt(
                    u64::try_from(v).map_err(|_| self.invalid(element, text, expected()))?,
                )
            }
            PropertyType::Double { .. } => PropertyValue::Double(
                text.trim()
                    .parse::<f64>()
                    .map_err(|_| self.invalid(element, text, expected()))?,
            ),
            PropertyType::String { .. } => PropertyValue::String(Some(text.to_string())),
            PropertyType::Fraction { .. } => PropertyValue::Fraction(
                text.trim()
                    .parse::<Fraction>()
                    .map_err(|_| self.invalid(element, text, expected()))?,
            ),
            PropertyType::Caps => PropertyValue::Caps(
                text.parse::<Caps>()
                    .map_err(|e| self.invalid(element, text, format!("bad caps: {e}")))?,
            ),
            PropertyType::Counter => {
                return Err(self.invalid(element, text, "read-only: the element reports it".into()))
            }
            PropertyType::Enum { values, .. } => {
                let t = text.trim();
                let by_nick = values.iter().find(|(nick, _)| nick.eq_ignore_ascii_case(t));
                let by_index = t.parse::<usize>().ok().and_then(|i| values.get(i));
                match by_nick.or(by_index) {
                    Some((nick, _)) => PropertyValue::Enum(nick),
                    None => return Err(self.invalid(element, text, expected())),
                }
            }
        };
        self.validate(element, value)
    }

    /// Checks a typed value against the type and range (converting Int and
    /// UInt into each other, and a String into an enum nick).
    pub fn validate(&self, element: &str, value: PropertyValue) -> Result<PropertyValue> {
        let shown = value.to_string();
        let out_of_range = |spec: &PropertySpec| {
            spec.invalid(
                element,
                &shown,
                format!("expected {}", spec.type_description()),
            )
        };
        match (&self.kind, value) {
            (PropertyType::Bool { .. }, v @ PropertyValue::Bool(_)) => Ok(v),
            (PropertyType::Int { min, max, .. }, v) => match v.as_i64() {
                Some(x) if (*min..=*max).contains(&x) => Ok(PropertyValue::Int(x)),
                _ => Err(out_of_range(self)),
            },
            (PropertyType::UInt { min, max, .. }, v) => match v.as_u64() {
                Some(x) if (*min..=*max).contains(&x) => Ok(PropertyValue::UInt(x)),
                _ => Err(out_of_range(self)),
            },
            (PropertyType::Double { min, max, .. }, v) => match v.as_f64() {
                Some(x) if x >= *min && x <= *max => Ok(PropertyValue::Double(x)),
                _ => Err(out_of_range(self)),
            },
            (PropertyType::String { .. }, v @ PropertyValue::String(_)) => Ok(v),
            (PropertyType::Fraction { .. }, v @ PropertyValue::Fraction(_)) => Ok(v),
            (PropertyType::Caps, v @ PropertyValue::Caps(_)) => Ok(v),
            (PropertyType::Enum { values, .. }, PropertyValue::Enum(nick))
                if values.iter().any(|(n, _)| *n == nick) =>
            {
                Ok(PropertyValue::Enum(nick))
            }
            (PropertyType::Enum { .. }, PropertyValue::String(Some(s))) => self.parse(element, &s),
            (PropertyType::Counter, _) => {
                Err(self.invalid(element, &shown, "read-only: the element reports it".into()))
            }
            _ => Err(out_of_range(self)),
        }
    }
}

/// The error for a write to a property the element only reports (a
/// computed string or number that is not a [`PropertyType::Counter`]):
/// return it from
/// [`ElementImpl::property_changed`](super::ElementImpl::property_changed).
pub(crate) fn read_only_error(
    element: &super::Element,
    name: &str,
    value: &PropertyValue,
) -> Error {
    Error::InvalidPropertyValue {
        element: element.name().to_string(),
        property: name.to_string(),
        value: value.to_string(),
        reason: "the property is read-only".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: PropertyType) -> PropertySpec {
        PropertySpec::new("p", "", kind).mutable_in_playing()
    }

    #[test]
    fn parses_with_ranges() {
        let int = spec(PropertyType::Int {
            min: -1,
            max: 10,
            default: 0,
        });
        assert_eq!(int.parse("e", "7").unwrap(), PropertyValue::Int(7));
        assert_eq!(int.parse("e", "0xA").unwrap(), PropertyValue::Int(10));
        assert!(int
            .parse("e", "11")
            .unwrap_err()
            .to_string()
            .contains("integer in [-1, 10]"));
        assert!(int.parse("e", "seven").is_err());
        let b = spec(PropertyType::Bool { default: false });
        assert_eq!(b.parse("e", "TRUE").unwrap(), PropertyValue::Bool(true));
        assert!(b.parse("e", "maybe").is_err());
        let e = spec(PropertyType::Enum {
            values: &[("no", ""), ("upstream", ""), ("downstream", "")],
            default: "no",
        });
        assert_eq!(
            e.parse("e", "downstream").unwrap(),
            PropertyValue::Enum("downstream")
        );
        assert_eq!(e.parse("e", "1").unwrap(), PropertyValue::Enum("upstream"));
        let err = e.parse("q", "sideways").unwrap_err().to_string();
        assert!(err.contains("one of no, upstream, downstream"), "{err}");
        let f = spec(PropertyType::Fraction {
            default: Fraction::ZERO,
        });
        assert_eq!(
            f.parse("e", "30/1").unwrap(),
            PropertyValue::Fraction(Fraction::from_integer(30))
        );
        let u = spec(PropertyType::UInt {
            min: 0,
            max: 5,
            default: 0,
        });
        assert!(u.parse("e", "-1").is_err());
        assert_eq!(
            u.validate("e", PropertyValue::Int(3)).unwrap(),
            PropertyValue::UInt(3)
        );
    }

    #[test]
    fn counters_read_zero_and_refuse_every_write() {
        let c = spec(PropertyType::Counter);
        assert_eq!(c.default_value(), PropertyValue::UInt(0));
        assert!(!c.is_writable());
        let by_text = c.parse("sink", "5").unwrap_err().to_string();
        assert!(by_text.contains("read-only"), "{by_text}");
        let by_value = c
            .validate("sink", PropertyValue::UInt(5))
            .unwrap_err()
            .to_string();
        assert!(by_value.contains("read-only"), "{by_value}");
        assert!(spec(PropertyType::Bool { default: true }).is_writable());
    }
}
