//! Building test pipelines and reading their elements back: what the
//! pipeline tests would otherwise each write again.

use framecast::{make_element, parse_launch, Element, Pipeline};

/// `parse_launch(description)`, panicking with the description on error.
pub fn launch(description: &str) -> Pipeline {
    parse_launch(description).unwrap_or_else(|e| panic!("{description}: {e}"))
}

/// The element called `name` in `p`.
pub fn element(p: &Pipeline, name: &str) -> Element {
    p.by_name(name)
        .unwrap_or_else(|| panic!("no element {name}"))
}

/// Property `name` of `e`, as an unsigned number.
pub fn uint(e: &Element, name: &str) -> u64 {
    e.property(name)
        .unwrap_or_else(|err| panic!("{name}: {err}"))
        .as_u64()
        .unwrap_or_else(|| panic!("{name} is not a number"))
}

/// `appsrc name=src ! queue ! appsink name=sink sync=false`, the source's
/// caps set from `caps`, linked but left in Null: the smallest pipeline a
/// pushed frame goes through.
pub fn appsrc_queue_appsink(caps: &str) -> (Pipeline, Element, Element) {
    let pipeline = Pipeline::new("p");
    let src = make_element("appsrc", Some("src")).unwrap();
    let queue = make_element("queue", None).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property_from_str("caps", caps).unwrap();
    sink.set_property("sync", false).unwrap();
    pipeline.add_and_link(&[&src, &queue, &sink]).unwrap();
    (pipeline, src, sink)
}
