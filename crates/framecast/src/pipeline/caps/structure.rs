//! [`Structure`]: a media type and its named fields
//! (GStreamer's `GstStructure`, as used in caps).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Fraction, Result};

use super::value::FromValue;
use super::{parse, serialize, Value};

/// A media type (`video/x-raw`) with ordered fields (`format=I420`,
/// `width=1280`, ...): one alternative of a [`Caps`](super::Caps).
///
/// Field order is kept, as GStreamer keeps it, because it is what people
/// see when caps are printed; it does not affect comparisons. Names are
/// checked on the way in (a letter, then letters, digits and `_-+/:.`), so
/// every structure prints as text that parses back to it.
///
/// `PartialEq` compares names and field values regardless of field order
/// (`gst_structure_is_equal`).
///
/// # Examples
///
/// ```
/// use framecast::pipeline::Structure;
/// use framecast::Fraction;
/// let s: Structure = "video/x-raw, format=I420, width=1280, framerate=30/1".parse()?;
/// assert_eq!(s.name(), "video/x-raw");
/// assert_eq!(s.get_int("width"), Some(1280));
/// assert_eq!(s.get::<&str>("format"), Some("I420"));
/// assert_eq!(s.get_fraction("framerate"), Some(Fraction::from_integer(30)));
/// assert_eq!(s.to_string(), "video/x-raw,format=I420,width=1280,framerate=30/1");
/// # Ok::<(), framecast::Error>(())
/// ```
#[derive(Debug, Clone)]
#[doc(alias = "GstStructure")]
pub struct Structure {
    name: String,
    fields: Vec<(String, Value)>,
}

impl Structure {
    /// A structure named `name` with no fields.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] pointing at the offending character when `name`
    /// does not start with a letter, holds a character other than letters,
    /// digits and `_-+/:.`, or is one of the caps keywords `ANY`, `EMPTY`,
    /// `NONE`.
    #[doc(alias = "gst_structure_new_empty")]
    pub fn new(name: &str) -> Result<Structure> {
        parse::check_name("media type", name)?;
        Ok(Structure::new_unchecked(name))
    }

    /// A builder for a structure named `name`.
    ///
    /// ```
    /// use framecast::pipeline::Structure;
    /// let s = Structure::builder("video/x-raw").field("width", 320).field("height", 240).build()?;
    /// assert_eq!(s.to_string(), "video/x-raw,width=320,height=240");
    /// # Ok::<(), framecast::Error>(())
    /// ```
    pub fn builder(name: &str) -> StructureBuilder {
        StructureBuilder {
            name: name.to_string(),
            fields: Vec::new(),
        }
    }

    /// For names already known valid (parser, video helpers).
    pub(crate) fn new_unchecked(name: &str) -> Structure {
        Structure {
            name: name.to_string(),
            fields: Vec::new(),
        }
    }

    /// Appends a field known to be new and validly named.
    pub(crate) fn push_unchecked(&mut self, field: &str, value: Value) {
        self.fields.push((field.to_string(), value));
    }

    /// Sets a field whose name is known valid: replaced in place when
    /// present, appended otherwise.
    pub(crate) fn set_unchecked(&mut self, field: &str, value: Value) {
        match self.fields.iter_mut().find(|(n, _)| n == field) {
            Some((_, v)) => *v = value,
            None => self.push_unchecked(field, value),
        }
    }

    /// The media type (`video/x-raw`).
    #[doc(alias = "gst_structure_get_name")]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the media type is `name`.
    #[doc(alias = "gst_structure_has_name")]
    pub fn has_name(&self, name: &str) -> bool {
        self.name == name
    }

    /// The number of fields.
    #[doc(alias = "gst_structure_n_fields")]
    pub fn n_fields(&self) -> usize {
        self.fields.len()
    }

    /// The fields in order, as `(name, value)`.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Whether there is a field `field`.
    #[doc(alias = "gst_structure_has_field")]
    pub fn has_field(&self, field: &str) -> bool {
        self.value(field).is_some()
    }

    /// The value of field `field`.
    #[doc(alias = "gst_structure_get_value")]
    pub fn value(&self, field: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == field).map(|(_, v)| v)
    }

    /// The value of field `field` as a `T`: `None` when the field is
    /// missing or of another type (an `Int` is not read as `f64`).
    ///
    /// ```
    /// use framecast::pipeline::Structure;
    /// use framecast::{Fraction, VideoFormat};
    /// let s: Structure = "video/x-raw,format=NV12,width=64,framerate=[0/1,30/1]".parse()?;
    /// assert_eq!(s.get::<i32>("width"), Some(64));
    /// assert_eq!(s.get::<VideoFormat>("format"), Some(VideoFormat::Nv12));
    /// assert_eq!(s.get::<Fraction>("framerate"), None); // a range, not fixed
    /// assert_eq!(s.get::<i32>("height"), None);
    /// # Ok::<(), framecast::Error>(())
    /// ```
    pub fn get<'a, T: FromValue<'a>>(&'a self, field: &str) -> Option<T> {
        self.value(field).and_then(T::from_value)
    }

    /// The field as an int, if it holds one.
    #[doc(alias = "gst_structure_get_int")]
    pub fn get_int(&self, field: &str) -> Option<i32> {
        self.get(field)
    }

    /// The field as a boolean, if it holds one.
    #[doc(alias = "gst_structure_get_boolean")]
    pub fn get_bool(&self, field: &str) -> Option<bool> {
        self.get(field)
    }

    /// The field as a double, if it holds one.
    #[doc(alias = "gst_structure_get_double")]
    pub fn get_double(&self, field: &str) -> Option<f64> {
        self.get(field)
    }

    /// The field as a fraction, if it holds one.
    #[doc(alias = "gst_structure_get_fraction")]
    pub fn get_fraction(&self, field: &str) -> Option<Fraction> {
        self.get(field)
    }

    /// The field as a string, if it holds one.
    #[doc(alias = "gst_structure_get_string")]
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.get(field)
    }

    /// Sets field `field` to `value`: replaced in place when present (its
    /// position kept), appended otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] when `field` is not a valid field name (a letter,
    /// then letters, digits and `_-+/:.`); the structure is unchanged.
    #[doc(alias = "gst_structure_set_value")]
    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> Result<()> {
        parse::check_name("field name", field)?;
        self.set_unchecked(field, value.into());
        Ok(())
    }

    /// Removes field `field`, returning its value.
    #[doc(alias = "gst_structure_remove_field")]
    pub fn remove(&mut self, field: &str) -> Option<Value> {
        let i = self.fields.iter().position(|(n, _)| n == field)?;
        Some(self.fields.remove(i).1)
    }

    /// Whether the structure describes no media: a field allows no value
    /// (see [`Value::is_empty`]). Such a structure is a subset of
    /// anything.
    pub fn is_empty(&self) -> bool {
        self.fields.iter().any(|(_, v)| v.is_empty())
    }

    /// Whether every field holds one concrete value.
    #[doc(alias = "gst_structure_is_fixed")]
    pub fn is_fixed(&self) -> bool {
        self.fields.iter().all(|(_, v)| v.is_fixed())
    }

    /// The structure both `self` and `other` describe, or `None` when
    /// there is none (`gst_structure_intersect`).
    ///
    /// The names must be equal. A field present on one side only is kept
    /// as is (the other side does not constrain it); a field on both sides
    /// becomes the intersection of the two values, and an empty
    /// intersection makes the whole result empty. Fields come in `self`'s
    /// order, then `other`'s extra fields in its order.
    ///
    /// ```
    /// use framecast::pipeline::Structure;
    /// let a: Structure = "video/x-raw,format={I420,NV12},width=[1,4096]".parse()?;
    /// let b: Structure = "video/x-raw,format=NV12,height=720".parse()?;
    /// let i = a.intersect(&b).unwrap();
    /// assert_eq!(i.to_string(), "video/x-raw,format=NV12,width=[ 1, 4096 ],height=720");
    /// # Ok::<(), framecast::Error>(())
    /// ```
    #[doc(alias = "gst_structure_intersect")]
    pub fn intersect(&self, other: &Structure) -> Option<Structure> {
        if self.name != other.name {
            return None;
        }
        let mut fields = Vec::with_capacity(self.fields.len() + other.fields.len());
        for (name, value) in &self.fields {
            let value = match other.value(name) {
                Some(theirs) => value.intersect(theirs)?,
                None => value.clone(),
            };
            fields.push((name.clone(), value));
        }
        for (name, value) in &other.fields {
            if !self.has_field(name) {
                fields.push((name.clone(), value.clone()));
            }
        }
        Some(Structure {
            name: self.name.clone(),
            fields,
        })
    }

    /// Whether `self` and `other` describe some media in common.
    #[doc(alias = "gst_structure_can_intersect")]
    pub fn can_intersect(&self, other: &Structure) -> bool {
        self.name == other.name
            && self.fields.iter().all(|(name, value)| {
                other
                    .value(name)
                    .is_none_or(|theirs| value.can_intersect(theirs))
            })
    }

    /// Whether all media `self` describes is described by `superset`
    /// (`gst_structure_is_subset`): same name, and every field of
    /// `superset` present in `self` with a value inside the superset's.
    /// Extra fields in `self` only narrow it, so they are allowed.
    #[doc(alias = "gst_structure_is_subset")]
    pub fn is_subset(&self, superset: &Structure) -> bool {
        self.is_empty()
            || self.name == superset.name
                && superset
                    .fields
                    .iter()
                    .all(|(name, sup)| self.value(name).is_some_and(|v| v.is_subset(sup)))
    }

    /// Every field fixed with GStreamer's default choice (the minimum of a
    /// range, the first alternative of a list; see [`Value::fixate`]), or
    /// `None` when a field is an empty list and nothing can be chosen.
    ///
    /// Elements that prefer other values (a source wanting 320x240 at
    /// 30/1) set them first with [`Structure::fixate_field_nearest_int`]
    /// and friends, as GStreamer elements do in their `fixate` functions.
    #[doc(alias = "gst_structure_fixate")]
    pub fn fixate(&self) -> Option<Structure> {
        let fields = self
            .fields
            .iter()
            .map(|(n, v)| v.fixate().map(|v| (n.clone(), v)))
            .collect::<Option<Vec<_>>>()?;
        Some(Structure {
            name: self.name.clone(),
            fields,
        })
    }

    /// Fixes an int field to the value nearest `target` that it allows.
    ///
    /// Returns `true` when the field was a range or list and now holds an
    /// int; `false` when it is missing, already fixed, or allows no int
    /// (as `gst_structure_fixate_field_nearest_int`).
    ///
    /// ```
    /// use framecast::pipeline::Structure;
    /// let mut s: Structure = "video/x-raw,width=[1,4096],height={240,480,720}".parse()?;
    /// assert!(s.fixate_field_nearest_int("width", 320));
    /// assert!(s.fixate_field_nearest_int("height", 500));
    /// assert_eq!(s.to_string(), "video/x-raw,width=320,height=480");
    /// # Ok::<(), framecast::Error>(())
    /// ```
    #[doc(alias = "gst_structure_fixate_field_nearest_int")]
    pub fn fixate_field_nearest_int(&mut self, field: &str, target: i32) -> bool {
        let nearest = |v: &Value| match v {
            Value::Int(i) => Some(*i),
            Value::IntRange(r) => Some(r.nearest(target)),
            _ => None,
        };
        let distance = |x: &i32| (i64::from(*x) - i64::from(target)).abs();
        self.fixate_field_with(field, |v| match v {
            Value::IntRange(r) => Some(Value::Int(r.nearest(target))),
            Value::List(items) => items
                .iter()
                .filter_map(nearest)
                .min_by_key(distance)
                .map(Value::Int),
            _ => None,
        })
    }

    /// Fixes a fraction field (a framerate, an aspect ratio) to the value
    /// nearest `target` that it allows; returns as
    /// [`Structure::fixate_field_nearest_int`] does.
    #[doc(alias = "gst_structure_fixate_field_nearest_fraction")]
    pub fn fixate_field_nearest_fraction(&mut self, field: &str, target: Fraction) -> bool {
        let clamp = |r: &super::FractionRange| target.clamp(r.min(), r.max());
        let nearest = |v: &Value| match v {
            Value::Fraction(f) => Some(*f),
            Value::FractionRange(r) => Some(clamp(r)),
            _ => None,
        };
        self.fixate_field_with(field, |v| match v {
            Value::FractionRange(r) => Some(Value::Fraction(clamp(r))),
            Value::List(items) => items
                .iter()
                .filter_map(nearest)
                .min_by(|a, b| compare_distance(*a, *b, target))
                .map(Value::Fraction),
            _ => None,
        })
    }

    /// Fixes a string field to `target` when a list allows it, else to the
    /// list's first string (`gst_structure_fixate_field_string`).
    #[doc(alias = "gst_structure_fixate_field_string")]
    pub fn fixate_field_str(&mut self, field: &str, target: &str) -> bool {
        self.fixate_field_with(field, |v| match v {
            Value::List(items) => {
                let strings = || items.iter().filter_map(Value::as_str);
                strings()
                    .find(|s| *s == target)
                    .or_else(|| strings().next())
                    .map(Value::from)
            }
            _ => None,
        })
    }

    /// Fixes a boolean field to `target` when a list allows it, else to
    /// the list's first boolean (`gst_structure_fixate_field_boolean`).
    #[doc(alias = "gst_structure_fixate_field_boolean")]
    pub fn fixate_field_bool(&mut self, field: &str, target: bool) -> bool {
        self.fixate_field_with(field, |v| match v {
            Value::List(items) => {
                let bools = || items.iter().filter_map(Value::as_bool);
                bools()
                    .find(|b| *b == target)
                    .or_else(|| bools().next())
                    .map(Value::Bool)
            }
            _ => None,
        })
    }

    fn fixate_field_with(
        &mut self,
        field: &str,
        choose: impl FnOnce(&Value) -> Option<Value>,
    ) -> bool {
        let Some((_, value)) = self.fields.iter_mut().find(|(n, _)| n == field) else {
            return false;
        };
        match choose(value) {
            Some(chosen) => {
                *value = chosen;
                true
            }
            None => false,
        }
    }
}

/// Orders `a` and `b` by their distance to `target`, exactly (`i128`
/// cross-multiplication cannot overflow for `i32` fractions).
fn compare_distance(a: Fraction, b: Fraction, target: Fraction) -> Ordering {
    // |x - t| = |x.num * t.den - t.num * x.den| / (x.den * t.den)
    let dist = |x: Fraction| {
        let num = (i128::from(x.num) * i128::from(target.den)
            - i128::from(target.num) * i128::from(x.den))
        .abs();
        (num, i128::from(x.den) * i128::from(target.den))
    };
    let ((an, ad), (bn, bd)) = (dist(a), dist(b));
    (an * bd).cmp(&(bn * ad))
}

/// Builds a [`Structure`] field by field; names are checked once, in
/// [`StructureBuilder::build`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct StructureBuilder {
    name: String,
    fields: Vec<(String, Value)>,
}

impl StructureBuilder {
    /// Sets field `field` (a later value for the same name replaces the
    /// earlier one).
    pub fn field(mut self, field: &str, value: impl Into<Value>) -> StructureBuilder {
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| n == field) {
            Some((_, v)) => *v = value,
            None => self.fields.push((field.to_string(), value)),
        }
        self
    }

    /// The structure.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] for an invalid media type or field name, as in
    /// [`Structure::new`] and [`Structure::set`].
    pub fn build(self) -> Result<Structure> {
        parse::check_name("media type", &self.name)?;
        for (field, _) in &self.fields {
            parse::check_name("field name", field)?;
        }
        Ok(Structure {
            name: self.name,
            fields: self.fields,
        })
    }
}

impl PartialEq for Structure {
    fn eq(&self, other: &Structure) -> bool {
        self.name == other.name
            && self.fields.len() == other.fields.len()
            && self.fields.iter().all(|(n, v)| other.value(n) == Some(v))
    }
}

impl fmt::Display for Structure {
    /// `video/x-raw,format=I420,width=1280` (compact), or with `{:#}`
    /// GStreamer's `video/x-raw, format=(string)I420, width=(int)1280`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let typed = f.alternate();
        for (name, value) in &self.fields {
            if typed {
                write!(f, ", {name}=")?;
                serialize::write_typed_value(f, value)?;
            } else {
                write!(f, ",{name}=")?;
                serialize::write_value(f, value)?;
            }
        }
        Ok(())
    }
}

impl FromStr for Structure {
    type Err = Error;

    /// Parses `name, field=value, ...` in caps syntax (see
    /// [`Caps`](super::Caps)'s `FromStr`).
    fn from_str(s: &str) -> Result<Structure> {
        parse::parse_structure(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Structure {
        text.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn intersection_keeps_one_sided_fields() {
        assert_eq!(
            s("a,y=1")
                .intersect(&s("a,x=2"))
                .map(|x| x.to_string())
                .as_deref(),
            Some("a,y=1,x=2")
        );
        assert_eq!(s("a,y=1").intersect(&s("b,y=1")), None);
        assert_eq!(s("a,x=[1,5]").intersect(&s("a,x=9")), None);
        assert!(!s("a,x=[1,5]").can_intersect(&s("a,x=9")));
        assert!(s("a,x=[1,5]").can_intersect(&s("a,y=9")));
    }

    #[test]
    fn subset_requires_superset_fields() {
        assert!(s("a,x=5,y=1").is_subset(&s("a,x=5")));
        assert!(!s("a,x=5").is_subset(&s("a,x=5,y=1")));
        assert!(s("a,x=5").is_subset(&s("a,x=[1,10]")));
        assert!(!s("a,x=5").is_subset(&s("b,x=5")));
    }

    #[test]
    fn set_get_remove() {
        let mut st = Structure::new("video/x-raw").unwrap();
        st.set("width", 320).unwrap();
        st.set("format", "I420").unwrap();
        st.set("width", 640).unwrap();
        assert_eq!(st.to_string(), "video/x-raw,width=640,format=I420");
        assert!(st.set("bad name", 1).is_err());
        assert!(st.set("1x", 1).is_err());
        assert_eq!(st.remove("width"), Some(Value::Int(640)));
        assert_eq!(st.remove("width"), None);
        assert_eq!(st.n_fields(), 1);
        assert!(Structure::new("ANY").is_err());
        assert!(Structure::new("").is_err());
        let e = Structure::new("video x-raw").unwrap_err();
        assert!(matches!(&e, Error::Parse { position: 5, .. }), "{e}");
        assert!(Structure::builder("a").field("b c", 1).build().is_err());
    }

    #[test]
    fn equality_ignores_field_order() {
        assert_eq!(s("a,x=1,y={1,2}"), s("a,y={2,1},x=1"));
        assert_ne!(s("a,x=1"), s("a,x=1,y=2"));
    }

    #[test]
    fn nearest_fixation() {
        let mut st = s("v,width=[1,4096],height={[1,100],480,720},framerate=[0/1,60/1],fr={15/1,30000/1001,60/1},format={NV12,I420},b={false,true}");
        assert!(st.fixate_field_nearest_int("width", 320));
        assert!(st.fixate_field_nearest_int("height", 240));
        assert!(st.fixate_field_nearest_fraction("framerate", Fraction::from_integer(30)));
        assert!(st.fixate_field_nearest_fraction("fr", Fraction::from_integer(30)));
        assert!(st.fixate_field_str("format", "I420"));
        assert!(st.fixate_field_bool("b", true));
        assert_eq!(
            st.to_string(),
            "v,width=320,height=100,framerate=30/1,fr=30000/1001,format=I420,b=true"
        );
        assert!(!st.fixate_field_nearest_int("width", 1), "already fixed");
        assert!(!st.fixate_field_nearest_int("missing", 1));
        assert!(!st.fixate_field_nearest_int("format", 1));
        let mut st = s("v,format={NV12,RGB}");
        assert!(st.fixate_field_str("format", "I420"));
        assert_eq!(st.get_str("format"), Some("NV12"));
    }

    #[test]
    fn fixate_and_is_fixed() {
        assert_eq!(
            s("a,x=[1,10],y={[3,5],2},z=[1/2,30/1],d=[1.5,3.0],w=<[1,2],{4,5}>").fixate(),
            Some(s("a,x=1,y=3,z=1/2,d=1.5,w=<1,4>"))
        );
        assert!(s("a,x=1").is_fixed());
        assert!(s("a").is_fixed());
        assert!(!s("a,x={1}").is_fixed());
        assert_eq!(s("a,x={}").fixate(), None);
    }
}
