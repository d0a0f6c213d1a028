//! The RTP elements: payloaders (`rtph264pay`, `rtpjpegpay`,
//! `rtpvrawpay`, on the [`pay`] base), depayloaders (`rtph264depay`,
//! `rtpjpegdepay`, `rtpvrawdepay`, on the [`depay`] base) and the
//! receiver's `rtpjitterbuffer`. The payload formats themselves live in
//! `framecast-rtp`; these are the elements around them.

pub mod caps;
pub(crate) mod depay;
pub mod header_ext;
pub(crate) mod pay;
pub mod rtph264depay;
pub mod rtph264pay;
pub mod rtpjitterbuffer;
pub mod rtpjpegdepay;
pub mod rtpjpegpay;
pub mod rtpvrawdepay;
pub mod rtpvrawpay;

use crate::pipeline::ElementFactory;

/// Registers the RTP elements.
pub(crate) fn register(factories: &mut Vec<ElementFactory>) {
    push_factories!(factories;
        rtph264depay, rtph264pay, rtpjitterbuffer, rtpjpegdepay, rtpjpegpay, rtpvrawdepay, rtpvrawpay
    );
}
