//! Serving JPEG over RTSP allocates nothing per frame once warm:
//! `appsrc caps=image/jpeg ! rtspserversink`, each picture cut into RFC
//! 2435 packets once into the mount's pooled frames and sent to a UDP
//! viewer (a raw RTSP client here, reading into a stack buffer), 200
//! frames with no heap allocation on any thread. The pictures are one
//! JPEG encoded beforehand and copied into pooled buffers: `jpegenc`
//! itself allocates per image (its encoder's working buffers, see
//! `codecs_zero_alloc`), the serving path must not. This binary holds
//! this one test so nothing else allocates meanwhile.

use std::net::UdpSocket;
use std::time::Duration;

use framecast::elements::{appsink::AppSink, appsrc::AppSrc};
use framecast::{BufferPool, PoolConfig, State};

use framecast_test_support::alloc as counting_alloc;
#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;
use framecast_test_support::frames::wait_access_unit;
use framecast_test_support::pipelines::{element, launch};
use framecast_test_support::ports::free_tcp_port;
use framecast_test_support::rtsp_viewers::{connect, play, session_of, setup};

/// One 320x240 JPEG picture, from `jpegenc`.
fn one_jpeg() -> Vec<u8> {
    let p = launch(
        "testsrc num-buffers=1 ! video/x-raw,format=I420,width=320,height=240 \
         ! jpegenc ! appsink name=sink",
    );
    p.set_state(State::Playing).unwrap();
    let sink = element(&p, "sink");
    let sample = AppSink::from_element(&sink)
        .expect("appsink")
        .pull_sample(Some(Duration::from_secs(10)))
        .expect("a JPEG");
    let bytes = sample
        .buffer
        .map_readable()
        .expect("map")
        .contiguous()
        .to_vec();
    p.set_state(State::Null).unwrap();
    bytes
}

#[test]
fn serving_jpeg_allocates_nothing_per_frame() {
    let jpeg = one_jpeg();
    let pool = BufferPool::new();
    pool.set_config(PoolConfig::new(jpeg.len(), 4, 0)).unwrap();
    pool.set_active(true).unwrap();
    let port = free_tcp_port();
    let p = launch(&format!(
        "appsrc name=src is-live=true do-timestamp=true \
         caps=image/jpeg,width=320,height=240,framerate=30/1 \
         ! rtspserversink port={port} path=cam"
    ));
    p.set_state(State::Playing).unwrap();
    let src = element(&p, "src");
    let appsrc = AppSrc::from_element(&src).expect("appsrc");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let send = |from: u64, count: u64| {
        let mut packets = 0;
        for n in from..from + count {
            let mut buffer = pool.acquire().expect("pooled buffer");
            buffer
                .get_mut()
                .expect("unique")
                .map_writable()
                .expect("map")
                .copy_from_slice(&jpeg);
            appsrc.push_buffer(buffer).expect("push");
            packets += wait_access_unit(&udp, n);
            std::thread::sleep(Duration::from_millis(8));
        }
        packets
    };
    let url = format!("rtsp://127.0.0.1:{port}/cam");
    let mut rtsp = connect(&url);
    let u = udp.local_addr().unwrap().port();
    let answer = setup(
        &mut rtsp,
        &url,
        &format!("RTP/AVP;unicast;client_port={u}-{}", u + 1),
    );
    assert!(play(&mut rtsp, &url, &session_of(&answer)).starts_with("RTSP/1.0 200"));
    send(0, 100);
    let before = counting_alloc::allocations();
    let packets = send(100, 200);
    let allocations = counting_alloc::allocations() - before;
    p.set_state(State::Null).unwrap();
    assert!(packets >= 200, "{packets} packets");
    assert_eq!(
        allocations, 0,
        "heap allocations while serving 200 steady-state JPEG frames"
    );
}
