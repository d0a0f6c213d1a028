//! `framecast inspect [ELEMENT]`: the elements there are, or one element's
//! pads, caps and properties (`gst-inspect-1.0`).

use std::fmt::Write as _;

use framecast::pipeline::{
    factories, find_factory, ElementFactory, PadDirection, PadPresence, PropertySpec, PropertyType,
    PropertyValue,
};

/// `framecast inspect` options.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The element factory to describe (all elements are listed without it).
    element: Option<String>,
}

/// Runs `framecast inspect`.
pub fn run(args: InspectArgs) -> Result<(), String> {
    let text = match &args.element {
        None => list(),
        Some(name) => match find_factory(name) {
            Some(factory) => describe(&factory),
            // make_element's error carries the "did you mean" suggestion.
            None => {
                return Err(match framecast::make_element(name, None) {
                    Err(e) => e.to_string(),
                    Ok(_) => format!("no element named {name:?}"),
                })
            }
        },
    };
    print!("{text}");
    Ok(())
}

/// One line per element: name, classification, description.
fn list() -> String {
    let all = factories();
    let width = all.iter().map(|f| f.name.len()).max().unwrap_or(0);
    let klass_width = all.iter().map(|f| f.klass.len()).max().unwrap_or(0);
    let mut out = String::new();
    for f in &all {
        let _ = writeln!(
            out,
            "{:<width$}  {:<klass_width$}  {}",
            f.name, f.klass, f.description
        );
    }
    let _ = writeln!(out, "\nTotal count: {} elements", all.len());
    out
}

fn describe(factory: &ElementFactory) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Factory Details:");
    for (key, value) in [
        ("Name", factory.name.to_string()),
        ("Long-name", factory.long_name.to_string()),
        ("Klass", factory.klass.to_string()),
        ("Description", factory.description.to_string()),
        ("Rank", factory.rank.to_string()),
    ] {
        let _ = writeln!(out, "  {key:<24} {value}");
    }

    let _ = writeln!(out, "\nPad Templates:");
    if factory.pad_templates.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for template in &factory.pad_templates {
        let direction = match template.direction {
            PadDirection::Src => "SRC",
            PadDirection::Sink => "SINK",
        };
        let presence = match template.presence {
            PadPresence::Always => "Always",
            PadPresence::Request => "On request",
            PadPresence::Sometimes => "Sometimes",
        };
        let _ = writeln!(out, "  {direction} template: '{}'", template.name);
        let _ = writeln!(out, "    Availability: {presence}");
        let _ = writeln!(out, "    Capabilities:");
        write_caps(&mut out, &template.caps);
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "Element Properties:");
    let name_default = format!("\"{}<n>\"", factory.name);
    let _ = writeln!(out, "  {:<20}: The name of the object", "name");
    let _ = writeln!(out, "  {:<20}  String. Default: {name_default}", "");
    let mut properties: Vec<&PropertySpec> = factory.properties.iter().collect();
    properties.sort_by_key(|p| p.name);
    for spec in properties {
        write_property(&mut out, spec);
    }
    out
}

fn write_caps(out: &mut String, caps: &framecast::Caps) {
    if caps.is_any() {
        let _ = writeln!(out, "      ANY");
        return;
    }
    if caps.is_empty() {
        let _ = writeln!(out, "      EMPTY");
        return;
    }
    for structure in caps.structures() {
        let _ = writeln!(out, "      {}", structure.name());
        let width = structure
            .fields()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0)
            .max(16);
        for (name, value) in structure.fields() {
            let _ = writeln!(out, "      {name:>width$}: {value}");
        }
    }
}

fn write_property(out: &mut String, spec: &PropertySpec) {
    let _ = writeln!(out, "  {:<20}: {}", spec.name, spec.blurb);
    let flags = if !spec.is_writable() {
        "readable"
    } else if spec.mutable_in_playing {
        "readable, writable, changeable in NULL, READY, PAUSED or PLAYING state"
    } else {
        "readable, writable, changeable only in NULL or READY state"
    };
    let pad = " ".repeat(24);
    let _ = writeln!(out, "{pad}flags: {flags}");
    let default = match spec.default_value() {
        PropertyValue::String(Some(s)) => format!("{s:?}"),
        other => other.to_string(),
    };
    let kind = spec.type_description();
    let _ = writeln!(out, "{pad}{}. Default: {default}", capitalize(&kind));
    if let PropertyType::Enum { values, .. } = &spec.kind {
        for (i, (nick, description)) in values.iter().enumerate() {
            let _ = writeln!(out, "{pad}   ({i}): {nick:<16} - {description}");
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_tee() {
        let factory = find_factory("tee").unwrap();
        let text = describe(&factory);
        assert!(
            text.contains("  SRC template: 'src_%u'\n    Availability: On request"),
            "{text}"
        );
        assert!(text.contains("allow-not-linked"), "{text}");
        assert!(text.contains("Boolean. Default: false"), "{text}");
    }

    #[test]
    fn lists_every_factory() {
        let text = list();
        for f in factories() {
            assert!(text.contains(f.name), "{}", f.name);
        }
    }
}
