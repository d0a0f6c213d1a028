//! [`Fraction`]: an exact rational number, as caps carry framerates and
//! pixel aspect ratios (GStreamer's `GST_TYPE_FRACTION`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// An exact ratio `num / den`, GStreamer's `GstFraction`.
///
/// Framerates are fractions rather than floats because the common broadcast
/// rates are not representable in binary floating point: NTSC is
/// `30000/1001`, not `29.97`. Keeping them exact makes frame durations and
/// timestamps computed from them reproducible, and lets `30/1` and `60/2`
/// compare equal.
///
/// [`Fraction::new`] and parsing keep the invariant that GStreamer's
/// `gst_value_set_fraction` keeps: `den > 0` and the pair reduced by its
/// greatest common divisor, so the derived `Eq` and `Hash` compare values.
/// The fields are public for reading (`fps.num`); a struct literal that
/// breaks the invariant still orders totally, but `2/2 != 1/1` for it.
///
/// A framerate of `0/1` means "variable or unknown", as in caps.
///
/// # Examples
///
/// ```
/// use framecast_core::Fraction;
/// let ntsc: Fraction = "30000/1001".parse().unwrap();
/// assert_eq!(ntsc.to_string(), "30000/1001");
/// assert_eq!(Fraction::new(60, 2), Some(Fraction::from_integer(30)));
/// assert!(ntsc < Fraction::from_integer(30));
/// assert_eq!(Fraction::new(1, 0), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    /// Numerator; carries the sign.
    pub num: i32,
    /// Denominator; always positive for fractions made by [`Fraction::new`].
    pub den: i32,
}

impl Fraction {
    /// `0/1`: the caps value for a variable or unknown framerate.
    pub const ZERO: Fraction = Fraction { num: 0, den: 1 };
    /// `1/1`: the default pixel aspect ratio (square pixels).
    pub const ONE: Fraction = Fraction { num: 1, den: 1 };

    /// `num / den` reduced to lowest terms with a positive denominator.
    ///
    /// Returns `None` when `den` is zero, or when the reduced value does not
    /// fit in `i32` (only `i32::MIN` with a negative denominator).
    #[doc(alias = "gst_value_set_fraction")]
    pub fn new(num: i32, den: i32) -> Option<Fraction> {
        Self::from_i64(i64::from(num), i64::from(den))
    }

    /// The whole number `n`, i.e. `n/1`.
    pub const fn from_integer(n: i32) -> Fraction {
        Fraction { num: n, den: 1 }
    }

    /// The value as a float, for display or rough arithmetic only.
    pub fn to_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Whether the numerator is zero (a `0/1` framerate is "variable").
    pub const fn is_zero(self) -> bool {
        self.num == 0
    }

    /// Reduces a wide pair, so parsing can build values larger than `i32`
    /// before reduction brings them into range.
    fn from_i64(num: i64, den: i64) -> Option<Fraction> {
        if den == 0 {
            return None;
        }
        let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
        // `den != 0`, so the gcd is at least 1.
        let g = i64::try_from(gcd(num.unsigned_abs(), den.unsigned_abs())).ok()?;
        Some(Fraction {
            num: i32::try_from(num / g).ok()?,
            den: i32::try_from(den / g).ok()?,
        })
    }

    /// `(num, den)` with the sign moved to the numerator, in `i64` so that
    /// negating `i32::MIN` and cross-multiplying cannot overflow.
    fn signed_pair(self) -> (i64, i64) {
        let (n, d) = (i64::from(self.num), i64::from(self.den));
        if d < 0 {
            (-n, -d)
        } else {
            (n, d)
        }
    }
}

/// Euclid's algorithm; `gcd(0, d) == d`.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ord for Fraction {
    /// Orders by value (`gst_util_fraction_compare`), by cross-multiplying in
    /// `i64` so no `i32` fraction can overflow. Equal values can only differ
    /// in their fields when a struct literal skipped reduction; the fields
    /// then break the tie so that `Ord` stays consistent with `Eq`. Fractions
    /// with a zero denominator (only constructible by a literal) sort last.
    fn cmp(&self, other: &Self) -> Ordering {
        let (a_bad, b_bad) = (self.den == 0, other.den == 0);
        a_bad
            .cmp(&b_bad)
            .then_with(|| {
                if a_bad {
                    return Ordering::Equal;
                }
                let (an, ad) = self.signed_pair();
                let (bn, bd) = other.signed_pair();
                (an * bd).cmp(&(bn * ad))
            })
            .then_with(|| (self.num, self.den).cmp(&(other.num, other.den)))
    }
}

impl PartialOrd for Fraction {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Fraction {
    /// Caps notation, `num/den` (`30/1`, `30000/1001`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

impl FromStr for Fraction {
    type Err = Error;

    /// Parses `N/D` (caps notation), a whole number `N` (meaning `N/1`), or
    /// an exact decimal such as `29.97` (meaning `2997/100`, *not*
    /// `30000/1001`: write NTSC rates as fractions). Surrounding whitespace
    /// is ignored.
    fn from_str(s: &str) -> Result<Fraction> {
        let invalid = |why: &str| {
            Error::InvalidVideoInfo(format!(
                "invalid fraction {s:?}: {why} (expected N/D, N or a decimal such as 29.97)"
            ))
        };
        let t = s.trim();
        if let Some((n, d)) = t.split_once('/') {
            let n: i32 = n.trim().parse().map_err(|_| invalid("bad numerator"))?;
            let d: i32 = d.trim().parse().map_err(|_| invalid("bad denominator"))?;
            return Fraction::new(n, d).ok_or_else(|| invalid("zero denominator"));
        }
        if let Some((int, frac)) = t.split_once('.') {
            return parse_decimal(int, frac).ok_or_else(|| invalid("decimal out of range"));
        }
        t.parse::<i32>()
            .map(Fraction::from_integer)
            .map_err(|_| invalid("not a number"))
    }
}

/// `int.frac` as the exact fraction `intfrac / 10^len(frac)`, reduced.
/// At most 9 decimals, so the denominator fits in `i32`.
fn parse_decimal(int: &str, frac: &str) -> Option<Fraction> {
    let negative = int.starts_with('-');
    let digits = int.strip_prefix(['-', '+']).unwrap_or(int);
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if frac.len() > 9
        || (digits.is_empty() && frac.is_empty())
        || !all_digits(digits)
        || !all_digits(frac)
    {
        return None;
    }
    let whole: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let part: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let scale = 10_i64.pow(u32::try_from(frac.len()).ok()?);
    let magnitude = whole.checked_mul(scale)?.checked_add(part)?;
    Fraction::from_i64(if negative { -magnitude } else { magnitude }, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn f(n: i32, d: i32) -> Fraction {
        Fraction { num: n, den: d }
    }

    #[test]
    fn new_reduces_and_moves_sign() {
        assert_eq!(Fraction::new(30, 1), Some(f(30, 1)));
        assert_eq!(Fraction::new(60, 2), Some(f(30, 1)));
        assert_eq!(Fraction::new(30000, 1001), Some(f(30000, 1001)));
        assert_eq!(Fraction::new(-4, -6), Some(f(2, 3)));
        assert_eq!(Fraction::new(4, -6), Some(f(-2, 3)));
        assert_eq!(Fraction::new(0, 25), Some(Fraction::ZERO));
        assert_eq!(Fraction::new(i32::MIN, 2), Some(f(i32::MIN / 2, 1)));
        assert_eq!(Fraction::new(i32::MAX, i32::MAX), Some(Fraction::ONE));
    }

    #[test]
    fn new_refuses_zero_denominator_and_overflow() {
        assert_eq!(Fraction::new(1, 0), None);
        assert_eq!(Fraction::new(0, 0), None);
        // -(i32::MIN) does not fit.
        assert_eq!(Fraction::new(i32::MIN, -1), None);
        // Moving the sign of i32::MIN to the numerator leaves 2^31 below.
        assert_eq!(Fraction::new(1, i32::MIN), None);
        // ... unless reduction brings it back into range.
        assert_eq!(Fraction::new(2, i32::MIN), Some(f(-1, 1 << 30)));
    }

    #[test]
    fn display_is_caps_notation() {
        assert_eq!(f(30, 1).to_string(), "30/1");
        assert_eq!(f(30000, 1001).to_string(), "30000/1001");
        assert_eq!(f(-1, 2).to_string(), "-1/2");
    }

    #[test]
    fn parse_forms() {
        assert_eq!("30/1".parse::<Fraction>().unwrap(), f(30, 1));
        assert_eq!(
            " 30000 / 1001 ".parse::<Fraction>().unwrap(),
            f(30000, 1001)
        );
        assert_eq!("60/2".parse::<Fraction>().unwrap(), f(30, 1));
        assert_eq!("30".parse::<Fraction>().unwrap(), f(30, 1));
        assert_eq!("-5".parse::<Fraction>().unwrap(), f(-5, 1));
        assert_eq!("29.97".parse::<Fraction>().unwrap(), f(2997, 100));
        assert_eq!("25.0".parse::<Fraction>().unwrap(), f(25, 1));
        assert_eq!("0.5".parse::<Fraction>().unwrap(), f(1, 2));
        assert_eq!(".5".parse::<Fraction>().unwrap(), f(1, 2));
        assert_eq!("-1.25".parse::<Fraction>().unwrap(), f(-5, 4));
        assert_eq!("0/1".parse::<Fraction>().unwrap(), Fraction::ZERO);
    }

    #[test]
    fn parse_errors_are_invalid_argument() {
        for bad in [
            "",
            "/",
            "30/",
            "/1",
            "30/0",
            "abc",
            "1.2.3",
            "1/2/3",
            ".",
            "-",
            "1e3",
            "0.1234567891",
            "99999999999",
            "3000000000.5",
        ] {
            let err = bad.parse::<Fraction>().unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
            assert!(err.to_string().contains("invalid fraction"), "{err}");
        }
    }

    #[test]
    fn round_trips_through_display() {
        for v in [
            f(30, 1),
            f(30000, 1001),
            f(-7, 3),
            Fraction::ZERO,
            f(i32::MAX, 1),
        ] {
            assert_eq!(v.to_string().parse::<Fraction>().unwrap(), v);
        }
    }

    #[test]
    fn orders_by_value() {
        let mut v = vec![
            f(30, 1),
            f(30000, 1001),
            f(60, 1),
            f(-1, 2),
            Fraction::ZERO,
            f(24000, 1001),
        ];
        v.sort();
        assert_eq!(
            v,
            [
                f(-1, 2),
                Fraction::ZERO,
                f(24000, 1001),
                f(30000, 1001),
                f(30, 1),
                f(60, 1)
            ]
        );
        // Extremes do not overflow the cross product.
        assert!(f(i32::MAX, 1) > f(i32::MAX - 1, 1));
        assert!(f(1, i32::MAX) < f(1, i32::MAX - 1));
        assert!(f(i32::MIN, 1) < f(-i32::MAX, 1));
        // Unreduced literals: same value, tie broken by fields, never Equal.
        assert_ne!(f(2, 2).cmp(&f(1, 1)), Ordering::Equal);
        assert!(f(2, 2) < f(3, 2) && f(1, 1) < f(3, 2));
        // A negative-denominator literal still orders by value.
        assert!(f(1, -2) < Fraction::ZERO);
        // Zero denominators sort after every real value.
        assert!(f(1, 0) > f(i32::MAX, 1));
    }

    #[test]
    fn hash_matches_eq_for_reduced_values() {
        let set: HashSet<Fraction> = [
            Fraction::new(30, 1),
            Fraction::new(60, 2),
            "30".parse().ok(),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn to_f64_and_is_zero() {
        assert_eq!(f(30, 1).to_f64(), 30.0);
        assert!((f(30000, 1001).to_f64() - 29.970_029_97).abs() < 1e-8);
        assert!(Fraction::ZERO.is_zero());
        assert!(!Fraction::ONE.is_zero());
    }
}
