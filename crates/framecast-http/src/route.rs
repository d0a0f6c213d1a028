//! What a mount serves: the [`Route`] trait.

use crate::{Request, Response};

/// The handler behind a mount prefix. The server has parsed the head, read
/// the body, and checked the token (unless [`public`](Route::public));
/// [`Request::subpath`] is the path under the prefix.
///
/// A route runs on its connection's thread and may block it: a streamed
/// [`Body::Stream`](crate::Body::Stream) holds the thread until it
/// returns. A panic in a route is answered with 500 and closes only that
/// connection.
pub trait Route: Send + Sync {
    /// Answers a request (every method but `OPTIONS`).
    fn handle(&self, req: &Request) -> Response;

    /// Answers `OPTIONS` (a CORS preflight carries no token, so it is never
    /// checked). The default allows the usual methods.
    fn options(&self, _req: &Request) -> Response {
        Response::preflight("GET, HEAD, POST, PATCH, DELETE, OPTIONS")
    }

    /// Whether `req` is served without the server's token (default: no
    /// request is).
    fn public(&self, _req: &Request) -> bool {
        false
    }
}

/// A route from a closure: `Arc::new(RouteFn(|req| ...))`.
pub struct RouteFn<F>(pub F);

impl<F: Fn(&Request) -> Response + Send + Sync> Route for RouteFn<F> {
    fn handle(&self, req: &Request) -> Response {
        (self.0)(req)
    }
}
