//! `framecast serve`: the `send` inputs (a pattern, or raw frames on
//! standard input), served over RTSP for viewers to open by URL; `--to`
//! still sends RTP/UDP too, from the same encode.

use std::fmt::Write;

use framecast::sender::ViewerInfo;

use crate::send::{self, SendArgs};

/// Options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on, `ADDR:PORT` (`127.0.0.1:8554`;
    /// `0.0.0.0:8554` lets other hosts in).
    #[arg(long)]
    pub rtsp: String,
    /// The path viewers open: `rtsp://ADDR:PORT/PATH`.
    #[arg(long, default_value = "stream")]
    pub path: String,
    /// What to send, as `framecast send` takes it.
    #[command(flatten)]
    pub send: SendArgs,
}

impl ServeArgs {
    /// The URL served.
    pub fn url(&self) -> String {
        format!("rtsp://{}/{}", self.rtsp, self.path.trim_matches('/'))
    }
}

/// Runs `framecast serve`.
pub fn run(args: ServeArgs) -> Result<(), String> {
    if !matches!(args.send.codec.as_str(), "h264" | "jpeg") {
        return Err(format!(
            "--codec {}: RTSP serving takes h264 or jpeg",
            args.send.codec
        ));
    }
    let mut send_args = args.send.clone();
    send_args.serve = Some(args.url());
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
        assert_eq!(a.url(), "rtsp://127.0.0.1:8554/cam");
        let mut send = a.send.clone();
        // `send` alone still needs a client; serving does not.
        assert!(send.plan().unwrap_err().contains("--to"));
        send.serve = Some(a.url());
        assert!(send.plan().is_ok());
        assert!(
            Cli::try_parse_from(["serve", "--pattern", "ball"]).is_err(),
            "--rtsp required"
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
