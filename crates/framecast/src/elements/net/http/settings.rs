//! `httpserversink`'s writable properties. Unset ones (`None`) take the
//! defaults named here when the sink starts.

use crate::pipeline::base::{integer, Settings};
use crate::pipeline::{PropertySpec, PropertyValue};

/// Default port.
pub const PORT: u16 = 8080;
/// Default path.
pub const PATH: &str = "stream";
/// Default JPEG quality for raw input.
pub const QUALITY: u8 = 80;

const ADDRESS_DOC: &str =
    "Address to listen on (loopback unless given; beyond it a token is needed)";
const PATH_DOC: &str = "Path of the stream: http://address:port/PATH/";
const TOKEN_DOC: &str = "Bearer token viewers must send (generated when bound beyond loopback)";
/// The `max-connections` property's blurb (`whepsink` has it too).
pub(crate) const MAX_DOC: &str = "Most HTTP connections at once (more get 503)";

/// What the properties hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpServerSinkSettings {
    pub(crate) address: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) path: Option<String>,
    pub(crate) quality: Option<u8>,
    pub(crate) token: Option<String>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) no_dashboard: bool,
}

impl Settings for HttpServerSinkSettings {
    fn properties() -> Vec<PropertySpec> {
        let max = framecast_http::DEFAULT_MAX_CONNECTIONS as u64;
        vec![
            PropertySpec::string("address", ADDRESS_DOC, Some("127.0.0.1")),
            PropertySpec::int("port", "HTTP port to listen on", 0..=65_535, PORT as i64),
            PropertySpec::string("path", PATH_DOC, Some(PATH)),
            PropertySpec::uint(
                "quality",
                "JPEG quality for raw input",
                1..=100,
                QUALITY as u64,
            ),
            PropertySpec::string("token", TOKEN_DOC, None),
            PropertySpec::uint("max-connections", MAX_DOC, 1..=65_536, max),
            PropertySpec::bool("dashboard", "Serve the live dashboard at /", true),
        ]
    }

    fn set(&mut self, name: &str, value: &PropertyValue) -> bool {
        fn text(v: &PropertyValue) -> Option<&str> {
            match v {
                PropertyValue::String(s) => s.as_deref().map(str::trim).filter(|s| !s.is_empty()),
                _ => None,
            }
        }
        match (name, value) {
            ("address", v) => self.address = text(v).map(String::from),
            ("path", v) => self.path = text(v).map(String::from),
            ("token", v) => self.token = text(v).map(String::from),
            ("port", v) => return integer(v).map(|n| self.port = Some(n)).is_some(),
            ("quality", v) => return integer(v).map(|n| self.quality = Some(n)).is_some(),
            ("max-connections", v) => {
                return integer(v).map(|n| self.max_connections = Some(n)).is_some()
            }
            ("dashboard", PropertyValue::Bool(b)) => self.no_dashboard = !b,
            _ => return false,
        }
        true
    }
}
