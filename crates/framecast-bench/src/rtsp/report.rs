//! The tables `framecast-bench rtsp` prints (Markdown, for BENCHMARKS.md):
//! pure functions of the measured points, so they can be tested.

use super::viewer::Transport;
use super::{Join, Server};
use crate::stamp::percentile;

/// One measured window: a server's CPU over `frames` frames with
/// `viewers` viewers playing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    pub(crate) server: Server,
    pub(crate) transport: Transport,
    pub(crate) viewers: usize,
    pub(crate) cpu_ms_per_frame: f64,
    /// What each viewer received, Mbit/s (RTP packets, headers included).
    pub(crate) mbit_per_viewer: f64,
    /// Viewers that got packets in the window.
    pub(crate) receiving: usize,
}

/// The CPU table: one row a point, with the server's cost beyond its own
/// encode (`encode_ms[server]`, measured with no viewer) where known.
pub(crate) fn cpu_table(points: &[Point], encode_ms: &[(Server, f64)]) -> Vec<String> {
    let mut lines = vec![
        "| server (encoder) | transport | viewers | CPU ms/frame | minus encode | Mbit/s per viewer | viewers receiving |".to_string(),
        "|---|---|---:|---:|---:|---:|---:|".to_string(),
    ];
    for (server, ms) in encode_ms {
        lines.push(format!(
            "| {} | (encode alone) | 0 | {ms:.2} | | | |",
            server.label()
        ));
    }
    for p in points {
        let minus = encode_ms
            .iter()
            .find(|(s, _)| *s == p.server)
            .map(|(_, e)| format!("{:.2}", p.cpu_ms_per_frame - e))
            .unwrap_or_default();
        lines.push(format!(
            "| {} | {} | {} | {:.2} | {minus} | {:.2} | {}/{} |",
            p.server.label(),
            p.transport.name(),
            p.viewers,
            p.cpu_ms_per_frame,
            p.mbit_per_viewer,
            p.receiving,
            p.viewers
        ));
    }
    lines
}

/// The ratios: most viewers against fewest for each server and transport,
/// and framecast against GStreamer at each point both measured, whole and
/// (where both encodes were measured alone) without the encodes.
pub(crate) fn ratio_lines(points: &[Point], encode_ms: &[(Server, f64)]) -> Vec<String> {
    let mut lines = Vec::new();
    let find = |s: Server, t: Transport, v: usize| {
        points
            .iter()
            .find(|p| p.server == s && p.transport == t && p.viewers == v)
            .map(|p| p.cpu_ms_per_frame)
    };
    let encode = |s: Server| encode_ms.iter().find(|(e, _)| *e == s).map(|(_, ms)| *ms);
    let (Some(least), Some(most)) = (
        points.iter().map(|p| p.viewers).min(),
        points.iter().map(|p| p.viewers).max(),
    ) else {
        return lines;
    };
    for t in [Transport::Udp, Transport::Tcp] {
        for s in [Server::Framecast, Server::Gst] {
            if let (Some(a), Some(b)) = (find(s, t, least), find(s, t, most)) {
                lines.push(format!(
                    "- {} {}: {most} viewers / {least} viewer CPU = {:.2}x",
                    s.label(),
                    t.name(),
                    b / a
                ));
            }
        }
        let mut viewers: Vec<usize> = points.iter().map(|p| p.viewers).collect();
        viewers.sort_unstable();
        viewers.dedup();
        let ratios: Vec<String> = viewers
            .iter()
            .filter_map(|&v| {
                let f = find(Server::Framecast, t, v)?;
                let g = find(Server::Gst, t, v)?;
                Some(format!("{v}: {:.2}", f / g))
            })
            .collect();
        if !ratios.is_empty() {
            lines.push(format!(
                "- framecast / gst-rtsp-server CPU, {} (viewers: ratio): {}",
                t.name(),
                ratios.join(", ")
            ));
        }
        let serving: Vec<String> = viewers
            .iter()
            .filter_map(|&v| {
                let f = find(Server::Framecast, t, v)? - encode(Server::Framecast)?;
                let g = find(Server::Gst, t, v)? - encode(Server::Gst)?;
                Some(format!("{v}: {f:.2}/{g:.2} ms"))
            })
            .collect();
        if !serving.is_empty() {
            lines.push(format!(
                "- serving alone (minus encode), framecast/gst, {} (viewers: ms/frame): {}",
                t.name(),
                serving.join(", ")
            ));
        }
    }
    lines
}

/// One late-join row: PLAY to the first keyframe packet over the joins
/// (`None`: no keyframe before the deadline).
pub(crate) fn join_row(server: Server, gop_s: f64, joins: &[Join]) -> String {
    let sorted = |pick: fn(&Join) -> Option<f64>| {
        let mut got: Vec<f64> = joins.iter().filter_map(pick).collect();
        got.sort_by(f64::total_cmp);
        got
    };
    let keyframe = sorted(|j| j.0);
    let picture = sorted(|j| j.1);
    format!(
        "| {} | {gop_s:.0} s | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
        server.label(),
        joins.len(),
        percentile(&keyframe, 50.0),
        percentile(&keyframe, 99.0),
        percentile(&picture, 50.0),
        percentile(&picture, 99.0),
        picture.last().copied().unwrap_or(f64::NAN),
        joins.len() - picture.len(),
    )
}

pub(crate) const JOIN_HEADER: [&str; 2] = [
    "| server (encoder) | GOP | joins | keyframe packet p50 ms | p99 ms | first picture p50 ms | p99 ms | max ms | no picture |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn point(server: Server, transport: Transport, viewers: usize, ms: f64) -> Point {
        Point {
            server,
            transport,
            viewers,
            cpu_ms_per_frame: ms,
            mbit_per_viewer: 4.1,
            receiving: viewers,
        }
    }

    #[test]
    fn the_cpu_table_subtracts_the_encode_and_the_ratios_compare() {
        let points = [
            point(Server::Framecast, Transport::Udp, 1, 2.0),
            point(Server::Framecast, Transport::Udp, 50, 5.0),
            point(Server::Gst, Transport::Udp, 1, 4.0),
            point(Server::Gst, Transport::Udp, 50, 20.0),
        ];
        let table = cpu_table(&points, &[(Server::Framecast, 1.5)]);
        assert_eq!(table.len(), 2 + 1 + 4);
        assert!(
            table[2].contains("(encode alone) | 0 | 1.50"),
            "{}",
            table[2]
        );
        assert!(
            table[3].contains("| UDP | 1 | 2.00 | 0.50 | 4.10 | 1/1 |"),
            "{}",
            table[3]
        );
        // No encode-alone figure for gst here: the column stays empty.
        assert!(
            table[6].contains("| 20.00 |  | 4.10 | 50/50 |"),
            "{}",
            table[6]
        );
        let ratios = ratio_lines(&points, &[(Server::Framecast, 1.5)]);
        assert_eq!(ratios.len(), 3, "{ratios:?}");
        assert!(ratios[0].contains("= 2.50x"), "{}", ratios[0]);
        assert!(ratios[1].contains("= 5.00x"), "{}", ratios[1]);
        assert!(ratios[2].ends_with("1: 0.50, 50: 0.25"), "{}", ratios[2]);
        let both = ratio_lines(&points, &[(Server::Framecast, 1.5), (Server::Gst, 3.0)]);
        assert_eq!(both.len(), 4, "{both:?}");
        assert!(
            both[3].ends_with("1: 0.50/1.00 ms, 50: 3.50/17.00 ms"),
            "{}",
            both[3]
        );
        assert!(ratio_lines(&[], &[]).is_empty());
    }

    #[test]
    fn join_rows_take_percentiles_of_the_joins_that_got_a_keyframe() {
        let joins: Vec<Join> = (1..=19)
            .map(|i| (Some(f64::from(i) * 10.0), Some(f64::from(i) * 10.0 + 5.0)))
            .chain([(Some(300.0), None)])
            .collect();
        let row = join_row(Server::Gst, 10.0, &joins);
        assert!(
            row.contains("| 10 s | 20 | 100 | 300 | 105 | 195 | 195 | 1 |"),
            "{row}"
        );
    }
}
