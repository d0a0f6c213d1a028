//! Comparing pictures that went through a lossy codec.

/// Peak signal-to-noise ratio of `b` against `a` in dB, for 8-bit
/// samples (`INFINITY` when they are equal): how close a decoded picture
/// is to what was encoded. Panics when the lengths differ.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}
