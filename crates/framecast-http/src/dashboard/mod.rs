//! The dashboard: one page that watches a running framecast program —
//! live objects per type and by creation site (the leaks tracer),
//! checkpoints, pools, queues, per-pad rates, latency per stage, and what
//! the streaming sinks register (viewers, loss, RTT) — with its JSON API,
//! Prometheus metrics and a server-sent event stream.
//!
//! | route | answers |
//! |---|---|
//! | `GET /` | the page ([`PAGE`], shipped in the binary: no CDN, no build step) |
//! | `GET /api/stats` | [`api::stats`] as JSON |
//! | `GET /api/objects?limit=N` | [`api::objects`]: groups by (type, site), counts, ages |
//! | `POST /api/checkpoint` | [`api::checkpoint`]: starts tracking, then the diff since the last (as SIGUSR2) |
//! | `GET /metrics` | [`metrics::text`], Prometheus text format |
//! | `GET /api/events?limit=N` | `text/event-stream`: an `update` event ([`api::event`]) each second |
//!
//! [`Dashboard::start`] mounts it at the root of a server (any other
//! mount, like `/<path>/` of a stream, takes precedence for its prefix)
//! and switches on the tracers it reads if none is active.

pub mod api;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framecast_core::trace;

use crate::{HttpConfig, HttpServer, Mounted, Request, Response, Route, StreamOut};

/// The page, shipped inside the binary.
pub const PAGE: &str = include_str!("page.html");

/// How often `/api/events` pushes.
pub const EVENT_INTERVAL: Duration = Duration::from_secs(1);

/// The environment variable that starts the dashboard in any program
/// using framecast (`FRAMECAST_DASHBOARD=127.0.0.1:8080`).
pub const DASHBOARD_ENV: &str = "FRAMECAST_DASHBOARD";

/// The environment variable with the dashboard's token
/// (`FRAMECAST_DASHBOARD_TOKEN`), for [`DASHBOARD_ENV`].
pub const DASHBOARD_TOKEN_ENV: &str = "FRAMECAST_DASHBOARD_TOKEN";

/// The dashboard's route (mounted at `""`).
#[derive(Debug, Default)]
pub struct DashboardRoute;

fn limit(req: &Request) -> usize {
    req.query_param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(api::DEFAULT_GROUPS)
}

impl Route for DashboardRoute {
    fn handle(&self, req: &Request) -> Response {
        let path = req.path().trim_end_matches('/');
        match (req.method(), path) {
            ("GET" | "HEAD", "") => Response::html(PAGE),
            ("GET" | "HEAD", "/api/stats") => Response::json(api::stats().to_string()),
            ("GET" | "HEAD", "/api/objects") => {
                Response::json(api::objects(limit(req)).to_string())
            }
            ("POST", "/api/checkpoint") => match api::checkpoint() {
                Ok(v) => Response::json(v.to_string()),
                Err(e) => Response::text(409, e),
            },
            ("GET" | "HEAD", "/metrics") => Response::new(200)
                .header("Content-Type", metrics::CONTENT_TYPE)
                .body(metrics::text().into_bytes()),
            ("GET", "/api/events") => {
                let n = limit(req);
                Response::stream("text/event-stream", Box::new(move |out| events(out, n)))
            }
            (m, "" | "/api/stats" | "/api/objects" | "/metrics" | "/api/events") => {
                Response::method_not_allowed(m, "GET, HEAD")
            }
            (m, "/api/checkpoint") => Response::method_not_allowed(m, "POST"),
            _ => Response::not_found(req.path()),
        }
    }
}

/// Pushes an `update` event each [`EVENT_INTERVAL`] until the client goes.
fn events(out: &mut StreamOut, limit: usize) {
    // Tell EventSource to reconnect after 2 s if the stream drops.
    if !out.send(&[b"retry: 2000\n\n"]) {
        return;
    }
    let mut next = Instant::now();
    while !out.done() {
        if Instant::now() >= next {
            let data = api::event(limit).to_string();
            if !out.send(&[b"event: update\ndata: ", data.as_bytes(), b"\n\n"]) {
                return;
            }
            next += EVENT_INTERVAL;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running dashboard: the server and its root mount. Dropping it
/// unmounts the page (the server stays while other mounts use it).
#[derive(Debug)]
pub struct Dashboard {
    mounted: Mounted,
}

impl Dashboard {
    /// Serves the dashboard at the root of the HTTP server on `addr` (the
    /// running one if this process has it), with `config` for a new server.
    /// Starts a leaks tracer (`dashboard-leaks`, silent at exit), a stats
    /// and a latency tracer if none of each kind is active: objects made
    /// before this call are not tracked, so start it early (or set
    /// `FRAMECAST_TRACERS` as well).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound, or the root is mounted already.
    pub fn start(addr: SocketAddr, config: HttpConfig) -> crate::Result<Dashboard> {
        Dashboard::mount(&HttpServer::bind(addr, config)?)
    }

    /// Serves the dashboard at the root of `server` (tracers as
    /// [`start`](Dashboard::start)).
    ///
    /// # Errors
    ///
    /// [`PathTaken`](crate::Error::PathTaken) when the root is mounted
    /// already.
    pub fn mount(server: &Arc<HttpServer>) -> crate::Result<Dashboard> {
        let mounted = server.mount("", Arc::new(DashboardRoute))?;
        ensure_tracers();
        Ok(Dashboard { mounted })
    }

    /// Starts it from [`DASHBOARD_ENV`] (and [`DASHBOARD_TOKEN_ENV`]);
    /// `Ok(None)` when the variable is unset or empty.
    ///
    /// # Errors
    ///
    /// A bad address, or one that cannot be bound.
    pub fn from_env() -> crate::Result<Option<Dashboard>> {
        let Ok(addr) = std::env::var(DASHBOARD_ENV) else {
            return Ok(None);
        };
        if addr.trim().is_empty() {
            return Ok(None);
        }
        let config = HttpConfig {
            token: std::env::var(DASHBOARD_TOKEN_ENV)
                .ok()
                .filter(|t| !t.is_empty()),
            ..HttpConfig::default()
        };
        Dashboard::start(crate::parse_addr(addr.trim())?, config).map(Some)
    }

    /// The server.
    pub fn server(&self) -> &Arc<HttpServer> {
        self.mounted.server()
    }

    /// The page's URL (with the token, if the server has one).
    pub fn url(&self) -> String {
        self.mounted.url()
    }
}

/// Switches on the tracers the dashboard reads, where none of the kind is.
fn ensure_tracers() {
    let mut spec = Vec::new();
    if trace::leaks().is_none() {
        spec.push("leaks(name=dashboard-leaks,log-leaks-on-deinit=false)");
    }
    if trace::stats().is_none() {
        spec.push("stats(name=dashboard-stats,log-on-deinit=false)");
    }
    if trace::latency().is_none() {
        spec.push("latency(name=dashboard-latency,log-on-deinit=false)");
    }
    if !spec.is_empty() {
        if let Err(e) = trace::start(&spec.join(";")) {
            eprintln!("framecast dashboard: could not start its tracers: {e}");
        }
    }
}
