//! The MJPEG fan-out allocates nothing per frame once warm: a stream
//! with two viewers on real sockets (raw clients reading into stack
//! buffers, so the test's own side allocates nothing either) takes 200
//! frames with no heap allocation on any thread — publishing clones a
//! reference into each viewer's slot, the part header is formatted on the
//! stack, the connection writes straight from the frame. This binary
//! holds this one test so nothing else allocates meanwhile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast_http::viewer::{MjpegStream, ServedStream};
use framecast_http::{HttpConfig, HttpServer};
use framecast_test_support::alloc as counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// A viewer reading everything into a stack buffer, counting bytes.
fn viewer(
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /cam/mjpeg HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while !stop.load(Ordering::Relaxed) {
            if let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    return;
                }
                bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    })
}

#[test]
fn the_mjpeg_fan_out_allocates_nothing_per_frame_once_warm() {
    let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), HttpConfig::default()).unwrap();
    let stream: Arc<MjpegStream<Arc<Vec<u8>>>> = MjpegStream::new("cam");
    let _served = ServedStream::mount(&server, stream.clone()).unwrap();
    let frames: Vec<Arc<Vec<u8>>> = (0..3u8).map(|i| Arc::new(vec![i; 20_000])).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Vec<Arc<AtomicU64>> = (0..2).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let threads: Vec<_> = counts
        .iter()
        .map(|c| viewer(server.local_addr(), stop.clone(), c.clone()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while stream.viewers() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stream.viewers(), 2);
    let run = |n: usize| {
        for i in 0..n {
            stream.publish(&frames[i % frames.len()]);
            std::thread::sleep(Duration::from_millis(5));
        }
        // Let the viewers take the last one.
        std::thread::sleep(Duration::from_millis(100));
    };
    run(30);
    let before: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let allocs = counting_alloc::allocations();
    run(200);
    let during = counting_alloc::allocations() - allocs;
    let after: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    for (b, a) in before.iter().zip(&after) {
        // Most of 200 frames of 20 kB reached each viewer.
        assert!(a - b > 100 * 20_000, "a viewer got {} bytes", a - b);
    }
    assert_eq!(
        during, 0,
        "{during} allocations over 200 frames to 2 viewers"
    );
}
