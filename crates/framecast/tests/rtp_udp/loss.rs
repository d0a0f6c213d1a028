//! Loss and reordering.

use super::*;

/// What the relay did.
#[derive(Debug, Default)]
struct RelayStats {
    forwarded: u64,
    dropped: u64,
    reordered: u64,
}

/// Forwards datagrams from `rx` to `to` until `stop` and 50 ms with
/// nothing left to read (it drains what is queued first), or 20 s, dropping
/// about 5 % and swapping about 5 % with the next one (a fixed-seed
/// generator, so every run loses the same packets).
fn relay(
    rx: UdpSocket,
    to: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> RelayStats {
    use std::sync::atomic::Ordering;
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % 100
    };
    let mut stats = RelayStats::default();
    let mut held: Option<Vec<u8>> = None;
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let n = match rx.recv(&mut buf) {
            Ok(n) => n,
            Err(_) => {
                if let Some(h) = held.take() {
                    let _ = tx.send_to(&h, ("127.0.0.1", to));
                    stats.forwarded += 1;
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                continue;
            }
        };
        let r = rand();
        if r < 5 {
            stats.dropped += 1;
            continue;
        }
        if r < 10 && held.is_none() {
            held = Some(buf[..n].to_vec());
            stats.reordered += 1;
            continue;
        }
        let _ = tx.send_to(&buf[..n], ("127.0.0.1", to));
        stats.forwarded += 1;
        if let Some(h) = held.take() {
            let _ = tx.send_to(&h, ("127.0.0.1", to));
            stats.forwarded += 1;
        }
    }
    stats
}

#[test]
fn jitterbuffer_reorders_and_counts_loss_behind_a_lossy_relay() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let n: u32 = 100;
    let (rx, port) = start_receiver(&format!(
        "udpsrc name=src port=0 address=127.0.0.1 caps=\"{RAW_RTP_CAPS}\" \
         ! rtpjitterbuffer name=jb latency=30 ! rtpvrawdepay name=depay \
         ! appsink name=sink sync=false max-buffers=0"
    ));
    let relay_in = UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay_port = relay_in.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let relay_thread = {
        let stop = stop.clone();
        std::thread::spawn(move || relay(relay_in, port, stop))
    };
    let tx = sender(
        n,
        "video/x-raw,format=I420,width=64,height=48,framerate=100/1",
        &format!("rtpvrawpay ! udpsink host=127.0.0.1 port={relay_port}"),
    );
    tx.set_state(State::Playing).unwrap();
    let sent = pull(&tx, "ref", n as usize, Duration::from_secs(10));
    wait_eos(&tx, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let stats = relay_thread.join().expect("relay");
    let got = pull(&rx, "sink", n as usize, Duration::from_millis(500));
    let jb = element(&rx, "jb");
    let depay = element(&rx, "depay");
    let lost = uint(&jb, "num-lost");
    eprintln!(
        "relay {stats:?}; jitterbuffer pushed {} lost {lost} late {} dup {}; depay frames {} lost {}",
        uint(&jb, "num-pushed"),
        uint(&jb, "num-late"),
        uint(&jb, "num-duplicates"),
        uint(&depay, "frames-out"),
        uint(&depay, "packets-lost"),
    );
    assert!(stats.dropped > 0 && stats.reordered > 0, "{stats:?}");
    // Every drop but a trailing one is declared lost; reordered packets
    // are put back, not counted as lost or late.
    assert!(
        lost > 0 && lost <= stats.dropped,
        "lost {lost}, relay {stats:?}"
    );
    assert!(lost + 2 >= stats.dropped, "lost {lost}, relay {stats:?}");
    assert_eq!(uint(&jb, "num-late"), 0);
    assert_eq!(uint(&depay, "packets-lost"), lost);
    // Frames keep coming after losses, and complete ones are exact.
    let sent = by_counter(&sent);
    let mut complete = 0;
    let mut last_frame = 0;
    for (b, c) in &got {
        if b.flags().contains(BufferFlags::CORRUPTED) {
            continue;
        }
        let info = info_of(c);
        let stamp = decode_counter_buffer(b, &info).expect("complete frame has its stamp");
        assert!(
            sent[&stamp.frame] == visible(b, &info),
            "frame {} differs",
            stamp.frame
        );
        complete += 1;
        last_frame = last_frame.max(stamp.frame);
    }
    assert!(
        complete >= n as usize / 2,
        "{complete} complete frames of {n}"
    );
    assert!(
        last_frame >= u64::from(n) - 10,
        "frames resumed up to {last_frame}"
    );
    assert_no_error(&rx);
    tx.set_state(State::Null).unwrap();
    rx.set_state(State::Null).unwrap();
}
