//! The client side of RTSP: publishing into a server
//! ([`Publisher`], ANNOUNCE/RECORD) and playing from one ([`Player`],
//! DESCRIBE/PLAY), over one control connection ([`Connection`]) whose
//! input is read by the bounded [`MessageReader`].

pub mod connection;
pub mod play;
pub mod publish;
pub mod reader;
pub mod report;
pub mod transport;
pub mod url;

pub use connection::{Connection, SharedWriter};
pub use play::{PlayOptions, Player};
pub use publish::{PublishOptions, Publisher};
pub use reader::{Item, MessageReader, MAX_BODY, MAX_HEAD};
pub use transport::{LowerTransport, RtpOut};
pub use url::RtspUrl;
