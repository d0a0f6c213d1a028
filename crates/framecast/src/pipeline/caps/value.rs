//! [`Value`]: one field value in caps, and the set algebra on values
//! (intersection, subset, fixation) that negotiation is built on
//! (GStreamer's `gstvalue.c`).
//!
//! A caps value denotes a *set* of concrete values: `1280` the one-element
//! set, `[ 1, 4096 ]` the integers in between, `{ I420, NV12 }` the union of
//! its members. Intersection is set intersection, subset is set inclusion,
//! and fixation picks one member the way GStreamer's default
//! `gst_value_fixate` does, so that a framecast element negotiates the same
//! caps a GStreamer element would.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Fraction, Result, VideoFormat};

use super::range::{DoubleRange, FractionRange, IntRange};
use super::{parse, serialize};

/// A caps field value: a fixed value, a range, a list of alternatives or
/// an ordered array.
///
/// Values of different types never intersect (`5` and `5.0` are
/// different), as in GStreamer.
///
/// `PartialEq` compares values, not spellings: lists compare as sets
/// (`{ 1, 2 } == { 2, 1 }`), everything else structurally.
///
/// # Examples
///
/// ```
/// use framecast::pipeline::Value;
/// let formats: Value = "{ I420, NV12 }".parse()?;
/// let wanted = Value::from("NV12");
/// assert_eq!(formats.intersect(&wanted), Some(Value::from("NV12")));
/// let widths = Value::from(1..=4096);
/// assert_eq!(widths.to_string(), "[ 1, 4096 ]");
/// assert_eq!(widths.fixate(), Some(Value::Int(1)));
/// # Ok::<(), framecast::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum Value {
    /// `true` / `false`.
    Bool(bool),
    /// A 32-bit integer: GStreamer's caps `int` (`gint`), so that widths,
    /// heights and rates mean the same here as on a GStreamer pad.
    Int(i32),
    /// `[ min, max ]` or `[ min, max, step ]` integers.
    IntRange(IntRange),
    /// A double (`1.5`, `(double)2`).
    Double(f64),
    /// `[ min, max ]` doubles.
    DoubleRange(DoubleRange),
    /// An exact fraction (`30/1`, `30000/1001`).
    Fraction(Fraction),
    /// `[ min, max ]` fractions.
    FractionRange(FractionRange),
    /// A string (`I420`, `"hello world"`).
    String(String),
    /// `{ a, b }`: any one of the alternatives (GStreamer's `GstValueList`).
    /// An empty list is the empty set and intersects nothing.
    List(Vec<Value>),
    /// `< a, b >`: all of the elements, in this order (GStreamer's
    /// `GstValueArray`), e.g. per-channel positions.
    Array(Vec<Value>),
}

impl Value {
    /// A list of alternatives `{ a, b, ... }` from anything convertible.
    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// An ordered array `< a, b, ... >` from anything convertible.
    pub fn array<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }

    /// The integer, if this is an `Int`.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The boolean, if this is a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// The double, if this is a `Double`.
    pub fn as_double(&self) -> Option<f64> {
        match self {
            Value::Double(v) => Some(*v),
            _ => None,
        }
    }

    /// The fraction, if this is a `Fraction`.
    pub fn as_fraction(&self) -> Option<Fraction> {
        match self {
            Value::Fraction(v) => Some(*v),
            _ => None,
        }
    }

    /// The string, if this is a `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(v) => Some(v),
            _ => None,
        }
    }

    /// GStreamer's name for the value's type as written in a type
    /// annotation of a caps field: the element type for ranges, lists and
    /// arrays (`(int)[ 1, 2 ]`, `(string){ I420, NV12 }`), `int` for an
    /// empty list as in `gst_structure_value_get_generic_type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::IntRange(_) => "int",
            Value::Double(_) | Value::DoubleRange(_) => "double",
            Value::Fraction(_) | Value::FractionRange(_) => "fraction",
            Value::String(_) => "string",
            Value::List(v) | Value::Array(v) => v.first().map_or("int", Value::type_name),
        }
    }

    /// Whether the value allows no value at all: an empty list, a list of
    /// such, or an array with such an element. A field holding one makes
    /// its structure describe no media; subset tests treat it as the
    /// empty set, whatever the list's shape (GStreamer compares lists by
    /// shape first, so for it `{ { } }` is not inside `{ }`).
    ///
    /// ```
    /// use framecast::pipeline::Value;
    /// let v = |s: &str| s.parse::<Value>().unwrap();
    /// assert!(v("{ }").is_empty() && v("{ { } }").is_empty() && v("< 1, { } >").is_empty());
    /// assert!(!v("{ { }, 2 }").is_empty() && !v("[ 1, 2 ]").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        match self {
            Value::List(items) => items.iter().all(Value::is_empty),
            Value::Array(items) => items.iter().any(Value::is_empty),
            _ => false,
        }
    }

    /// Whether the value is one concrete value: not a range or list, and
    /// for an array, every element fixed (`gst_value_is_fixed`). A
    /// one-element list is *not* fixed, as in GStreamer.
    #[doc(alias = "gst_value_is_fixed")]
    pub fn is_fixed(&self) -> bool {
        match self {
            Value::Bool(_)
            | Value::Int(_)
            | Value::Double(_)
            | Value::Fraction(_)
            | Value::String(_) => true,
            Value::IntRange(_)
            | Value::DoubleRange(_)
            | Value::FractionRange(_)
            | Value::List(_) => false,
            Value::Array(v) => v.iter().all(Value::is_fixed),
        }
    }

    /// The values in both `self` and `other`, or `None` when there are
    /// none (`gst_value_intersect`).
    ///
    /// A list intersects element by element and keeps the non-empty
    /// results in its own order (the order of preference), collapsing to a
    /// single value when one remains. Arrays intersect element-wise and
    /// only with arrays of the same length. Values of different types do
    /// not intersect.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast::pipeline::Value;
    /// let v = |s: &str| s.parse::<Value>().unwrap();
    /// assert_eq!(v("[ 1, 10 ]").intersect(&v("[ 5, 20 ]")), Some(v("[ 5, 10 ]")));
    /// assert_eq!(v("{ 1, 5, 20 }").intersect(&v("[ 2, 10 ]")), Some(v("5")));
    /// assert_eq!(v("[ 0/1, 30/1 ]").intersect(&v("25/1")), Some(v("25/1")));
    /// assert_eq!(v("5").intersect(&v("5.0")), None);
    /// ```
    #[doc(alias = "gst_value_intersect")]
    pub fn intersect(&self, other: &Value) -> Option<Value> {
        use Value::*;
        match (self, other) {
            (List(items), _) => {
                collect_alternatives(items.iter().filter_map(|e| e.intersect(other)))
            }
            (_, List(items)) => {
                collect_alternatives(items.iter().filter_map(|e| self.intersect(e)))
            }
            (Array(a), Array(b)) if a.len() == b.len() => a
                .iter()
                .zip(b)
                .map(|(x, y)| x.intersect(y))
                .collect::<Option<Vec<_>>>()
                .map(Array),
            (Bool(a), Bool(b)) => (a == b).then(|| self.clone()),
            (String(a), String(b)) => (a == b).then(|| self.clone()),
            (Int(a), Int(b)) => (a == b).then(|| self.clone()),
            (Int(v), IntRange(r)) | (IntRange(r), Int(v)) => r.contains(*v).then_some(Int(*v)),
            (IntRange(a), IntRange(b)) => a.intersect(b),
            (Double(a), Double(b)) => (a == b).then(|| self.clone()),
            (Double(v), DoubleRange(r)) | (DoubleRange(r), Double(v)) => {
                r.contains(*v).then_some(Double(*v))
            }
            (DoubleRange(a), DoubleRange(b)) => a.intersect(b),
            (Fraction(a), Fraction(b)) => (a == b).then(|| self.clone()),
            (Fraction(v), FractionRange(r)) | (FractionRange(r), Fraction(v)) => {
                r.contains(*v).then_some(Fraction(*v))
            }
            (FractionRange(a), FractionRange(b)) => a.intersect(b),
            _ => None,
        }
    }

    /// Whether `self` and `other` have a value in common
    /// (`gst_value_can_intersect`).
    pub fn can_intersect(&self, other: &Value) -> bool {
        self.intersect(other).is_some()
    }

    /// Whether every value of `self` is a value of `superset`
    /// (`gst_value_is_subset`).
    ///
    /// Exact for single values, ranges and lists of them; a range covered
    /// only by the union of several list members (`[ 1, 3 ]` in
    /// `{ [ 1, 2 ], 3 }`) is recognised for the usual shapes, and answered
    /// `false` (never wrongly `true`) when the cover is too fragmented to
    /// check quickly.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecast::pipeline::Value;
    /// let v = |s: &str| s.parse::<Value>().unwrap();
    /// assert!(v("5").is_subset(&v("[ 1, 10 ]")));
    /// assert!(v("{ 1, 2 }").is_subset(&v("[ 1, 3 ]")));
    /// assert!(v("[ 1, 3 ]").is_subset(&v("{ 1, 2, 3 }")));
    /// assert!(!v("[ 1, 10 ]").is_subset(&v("5")));
    /// ```
    #[doc(alias = "gst_value_is_subset")]
    pub fn is_subset(&self, superset: &Value) -> bool {
        use Value::*;
        if self.is_empty() {
            // The empty set lies in every set.
            return true;
        }
        match (self, superset) {
            (List(items), _) => items.iter().all(|e| e.is_subset(superset)),
            // A list nested in a list adds alternatives: flatten it first.
            (_, List(items)) if items.iter().any(|e| matches!(e, List(_))) => {
                self.is_subset(&List(flatten_alternatives(items)))
            }
            (IntRange(r), List(items)) => int_range_covered(r, items),
            (DoubleRange(r), List(items)) => {
                interval_covered(r.min(), r.max(), items, |v| match v {
                    Double(d) => Some((*d, *d)),
                    DoubleRange(d) => Some((d.min(), d.max())),
                    _ => None,
                })
            }
            (FractionRange(r), List(items)) => {
                interval_covered(r.min(), r.max(), items, |v| match v {
                    Fraction(f) => Some((*f, *f)),
                    FractionRange(f) => Some((f.min(), f.max())),
                    _ => None,
                })
            }
            (_, List(items)) => items.iter().any(|e| self.is_subset(e)),
            (Array(a), Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.is_subset(y))
            }
            (Int(v), IntRange(r)) => r.contains(*v),
            (IntRange(a), IntRange(b)) => a.is_subset(b),
            (Double(v), DoubleRange(r)) => r.contains(*v),
            (DoubleRange(a), DoubleRange(b)) => a.is_subset(b),
            (Fraction(v), FractionRange(r)) => r.contains(*v),
            (FractionRange(a), FractionRange(b)) => a.is_subset(b),
            (Bool(_) | Int(_) | Double(_) | Fraction(_) | String(_), _) => self == superset,
            _ => false,
        }
    }

    /// One fixed member of the value, chosen as GStreamer's default
    /// `gst_value_fixate` does: the minimum of a range, the (fixated)
    /// first alternative of a list, every element of an array fixated; a
    /// fixed value is returned as is. `None` for an empty list (or an array
    /// holding one), which has no member to choose.
    #[doc(alias = "gst_value_fixate")]
    pub fn fixate(&self) -> Option<Value> {
        match self {
            Value::IntRange(r) => Some(Value::Int(r.min())),
            Value::DoubleRange(r) => Some(Value::Double(r.min())),
            Value::FractionRange(r) => Some(Value::Fraction(r.min())),
            Value::List(items) => items.first().and_then(Value::fixate),
            Value::Array(items) => items
                .iter()
                .map(Value::fixate)
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            Value::Bool(_)
            | Value::Int(_)
            | Value::Double(_)
            | Value::Fraction(_)
            | Value::String(_) => Some(self.clone()),
        }
    }
}

/// The alternatives left after intersecting a list: none is the empty set,
/// one is that value, more a list. Nested lists are flattened and
/// duplicates dropped, as `gst_value_intersect_list` does when it merges
/// the partial results.
fn collect_alternatives(results: impl Iterator<Item = Value>) -> Option<Value> {
    let mut out: Vec<Value> = Vec::new();
    let push = |v: Value, out: &mut Vec<Value>| {
        if !out.contains(&v) {
            out.push(v);
        }
    };
    for v in results {
        match v {
            Value::List(items) => items.into_iter().for_each(|e| push(e, &mut out)),
            v => push(v, &mut out),
        }
    }
    match out.len() {
        0 => None,
        1 => out.pop(),
        _ => Some(Value::List(out)),
    }
}

/// The members of a list with nested lists spliced in, recursively.
fn flatten_alternatives(items: &[Value]) -> Vec<Value> {
    let mut out = Vec::with_capacity(items.len());
    for e in items {
        match e {
            Value::List(inner) => out.extend(flatten_alternatives(inner)),
            e => out.push(e.clone()),
        }
    }
    out
}

/// How many list members a stepped walk may visit before
/// [`int_range_covered`] gives up (and answers `false`).
const COVER_WALK_LIMIT: usize = 4096;

/// Whether the list's ints and int ranges together contain every value of
/// `r`: walks the range's values, jumping over each compatible sub-range.
fn int_range_covered(r: &IntRange, items: &[Value]) -> bool {
    let step = i64::from(r.step());
    let (mut cur, max) = (i64::from(r.min()), i64::from(r.max()));
    for _ in 0..COVER_WALK_LIMIT {
        if cur > max {
            return true;
        }
        let Ok(cur32) = i32::try_from(cur) else {
            return false;
        };
        // The furthest value of our progression reachable from `cur`
        // through one member containing `cur`.
        let reach = items
            .iter()
            .filter_map(|e| match e {
                Value::Int(v) if *v == cur32 => Some(cur),
                Value::IntRange(o) if o.contains(cur32) => {
                    if r.step() % o.step() == 0 {
                        let top = i64::from(o.max()).min(max);
                        Some(cur + (top - cur) / step * step)
                    } else {
                        Some(cur)
                    }
                }
                _ => None,
            })
            .max();
        match reach {
            Some(last) => cur = last + step,
            None => return false,
        }
    }
    false
}

/// Whether the closed intervals of the list's members (from `bounds`)
/// cover `[min, max]`: a sweep from `min` that extends through every
/// member starting at or before the covered part.
fn interval_covered<T: PartialOrd + Copy>(
    min: T,
    max: T,
    items: &[Value],
    bounds: impl Fn(&Value) -> Option<(T, T)>,
) -> bool {
    let spans: Vec<(T, T)> = items
        .iter()
        .filter_map(bounds)
        .filter(|(lo, hi)| lo < hi)
        .collect();
    let mut cur = min;
    // Every pass either finishes or strictly extends `cur` past a member's
    // upper end, so there are at most `spans.len()` passes.
    for _ in 0..=spans.len() {
        let reach = spans
            .iter()
            .filter(|(lo, hi)| *lo <= cur && *hi > cur)
            .map(|(_, hi)| *hi)
            .fold(None, |acc: Option<T>, hi| match acc {
                Some(a) if a >= hi => Some(a),
                _ => Some(hi),
            });
        match reach {
            Some(hi) if hi >= max => return true,
            Some(hi) => cur = hi,
            None => return false,
        }
    }
    false
}

impl PartialEq for Value {
    /// Compares values: lists as sets (same members, any order), other
    /// variants structurally. As with `f64`, `NaN` is unequal to itself.
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (IntRange(a), IntRange(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            (DoubleRange(a), DoubleRange(b)) => a == b,
            (Fraction(a), Fraction(b)) => a == b,
            (FractionRange(a), FractionRange(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (List(a), List(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.contains(x))
                    && b.iter().all(|x| a.contains(x))
            }
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    /// The caps notation without type annotations (`1280`, `[ 1, 100 ]`,
    /// `{ I420, NV12 }`, `30/1`, `1.5`); strings are quoted only when they
    /// would otherwise read back as something else. `{:#}` writes
    /// GStreamer's annotated form instead (`(int)1280`,
    /// `(string){ I420, NV12 }`), which `gst_value_deserialize` reads too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            serialize::write_typed_value(f, self)
        } else {
            serialize::write_value(f, self)
        }
    }
}

impl FromStr for Value {
    type Err = Error;

    /// Parses a field value in caps syntax (`1280`, `[ 1, 4096 ]`,
    /// `{ I420, NV12 }`, `(double)5`).
    fn from_str(s: &str) -> Result<Value> {
        parse::parse_value(s)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Double(v)
    }
}

impl From<Fraction> for Value {
    fn from(v: Fraction) -> Value {
        Value::Fraction(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::String(v.clone())
    }
}

impl From<VideoFormat> for Value {
    /// The format's caps name, a string (`format=I420`).
    fn from(v: VideoFormat) -> Value {
        Value::String(v.name().to_string())
    }
}

impl From<IntRange> for Value {
    fn from(v: IntRange) -> Value {
        Value::IntRange(v)
    }
}

impl From<DoubleRange> for Value {
    fn from(v: DoubleRange) -> Value {
        Value::DoubleRange(v)
    }
}

impl From<FractionRange> for Value {
    fn from(v: FractionRange) -> Value {
        Value::FractionRange(v)
    }
}

impl From<std::ops::RangeInclusive<i32>> for Value {
    /// `1..=4096` is `[ 1, 4096 ]`. A one-value range is that value and
    /// an empty one (`5..=1`) the empty list `{ }`, so the conversion
    /// never fails and always denotes the same set.
    fn from(r: std::ops::RangeInclusive<i32>) -> Value {
        let (min, max) = r.into_inner();
        match IntRange::new(min, max) {
            Some(r) => Value::IntRange(r),
            None if min == max => Value::Int(min),
            None => Value::List(Vec::new()),
        }
    }
}

impl From<std::ops::RangeInclusive<Fraction>> for Value {
    /// `a..=b` is `[ a, b ]`; one value or none as for integer ranges.
    fn from(r: std::ops::RangeInclusive<Fraction>) -> Value {
        let (min, max) = r.into_inner();
        match FractionRange::new(min, max) {
            Some(r) => Value::FractionRange(r),
            None if min == max => Value::Fraction(min),
            None => Value::List(Vec::new()),
        }
    }
}

impl From<std::ops::RangeInclusive<f64>> for Value {
    /// `a..=b` is `[ a, b ]`; one value or none as for integer ranges.
    fn from(r: std::ops::RangeInclusive<f64>) -> Value {
        let (min, max) = r.into_inner();
        match DoubleRange::new(min, max) {
            Some(r) => Value::DoubleRange(r),
            None if min == max => Value::Double(min),
            None => Value::List(Vec::new()),
        }
    }
}

/// Types a [`Value`] can be read as, for the typed getter
/// [`Structure::get`](super::Structure::get).
///
/// A read succeeds only for the exact variant (an `Int` is not read as an
/// `f64`), so that a caps field of an unexpected type is noticed rather
/// than converted.
pub trait FromValue<'a>: Sized {
    /// The value as `Self`, or `None` for another variant.
    fn from_value(value: &'a Value) -> Option<Self>;
}

impl<'a> FromValue<'a> for &'a Value {
    fn from_value(value: &'a Value) -> Option<Self> {
        Some(value)
    }
}

impl FromValue<'_> for i32 {
    fn from_value(value: &Value) -> Option<Self> {
        value.as_int()
    }
}

impl FromValue<'_> for bool {
    fn from_value(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl FromValue<'_> for f64 {
    fn from_value(value: &Value) -> Option<Self> {
        value.as_double()
    }
}

impl FromValue<'_> for Fraction {
    fn from_value(value: &Value) -> Option<Self> {
        value.as_fraction()
    }
}

impl<'a> FromValue<'a> for &'a str {
    fn from_value(value: &'a Value) -> Option<Self> {
        value.as_str()
    }
}

impl FromValue<'_> for String {
    fn from_value(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_string)
    }
}

impl FromValue<'_> for VideoFormat {
    /// A `String` holding a known format name.
    fn from_value(value: &Value) -> Option<Self> {
        value.as_str().and_then(|s| VideoFormat::from_name(s).ok())
    }
}

impl FromValue<'_> for IntRange {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::IntRange(r) => Some(*r),
            _ => None,
        }
    }
}

impl FromValue<'_> for FractionRange {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::FractionRange(r) => Some(*r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn inter(a: &str, b: &str) -> Option<String> {
        let (a, b) = (v(a), v(b));
        let r = a.intersect(&b).map(|x| x.to_string());
        // Intersection is commutative in emptiness.
        assert_eq!(r.is_some(), b.intersect(&a).is_some(), "{a} / {b}");
        r
    }

    #[test]
    fn intersections_match_gstreamer() {
        // Expected strings checked against GStreamer 1.22's gst_caps_intersect.
        assert_eq!(inter("[ 1, 10 ]", "5").as_deref(), Some("5"));
        assert_eq!(
            inter("[ 1, 10 ]", "[ 5, 20 ]").as_deref(),
            Some("[ 5, 10 ]")
        );
        assert_eq!(inter("[ 1, 10 ]", "[ 11, 20 ]"), None);
        assert_eq!(inter("[ 1, 10 ]", "[ 10, 20 ]").as_deref(), Some("10"));
        assert_eq!(inter("{ 1, 5, 20 }", "[ 2, 10 ]").as_deref(), Some("5"));
        assert_eq!(
            inter("{ 1, 5, 20 }", "{ 5, 20, 1 }").as_deref(),
            Some("{ 1, 5, 20 }")
        );
        assert_eq!(
            inter("{ 5, 20, 1 }", "{ 1, 5, 20 }").as_deref(),
            Some("{ 5, 20, 1 }")
        );
        assert_eq!(inter("{ 1, 5 }", "{ 5, 7 }").as_deref(), Some("5"));
        assert_eq!(inter("[ 0/1, 30/1 ]", "25/1").as_deref(), Some("25/1"));
        assert_eq!(
            inter("[ 0/1, 30/1 ]", "[ 15/1, 60/1 ]").as_deref(),
            Some("[ 15/1, 30/1 ]")
        );
        assert_eq!(inter("[ 1.0, 2.0 ]", "1.5").as_deref(), Some("1.5"));
        assert_eq!(inter("[ 1.0, 2.0 ]", "2").as_deref(), None);
        assert_eq!(
            inter("< 1, 2 >", "< 1, [ 1, 5 ] >").as_deref(),
            Some("< 1, 2 >")
        );
        assert_eq!(inter("< 1, 2 >", "< 1, 2, 3 >"), None);
        assert_eq!(inter("[ 1, 5 ]", "(double)3"), None);
        assert_eq!(inter("yes", "true").as_deref(), Some("true"));
        assert_eq!(inter("I420", "i420"), None);
        assert_eq!(
            inter("{ I420, NV12 }", "{ RGB, NV12, I420 }").as_deref(),
            Some("{ I420, NV12 }")
        );
        assert_eq!(inter("{ }", "{ 1 }"), None);
        assert_eq!(
            inter("{ [ 1, 5 ], [ 3, 9 ] }", "[ 4, 4096 ]").as_deref(),
            Some("{ [ 4, 5 ], [ 4, 9 ] }")
        );
        assert_eq!(
            inter("{ 1, { 2, 3 } }", "[ 2, 3 ]").as_deref(),
            Some("{ 2, 3 }")
        );
    }

    #[test]
    fn subsets() {
        let sub = |a: &str, b: &str| v(a).is_subset(&v(b));
        assert!(sub("5", "[ 1, 10 ]"));
        assert!(!sub("[ 1, 10 ]", "5"));
        assert!(sub("{ 1, 2 }", "[ 1, 3 ]"));
        assert!(sub("[ 1, 3 ]", "{ 1, 2, 3 }"));
        assert!(sub("[ 1, 3 ]", "{ [ 1, 2 ], 3 }"));
        assert!(sub("[ 1, 9 ]", "{ [ 4, 9 ], [ 1, 5 ] }"));
        assert!(!sub("[ 1, 9 ]", "{ [ 5, 9 ], [ 1, 3 ] }"));
        assert!(sub("[ 2, 10, 2 ]", "{ [ 2, 6, 2 ], [ 8, 10 ] }"));
        assert!(sub("[ 1.0, 3.0 ]", "{ [ 1.0, 2.0 ], [ 2.0, 3.0 ] }"));
        assert!(!sub("[ 1.0, 3.0 ]", "{ [ 1.0, 2.0 ], [ 2.5, 3.0 ] }"));
        assert!(sub("[ 0/1, 30/1 ]", "{ [ 0/1, 15/1 ], [ 10/1, 60/1 ] }"));
        assert!(sub("{ }", "1"));
        assert!(sub("{ { [ 0, 1 ] } }", "{ { [ 0, 1 ] } }"));
        assert!(sub("[ 0, 3 ]", "{ { [ 0, 1 ] }, { 2, { 3 } } }"));
        assert!(sub("< 1, 2 >", "< [ 0, 1 ], { 2, 3 } >"));
        assert!(!sub("< 1, 2 >", "< 1 >"));
        assert!(sub("I420", "{ NV12, I420 }"));
        assert!(!sub("5", "5.0"));
        assert!(sub("[ 0/1, 30/1 ]", "[ 0/1, 2147483647/1 ]"));
        // Too fragmented a cover: conservatively false, never wrongly true.
        let many = Value::list((0..5000).map(Value::Int));
        assert!(!Value::from(0..=4999).is_subset(&many));
    }

    #[test]
    fn fixation_is_gstreamer_default() {
        assert_eq!(v("[ 1, 10 ]").fixate(), Some(v("1")));
        assert_eq!(v("[ 2, 10, 2 ]").fixate(), Some(v("2")));
        assert_eq!(v("{ [ 3, 5 ], 2 }").fixate(), Some(v("3")));
        assert_eq!(v("[ 1/2, 30/1 ]").fixate(), Some(v("1/2")));
        assert_eq!(v("[ 1.5, 3.0 ]").fixate(), Some(v("1.5")));
        assert_eq!(v("< [ 1, 2 ], { 4, 5 } >").fixate(), Some(v("< 1, 4 >")));
        assert_eq!(v("{ }").fixate(), None);
        assert!(!v("{ 1 }").is_fixed());
        assert!(v("< 1, 2 >").is_fixed());
        assert!(!v("< 1, [ 1, 2 ] >").is_fixed());
    }

    #[test]
    fn list_equality_ignores_order() {
        assert_eq!(v("{ 1, 2 }"), v("{ 2, 1 }"));
        assert_ne!(v("< 1, 2 >"), v("< 2, 1 >"));
        assert_ne!(v("{ 1, 2 }"), v("{ 1, 2, 3 }"));
        assert_ne!(Value::Double(f64::NAN), Value::Double(f64::NAN));
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::from(1..=1), Value::Int(1));
        let (lo, hi) = (2, 1);
        assert_eq!(Value::from(lo..=hi), Value::List(vec![]));
        assert_eq!(Value::from(VideoFormat::Rgbx).to_string(), "RGBx");
        assert_eq!(
            Value::from(Fraction::ZERO..=Fraction::from_integer(30)).to_string(),
            "[ 0/1, 30/1 ]"
        );
        assert_eq!(Value::from(1.0..=2.0).to_string(), "[ 1.0, 2.0 ]");
        assert_eq!(Value::list(["I420", "NV12"]).to_string(), "{ I420, NV12 }");
        assert_eq!(Value::array([1, 2]).to_string(), "< 1, 2 >");
        assert_eq!(<&str>::from_value(&Value::from("x")), Some("x"));
        assert_eq!(f64::from_value(&Value::Int(1)), None);
        assert_eq!(
            VideoFormat::from_value(&Value::from("nv12")),
            Some(VideoFormat::Nv12)
        );
        assert_eq!(v("{ (string)a, 1 }").type_name(), "string");
        assert_eq!(v("{ }").type_name(), "int");
    }
}
