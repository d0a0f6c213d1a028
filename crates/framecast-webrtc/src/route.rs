//! WHEP on framecast-http: [`WhepRoute`] serves a [`Whep`] endpoint under
//! a mount (`/<path>/whep`), and publishes its viewers' figures on
//! `/api/stats` and `/metrics` as the `whep:/<path>` source.
//!
//! The server has checked the Bearer token (RFC 9725 section 4.5 — in the
//! `Authorization` header, or `?access_token=` for pages) and adds CORS; the
//! route maps the request onto [`Whep::handle`], the CORS preflight
//! included (its `Accept-Post` and `Accept-Patch` are the endpoint's).

use std::sync::Arc;

use framecast_http::stats::{family, metric, StatsSource};
use framecast_http::{Request, Response, Route};
use serde_json::json;

use crate::latency_report::Measured;
use crate::whep::{Whep, WhepRequest};

/// A report's figures in `/api/stats` (milliseconds).
fn figures(s: &framecast_core::trace::Summary) -> serde_json::Value {
    json!({
        "count": s.count,
        "p50": s.p50.as_secs_f64() * 1e3,
        "p99": s.p99.as_secs_f64() * 1e3,
    })
}
use crate::WebrtcStream;

/// One per-viewer metric family: name, type, help, and its value.
type PerViewer = (
    &'static str,
    &'static str,
    &'static str,
    fn(&crate::ViewerStats) -> Option<f64>,
);

/// A WHEP endpoint as a framecast-http route.
#[derive(Debug)]
pub struct WhepRoute {
    whep: Whep,
}

impl WhepRoute {
    /// The route for `stream`'s endpoint at `endpoint` (`/cam/whep`).
    pub fn new(stream: Arc<WebrtcStream>, endpoint: &str) -> Self {
        WhepRoute {
            whep: Whep::new(stream, endpoint),
        }
    }

    /// The stream served.
    pub fn stream(&self) -> &Arc<WebrtcStream> {
        self.whep.stream()
    }
}

impl WhepRoute {
    /// `req` answered by the endpoint, as a framecast-http response.
    fn answer(&self, req: &Request) -> Response {
        let sub = req.subpath();
        let r = self.whep.handle(&WhepRequest {
            method: req.method(),
            session: (!sub.is_empty()).then_some(sub),
            content_type: req.header("content-type"),
            if_match: req.header("if-match"),
            body: &req.body,
        });
        let mut out = Response::new(r.status).body(r.body);
        for (k, v) in r.headers {
            out = out.header(k, v);
        }
        out
    }
}

impl Route for WhepRoute {
    fn handle(&self, req: &Request) -> Response {
        self.answer(req)
    }

    fn options(&self, req: &Request) -> Response {
        let mut out = Response::preflight("POST, PATCH, DELETE, OPTIONS");
        // The endpoint's own OPTIONS answer: what it accepts.
        for (k, v) in self.answer(req).headers {
            out = out.header(&k, v);
        }
        out
    }
}

impl StatsSource for WhepRoute {
    fn json(&self) -> serde_json::Value {
        let stream = self.stream();
        let c = stream.counters();
        let viewers: Vec<_> = stream
            .viewers()
            .iter()
            .map(|v| {
                json!({
                    "id": v.id,
                    "transport": "webrtc",
                    "address": v.remote.map(|a| a.to_string()),
                    "connected": v.connected,
                    "age_s": v.age.as_secs_f64(),
                    "rtt_ms": v.rtt.map(|d| d.as_secs_f64() * 1e3),
                    "loss": v.loss,
                    "nacks": v.nacks,
                    "plis": v.plis,
                    "firs": v.firs,
                    "packets": v.packets,
                    "bytes": v.bytes,
                    "frames_sent": v.frames_sent,
                    "frames_dropped": v.frames_dropped,
                    "display_ms": v.display.as_ref().map(figures),
                    "glass_ms": v.glass.as_ref().map(figures),
                })
            })
            .collect();
        let n = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        json!({
            "udp": stream.local_addr().to_string(),
            "frames": n(&c.frames),
            "keyframe_requests": n(&c.keyframe_requests),
            "sessions_created": n(&c.sessions_created),
            "offers_refused": n(&c.offers_refused),
            "viewers": viewers,
        })
    }

    /// What the viewers' pages reported: `viewer` (arrival to display,
    /// the stream's last stage) and `glass` (capture to display, the whole
    /// way), each once some came.
    fn latency(&self) -> Vec<(String, framecast_core::trace::Summary)> {
        [
            ("viewer", Measured::ArrivalToDisplay),
            ("glass", Measured::CaptureToDisplay),
        ]
        .into_iter()
        .map(|(stage, m)| (stage.to_string(), self.stream().viewer_latency(m)))
        .filter(|(_, s)| s.count > 0)
        .collect()
    }

    fn metrics(&self, name: &str, out: &mut String) {
        let viewers = self.stream().viewers();
        family(out, "framecast_webrtc_viewers", "gauge", "WebRTC sessions");
        metric(
            out,
            "framecast_webrtc_viewers",
            &[("source", name)],
            viewers.len() as f64,
        );
        let per_viewer: [PerViewer; 8] = [
            ("framecast_webrtc_rtt_seconds", "gauge", "RTT", |v| {
                v.rtt.map(|d| d.as_secs_f64())
            }),
            (
                "framecast_webrtc_loss_ratio",
                "gauge",
                "Fraction lost",
                |v| v.loss.map(f64::from),
            ),
            ("framecast_webrtc_nacks_total", "counter", "NACKs", |v| {
                Some(v.nacks as f64)
            }),
            ("framecast_webrtc_plis_total", "counter", "PLIs", |v| {
                Some(v.plis as f64)
            }),
            (
                "framecast_webrtc_frames_sent_total",
                "counter",
                "Frames sent",
                |v| Some(v.frames_sent as f64),
            ),
            (
                "framecast_webrtc_display_p50_seconds",
                "gauge",
                "Median arrival-to-display time the viewer's page reported",
                |v| v.display.as_ref().map(|g| g.p50.as_secs_f64()),
            ),
            (
                "framecast_webrtc_glass_p50_seconds",
                "gauge",
                "Median capture-to-display time the viewer's page reported",
                |v| v.glass.as_ref().map(|g| g.p50.as_secs_f64()),
            ),
            (
                "framecast_webrtc_frames_dropped_total",
                "counter",
                "Late drops",
                |v| Some(v.frames_dropped as f64),
            ),
        ];
        for (metric_name, kind, help, get) in per_viewer {
            family(out, metric_name, kind, help);
            for v in &viewers {
                if let Some(x) = get(v) {
                    metric(out, metric_name, &[("source", name), ("viewer", &v.id)], x);
                }
            }
        }
    }
}
