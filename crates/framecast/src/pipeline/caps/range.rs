//! Ranges in caps: [`IntRange`], [`DoubleRange`], [`FractionRange`]
//! (GStreamer's `GST_TYPE_INT_RANGE`, `GST_TYPE_DOUBLE_RANGE`,
//! `GST_TYPE_FRACTION_RANGE`).
//!
//! The fields are private so that every range that exists is valid: a
//! minimum strictly below the maximum (GStreamer's
//! `gst_value_set_int_range_step` refuses `start >= end` too: a one-value
//! range is a plain value and an empty one is no value at all), and for
//! stepped integer ranges both ends on the step. Set operations can then
//! rely on it instead of re-checking.

use crate::Fraction;

use super::Value;

/// The integers `min, min + step, ..., max`, written `[ min, max ]` or
/// `[ min, max, step ]`.
///
/// # Examples
///
/// ```
/// use framecast::pipeline::caps::IntRange;
/// let even = IntRange::with_step(2, 10, 2).unwrap();
/// assert!(even.contains(4) && !even.contains(5));
/// assert_eq!(IntRange::new(5, 5), None); // one value: write the value
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[doc(alias = "GST_TYPE_INT_RANGE")]
pub struct IntRange {
    min: i32,
    max: i32,
    step: i32,
}

impl IntRange {
    /// Every integer from `min` to `max` inclusive; `None` unless
    /// `min < max`.
    #[doc(alias = "gst_value_set_int_range")]
    pub fn new(min: i32, max: i32) -> Option<IntRange> {
        IntRange::with_step(min, max, 1)
    }

    /// The multiples of `step` from `min` to `max` inclusive.
    ///
    /// `None` unless `step > 0`, `min < max` and both ends are multiples
    /// of `step` (GStreamer's rule: a stepped range is a set of multiples,
    /// which keeps intersections of stepped ranges stepped ranges).
    #[doc(alias = "gst_value_set_int_range_step")]
    pub fn with_step(min: i32, max: i32, step: i32) -> Option<IntRange> {
        (step > 0 && min < max && min.rem_euclid(step) == 0 && max.rem_euclid(step) == 0)
            .then_some(IntRange { min, max, step })
    }

    /// The smallest value.
    pub fn min(&self) -> i32 {
        self.min
    }

    /// The largest value.
    pub fn max(&self) -> i32 {
        self.max
    }

    /// The distance between consecutive values (1 for a plain range).
    pub fn step(&self) -> i32 {
        self.step
    }

    /// Whether `v` is one of the range's values.
    pub fn contains(&self, v: i32) -> bool {
        self.min <= v && v <= self.max && v.rem_euclid(self.step) == 0
    }

    /// The value closest to `target` (the smaller one on a tie), as
    /// GStreamer's `gst_structure_fixate_field_nearest_int` picks it.
    pub fn nearest(&self, target: i32) -> i32 {
        let t = i64::from(target.clamp(self.min, self.max));
        let step = i64::from(self.step);
        let below = t.div_euclid(step) * step;
        let above = below + if below == t { 0 } else { step };
        let pick = if t - below <= above - t { below } else { above };
        // `below` and `above` are multiples of the step between the
        // multiples `min` and `max`, so they fit `i32`.
        i32::try_from(pick.clamp(i64::from(self.min), i64::from(self.max))).unwrap_or(self.min)
    }

    /// The common values of two ranges: the multiples of
    /// `lcm(step_a, step_b)` in the overlap (`gst_value_intersect_int_range_int_range`).
    pub(crate) fn intersect(&self, other: &IntRange) -> Option<Value> {
        let step = lcm(i64::from(self.step), i64::from(other.step));
        let lo = i64::from(self.min.max(other.min));
        let hi = i64::from(self.max.min(other.max));
        // Round `lo` up and `hi` down to the common step.
        let lo = lo.div_euclid(step) * step + if lo.rem_euclid(step) == 0 { 0 } else { step };
        let hi = hi.div_euclid(step) * step;
        if lo > hi {
            return None;
        }
        let (lo32, hi32) = (i32::try_from(lo).ok()?, i32::try_from(hi).ok()?);
        if lo == hi {
            return Some(Value::Int(lo32));
        }
        match i32::try_from(step) {
            Ok(step) => IntRange::with_step(lo32, hi32, step).map(Value::IntRange),
            // A step beyond `i32` leaves at most three multiples in `i32`.
            Err(_) => {
                let values = (0..)
                    .map(|k| lo + k * step)
                    .take_while(|&v| v <= hi)
                    .filter_map(|v| i32::try_from(v).ok().map(Value::Int))
                    .collect();
                Some(Value::List(values))
            }
        }
    }

    /// Whether every value of `self` is a value of `other`.
    pub(crate) fn is_subset(&self, other: &IntRange) -> bool {
        self.min >= other.min
            && self.max <= other.max
            && self.step.rem_euclid(other.step) == 0
            && self.min.rem_euclid(other.step) == 0
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Least common multiple of two positive steps; fits `i64` since both fit
/// `i32`.
fn lcm(a: i64, b: i64) -> i64 {
    a / gcd(a, b) * b
}

/// The real numbers from `min` to `max` inclusive, written `[ 1.0, 2.5 ]`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[doc(alias = "GST_TYPE_DOUBLE_RANGE")]
pub struct DoubleRange {
    min: f64,
    max: f64,
}

impl DoubleRange {
    /// `None` unless `min < max` (so neither is NaN).
    #[doc(alias = "gst_value_set_double_range")]
    pub fn new(min: f64, max: f64) -> Option<DoubleRange> {
        (min < max).then_some(DoubleRange { min, max })
    }

    /// The lower end.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The upper end.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Whether `v` lies in the range, ends included.
    pub fn contains(&self, v: f64) -> bool {
        self.min <= v && v <= self.max
    }

    pub(crate) fn intersect(&self, other: &DoubleRange) -> Option<Value> {
        let lo = self.min.max(other.min);
        let hi = self.max.min(other.max);
        if lo < hi {
            Some(Value::DoubleRange(DoubleRange { min: lo, max: hi }))
        } else if lo == hi {
            Some(Value::Double(lo))
        } else {
            None
        }
    }

    pub(crate) fn is_subset(&self, other: &DoubleRange) -> bool {
        self.min >= other.min && self.max <= other.max
    }
}

/// The fractions from `min` to `max` inclusive, written
/// `[ 0/1, 2147483647/1 ]`: the usual framerate template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[doc(alias = "GST_TYPE_FRACTION_RANGE")]
pub struct FractionRange {
    min: Fraction,
    max: Fraction,
}

impl FractionRange {
    /// Every framerate a raw-video template accepts: `[ 0/1, 2147483647/1 ]`.
    pub const ANY_FRAMERATE: FractionRange = FractionRange {
        min: Fraction::ZERO,
        max: Fraction::from_integer(i32::MAX),
    };

    /// `None` unless `min < max`.
    #[doc(alias = "gst_value_set_fraction_range")]
    pub fn new(min: Fraction, max: Fraction) -> Option<FractionRange> {
        (min < max).then_some(FractionRange { min, max })
    }

    /// The lower end.
    pub fn min(&self) -> Fraction {
        self.min
    }

    /// The upper end.
    pub fn max(&self) -> Fraction {
        self.max
    }

    /// Whether `v` lies in the range, ends included.
    pub fn contains(&self, v: Fraction) -> bool {
        self.min <= v && v <= self.max
    }

    pub(crate) fn intersect(&self, other: &FractionRange) -> Option<Value> {
        let lo = self.min.max(other.min);
        let hi = self.max.min(other.max);
        match lo.cmp(&hi) {
            std::cmp::Ordering::Less => {
                Some(Value::FractionRange(FractionRange { min: lo, max: hi }))
            }
            std::cmp::Ordering::Equal => Some(Value::Fraction(lo)),
            std::cmp::Ordering::Greater => None,
        }
    }

    pub(crate) fn is_subset(&self, other: &FractionRange) -> bool {
        self.min >= other.min && self.max <= other.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: i32, max: i32, step: i32) -> IntRange {
        IntRange::with_step(min, max, step).unwrap()
    }

    #[test]
    fn constructors_refuse_invalid_ranges() {
        assert!(IntRange::new(1, 2).is_some());
        assert_eq!(IntRange::new(2, 2), None);
        assert_eq!(IntRange::new(3, 2), None);
        assert_eq!(IntRange::with_step(1, 10, 2), None);
        assert_eq!(IntRange::with_step(2, 10, 0), None);
        assert_eq!(IntRange::with_step(2, 10, -2), None);
        assert_eq!(DoubleRange::new(1.0, f64::NAN), None);
        assert_eq!(DoubleRange::new(1.0, 1.0), None);
        assert_eq!(FractionRange::new(Fraction::ONE, Fraction::ZERO), None);
    }

    #[test]
    fn stepped_intersection_uses_the_lcm() {
        // Multiples of 6 in [6, 18].
        assert_eq!(
            r(2, 20, 2).intersect(&r(3, 18, 3)),
            Some(Value::IntRange(r(6, 18, 6)))
        );
        assert_eq!(r(2, 10, 2).intersect(&r(3, 9, 3)), Some(Value::Int(6)));
        assert_eq!(r(2, 4, 2).intersect(&r(3, 5, 1)), Some(Value::Int(4)));
        assert_eq!(r(2, 4, 2).intersect(&r(5, 9, 1)), None);
        assert_eq!(
            r(i32::MIN, i32::MAX, 1).intersect(&r(-4, 4, 4)),
            Some(Value::IntRange(r(-4, 4, 4)))
        );
    }

    #[test]
    fn nearest_respects_step_and_bounds() {
        let even = r(2, 10, 2);
        assert_eq!(even.nearest(5), 4);
        assert_eq!(even.nearest(7), 6);
        assert_eq!(even.nearest(100), 10);
        assert_eq!(even.nearest(-3), 2);
        assert_eq!(r(1, 4096, 1).nearest(320), 320);
        assert_eq!(r(i32::MIN, i32::MAX, 1).nearest(i32::MIN), i32::MIN);
    }

    #[test]
    fn subsets() {
        assert!(r(4, 8, 4).is_subset(&r(2, 10, 2)));
        assert!(!r(3, 9, 3).is_subset(&r(0, 10, 2)));
        assert!(r(3, 9, 3).is_subset(&r(0, 10, 1)));
        assert!(!r(1, 11, 1).is_subset(&r(1, 10, 1)));
    }
}
