//! Unit tests of the caps parser.

use super::*;
use crate::pipeline::caps::Caps;
use crate::Error;

fn caps(s: &str) -> Caps {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// `(position, token)` of the error for `s`, and its message.
fn err(s: &str) -> (usize, String, String) {
    match s.parse::<Caps>() {
        Ok(c) => panic!("{s:?} parsed as {c}"),
        Err(Error::Parse {
            position,
            token,
            message,
            ..
        }) => (position, token, message),
        Err(e) => panic!("{s:?}: not a parse error: {e}"),
    }
}

#[test]
fn inference_follows_gstreamer() {
    let c = caps("a,x=yes,z=1.5,w=<1,2>,s=\"hello world\",e=\"\",f=30/1,g=1e3,h=-5,q=0x10,m=max,n=min,o=I420,t=010");
    assert_eq!(
        format!("{c:#}"),
        "a, x=(boolean)true, z=(double)1.5, w=(int)< 1, 2 >, s=(string)\"hello\\ world\", e=(string)\"\", \
         f=(fraction)30/1, g=(double)1000, h=(int)-5, q=(int)16, m=(int)2147483647, n=(int)-2147483648, \
         o=(string)I420, t=(int)10"
    );
}

#[test]
fn annotations() {
    let c = caps("a,x=(double)5,f=(float)5,b=(bool)true,c=(boolean)1, d=(i)3, e=(s)x, g=(fraction)5, h=(int){1,2,3}, i=(fraction)[0/1,max], j=( int ) 6, k=(string)\"30\"");
    assert_eq!(
        format!("{c:#}"),
        "a, x=(double)5, f=(double)5, b=(boolean)true, c=(boolean)true, d=(int)3, e=(string)x, \
         g=(fraction)5/1, h=(int){ 1, 2, 3 }, i=(fraction)[ 0/1, 2147483647/1 ], j=(int)6, k=(string)30"
    );
    assert_eq!(c.to_string(), "a,x=5.0,f=5.0,b=true,c=true,d=3,e=x,g=5/1,h={ 1, 2, 3 },i=[ 0/1, 2147483647/1 ],j=6,k=\"30\"");
    let c = caps("a,x=(GstIntRange)[1,2],y=(list){(int)1},z=(array)<(double)1>");
    assert_eq!(c.to_string(), "a,x=[ 1, 2 ],y={ 1 },z=< 1.0 >");
}

#[test]
fn keywords_whitespace_and_trailing_separators() {
    assert!(caps("ANY").is_any());
    assert!(caps("  ANY ").is_any());
    assert!(caps("EMPTY").is_empty());
    assert!(caps("NONE").is_empty());
    assert!(caps("").is_empty());
    assert_eq!(caps(" a , x = 1 , y=2 ;  b  ").to_string(), "a,x=1,y=2; b");
    assert_eq!(caps("a,x=1,").to_string(), "a,x=1");
    assert_eq!(caps("a;").to_string(), "a");
    assert_eq!(caps("a(memory:SystemMemory),x=1").to_string(), "a,x=1");
    assert_eq!(
        caps("a,s=\"a\\\"b\\\\c\\303\\251\"")
            .structure(0)
            .and_then(|s| s.get_str("s")),
        Some("a\"b\\cé")
    );
}

#[test]
fn errors_point_at_the_token() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("video/x-raw,width=[1,2", 18, "[", "unterminated range"),
        (
            "video/x-raw,format={I420,NV12",
            19,
            "{",
            "unterminated list",
        ),
        ("video/x-raw,width=<1,2", 18, "<", "unterminated array"),
        ("video/x-raw,width=(int)abc", 23, "abc", "not a valid int"),
        ("video/x-raw,width=(itn)5", 19, "itn", "unknown type"),
        ("video/x-raw,width", 17, "", "expected `=`"),
        ("video/x-raw,=5", 12, "=", "expected a field name"),
        ("1video/x-raw", 0, "1video/x-raw", "starts with a letter"),
        (
            "video/x-raw; ; video/x-h264",
            13,
            ";",
            "expected a media type",
        ),
        ("video/x-raw,format=\"I420", 19, "\"", "unterminated string"),
        ("video/x-raw,width=[10,1]", 18, "[10,1]", "empty range"),
        (
            "video/x-raw,width=[5,5]",
            18,
            "[5,5]",
            "at least two values",
        ),
        (
            "video/x-raw,width=[1,10,3]",
            18,
            "[1,10,3]",
            "multiples of the step",
        ),
        ("video/x-raw,framerate=30/0", 22, "30/0", "zero denominator"),
        (
            "video/x-raw,width=3000000000",
            18,
            "3000000000",
            "out of range",
        ),
        ("video/x-raw width=5", 12, "width", "expected `;`"),
        ("video/x-raw,width=[1,2.5]", 18, "[1,2.5]", "same type"),
        ("ANY; video/x-raw", 0, "ANY", "stands alone"),
        ("video/x-raw,width=1,width=2", 20, "width", "given twice"),
        ("video/x-raw,s=\"a\\9b\"", 16, "\\9", "bad escape"),
        (
            "video/x-raw(memory:DMABuf)",
            12,
            "memory:DMABuf",
            "not supported",
        ),
        (
            "video/x-raw,format={I420 NV12}",
            25,
            "NV12",
            "expected `,` or `}`",
        ),
        ("video/x-raw,width=[{1},2]", 19, "{1}", "range end"),
        ("video/x-raw,width=", 18, "", "expected a value"),
        (
            "video/x-raw,width=(int)[1.5,2]",
            24,
            "1.5",
            "not a valid int",
        ),
        ("video/x-raw,x=(list)<1>", 20, "<", "does not start with"),
        ("video/x-raw,x=(GstIntRange)5", 27, "5", "[ min, max ]"),
        ("video/x-raw,format=I420 !", 24, "!", "expected `;`"),
    ];
    for &(input, position, token, message) in cases {
        let (p, t, m) = err(input);
        assert_eq!((p, t.as_str()), (position, token), "{input:?}: {m}");
        assert!(m.contains(message), "{input:?}: {m:?} lacks {message:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("a,x={}1{}", "{".repeat(100_000), "}".repeat(100_000));
    let (position, token, message) = err(&deep);
    assert_eq!((position, token.as_str()), (4 + MAX_DEPTH, "{"));
    assert!(message.contains("nested"), "{message}");
    let ok = format!("a,x={}1{}", "<".repeat(MAX_DEPTH), ">".repeat(MAX_DEPTH));
    assert!(ok.parse::<Caps>().is_ok());
}

#[test]
fn unknown_type_suggests_the_closest() {
    let Err(Error::Parse { suggestion, .. }) = "a,x=(fracton)1/2".parse::<Caps>() else {
        panic!("parsed");
    };
    assert_eq!(suggestion.as_deref(), Some("fraction"));
    let e = "video/x-raw,width=[10,1]".parse::<Caps>().unwrap_err();
    assert!(
        e.to_string()
            .ends_with("\n  video/x-raw,width=[10,1]\n                    ^^^^^^"),
        "{e}"
    );
}

#[test]
fn prefix_stops_where_caps_end() {
    let line = "testsrc ! video/x-raw,format={I420,NV12}, width=320 ; video/x-h264 ! sink";
    let (c, end) = parse_caps_prefix(line, 10).unwrap();
    assert_eq!(
        c.to_string(),
        "video/x-raw,format={ I420, NV12 },width=320; video/x-h264"
    );
    assert_eq!(&line[end..], " ! sink");
    let (c, end) = parse_caps_prefix("ANY ! x", 0).unwrap();
    assert!(c.is_any());
    assert_eq!(end, 3);
    let e = parse_caps_prefix("a ! video/x-raw,width=[1 ! b", 4).unwrap_err();
    assert!(matches!(e, Error::Parse { position: 25, .. }), "{e}");
    let e = parse_caps_span("src ! video/x-raw,width=(int)x ! sink", 6..30).unwrap_err();
    assert!(matches!(e, Error::Parse { position: 29, .. }), "{e}");
    assert!(parse_caps_prefix("é", 1).is_err());
    assert!(parse_caps_span("abc", 2..9).is_err());
}
