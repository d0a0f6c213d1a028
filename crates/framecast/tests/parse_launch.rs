//! `parse_launch`: good strings build the right graph; bad strings give a
//! clear error pointing at the right token; random strings never panic.

use framecast::pipeline::{PadDirection, PropertyValue};
use framecast::{parse_launch, Caps, Element, Error, Fraction, Pipeline};
use proptest::prelude::*;

/// The element downstream of `element`'s source pad `pad`.
fn downstream(element: &Element, pad: &str) -> Option<String> {
    element
        .static_pad(pad)?
        .peer()?
        .element()
        .map(|e| e.name().to_string())
}

/// The element upstream of `element`'s first sink pad.
fn upstream(element: &Element) -> Option<String> {
    element
        .sink_pad()?
        .peer()?
        .element()
        .map(|e| e.name().to_string())
}

fn get(pipeline: &Pipeline, name: &str) -> Element {
    pipeline
        .by_name(name)
        .unwrap_or_else(|| panic!("no element {name:?} in {pipeline:?}"))
}

fn factory_names(pipeline: &Pipeline) -> Vec<&'static str> {
    pipeline
        .elements()
        .iter()
        .map(|e| e.factory().name)
        .collect()
}

// ---- good strings ---------------------------------------------------------

#[test]
fn a_chain_with_properties() {
    let p = parse_launch(
        "filesrc name=src location=/tmp/in.bin blocksize=1000 ! fakesink name=out sync=true",
    )
    .unwrap();
    assert_eq!(factory_names(&p), ["filesrc", "fakesink"]);
    let src = get(&p, "src");
    assert_eq!(
        src.property("location").unwrap(),
        PropertyValue::String(Some("/tmp/in.bin".into()))
    );
    assert_eq!(
        src.property("blocksize").unwrap(),
        PropertyValue::UInt(1000)
    );
    assert_eq!(
        get(&p, "out").property("sync").unwrap(),
        PropertyValue::Bool(true)
    );
    assert_eq!(downstream(&src, "src").as_deref(), Some("out"));
}

#[test]
fn unnamed_elements_get_factory_names() {
    let p = parse_launch("filesrc ! queue ! fakesink").unwrap();
    let names: Vec<String> = p.elements().iter().map(|e| e.name().to_string()).collect();
    assert!(names[0].starts_with("filesrc"), "{names:?}");
    assert!(names[1].starts_with("queue"), "{names:?}");
    assert!(names[2].starts_with("fakesink"), "{names:?}");
    assert_eq!(downstream(&p.elements()[0], "src"), Some(names[1].clone()));
    assert_eq!(downstream(&p.elements()[1], "src"), Some(names[2].clone()));
    assert!(p.name().starts_with("pipeline"));
}

#[test]
fn tee_branches_by_reference() {
    let p = parse_launch(
        "filesrc name=src ! tee name=t t. ! queue name=q1 ! fakesink name=s1 t. ! queue name=q2 ! fakesink name=s2",
    )
    .unwrap();
    let t = get(&p, "t");
    assert_eq!(upstream(&t).as_deref(), Some("src"));
    assert_eq!(downstream(&t, "src_0").as_deref(), Some("q1"));
    assert_eq!(downstream(&t, "src_1").as_deref(), Some("q2"));
    assert_eq!(downstream(&get(&p, "q1"), "src").as_deref(), Some("s1"));
    assert_eq!(downstream(&get(&p, "q2"), "src").as_deref(), Some("s2"));
    assert_eq!(t.property("num-src-pads").unwrap(), PropertyValue::Int(2));
}

#[test]
fn references_may_come_before_the_element() {
    let p = parse_launch("t. ! queue name=q ! fakesink   filesrc ! tee name=t").unwrap();
    let t = get(&p, "t");
    assert_eq!(downstream(&t, "src_0").as_deref(), Some("q"));
    assert!(upstream(&t).unwrap().starts_with("filesrc"));
}

#[test]
fn pad_references() {
    let p = parse_launch(
        "tee name=t t.src_0 ! fakesink name=a t.src_1 ! fakesink name=b filesrc name=f ! t.sink",
    )
    .unwrap();
    let t = get(&p, "t");
    assert_eq!(downstream(&t, "src_0").as_deref(), Some("a"));
    assert_eq!(downstream(&t, "src_1").as_deref(), Some("b"));
    assert_eq!(upstream(&t).as_deref(), Some("f"));
    // A reference into an element's sink side, with and without a pad.
    let p = parse_launch("filesrc name=f ! q.sink queue name=q ! fakesink").unwrap();
    assert_eq!(upstream(&get(&p, "q")).as_deref(), Some("f"));
    let p = parse_launch("filesrc name=f ! q. queue name=q ! fakesink").unwrap();
    assert_eq!(upstream(&get(&p, "q")).as_deref(), Some("f"));
}

#[test]
fn caps_between_links_become_a_capsfilter() {
    let p = parse_launch("filesrc name=f ! video/x-raw,format=I420,width=320 ! fakesink name=s")
        .unwrap();
    assert_eq!(factory_names(&p), ["filesrc", "fakesink", "capsfilter"]);
    let filter = p
        .elements()
        .into_iter()
        .find(|e| e.factory().name == "capsfilter")
        .unwrap();
    let expected: Caps = "video/x-raw,format=I420,width=320".parse().unwrap();
    assert_eq!(
        filter.property("caps").unwrap(),
        PropertyValue::Caps(expected)
    );
    assert_eq!(upstream(&filter).as_deref(), Some("f"));
    assert_eq!(downstream(&filter, "src").as_deref(), Some("s"));
}

#[test]
fn caps_with_spaces_types_and_quotes() {
    let p = parse_launch(
        "filesrc ! video/x-raw, format=(string)I420, width=(int)320 ! queue ! \"video/x-raw,height=240\" ! fakesink",
    )
    .unwrap();
    let filters: Vec<Element> = p
        .elements()
        .into_iter()
        .filter(|e| e.factory().name == "capsfilter")
        .collect();
    assert_eq!(filters.len(), 2);
    let first: Caps = "video/x-raw,format=I420,width=320".parse().unwrap();
    let second: Caps = "video/x-raw,height=240".parse().unwrap();
    assert_eq!(
        filters[0].property("caps").unwrap(),
        PropertyValue::Caps(first)
    );
    assert_eq!(
        filters[1].property("caps").unwrap(),
        PropertyValue::Caps(second)
    );
}

#[test]
fn caps_property() {
    let p = parse_launch(
        "filesrc ! capsfilter name=c caps=\"video/x-raw, format=(string)NV12, framerate=30/1\" ! fakesink",
    )
    .unwrap();
    let expected: Caps = "video/x-raw,format=NV12,framerate=30/1".parse().unwrap();
    assert_eq!(
        get(&p, "c").property("caps").unwrap(),
        PropertyValue::Caps(expected)
    );
    // Bare, with a quoted part inside.
    let p = parse_launch("filesrc ! capsfilter name=c caps=video/x-raw,format=\"BGR\" ! fakesink")
        .unwrap();
    let expected: Caps = "video/x-raw,format=BGR".parse().unwrap();
    assert_eq!(
        get(&p, "c").property("caps").unwrap(),
        PropertyValue::Caps(expected)
    );
}

#[test]
fn value_syntax() {
    let p = parse_launch(
        r#"filesrc name=f location="/tmp/a b\"c.bin" ! queue name=q max-size-buffers=0x10 leaky=downstream max_size_bytes = 0 ! rawvideoparse name=r format=bgr width=1280 height=720 framerate=30000/1001 ! fakesink name=s sync=yes silent='false'"#,
    )
    .unwrap();
    assert_eq!(
        get(&p, "f").property("location").unwrap(),
        PropertyValue::String(Some("/tmp/a b\"c.bin".into()))
    );
    let q = get(&p, "q");
    assert_eq!(
        q.property("max-size-buffers").unwrap(),
        PropertyValue::UInt(16)
    );
    assert_eq!(
        q.property("max-size-bytes").unwrap(),
        PropertyValue::UInt(0)
    );
    assert_eq!(
        q.property("leaky").unwrap(),
        PropertyValue::Enum("downstream")
    );
    let r = get(&p, "r");
    assert_eq!(r.property("format").unwrap(), PropertyValue::Enum("bgr"));
    assert_eq!(r.property("width").unwrap(), PropertyValue::Int(1280));
    assert_eq!(
        r.property("framerate").unwrap(),
        PropertyValue::Fraction(Fraction::new(30000, 1001).unwrap())
    );
    let s = get(&p, "s");
    assert_eq!(s.property("sync").unwrap(), PropertyValue::Bool(true));
    assert_eq!(s.property("silent").unwrap(), PropertyValue::Bool(false));
}

#[test]
fn several_chains_and_unicode() {
    let p = parse_launch("filesrc location=/tmp/ü.bin ! fakesink\nfdsrc fd=0 ! fdsink").unwrap();
    assert_eq!(
        factory_names(&p),
        ["filesrc", "fakesink", "fdsrc", "fdsink"]
    );
    assert_eq!(
        p.elements()[0].property("location").unwrap(),
        PropertyValue::String(Some("/tmp/ü.bin".into()))
    );
    let fdsrc = &p.elements()[2];
    assert_eq!(
        downstream(fdsrc, "src"),
        Some(p.elements()[3].name().to_string())
    );
}

#[test]
fn a_lone_element_is_a_pipeline() {
    let p = parse_launch("fakesink").unwrap();
    assert_eq!(factory_names(&p), ["fakesink"]);
    let sink = &p.elements()[0];
    assert!(sink
        .pads()
        .iter()
        .all(|pad| pad.direction() == PadDirection::Sink));
}

// ---- bad strings ----------------------------------------------------------

struct Bad {
    input: &'static str,
    /// Byte position of the token at fault.
    position: usize,
    /// The token at fault.
    token: &'static str,
    /// Words the message must hold.
    message: &'static str,
    suggestion: Option<&'static str>,
}

const fn bad(
    input: &'static str,
    position: usize,
    token: &'static str,
    message: &'static str,
) -> Bad {
    Bad {
        input,
        position,
        token,
        message,
        suggestion: None,
    }
}

const fn bad_suggest(
    input: &'static str,
    position: usize,
    token: &'static str,
    message: &'static str,
    suggestion: &'static str,
) -> Bad {
    Bad {
        input,
        position,
        token,
        message,
        suggestion: Some(suggestion),
    }
}

const BAD: &[Bad] = &[
    bad("", 0, "", "empty pipeline"),
    bad("   \t ", 0, "   \t ", "empty pipeline"),
    bad("filesrc location=a ! ", 19, "!", "links to nothing"),
    bad("! fakesink", 0, "!", "nothing before it"),
    bad("filesrc ! ! fakesink", 10, "!", "right after the `!` at 8"),
    bad_suggest(
        "filesrc ! fakesnk",
        10,
        "fakesnk",
        "no element \"fakesnk\"",
        "fakesink",
    ),
    bad_suggest(
        "filesrc ! tee name=t t. ! fakesink t. ! fakesinc",
        40,
        "fakesinc",
        "no element",
        "fakesink",
    ),
    bad_suggest(
        "filesrc ! fakesink sinc=true",
        19,
        "sinc",
        "has no property \"sinc\"",
        "sync",
    ),
    bad_suggest(
        "filesrc ! queue max_size_bufers=3 ! fakesink",
        16,
        "max_size_bufers",
        "has no property",
        "max-size-buffers",
    ),
    bad(
        "filesrc ! fakesink sync=maybe",
        24,
        "maybe",
        "expected boolean",
    ),
    bad(
        "filesrc location=\"abc ! fakesink",
        17,
        "\"",
        "unterminated quoted string",
    ),
    bad(
        "filesrc location='abc\\' ! fakesink",
        17,
        "'",
        "unterminated quoted string",
    ),
    bad_suggest(
        "filesrc name=t ! x. ",
        17,
        "x.",
        "no element named \"x\"",
        "t",
    ),
    bad("t. ! fakesink", 0, "t.", "no element named \"t\""),
    bad("fakesink ! fakesink", 9, "!", "has no source pad"),
    bad(
        "filesrc name=a ! fakesink name=a",
        31,
        "a",
        "two elements are named \"a\"",
    ),
    bad(
        "filesrc location=",
        8,
        "location=",
        "missing value for property \"location\"",
    ),
    bad(
        "filesrc location= ! fakesink",
        8,
        "location=",
        "missing value",
    ),
    bad("filesrc =5", 8, "=", "without a property name"),
    bad(
        "filesrc ! queue max-size-buffers=-5 ! fakesink",
        33,
        "-5",
        "unsigned integer",
    ),
    bad(
        "filesrc num-buffers=abc ! fakesink",
        20,
        "abc",
        "expected integer",
    ),
    bad("filesrc ! ( queue ) ! fakesink", 10, "(", "bins"),
    bad(
        "tee name=t t.src_x ! fakesink",
        19,
        "!",
        "t has no pad \"src_x\"",
    ),
    bad(
        "filesrc ! fakesink name=\"a\"x",
        27,
        "x",
        "right after a quoted string",
    ),
    bad(
        "filesrc ! video/x-raw",
        10,
        "video/x-raw",
        "caps filter at the end",
    ),
    bad(
        "video/x-raw ! fakesink",
        0,
        "video/x-raw",
        "caps must come after a `!`",
    ),
    bad(
        "'video/x-raw' ! fakesink",
        0,
        "'video/x-raw'",
        "not a quoted string",
    ),
    bad(
        "filesrc ! tee name=t t.sink ! fakesink",
        28,
        "!",
        "is a sink pad",
    ),
    bad("filesrc $ fakesink", 8, "$", "unexpected character '$'"),
    bad("filesrc ! fäkesink", 11, "ä", "unexpected character 'ä'"),
    bad(
        "filesrc ! queue leaky=sideways ! fakesink",
        22,
        "sideways",
        "one of no, upstream, downstream",
    ),
    bad(
        "filesrc ! rawvideoparse format=yuv9 ! fakesink",
        31,
        "yuv9",
        "one of i420, nv12",
    ),
    bad(
        "filesrc name=t ! fakesink t.",
        26,
        "t.",
        "is not linked to anything",
    ),
    bad(
        "location=x ! fakesink",
        0,
        "location=x",
        "does not follow an element",
    ),
    bad(
        "filesrc ! q. location=x",
        13,
        "location=x",
        "does not follow an element",
    ),
    bad(
        "filesrc ! tee name=t ! fakesink t. ! t.",
        35,
        "!",
        "every sink pad of t (tee) is already linked",
    ),
    bad(
        "tee name=t t.src_0 ! fakesink t.src_0 ! fakesink",
        38,
        "!",
        "already linked",
    ),
    bad(
        "filesrc ! fakesink name=\"\"",
        24,
        "\"\"",
        "name cannot be empty",
    ),
    bad("filesrc blocksize=0x ! fakesink", 18, "0x", "invalid value"),
    bad("filesrc ! fakesink rendered=5", 28, "5", "read-only"),
];

#[test]
fn bad_strings_point_at_the_token() {
    for case in BAD {
        let err = match parse_launch(case.input) {
            Ok(p) => panic!("{:?} parsed: {p:?}", case.input),
            Err(e) => e,
        };
        let text = err.to_string();
        let Error::Parse {
            what,
            position,
            token,
            message,
            suggestion,
            ..
        } = &err
        else {
            panic!("{:?}: not a parse error: {err:?}", case.input);
        };
        assert_eq!(*what, "pipeline", "{:?}", case.input);
        assert_eq!(*position, case.position, "{:?}: {text}", case.input);
        assert_eq!(token, case.token, "{:?}: {text}", case.input);
        assert!(
            message.contains(case.message),
            "{:?}: message {message:?} lacks {:?}",
            case.input,
            case.message
        );
        assert_eq!(
            suggestion.as_deref(),
            case.suggestion,
            "{:?}: {text}",
            case.input
        );
        // The rendering shows the input line with a caret under the token.
        assert!(text.contains('^'), "{text}");
    }
}

#[test]
fn bad_caps_point_into_the_caps() {
    for (input, caps_start) in [
        ("filesrc ! video/x-raw,width=[1,2 ! fakesink", 10),
        ("filesrc ! video/x-raw,,width=1 ! fakesink", 10),
        ("filesrc ! video/x-raw,width=1/0 ! fakesink", 10),
        (
            "filesrc ! capsfilter caps=\"video/x-raw,width=[1,\" ! fakesink",
            27,
        ),
        (
            "filesrc ! capsfilter caps=video/x-raw,width=\"1 ! fakesink",
            26,
        ),
    ] {
        let err = parse_launch(input).unwrap_err();
        let Error::Parse {
            position, message, ..
        } = &err
        else {
            panic!("{input:?}: {err:?}");
        };
        assert!(
            *position >= caps_start && *position <= input.len(),
            "{input:?}: position {position}: {err}"
        );
        assert!(
            message.contains("caps") || message.contains("quote"),
            "{input:?}: {err}"
        );
    }
}

/// Caps that cannot negotiate are refused as the pipeline is read, at the
/// bad value, instead of failing at run time with "downstream accepts
/// EMPTY".
#[test]
fn unusable_caps_values_fail_at_parse_time_at_the_token() {
    for (input, position, token) in [
        ("testsrc ! video/x-raw,format=NOPE ! fakesink", 29, "NOPE"),
        ("testsrc ! video/x-raw,width=0 ! fakesink", 28, "0"),
        (
            "testsrc ! capsfilter caps=\"video/x-raw,format={I420,NOPE}\" ! fakesink",
            52,
            "NOPE",
        ),
    ] {
        let err = parse_launch(input).unwrap_err();
        let Error::Parse {
            position: at,
            token: t,
            ..
        } = &err
        else {
            panic!("{input:?}: {err:?}");
        };
        assert_eq!((*at, t.as_str()), (position, token), "{input:?}: {err}");
        assert_eq!(&input[position..position + token.len()], token);
        // The caret is under the token in the (windowed) line shown.
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        let [.., shown, carets] = lines[..] else {
            panic!("{text}")
        };
        let column = carets.find('^').unwrap();
        let under: String = shown.chars().skip(column).take(token.len()).collect();
        assert_eq!(under, token, "{text}");
    }
}

#[test]
fn long_tokens_are_cut_in_messages() {
    let big = "x".repeat(120_000);
    for input in [
        format!("testsrc ! {big} ! fakesink"),
        format!("testsrc {big}=1 ! fakesink"),
        format!("testsrc is-live={big} ! fakesink"),
        format!("testsrc ! video/x-raw,format={big} ! fakesink"),
    ] {
        let text = parse_launch(&input).unwrap_err().to_string();
        assert!(text.len() < 600, "{} bytes: {}", text.len(), &text[..600]);
        assert!(text.contains("… (120000 bytes)"), "{text}");
    }
}

#[test]
fn error_rendering_has_a_caret_under_the_token() {
    let err = parse_launch("filesrc ! fakesnk").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "pipeline: no element \"fakesnk\" at 10 (\"fakesnk\") (did you mean \"fakesink\"?)"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("\n  filesrc ! fakesnk\n            ^^^^^^^"),
        "{text}"
    );
    // On a multi-line pipeline, the caret is under the right line.
    let err = parse_launch("filesrc !\n  fakesink sinc=1").unwrap_err();
    let text = err.to_string();
    assert!(
        text.ends_with("\n    fakesink sinc=1\n             ^^^^"),
        "{text}"
    );
}

// ---- random strings ---------------------------------------------------------

const VOCABULARY: &[&str] = &[
    "filesrc",
    "fakesink",
    "tee",
    "queue",
    "capsfilter",
    "rawvideoparse",
    "fdsrc",
    "fdsink",
    "name=t",
    "t.",
    "t.src_0",
    "t.sink",
    "!",
    "!",
    " ",
    " ",
    "location=",
    "\"",
    "'",
    "\\",
    "video/x-raw",
    ",width=",
    "320",
    "format=bgr",
    "caps=",
    "=",
    "(",
    "name=",
    "x.",
    "ü",
    "[1,2]",
    "{a,b}",
    "30/1",
    "-1",
    "0x",
    "leaky=downstream",
    "sync=true",
    "\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text_never_panics(input in "\\PC{0,80}") {
        let _ = parse_launch(&input);
    }

    #[test]
    fn random_pipelines_never_panic(words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..24)) {
        let input = words.join(" ");
        match parse_launch(&input) {
            Ok(_) => {}
            Err(Error::Parse { position, input: shown, .. }) => {
                prop_assert!(position <= input.len());
                prop_assert_eq!(shown, input.clone());
            }
            Err(other) => prop_assert!(false, "{input:?}: not a parse error: {other:?}"),
        }
        let glued = words.concat();
        let _ = parse_launch(&glued);
    }
}
