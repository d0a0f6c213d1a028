//! `framecast serve`: the `send` inputs (a pattern, or raw frames on
//! standard input), served over RTSP for viewers to open by URL and/or
//! over HTTP for browsers (`--http`: the viewer page, MJPEG, and the live
//! dashboard at `/`); `--to` still sends RTP/UDP too, from the same
//! encode.

use std::fmt::Write;

use framecast::sender::ViewerInfo;

use crate::send::{self, SendArgs};

/// Options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// RTSP: address and port to listen on, `ADDR:PORT`
    /// (`127.0.0.1:8554`; `0.0.0.0:8554` lets other hosts in).
    #[arg(long, required_unless_present = "http")]
    pub rtsp: Option<String>,
    /// HTTP for browsers: `ADDR:PORT` (`--http` alone: 127.0.0.1:8080).
    /// Beyond loopback a token is required (generated and printed unless
    /// --token gives it).
    #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
    pub http: Option<String>,
    /// The Bearer token HTTP viewers, the dashboard and its API need.
    #[arg(long, requires = "http")]
    pub token: Option<String>,
    /// The path viewers open: `rtsp://ADDR:PORT/PATH`, `http://ADDR:PORT/PATH/`.
    #[arg(long, default_value = "stream")]
    pub path: String,
    /// RTSP viewers must authenticate as this user (Digest, RFC 2617;
    /// they open `rtsp://USER:PASSWORD@ADDR:PORT/PATH`); others get 401.
    /// Needs --password.
    #[arg(long, requires_all = ["password", "rtsp"])]
    pub user: Option<String>,
    /// The password of --user.
    #[arg(long, requires = "user")]
    pub password: Option<String>,
    /// What to send, as `framecast send` takes it.
    #[command(flatten)]
    pub send: SendArgs,
}

impl ServeArgs {
    /// The RTSP URL served, if any.
    pub fn url(&self) -> Option<String> {
        let rtsp = self.rtsp.as_ref()?;
        Some(format!("rtsp://{rtsp}/{}", self.path.trim_matches('/')))
    }
}

/// Runs `framecast serve`.
pub fn run(args: ServeArgs) -> Result<(), String> {
    if args.rtsp.is_some() && !matches!(args.send.codec.as_str(), "h264" | "jpeg") {
        return Err(format!(
            "--codec {}: RTSP serving takes h264 or jpeg",
            args.send.codec
        ));
    }
    let mut send_args = args.send.clone();
    send_args.serve = args.url();
    send_args.serve_credentials = args.user.clone().zip(args.password.clone());
    send_args.http = args
        .http
        .clone()
        .map(|h| (h, args.path.clone(), args.token.clone()));
    send::run(send_args)
}

/// The live stats line's viewers part: how many play, then each one's
/// transport, address, frames dropped for it, and the loss, jitter and
/// round-trip time of its last RTCP receiver report:
/// `viewers=1 [udp 127.0.0.1:5000 loss=0.0% lost=0 jitter=0.4ms rtt=0.2ms]`.
pub fn viewers_line(viewers: &[ViewerInfo]) -> String {
    let playing: Vec<&ViewerInfo> = viewers.iter().filter(|v| v.playing).collect();
    let mut line = format!("viewers={}", playing.len());
    for v in playing {
        let _ = write!(line, " [{} {}", v.transport, v.peer);
        if v.dropped > 0 {
            let _ = write!(line, " dropped={}", v.dropped);
        }
        if v.reports == 0 {
            line.push_str(" no RTCP yet]");
            continue;
        }
        let _ = write!(
            line,
            " loss={:.1}% lost={} jitter={:.1}ms",
            v.fraction_lost * 100.0,
            v.cumulative_lost,
            v.jitter_ms
        );
        match v.rtt_ms {
            Some(rtt) => {
                let _ = write!(line, " rtt={rtt:.1}ms]");
            }
            None => line.push_str(" rtt=?]"),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["serve"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("parses").serve
    }

    #[test]
    fn serve_needs_no_client_and_names_its_url() {
        let a = args(&[
            "--rtsp",
            "127.0.0.1:8554",
            "--path",
            "/cam/",
            "--pattern",
            "ball",
        ]);
        assert_eq!(a.url().as_deref(), Some("rtsp://127.0.0.1:8554/cam"));
        let mut send = a.send.clone();
        // `send` alone still needs a client; serving does not.
        assert!(send.plan().unwrap_err().contains("--to"));
        send.serve = a.url();
        assert!(send.plan().is_ok());
        assert!(
            Cli::try_parse_from(["serve", "--pattern", "ball"]).is_err(),
            "--rtsp or --http required"
        );
    }

    #[test]
    fn http_alone_defaults_to_loopback_8080_and_takes_a_token() {
        let a = args(&["--http", "--token", "t0k", "--pattern", "ball"]);
        assert_eq!(a.http.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(a.url(), None);
        let b = args(&[
            "--http",
            "0.0.0.0:9000",
            "--rtsp",
            "127.0.0.1:8554",
            "--pattern",
            "ball",
        ]);
        assert_eq!(b.http.as_deref(), Some("0.0.0.0:9000"));
        assert!(b.url().is_some());
        assert!(
            Cli::try_parse_from(["serve", "--rtsp", "127.0.0.1:1", "--token", "x"]).is_err(),
            "--token needs --http"
        );
    }

    fn viewer(transport: &'static str, port: u16) -> ViewerInfo {
        ViewerInfo {
            session: "1".into(),
            peer: ([127, 0, 0, 1], port).into(),
            transport,
            playing: true,
            packets: 900,
            dropped: 0,
            reports: 3,
            fraction_lost: 0.25,
            cumulative_lost: 12,
            jitter_ms: 1.25,
            rtt_ms: Some(0.42),
        }
    }

    #[test]
    fn the_stats_line_names_each_viewer_with_its_reports() {
        let mut quiet = viewer("tcp", 6000);
        quiet.reports = 0;
        quiet.dropped = 4;
        let mut paused = viewer("udp", 7000);
        paused.playing = false;
        let line = viewers_line(&[viewer("udp", 5000), quiet, paused]);
        assert_eq!(
            line,
            "viewers=2 [udp 127.0.0.1:5000 loss=25.0% lost=12 jitter=1.2ms rtt=0.4ms] \
             [tcp 127.0.0.1:6000 dropped=4 no RTCP yet]"
        );
        assert_eq!(viewers_line(&[]), "viewers=0");
    }

    #[test]
    fn serving_refuses_raw_video() {
        let a = args(&[
            "--rtsp",
            "127.0.0.1:8554",
            "--codec",
            "raw",
            "--pattern",
            "ball",
        ]);
        assert!(run(a).unwrap_err().contains("h264 or jpeg"));
    }
}
