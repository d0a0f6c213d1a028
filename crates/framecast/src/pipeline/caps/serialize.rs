//! Writing caps as text, in two spellings that both read back through
//! [`parse`](super::parse):
//!
//! - the compact form of `Display` (`video/x-raw,format=I420,width=1280`),
//!   what people type in pipelines; strings are quoted only where the bare
//!   word would read back as another type, so no annotations are needed;
//! - GStreamer's annotated form of `{:#}` (`video/x-raw, format=(string)I420,
//!   width=(int)1280`), byte for byte what `gst_caps_to_string` prints, so
//!   that `framecast launch -v` output can be compared with `gst-launch-1.0
//!   -v` and pasted into GStreamer tools. Two exceptions, where GStreamer's
//!   own text does not read back: lists mixing types, and ranges inside a
//!   list nested in a list (see `write_gst_body` and `exact_type_name`).

use std::fmt::{self, Write};

use super::parse;
use super::Value;

/// Writes `v` in the compact form.
pub(crate) fn write_value(f: &mut dyn Write, v: &Value) -> fmt::Result {
    match v {
        Value::Bool(b) => write!(f, "{b}"),
        Value::Int(i) => write!(f, "{i}"),
        Value::Double(d) => write_double_compact(f, *d),
        Value::Fraction(x) => write!(f, "{x}"),
        Value::String(s) => write_string_compact(f, s),
        Value::IntRange(r) if r.step() == 1 => write!(f, "[ {}, {} ]", r.min(), r.max()),
        Value::IntRange(r) => write!(f, "[ {}, {}, {} ]", r.min(), r.max(), r.step()),
        Value::DoubleRange(r) => {
            f.write_str("[ ")?;
            write_double_compact(f, r.min())?;
            f.write_str(", ")?;
            write_double_compact(f, r.max())?;
            f.write_str(" ]")
        }
        Value::FractionRange(r) => write!(f, "[ {}, {} ]", r.min(), r.max()),
        Value::List(items) => write_seq(f, "{ ", items, " }", write_value),
        Value::Array(items) => write_seq(f, "< ", items, " >", write_value),
    }
}

fn write_seq(
    f: &mut dyn Write,
    open: &str,
    items: &[Value],
    close: &str,
    mut each: impl FnMut(&mut dyn Write, &Value) -> fmt::Result,
) -> fmt::Result {
    // GStreamer writes an empty list as `{  }`: the open and close marks
    // with their inner spaces; do the same.
    f.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, item)?;
    }
    f.write_str(close)
}

/// A double that reads back as a double: Rust's shortest round-trip form,
/// which always has a `.` or an exponent (`1.0`, `1e20`), so it cannot be
/// mistaken for an int. Infinities and NaN need the annotation.
fn write_double_compact(f: &mut dyn Write, d: f64) -> fmt::Result {
    if d.is_finite() {
        write!(f, "{d:?}")
    } else {
        f.write_str("(double)")?;
        f.write_str(non_finite_name(d))
    }
}

fn non_finite_name(d: f64) -> &'static str {
    if d.is_nan() {
        "nan"
    } else if d > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// A string bare when it reads back as the same string, quoted otherwise;
/// inside quotes only `"`, `\` and control characters are escaped, so
/// non-ASCII text stays readable.
fn write_string_compact(f: &mut dyn Write, s: &str) -> fmt::Result {
    if parse::reads_back_as_string(s) {
        return f.write_str(s);
    }
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' | '\\' => write!(f, "\\{c}")?,
            c if c.is_ascii_control() => write!(f, "\\{:03o}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Writes `v` as a caps field value in GStreamer's annotated form:
/// `(type)` then the value (`gst_structure_to_string`).
pub(crate) fn write_typed_value(f: &mut dyn Write, v: &Value) -> fmt::Result {
    write!(f, "({})", v.type_name())?;
    write_gst_body(f, v, false)
}

/// GStreamer's serialization of a value without its outer annotation.
///
/// Elements of a list or array at field level are written bare, except
/// nested lists and arrays, whose own elements then carry exact type
/// annotations (`< [ 1, 2 ], { (int)3, (int)4 } >`): the rule
/// `gst_value_serialize` follows, checked against GStreamer 1.22.
///
/// GStreamer assumes a field-level list holds one type, named by the
/// outer annotation; for a mixed list (`{ 1, 2.5 }`) it writes text that
/// reads back wrongly. Here a mixed list annotates every element instead,
/// so the text always reads back to the same value.
fn write_gst_body(f: &mut dyn Write, v: &Value, nested: bool) -> fmt::Result {
    let nested = nested || is_mixed(v);
    match v {
        Value::Bool(b) => write!(f, "{b}"),
        Value::Int(i) => write!(f, "{i}"),
        Value::Double(d) => f.write_str(&format_g17(*d)),
        Value::Fraction(x) => write!(f, "{x}"),
        Value::String(s) => write_string_gst(f, s),
        Value::IntRange(r) if r.step() == 1 => write!(f, "[ {}, {} ]", r.min(), r.max()),
        Value::IntRange(r) => write!(f, "[ {}, {}, {} ]", r.min(), r.max(), r.step()),
        Value::DoubleRange(r) => write!(f, "[ {}, {} ]", format_g17(r.min()), format_g17(r.max())),
        Value::FractionRange(r) => write!(f, "[ {}, {} ]", r.min(), r.max()),
        Value::List(items) => {
            write_seq(f, "{ ", items, " }", |f, e| write_gst_element(f, e, nested))
        }
        Value::Array(items) => {
            write_seq(f, "< ", items, " >", |f, e| write_gst_element(f, e, nested))
        }
    }
}

/// Whether a list or array holds elements of more than one type name.
fn is_mixed(v: &Value) -> bool {
    match v {
        Value::List(items) | Value::Array(items) => {
            items.iter().any(|e| e.type_name() != v.type_name())
        }
        _ => false,
    }
}

fn write_gst_element(f: &mut dyn Write, e: &Value, nested: bool) -> fmt::Result {
    if nested {
        write!(f, "({})", exact_type_name(e))?;
        write_gst_body(f, e, true)
    } else {
        let container = matches!(e, Value::List(_) | Value::Array(_));
        write_gst_body(f, e, container)
    }
}

/// The annotation written before a value nested in a nested list: the
/// GType name GStreamer writes (`(list){ ... }`, `(array)< ... >`), except
/// for ranges. GStreamer writes `(GstIntRange)[ 1, 2 ]` there but cannot
/// read it back ("unimplemented"); `(int)[ 1, 2 ]` reads back in both
/// GStreamer and framecast, so that is written instead.
fn exact_type_name(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Int(_) => "int",
        Value::IntRange(_) => "int",
        Value::Double(_) => "double",
        Value::DoubleRange(_) => "double",
        Value::Fraction(_) => "fraction",
        Value::FractionRange(_) => "fraction",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Array(_) => "array",
    }
}

/// GStreamer's `gst_string_wrap`: bare when every byte is a letter, digit
/// or one of `_-+/:.`; otherwise quoted, with bytes outside printable
/// ASCII as `\ooo` octal and every other non-bare byte backslash-escaped
/// (`"hello\ world"`, `"a\,b"`, `"\303\251"`).
fn write_string_gst(f: &mut dyn Write, s: &str) -> fmt::Result {
    if !s.is_empty() && s.bytes().all(parse::is_bare_byte) {
        return f.write_str(s);
    }
    f.write_char('"')?;
    for b in s.bytes() {
        if parse::is_bare_byte(b) {
            f.write_char(char::from(b))?;
        } else if !(0x20..0x7f).contains(&b) {
            write!(f, "\\{b:03o}")?;
        } else {
            write!(f, "\\{}", char::from(b))?;
        }
    }
    f.write_char('"')
}

/// C's `printf("%.17g")`, which GStreamer's double serialization
/// (`g_ascii_dtostr`) uses: 17 significant digits, trailing zeros dropped,
/// exponent form below 1e-4 and from 1e17 (`0.10000000000000001`,
/// `1e+20`, `-1.0000000000000001e-05`).
pub(crate) fn format_g17(d: f64) -> String {
    if !d.is_finite() {
        return non_finite_name(d).to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // `{:.16e}` rounds to 17 significant digits and gives the decimal
    // exponent after that rounding, which is what `%g` decides on.
    let sci = format!("{d:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let mantissa = trim_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        // 17 significant digits: 16 - exp decimals (exp in -4..=16).
        let decimals = usize::try_from(16 - exp).unwrap_or(0);
        trim_fraction_zeros(&format!("{d:.decimals$}")).to_string()
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_printf() {
        // Expected strings from GStreamer 1.22 (gst_caps_to_string).
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(-1e-5), "-1.0000000000000001e-05");
        assert_eq!(
            format_g17(123_456_789_012_345_678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_g17(1.5), "1.5");
        assert_eq!(format_g17(1000.0), "1000");
        assert_eq!(format_g17(1e10), "10000000000");
        assert_eq!(format_g17(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(format_g17(0.0001), "0.0001");
        assert_eq!(format_g17(2.0), "2");
        assert_eq!(format_g17(f64::INFINITY), "inf");
    }

    fn typed(s: &str) -> String {
        let v: Value = s.parse().unwrap();
        format!("{v:#}")
    }

    #[test]
    fn typed_form_matches_gstreamer() {
        assert_eq!(typed("{ I420, NV12 }"), "(string){ I420, NV12 }");
        assert_eq!(
            typed("< [ 1, 2 ], { 3, 4 } >"),
            "(int)< [ 1, 2 ], { (int)3, (int)4 } >"
        );
        assert_eq!(
            typed("< { < 1, 2 > }, 3 >"),
            "(int)< { (array)< (int)1, (int)2 > }, 3 >"
        );
        assert_eq!(
            typed("< { [ 1, 2 ], [ 1/2, 3/4 ], [ 1.0, 2.0 ], (string)s, true, 1.5, 1/2, < 1 >, { 2 } } >"),
            "(int)< { (int)[ 1, 2 ], (fraction)[ 1/2, 3/4 ], (double)[ 1, 2 ], \
             (string)s, (boolean)true, (double)1.5, (fraction)1/2, (array)< (int)1 >, (list){ (int)2 } } >"
        );
        assert_eq!(typed("{ }"), "(int){  }");
        assert_eq!(typed("\"hello world\""), "(string)\"hello\\ world\"");
        assert_eq!(typed("\"a,b\""), "(string)\"a\\,b\"");
        assert_eq!(typed("\"é\""), "(string)\"\\303\\251\"");
        assert_eq!(typed("\"\""), "(string)\"\"");
        assert_eq!(typed("(string)30/1"), "(string)30/1");
        assert_eq!(typed("[ 2, 10, 2 ]"), "(int)[ 2, 10, 2 ]");
        // Mixed lists annotate their elements so that they read back.
        assert_eq!(typed("{ 1, 2.5 }"), "(int){ (int)1, (double)2.5 }");
        assert_eq!(
            typed("< { 1 }, a >"),
            "(int)< (list){ (int)1 }, (string)a >"
        );
    }

    #[test]
    fn compact_strings_are_quoted_only_when_needed() {
        let s = |x: &str| Value::from(x).to_string();
        assert_eq!(s("I420"), "I420");
        assert_eq!(s("video/x-raw"), "video/x-raw");
        assert_eq!(s("30"), "\"30\"");
        assert_eq!(s("30/1"), "\"30/1\"");
        assert_eq!(s("1.5"), "\"1.5\"");
        assert_eq!(s("yes"), "\"yes\"");
        assert_eq!(s("max"), "\"max\"");
        assert_eq!(s("1/0"), "\"1/0\"");
        assert_eq!(s(""), "\"\"");
        assert_eq!(s("hello world"), "\"hello world\"");
        assert_eq!(s("say \"hi\"\n"), "\"say \\\"hi\\\"\\012\"");
        assert_eq!(s("inf"), "inf");
        assert_eq!(Value::Double(f64::NEG_INFINITY).to_string(), "(double)-inf");
        assert_eq!(Value::Double(1e20).to_string(), "1e20");
        assert_eq!(Value::Double(2.0).to_string(), "2.0");
    }
}
