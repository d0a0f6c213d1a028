//! `udpsink`'s writable properties, typed (the `Settings` pattern of
//! `pipeline/base/settings.rs`).

use super::*;
use crate::pipeline::base::settings;

settings! {
    /// `udpsink`'s writable properties.
    #[derive(Debug, Clone)]
    pub(crate) struct UdpSinkSettings {
        /// `host` and `port`, or `clients` (`host:port,...`) when set; all
        /// three may change while playing.
        pub(super) host: Option<String> => PropertySpec::string("host", "The host/IP/multicast group to send to", Some("localhost")).mutable_in_playing(),
        pub(super) port: u16 => PropertySpec::int("port", "The port to send to", 0..=65_535, 5004).mutable_in_playing(),
        pub(super) clients: Option<String> => PropertySpec::string("clients", "Clients as host:port,host:port (replaces host and port when set)", None).mutable_in_playing(),
        /// `ttl`, `ttl-mc`: unicast and multicast TTL.
        pub(super) ttl: u8 => PropertySpec::int("ttl", "Unicast TTL", 0..=255, 64),
        pub(super) ttl_mc: u8 => PropertySpec::int("ttl-mc", "Multicast TTL", 0..=255, 1),
        /// `loop`: multicast loopback.
        pub(super) looped: bool => PropertySpec::bool("loop", "Multicast loopback (receivers on this host hear it)", true),
        pub(super) multicast_iface: Option<String> => PropertySpec::string("multicast-iface", "Interface to send multicast out of: a name (lo, eth0) or an IPv4 address on it (default: the routing table's)", None),
        /// `buffer-size`: socket send buffer (0 = the kernel's default).
        pub(super) buffer_size: i64 => PropertySpec::int("buffer-size", "Socket send buffer in bytes (0 = the kernel's default)", 0..=i64::from(i32::MAX), 0),
        pub(super) bind_address: Option<String> => PropertySpec::string("bind-address", "Local address to send from (default: any)", None),
        pub(super) bind_port: u16 => PropertySpec::int("bind-port", "Local port to send from (0 = any)", 0..=65_535, 0),
        pub(super) sdp_file: Option<String> => PropertySpec::string("sdp-file", "Write the SDP of the stream to this file (for ffplay, VLC, GStreamer)", None),
        /// `rtcp`: sender reports to port+1 of every client.
        pub(super) rtcp: bool => PropertySpec::bool("rtcp", "Send RTCP sender reports to port+1 of every client about once a second", true),
        /// `rtx-payload-type` (0: no retransmission) and `rtx-history`.
        pub(super) rtx_pt: u8 => PropertySpec::uint("rtx-payload-type", "Answer RTCP NACKs with RTX (RFC 4588) on this payload type (0: no retransmission)", 0..=127, 0),
        pub(super) rtx_history: usize => PropertySpec::uint("rtx-history", "Packets kept for retransmission", 16..=32768, 1024),
        /// `fec-group` (0: none) and `fec-payload-type`.
        pub(super) fec_group: u8 => PropertySpec::uint("fec-group", "Forward error correction (ULPFEC, RFC 5109): one parity packet per this many media \
            packets, and at the end of every frame (0: none; 10 = 10 % overhead); for links \
            without feedback", 0..=48, 0),
        pub(super) fec_pt: u8 => PropertySpec::uint("fec-payload-type", "Payload type of the FEC packets (sent on their own SSRC)", 1..=127, u64::from(FEC_PAYLOAD_TYPE)),
    }
}
