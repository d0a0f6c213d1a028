//! Unit tests of the gst-launch parser: lexer, grammar and building.

use super::*;

#[test]
fn template_names() {
    assert!(template_matches("src_%u", "src_0"));
    assert!(template_matches("src_%u", "src_12"));
    assert!(!template_matches("src_%u", "src_"));
    assert!(!template_matches("src_%u", "src_x"));
    assert!(!template_matches("sink", "sink"));
}

#[test]
fn lexes_values() {
    let tokens = Lexer::new(r#"a b="x \"y\" z" c = 5 d=e"f g"h"#)
        .tokens()
        .unwrap();
    let values: Vec<String> = tokens
        .iter()
        .filter_map(|t| match &t.kind {
            Kind::Assign { value, .. } => Some(value.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(values, ["x \"y\" z", "5", "e\"f g\"h"]);
}
