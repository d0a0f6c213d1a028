//! An embedded HTTP/1.1 server for framecast.
//!
//! One listening socket per address in a process, shared by any number of
//! mounts: the dashboard at `/`, a stream's viewer page and MJPEG at
//! `/<path>/`, WHEP at `/<path>/whep`. A mount is a path prefix and a
//! [`Route`]; [`HttpServer::mount`] adds one and the returned [`Mounted`]
//! removes it when dropped.
//!
//! ```no_run
//! use std::sync::Arc;
//! use framecast_http::{HttpConfig, HttpServer, Response, RouteFn};
//! let server = HttpServer::bind("127.0.0.1:8080".parse().unwrap(), HttpConfig::default())?;
//! let _hello = server.mount("hello", Arc::new(RouteFn(|_req: &framecast_http::Request| {
//!     Response::text(200, "hello")
//! })))?;
//! # Ok::<(), framecast_http::Error>(())
//! ```
//!
//! # What the server does for every route
//!
//! - parses the head with `httparse`, capped at [`head::MAX_HEAD`] (8 KiB:
//!   431 past it), garbage 400, a head or body slower than the request
//!   timeout 408, a body over the limit 413, `Transfer-Encoding` 400;
//! - bounds connections ([`HttpConfig::max_connections`]: 503 past it),
//!   closes idle kept-alive ones;
//! - checks the Bearer token (`Authorization: Bearer T` or
//!   `?access_token=T`), 401 without it, except `OPTIONS` and what a route
//!   calls [`public`](Route::public); a server bound beyond loopback
//!   without a token generates one and prints it;
//! - adds CORS (`Access-Control-Allow-Origin: *`, the allowed and exposed
//!   headers) to every answer;
//! - answers a panicking route with 500.
//!
//! Long-lived answers ([`Response::stream`]: multipart MJPEG, server-sent
//! events) write through a [`StreamOut`] and flush per part; a producer
//! feeds each client through a [`Fanout`], one latest-wins slot per
//! subscriber, so a slow tab only loses its own frames.

pub mod connection;
pub mod dashboard;
mod error;
mod fanout;
pub mod head;
mod request;
mod response;
mod route;
mod server;
pub mod stats;
mod stream;
pub mod token;
pub mod viewer;

pub use error::{Error, Result};
pub use fanout::{Fanout, Next, Subscriber};
pub use request::Request;
pub use response::{etag, if_match, reason, Body, Response, StreamBody};
pub use route::{Route, RouteFn};
pub use server::{parse_addr, HttpConfig, HttpServer, Mounted, DEFAULT_MAX_CONNECTIONS};
pub use stream::{StreamOut, WRITE_TIMEOUT};
