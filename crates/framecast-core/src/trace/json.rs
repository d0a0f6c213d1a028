//! A minimal JSON writer for the tracers' `output=` files.
//!
//! Reports are flat records of strings and numbers, so a few helpers are
//! enough; writing them by hand keeps `serde` out of framecast-core's
//! dependencies. Strings are escaped per RFC 8259 §7 (quote, backslash and
//! every control character).

use std::fmt::Write;

/// Builds one JSON object, field by field.
#[derive(Debug)]
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Starts an object at the end of `out`.
    pub(crate) fn new(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        string(self.out, key);
        self.out.push(':');
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(self.out, value);
        self
    }

    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        let _ = write!(self.out, "{value}");
        self
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.raw(key, if value { "true" } else { "false" })
    }

    /// A field whose value the caller writes (a nested object or array)
    /// into the returned string, which must end up holding valid JSON.
    pub(crate) fn nested(&mut self, key: &str, write: impl FnOnce(&mut String)) -> &mut Self {
        self.key(key);
        write(self.out);
        self
    }

    pub(crate) fn strs<'s>(
        &mut self,
        key: &str,
        values: impl IntoIterator<Item = &'s str>,
    ) -> &mut Self {
        self.nested(key, |out| {
            out.push('[');
            for (i, v) in values.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, v);
            }
            out.push(']');
        })
    }

    fn raw(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        self.out.push_str(value);
        self
    }

    /// Closes the object.
    pub(crate) fn end(&mut self) {
        self.out.push('}');
    }
}

/// Writes a JSON array whose items `item` appends.
pub(crate) fn array<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    mut item: impl FnMut(&mut String, T),
) {
    out.push('[');
    for (i, v) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, v);
    }
    out.push(']');
}

/// Appends `s` as a JSON string literal.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_parses_back() {
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        o.str("s", "a\"b\\c\n\u{1}é")
            .uint("n", 42)
            .bool("b", true)
            .opt_str("none", None)
            .strs("list", ["x", "y\"z"])
            .nested("arr", |out| {
                array(out, [1u32, 2], |out, v| out.push_str(&v.to_string()))
            });
        o.end();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["s"], "a\"b\\c\n\u{1}é");
        assert_eq!(v["n"], 42);
        assert_eq!(v["b"], true);
        assert!(v["none"].is_null());
        assert_eq!(v["list"][1], "y\"z");
        assert_eq!(v["arr"][1], 2);
    }
}
