//! What the fuzz targets share.

/// The datagrams of a fuzz input, each behind a one-byte length (a length
/// past the end takes what is left): one input drives a whole stream.
pub fn datagrams(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (&n, tail) = data.split_first()?;
        let (datagram, next) = tail.split_at(usize::from(n).min(tail.len()));
        data = next;
        Some(datagram)
    })
}
