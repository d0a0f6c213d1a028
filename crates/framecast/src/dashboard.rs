//! The live dashboard in any program using framecast: set
//! `FRAMECAST_DASHBOARD=127.0.0.1:8080` (read by [`init`](crate::init)),
//! or call [`start`]. The page at `http://ADDR:PORT/` shows the live
//! objects by creation site, checkpoints, pools, queues, rates and
//! latency; see [`framecast_http::dashboard`] for its routes.

use framecast_core::sync::MutexExt;
use std::sync::Mutex;

pub use framecast_http::dashboard::{Dashboard, DASHBOARD_ENV, DASHBOARD_TOKEN_ENV};

use crate::{Error, Result};

/// Dashboards started by [`start`] and the environment: they live as long
/// as the process.
static RUNNING: Mutex<Vec<Dashboard>> = Mutex::new(Vec::new());

fn error(what: &str, value: &str, e: framecast_http::Error) -> Error {
    Error::InvalidPropertyValue {
        element: "dashboard".into(),
        property: what.into(),
        value: value.to_string(),
        reason: e.to_string(),
    }
}

/// Serves the dashboard on `addr` (`ADDR:PORT`) for the rest of the
/// process, `token` required when given (one is generated and printed
/// when `addr` is beyond loopback). Returns the page's URL. Starts the
/// leaks, stats and latency tracers if none is active: objects made
/// before are not counted, so call it early.
///
/// # Errors
///
/// A bad address, one that cannot be bound, or a server whose root is
/// taken already.
pub fn start(addr: &str, token: Option<&str>) -> Result<String> {
    let a = framecast_http::parse_addr(addr).map_err(|e| error("address", addr, e))?;
    let config = framecast_http::HttpConfig {
        token: token.map(str::to_string),
        ..Default::default()
    };
    let d = Dashboard::start(a, config).map_err(|e| error("address", addr, e))?;
    let url = d.url();
    RUNNING.locked().push(d);
    Ok(url)
}

/// Starts the dashboard [`DASHBOARD_ENV`] names, if set; prints its URL.
pub(crate) fn from_env() -> Result<()> {
    static DONE: std::sync::Once = std::sync::Once::new();
    let mut result = Ok(());
    DONE.call_once(|| {
        result = match Dashboard::from_env() {
            Ok(Some(d)) => {
                eprintln!("framecast: dashboard at {}", d.url());
                RUNNING.locked().push(d);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(error(
                DASHBOARD_ENV,
                &std::env::var(DASHBOARD_ENV).unwrap_or_default(),
                e,
            )),
        };
    });
    result
}
