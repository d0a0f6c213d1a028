//! Parsing `FRAMECAST_TRACERS`.
//!
//! The syntax follows `GST_TRACERS`, minus GstStructure's type annotations:
//! entries separated by `;`, each a tracer name with optional parameters in
//! parentheses:
//!
//! ```text
//! leaks(filters=Buffer,BufferPool,stack-traces=true,output=/tmp/leaks.json);latency;stats
//! ```
//!
//! A parameter is `key=value`. A value runs to the next `,` or `)`; a bare
//! word after a value continues it as a comma-separated list, which is how
//! `filters=Buffer,BufferPool` names two types without quotes. Values holding
//! `,`, `)` or `;` can be quoted: `output="/tmp/a,b.json"` (`\"` and `\\`
//! escape inside quotes).
//!
//! Every error is a [`crate::Error::TracerSpec`] naming the rejected part and its byte
//! offset, because the person reading it typed the spec into an environment
//! variable and has nothing else to go on.

/// One `name(params)` entry of a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracerSpec {
    /// The tracer's name (`leaks`, `latency`, `stats`, or a registered one).
    pub name: String,
    /// Its parameters, in the order given.
    pub params: TracerParams,
}

/// One `key=value` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    key: String,
    value: String,
    /// Byte offset of the key in the whole spec.
    position: usize,
    /// The parameter's text as written, for error messages.
    text: String,
}

/// The parameters of one tracer entry, with enough context to reject a bad
/// one by name.
///
/// Tracer factories read their options through this type and turn any
/// problem into an error with [`TracerParams::error`], which names the
/// offending parameter inside the whole spec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TracerParams {
    params: Vec<Param>,
    /// The whole spec string.
    spec: String,
    /// The entry (`leaks(...)`) as written and its offset.
    entry: String,
    entry_position: usize,
}

impl TracerParams {
    /// Parameters built in code rather than parsed: errors then name the
    /// key and value directly.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> TracerParams {
        let params = pairs
            .into_iter()
            .map(|(k, v)| Param {
                key: k.to_string(),
                value: v.to_string(),
                position: 0,
                text: format!("{k}={v}"),
            })
            .collect();
        TracerParams {
            params,
            ..TracerParams::default()
        }
    }

    /// The raw value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// `key` as a boolean (`true`/`false`, `yes`/`no`, `1`/`0`), or `default`
    /// when absent.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, crate::Error> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Ok(true),
                "false" | "no" | "0" | "off" => Ok(false),
                _ => Err(self.error(key, format!("expected true or false, got {v:?}"))),
            },
        }
    }

    /// `key` as a comma-separated list of non-empty names, or `None` when
    /// absent.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>, crate::Error> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let items: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
        if items.iter().any(|s| s.is_empty()) {
            return Err(self.error(key, "empty name in list".to_string()));
        }
        Ok(Some(items))
    }

    /// Rejects any parameter not in `known`, naming it and listing the
    /// accepted ones: a typo (`check-ref=true`) must not be silently ignored.
    pub fn check_known(&self, tracer: &str, known: &[&str]) -> Result<(), crate::Error> {
        for p in &self.params {
            if !known.contains(&p.key.as_str()) {
                let reason = if known.is_empty() {
                    format!("tracer {tracer} takes no parameters")
                } else {
                    format!(
                        "unknown parameter {:?} for tracer {tracer} (known: {})",
                        p.key,
                        known.join(", ")
                    )
                };
                return Err(self.param_error(p, reason));
            }
        }
        Ok(())
    }

    /// An error about parameter `key` (or the whole entry if `key` is not
    /// present), for factories validating values.
    pub fn error(&self, key: &str, reason: String) -> crate::Error {
        match self.params.iter().find(|p| p.key == key) {
            Some(p) => self.param_error(p, format!("{key}: {reason}")),
            None => crate::Error::TracerSpec {
                spec: self.spec.clone(),
                part: self.entry.clone(),
                position: self.entry_position,
                reason,
            },
        }
    }

    fn param_error(&self, p: &Param, reason: String) -> crate::Error {
        crate::Error::TracerSpec {
            spec: self.spec.clone(),
            part: p.text.clone(),
            position: p.position,
            reason,
        }
    }

    /// Whether no parameter was given.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

fn spec_error(spec: &str, part: &str, position: usize, reason: impl Into<String>) -> crate::Error {
    crate::Error::TracerSpec {
        spec: spec.to_string(),
        part: part.to_string(),
        position,
        reason: reason.into(),
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Splits `text` (which starts at byte `base` of the spec) on `sep` where it
/// is outside quotes and, for `;`, outside parentheses. Returns
/// `(offset, piece)` pairs.
fn split_top(text: &str, base: usize, sep: char) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if in_quote {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_quote = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => {
                pieces.push((base + start, &text[start..i]));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push((base + start, &text[start..]));
    pieces
}

/// Offset of `trimmed` inside `piece` (which starts at `base`).
fn trimmed(piece: &str, base: usize) -> (usize, &str) {
    let lead = piece.len() - piece.trim_start().len();
    (base + lead, piece.trim())
}

/// Parses a whole spec. Empty entries (a trailing `;`) are skipped; an empty
/// spec gives no tracers.
pub fn parse(spec: &str) -> Result<Vec<TracerSpec>, crate::Error> {
    let mut out = Vec::new();
    for (pos, piece) in split_top(spec, 0, ';') {
        let (pos, entry) = trimmed(piece, pos);
        if entry.is_empty() {
            continue;
        }
        out.push(parse_entry(spec, entry, pos)?);
    }
    Ok(out)
}

fn parse_entry(spec: &str, entry: &str, pos: usize) -> Result<TracerSpec, crate::Error> {
    let (name, inner) = match entry.find('(') {
        None => (entry, None),
        Some(open) => {
            let name = entry[..open].trim_end();
            let rest = &entry[open + 1..];
            let Some(body) = rest.strip_suffix(')') else {
                return Err(spec_error(
                    spec,
                    entry,
                    pos,
                    "missing ')' at the end of the entry",
                ));
            };
            (name, Some((pos + open + 1, body)))
        }
    };
    if !is_name(name) {
        return Err(spec_error(
            spec,
            entry,
            pos,
            format!("{name:?} is not a tracer name (letters, digits, '-', '_')"),
        ));
    }
    let mut params = TracerParams {
        params: Vec::new(),
        spec: spec.to_string(),
        entry: entry.to_string(),
        entry_position: pos,
    };
    if let Some((body_pos, body)) = inner {
        if body.trim().is_empty() {
            return Ok(TracerSpec {
                name: name.to_string(),
                params,
            });
        }
        for (ppos, piece) in split_top(body, body_pos, ',') {
            let (ppos, token) = trimmed(piece, ppos);
            if token.is_empty() {
                return Err(spec_error(spec, entry, ppos, "empty parameter (stray ',')"));
            }
            match token.split_once('=') {
                Some((key, value)) => {
                    let key = key.trim();
                    if !is_name(key) {
                        return Err(spec_error(
                            spec,
                            token,
                            ppos,
                            format!("{key:?} is not a parameter name"),
                        ));
                    }
                    if params.params.iter().any(|p| p.key == key) {
                        return Err(spec_error(
                            spec,
                            token,
                            ppos,
                            format!("parameter {key:?} given twice"),
                        ));
                    }
                    let value = value.trim();
                    if !value.starts_with('"') && value.contains(['(', ')']) {
                        return Err(spec_error(
                            spec,
                            token,
                            ppos,
                            "unexpected parenthesis (quote the value)",
                        ));
                    }
                    let value = unquote(value).ok_or_else(|| {
                        spec_error(
                            spec,
                            token,
                            ppos,
                            "unterminated or misplaced quote in value",
                        )
                    })?;
                    params.params.push(Param {
                        key: key.to_string(),
                        value,
                        position: ppos,
                        text: token.to_string(),
                    });
                }
                None => {
                    // A bare word continues the previous value as a list:
                    // `filters=Buffer,BufferPool`.
                    let Some(last) = params.params.last_mut() else {
                        return Err(spec_error(spec, token, ppos, "expected key=value"));
                    };
                    if !is_name(token) {
                        return Err(spec_error(
                            spec,
                            token,
                            ppos,
                            "expected key=value or a list item",
                        ));
                    }
                    last.value.push(',');
                    last.value.push_str(token);
                    last.text.push(',');
                    last.text.push_str(token);
                }
            }
        }
    }
    Ok(TracerSpec {
        name: name.to_string(),
        params,
    })
}

/// Removes surrounding quotes and unescapes `\"` and `\\`. `None` when a
/// quote is unbalanced or appears inside an unquoted value.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.contains('"')).then(|| value.to_string());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part_of(err: crate::Error) -> (String, usize, String) {
        match err {
            crate::Error::TracerSpec {
                part,
                position,
                reason,
                ..
            } => (part, position, reason),
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn the_issue_example_parses() {
        let spec = "leaks(filters=Buffer,BufferPool,stack-traces=true,check-refs=true,output=/tmp/leaks.json,fatal=true);latency;stats";
        let entries = parse(spec).unwrap();
        assert_eq!(entries.len(), 3);
        let leaks = &entries[0];
        assert_eq!(leaks.name, "leaks");
        assert_eq!(leaks.params.get("filters"), Some("Buffer,BufferPool"));
        assert_eq!(
            leaks.params.list("filters").unwrap().unwrap(),
            vec!["Buffer".to_string(), "BufferPool".to_string()]
        );
        assert!(leaks.params.bool("stack-traces", false).unwrap());
        assert!(leaks.params.bool("check-refs", false).unwrap());
        assert!(leaks.params.bool("fatal", false).unwrap());
        assert_eq!(leaks.params.get("output"), Some("/tmp/leaks.json"));
        assert_eq!(entries[1].name, "latency");
        assert!(entries[1].params.is_empty());
        assert_eq!(entries[2].name, "stats");
    }

    #[test]
    fn whitespace_empty_entries_and_quotes() {
        let entries =
            parse("  leaks ( output = \"/tmp/a,b);c.json\" , fatal=yes ) ;; latency() ; ").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].params.get("output"), Some("/tmp/a,b);c.json"));
        assert!(entries[0].params.bool("fatal", false).unwrap());
        assert_eq!(entries[1].name, "latency");
        assert!(parse("").unwrap().is_empty());
        assert!(parse(" ; ").unwrap().is_empty());
        let e = parse(r#"x(v="a\"b\\c")"#).unwrap();
        assert_eq!(e[0].params.get("v"), Some(r#"a"b\c"#));
    }

    #[test]
    fn errors_name_the_bad_part() {
        let spec = "leaks(fatal=maybe);latency";
        let entries = parse(spec).unwrap();
        let (part, pos, reason) = part_of(entries[0].params.bool("fatal", false).unwrap_err());
        assert_eq!(part, "fatal=maybe");
        assert_eq!(pos, spec.find("fatal").unwrap());
        assert!(reason.contains("expected true or false"), "{reason}");

        let (part, _, reason) = part_of(parse("leaks(filters=Buffer").unwrap_err());
        assert_eq!(part, "leaks(filters=Buffer");
        assert!(reason.contains("missing ')'"));

        let (part, pos, _) = part_of(parse("latency;le aks").unwrap_err());
        assert_eq!((part.as_str(), pos), ("le aks", 8));

        let (part, _, reason) = part_of(parse("leaks(Buffer)").unwrap_err());
        assert_eq!(part, "Buffer");
        assert!(reason.contains("key=value"));

        let (part, _, reason) = part_of(parse("leaks(fatal=true,fatal=false)").unwrap_err());
        assert_eq!(part, "fatal=false");
        assert!(reason.contains("twice"));

        let (_, _, reason) = part_of(parse("leaks(fatal=true,)").unwrap_err());
        assert!(reason.contains("empty parameter"));

        let (part, _, reason) = part_of(parse("leaks(output=\"/tmp/x)").unwrap_err());
        assert_eq!(part, "output=\"/tmp/x");
        assert!(reason.contains("quote"), "{reason}");

        let (part, _, reason) = part_of(parse("leaks(a=(b))").unwrap_err());
        assert_eq!(part, "a=(b)");
        assert!(reason.contains("parenthesis"), "{reason}");

        let params = &parse("leaks(check-ref=true)").unwrap()[0].params;
        let (part, _, reason) = part_of(params.check_known("leaks", &["check-refs"]).unwrap_err());
        assert_eq!(part, "check-ref=true");
        assert!(
            reason.contains("unknown parameter \"check-ref\""),
            "{reason}"
        );
        assert!(reason.contains("check-refs"), "{reason}");
    }

    #[test]
    fn error_display_mentions_spec_and_part() {
        let err = parse("stats;leaks(a=1,b=\"x)").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("bad tracer spec"), "{text}");
        assert!(text.contains("leaks(a=1"), "{text}");
    }
}
