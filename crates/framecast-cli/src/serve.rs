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
    if args.send.codec != "h264" {
        return Err(format!(
            "--codec {}: RTSP serving takes h264",
            args.send.codec
        ));
    }
    let mut send_args = args.send.clone();
    send_args.serve = Some(args.url());
    send::run(send_args)
}
