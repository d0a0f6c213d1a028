//! `framecast sdp <pipeline>`: runs an RTP sending pipeline just long
//! enough for its stream to be known (for H.264, until the payloader has
//! seen SPS/PPS), prints the SDP a client opens to receive it, and stops.

use std::time::{Duration, Instant};

use framecast::elements::net::sdp_for_caps;
use framecast::elements::udpsink::UdpSink;
use framecast::{parse_launch, Caps, Element, Message, Pipeline, State};

/// Options.
#[derive(Debug, clap::Args)]
pub struct SdpArgs {
    /// The sending pipeline, gst-launch syntax, ending in `udpsink`.
    #[arg(required = true, num_args = 1..)]
    pipeline: Vec<String>,
    /// Give up if the stream is not known after this many seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Write the SDP here instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

/// The caps of `sink`'s stream once they are complete enough for an SDP:
/// RTP caps, with the parameter sets for H.264.
fn stream_caps(sink: &Element) -> Option<Caps> {
    let caps = sink.sink_pad()?.caps()?;
    let s = caps.structure(0)?;
    let h264 = s
        .get_str("encoding-name")
        .is_some_and(|n| n.eq_ignore_ascii_case("H264"));
    (!h264 || s.get_str("sprop-parameter-sets").is_some()).then_some(caps)
}

fn wait_for_sdp(
    pipeline: &Pipeline,
    sinks: &[Element],
    timeout: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let ready: Vec<Option<Caps>> = sinks.iter().map(stream_caps).collect();
        if ready.iter().all(Option::is_some) {
            let mut text = String::new();
            for (sink, caps) in sinks.iter().zip(ready.into_iter().flatten()) {
                let client = UdpSink::from_element(sink)
                    .and_then(|u| u.client_addresses().first().copied())
                    .ok_or_else(|| format!("{}: no client to describe", sink.name()))?;
                let sdp = sdp_for_caps(&caps, client.ip(), client.port())
                    .map_err(|e| format!("{}: {e}", sink.name()))?;
                text.push_str(&sdp.to_string());
            }
            return Ok(text);
        }
        match pipeline
            .bus()
            .timed_pop_filtered(Some(Duration::from_millis(20)), |m| {
                matches!(m, Message::Error { .. } | Message::Eos)
            }) {
            Some(Message::Error {
                source, message, ..
            }) => return Err(format!("{source}: {message}")),
            Some(_) => return Err("the pipeline ended before its stream was known".into()),
            None => {}
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the stream was not known after {:.1} s (an H.264 stream needs its first keyframe)",
                timeout.as_secs_f64()
            ));
        }
    }
}

/// Runs `framecast sdp`.
pub fn run(args: SdpArgs) -> Result<(), String> {
    let description = args.pipeline.join(" ");
    let pipeline = parse_launch(&description).map_err(|e| e.to_string())?;
    let sinks: Vec<Element> = pipeline
        .elements()
        .into_iter()
        .filter(|e| e.factory().name == "udpsink")
        .collect();
    if sinks.is_empty() {
        return Err("the pipeline has no udpsink: nothing to describe".into());
    }
    pipeline
        .set_state(State::Playing)
        .map_err(|e| e.to_string())?;
    let result = wait_for_sdp(&pipeline, &sinks, Duration::from_secs_f64(args.timeout));
    pipeline.set_state(State::Null).map_err(|e| e.to_string())?;
    let text = result?;
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
