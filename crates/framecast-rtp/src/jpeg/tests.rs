//! Unit tests of the JPEG parser, payloader and depayloader.

use super::*;

#[test]
fn standard_tables_are_consistent() {
    for (_, bits, values) in std_huffman_tables() {
        let n: usize = bits.iter().map(|&b| usize::from(b)).sum();
        assert_eq!(n, values.len());
    }
    // Q = 50 is the unscaled Annex K table.
    assert_eq!(scaled_quant_tables(50)[0], STD_LUMA_QUANT);
    assert_eq!(scaled_quant_tables(50)[1], STD_CHROMA_QUANT);
    assert!(scaled_quant_tables(99)[0].iter().all(|&v| v == 1 || v == 2));
    assert!(scaled_quant_tables(1)[1].iter().all(|&v| v == 255));
}

#[test]
fn rejects_non_jpeg_and_bad_sizes() {
    assert!(parse_jpeg(b"nope").is_err());
    assert!(parse_jpeg(&[0xff, 0xd8, 0xff, 0xd9]).is_err());
    // SOF0 with width 20 (not a multiple of 8).
    let mut j = vec![0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 16, 0, 20, 3];
    j.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    let e = parse_jpeg(&j).unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("multiples of 8"), "{e}");
}
