//! `udpsink`'s writable properties, typed (the `Settings` pattern of
//! `pipeline/base/settings.rs`).

use super::*;

/// `udpsink`'s writable properties.
#[derive(Debug, Clone)]
pub(crate) struct UdpSinkSettings {
    /// `host` and `port`, or `clients` (`host:port,...`) when set; all
    /// three may change while playing.
    pub(super) host: Option<String>,
    pub(super) port: u16,
    pub(super) clients: Option<String>,
    /// `ttl`, `ttl-mc`: unicast and multicast TTL.
    pub(super) ttl: u8,
    pub(super) ttl_mc: u8,
    /// `loop`: multicast loopback.
    pub(super) looped: bool,
    pub(super) multicast_iface: Option<String>,
    /// `buffer-size`: socket send buffer (0 = the kernel's default).
    pub(super) buffer_size: i64,
    pub(super) bind_address: Option<String>,
    pub(super) bind_port: u16,
    pub(super) sdp_file: Option<String>,
    /// `rtcp`: sender reports to port+1 of every client.
    pub(super) rtcp: bool,
    /// `rtx-payload-type` (0: no retransmission) and `rtx-history`.
    pub(super) rtx_pt: u8,
    pub(super) rtx_history: usize,
    /// `fec-group` (0: none) and `fec-payload-type`.
    pub(super) fec_group: u8,
    pub(super) fec_pt: u8,
}

impl Default for UdpSinkSettings {
    fn default() -> Self {
        UdpSinkSettings {
            host: Some("localhost".into()),
            port: 5004,
            clients: None,
            ttl: 64,
            ttl_mc: 1,
            looped: true,
            multicast_iface: None,
            buffer_size: 0,
            bind_address: None,
            bind_port: 0,
            sdp_file: None,
            rtcp: true,
            rtx_pt: 0,
            rtx_history: 1024,
            fec_group: 0,
            fec_pt: FEC_PAYLOAD_TYPE,
        }
    }
}

impl Settings for UdpSinkSettings {
    /// The string defaults are written here as the literals
    /// [`UdpSinkSettings::default`] holds (`PropertySpec` takes `&'static
    /// str`).
    #[rustfmt::skip]
    fn properties() -> Vec<PropertySpec> {
        let d = UdpSinkSettings::default();
        vec![
            PropertySpec::string("host", "The host/IP/multicast group to send to", Some("localhost")).mutable_in_playing(),
            PropertySpec::int("port", "The port to send to", 0..=65_535, i64::from(d.port)).mutable_in_playing(),
            PropertySpec::string("clients", "Clients as host:port,host:port (replaces host and port when set)", None).mutable_in_playing(),
            PropertySpec::int("ttl", "Unicast TTL", 0..=255, i64::from(d.ttl)),
            PropertySpec::int("ttl-mc", "Multicast TTL", 0..=255, i64::from(d.ttl_mc)),
            PropertySpec::bool("loop", "Multicast loopback (receivers on this host hear it)", d.looped),
            PropertySpec::string("multicast-iface", "Interface to send multicast out of: a name (lo, eth0) or an IPv4 address on it (default: the routing table's)", None),
            PropertySpec::int("buffer-size", "Socket send buffer in bytes (0 = the kernel's default)", 0..=i64::from(i32::MAX), d.buffer_size),
            PropertySpec::string("bind-address", "Local address to send from (default: any)", None),
            PropertySpec::int("bind-port", "Local port to send from (0 = any)", 0..=65_535, i64::from(d.bind_port)),
            PropertySpec::string("sdp-file", "Write the SDP of the stream to this file (for ffplay, VLC, GStreamer)", None),
            PropertySpec::bool("rtcp", "Send RTCP sender reports to port+1 of every client about once a second", d.rtcp),
            PropertySpec::uint("rtx-payload-type", "Answer RTCP NACKs with RTX (RFC 4588) on this payload type (0: no retransmission)", 0..=127, u64::from(d.rtx_pt)),
            PropertySpec::uint("rtx-history", "Packets kept for retransmission", 16..=32768, d.rtx_history as u64),
            PropertySpec::uint("fec-group", "Forward error correction (ULPFEC, RFC 5109): one parity packet per this many media \
                 packets, and at the end of every frame (0: none; 10 = 10 % overhead); for links \
                 without feedback", 0..=48, u64::from(d.fec_group)),
            PropertySpec::uint("fec-payload-type", "Payload type of the FEC packets (sent on their own SSRC)", 1..=127, u64::from(d.fec_pt)),
        ]
    }

    fn set(&mut self, name: &str, value: &PropertyValue) -> bool {
        let string = |v: &PropertyValue| match v {
            PropertyValue::String(s) => Some(s.clone()),
            _ => None,
        };
        let done = match name {
            "host" => string(value).map(|s| self.host = s),
            "port" => integer(value).map(|n| self.port = n),
            "clients" => string(value).map(|s| self.clients = s),
            "ttl" => integer(value).map(|n| self.ttl = n),
            "ttl-mc" => integer(value).map(|n| self.ttl_mc = n),
            "loop" => value.as_bool().map(|b| self.looped = b),
            "multicast-iface" => string(value).map(|s| self.multicast_iface = s),
            "buffer-size" => value.as_i64().map(|n| self.buffer_size = n),
            "bind-address" => string(value).map(|s| self.bind_address = s),
            "bind-port" => integer(value).map(|n| self.bind_port = n),
            "sdp-file" => string(value).map(|s| self.sdp_file = s),
            "rtcp" => value.as_bool().map(|b| self.rtcp = b),
            "rtx-payload-type" => integer(value).map(|n| self.rtx_pt = n),
            "rtx-history" => integer(value).map(|n| self.rtx_history = n),
            "fec-group" => integer(value).map(|n| self.fec_group = n),
            "fec-payload-type" => integer(value).map(|n| self.fec_pt = n),
            _ => None,
        };
        done.is_some()
    }
}
