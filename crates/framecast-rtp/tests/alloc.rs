//! The payloaders allocate nothing per packet, and the depayloaders
//! nothing per packet once warm: counted on this thread by the counting
//! global allocator of framecast-test-support, installed for this test
//! binary.

mod common;

use framecast_rtp::*;

use framecast_test_support::alloc::{allocations_in as allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn h264_steady_state_allocates_nothing() {
    let mut idr = vec![0x65];
    idr.extend((0..20_000).map(|i| (i % 200 + 1) as u8));
    let mut au = vec![
        0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1,
    ];
    au.extend(&idr);
    let p_slice: Vec<u8> = [0, 0, 0, 1, 0x41]
        .iter()
        .copied()
        .chain((0..5000).map(|i| (i % 7 + 1) as u8))
        .collect();
    let mut pay = H264Payloader::new(H264PayloaderConfig::default()).unwrap();
    let mut depay = H264Depayloader::default();
    let mut slot = vec![0u8; 1400];
    let mut run = |pay: &mut H264Payloader, depay: &mut H264Depayloader, frames: u32| {
        let mut n = 0;
        for i in 0..frames {
            let data: &[u8] = if i % 10 == 0 { &au } else { &p_slice };
            let mut pk = pay.packetize(NalUnits::AnnexB(data), i * 3000).unwrap();
            while let Some(m) = pk.next_into(&mut slot).unwrap() {
                depay
                    .push(&RtpPacket::parse(&slot[..m.len]).unwrap())
                    .unwrap();
                n += 1;
            }
            while let Some(a) = depay.pull() {
                assert!(!a.data.is_empty());
            }
        }
        n
    };
    run(&mut pay, &mut depay, 20); // warm up: caches and reusable buffers
    let mut packets = 0;
    let count = allocations(|| packets = run(&mut pay, &mut depay, 100));
    assert!(packets > 500);
    assert_eq!(count, 0, "{count} allocations for {packets} packets");
}

#[test]
fn jpeg_and_raw_payloaders_allocate_nothing() {
    let (w, h) = (320, 240);
    let y = vec![16u8; w * h];
    let c = vec![128u8; w * h / 4];
    let planes = [
        Plane {
            data: &y,
            stride: w,
        },
        Plane {
            data: &c,
            stride: w / 2,
        },
        Plane {
            data: &c,
            stride: w / 2,
        },
    ];
    let mut pay = RawPayloader::new(RawPayloaderConfig::new(RawFormat::I420, w, h)).unwrap();
    let mut depay = RawDepayloader::new(RawFormat::I420, w, h).unwrap();
    let (mut oy, mut ou, mut ov) = (vec![0u8; w * h], vec![0u8; w * h / 4], vec![0u8; w * h / 4]);
    let mut slot = vec![0u8; 1400];
    let count = allocations(|| {
        for f in 0..3u32 {
            let mut pk = pay.packetize(&planes, f * 3000).unwrap();
            while let Some(m) = pk.next_into(&mut slot).unwrap() {
                let mut out = [
                    PlaneMut {
                        data: &mut oy,
                        stride: w,
                    },
                    PlaneMut {
                        data: &mut ou,
                        stride: w / 2,
                    },
                    PlaneMut {
                        data: &mut ov,
                        stride: w / 2,
                    },
                ];
                depay
                    .push(&RtpPacket::parse(&slot[..m.len]).unwrap(), &mut out)
                    .unwrap();
            }
        }
    });
    assert_eq!(count, 0);
    assert_eq!(oy, y);

    let jpeg = {
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(
                &vec![90u8; 64 * 64 * 3],
                64,
                64,
                jpeg_encoder::ColorType::Rgb,
            )
            .unwrap();
        out
    };
    let mut pay = JpegPayloader::new(JpegPayloaderConfig {
        mtu: 300,
        ..Default::default()
    })
    .unwrap();
    let mut depay = JpegDepayloader::new();
    let mut run = |pay: &mut JpegPayloader, depay: &mut JpegDepayloader, n: u32| {
        for f in 0..n {
            let mut pk = pay.packetize(&jpeg, f * 3000).unwrap();
            while let Some(m) = pk.next_into(&mut slot).unwrap() {
                let _ = depay
                    .push(&RtpPacket::parse(&slot[..m.len]).unwrap())
                    .unwrap();
            }
        }
    };
    run(&mut pay, &mut depay, 2);
    assert_eq!(allocations(|| run(&mut pay, &mut depay, 10)), 0);
    assert_eq!(depay.stats().frames, 12);
}
