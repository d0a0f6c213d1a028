//! Building test pipelines and reading their elements back: what the
//! pipeline tests would otherwise each write again.

use std::time::Duration;

use framecast::{make_element, parse_launch, Element, Message, Pipeline};

/// `parse_launch(description)`, panicking with the description on error.
pub fn launch(description: &str) -> Pipeline {
    parse_launch(description).unwrap_or_else(|e| panic!("{description}: {e}"))
}

/// The element called `name` in `p`.
pub fn element(p: &Pipeline, name: &str) -> Element {
    p.by_name(name)
        .unwrap_or_else(|| panic!("no element {name}"))
}

/// How many elements of `p` the factory `factory` made.
pub fn count_factory(p: &Pipeline, factory: &str) -> usize {
    p.elements()
        .iter()
        .filter(|e| e.factory().name == factory)
        .count()
}

/// Property `name` of `e`, as an unsigned number.
pub fn uint(e: &Element, name: &str) -> u64 {
    e.property(name)
        .unwrap_or_else(|err| panic!("{name}: {err}"))
        .as_u64()
        .unwrap_or_else(|| panic!("{name} is not a number"))
}

/// `appsrc name=src caps=<caps> ! <middle...> ! appsink name=sink
/// sync=false` in a pipeline called `name`, linked but left in Null: the
/// pipeline a test pushes frames through. Returns it, the source and the
/// sink.
pub fn appsrc_to_appsink(name: &str, caps: &str, middle: &[&str]) -> (Pipeline, Element, Element) {
    let pipeline = Pipeline::new(name);
    let src = make_element("appsrc", Some("src")).unwrap();
    let sink = make_element("appsink", Some("sink")).unwrap();
    src.set_property_from_str("caps", caps).unwrap();
    sink.set_property("sync", false).unwrap();
    let middle: Vec<Element> = middle
        .iter()
        .map(|factory| make_element(factory, None).unwrap_or_else(|e| panic!("{factory}: {e}")))
        .collect();
    let mut chain = vec![&src];
    chain.extend(&middle);
    chain.push(&sink);
    pipeline.add_and_link(&chain).unwrap();
    (pipeline, src, sink)
}

/// `appsrc ! queue ! appsink` ([`appsrc_to_appsink`]): the smallest
/// pipeline a pushed frame crosses a thread boundary in.
pub fn appsrc_queue_appsink(caps: &str) -> (Pipeline, Element, Element) {
    appsrc_to_appsink("p", caps, &["queue"])
}

/// The source and text of the first error `pipeline` posts on its bus
/// within `timeout`; panics when none comes.
pub fn bus_error(pipeline: &Pipeline, timeout: Duration) -> (String, String) {
    let error = pipeline
        .bus()
        .timed_pop_filtered(Some(timeout), |m| matches!(m, Message::Error { .. }));
    let Some(Message::Error {
        source, message, ..
    }) = error
    else {
        panic!("no error on the bus within {timeout:?}: {error:?}");
    };
    (source, message)
}
