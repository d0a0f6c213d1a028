//! `framecast serve`: the `send` inputs (a pattern, or raw frames on
//! standard input), served over RTSP for viewers to open by URL; `--to`
//! still sends RTP/UDP too, from the same encode.

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
