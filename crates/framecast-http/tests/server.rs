//! The server against real sockets: mounts, tokens, CORS, keep-alive,
//! streamed bodies, and bad input (garbage, oversized heads, slow and
//! idle clients, too many connections) answered with clear codes while
//! the other clients go on.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast_http::{Fanout, HttpConfig, HttpServer, Next, Request, Response, RouteFn};
use framecast_test_support::http;

fn server(config: HttpConfig) -> Arc<HttpServer> {
    HttpServer::bind("127.0.0.1:0".parse().unwrap(), config).unwrap()
}

fn echo(name: &'static str) -> Arc<RouteFn<impl Fn(&Request) -> Response + Send + Sync>> {
    Arc::new(RouteFn(move |req: &Request| {
        Response::text(
            200,
            format!(
                "{name} {} {} {}",
                req.method(),
                req.subpath(),
                req.body.len()
            ),
        )
    }))
}

#[test]
fn the_longest_prefix_takes_a_request_and_a_dropped_mount_is_gone() {
    let s = server(HttpConfig::default());
    let a = s.local_addr();
    let _root = s.mount("", echo("root")).unwrap();
    let cam = s.mount("/cam/", echo("cam")).unwrap();
    let _whep = s.mount("cam/whep", echo("whep")).unwrap();
    assert!(
        s.mount("cam", echo("again")).is_err(),
        "a taken prefix is refused"
    );
    assert_eq!(http::get(a, "/cam/").text(), "cam GET  0\n");
    assert_eq!(http::get(a, "/cam/mjpeg").text(), "cam GET mjpeg 0\n");
    assert_eq!(http::get(a, "/camera").text(), "root GET camera 0\n");
    let r = http::request(a, "POST", "/cam/whep", &[], b"v=0\r\n");
    assert_eq!(r.text(), "whep POST  5\n");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    drop(cam);
    assert_eq!(http::get(a, "/cam/mjpeg").text(), "root GET cam/mjpeg 0\n");
    assert_eq!(s.mounts(), vec!["".to_string(), "cam/whep".to_string()]);
}

#[test]
fn no_mount_is_404_and_preflight_is_answered_without_a_token() {
    let s = server(HttpConfig {
        token: Some("sekrit".into()),
        ..HttpConfig::default()
    });
    let a = s.local_addr();
    assert_eq!(http::get(a, "/x").status, 404);
    let _m = s.mount("cam", echo("cam")).unwrap();
    let r = http::get(a, "/cam/");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let wrong = http::request(a, "GET", "/cam/", &[("Authorization", "Bearer nope")], &[]);
    assert_eq!(wrong.status, 401);
    let ok = http::request(
        a,
        "GET",
        "/cam/",
        &[("Authorization", "Bearer sekrit")],
        &[],
    );
    assert_eq!(ok.status, 200);
    assert_eq!(http::get(a, "/cam/?access_token=sekrit").status, 200);
    let pre = http::request(a, "OPTIONS", "/cam/whep", &[], &[]);
    assert_eq!(pre.status, 204);
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Authorization"));
    assert!(s.url("cam/").ends_with("/cam/?access_token=sekrit"));
}

#[test]
fn a_kept_alive_connection_serves_pipelined_requests_in_order() {
    let s = server(HttpConfig::default());
    let _m = s.mount("", echo("root")).unwrap();
    let mut c = TcpStream::connect(s.local_addr()).unwrap();
    c.set_read_timeout(Some(http::TIMEOUT)).unwrap();
    c.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    let bodies: Vec<&str> = all.matches("root ").collect();
    assert_eq!(bodies.len(), 3, "{all}");
    let (a, b, cc) = (
        all.find("GET a 0").unwrap(),
        all.find("POST b 2").unwrap(),
        all.find("GET c 0").unwrap(),
    );
    assert!(a < b && b < cc, "{all}");
}

#[test]
fn garbage_oversized_and_slow_requests_get_clear_codes() {
    let s = server(HttpConfig {
        request_timeout: Duration::from_millis(500),
        max_body: 1024,
        ..HttpConfig::default()
    });
    let a = s.local_addr();
    let _m = s.mount("", echo("root")).unwrap();
    let garbage = http::parse_reply(&http::raw(a, b"\x16\x03\x01\x02\x00garbage\r\n\r\n"));
    assert_eq!(garbage.status, 400, "{}", garbage.text());
    let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    big.resize(20_000, b'a');
    let r = http::parse_reply(&http::raw(a, &big));
    assert_eq!(r.status, 431, "{}", r.text());
    let body = vec![b'x'; 2000];
    assert_eq!(http::request(a, "POST", "/", &[], &body).status, 413);
    let chunked = http::raw(a, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(http::parse_reply(&chunked).status, 400);
    // Half a head, then silence: 408 once the request timeout passes.
    let t = Instant::now();
    let slow = http::parse_reply(&http::raw(a, b"GET / HTTP/1.1\r\nHost:"));
    assert_eq!(slow.status, 408);
    assert!(t.elapsed() < Duration::from_secs(5));
    // A route that panics answers 500 and leaves the server serving.
    let _p = s
        .mount(
            "boom",
            Arc::new(RouteFn(|_: &Request| -> Response { panic!("boom") })),
        )
        .unwrap();
    assert_eq!(http::get(a, "/boom").status, 500);
    assert_eq!(http::get(a, "/ok").status, 200);
}

/// A stream of numbered parts from a fan-out, as MJPEG is.
fn counter_route(f: Arc<Fanout<Arc<Vec<u8>>>>) -> Arc<dyn framecast_http::Route> {
    Arc::new(RouteFn(move |_: &Request| {
        let sub = f.subscribe();
        Response::stream(
            "text/plain",
            Box::new(move |out| {
                while !out.done() {
                    match sub.next(Duration::from_millis(100)) {
                        Next::Item(p) => {
                            if !out.send(&[b"part ", &p, b"\n"]) {
                                return;
                            }
                        }
                        Next::Timeout => {}
                        Next::Closed => return,
                    }
                }
            }),
        )
    }))
}

fn publish_for(f: &Fanout<Arc<Vec<u8>>>, d: Duration) {
    let end = Instant::now() + d;
    let mut i = 0u32;
    while Instant::now() < end {
        f.publish(&Arc::new(i.to_string().into_bytes()));
        i += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_thousand_idle_connections_get_503_past_the_limit_and_a_stream_goes_on() {
    let s = server(HttpConfig {
        max_connections: 32,
        idle_timeout: Duration::from_millis(1500),
        ..HttpConfig::default()
    });
    let a: SocketAddr = s.local_addr();
    let f: Arc<Fanout<Arc<Vec<u8>>>> = Fanout::new();
    let _m = s.mount("live", counter_route(f.clone())).unwrap();
    let _ping = s.mount("ping", echo("ping")).unwrap();
    let mut viewer = http::Stream::open(a, "/live/");
    assert_eq!(viewer.head.status, 200);
    let mut idle = Vec::new();
    for _ in 0..1000 {
        match TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
            Ok(c) => idle.push(c),
            Err(_) => break,
        }
    }
    assert!(idle.len() >= 500, "only {} connections opened", idle.len());
    // The stream keeps flowing meanwhile.
    let before = viewer.read_until_count(b"part ", 1);
    publish_for(&f, Duration::from_millis(300));
    assert!(viewer.read_until_count(b"part ", before + 5) >= before + 5);
    // Those over the limit were refused: a 503 for as many as the
    // refusing threads could answer, closed at once for the rest.
    let (mut refused, mut closed) = (0, 0);
    for c in &mut idle {
        c.set_nonblocking(true).unwrap();
        let mut b = [0u8; 64];
        match c.read(&mut b) {
            Ok(0) => closed += 1,
            Ok(n) if b[..n].starts_with(b"HTTP/1.1 503") => refused += 1,
            _ => {}
        }
    }
    assert!(refused > 0, "no 503 ({closed} closed)");
    assert!(
        refused + closed >= idle.len() - 64,
        "{refused} refused + {closed} closed of {}",
        idle.len()
    );
    drop(idle);
    // Once the idle ones time out or close, new clients are served again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = http::get(a, "/ping");
        if r.status == 200 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    publish_for(&f, Duration::from_millis(200));
    let n = viewer.read_until_count(b"part ", before + 8);
    assert!(n >= before + 8, "the stream stalled at {n}");
}

#[test]
fn a_closed_stream_client_unsubscribes() {
    let s = server(HttpConfig::default());
    let f: Arc<Fanout<Arc<Vec<u8>>>> = Fanout::new();
    let _m = s.mount("live", counter_route(f.clone())).unwrap();
    let v = http::Stream::open(s.local_addr(), "/live/");
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.subscribers() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(f.subscribers(), 1);
    drop(v);
    // Noticed by the stream's `done()` peek within a tick, no frame needed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.subscribers() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(f.subscribers(), 0);
}
