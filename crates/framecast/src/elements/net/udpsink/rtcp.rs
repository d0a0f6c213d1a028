//! RTCP on the sending side: the sender reports (SR + SDES, BYE at the
//! end) the sink sends, and the thread that answers what clients send
//! back (keyframe requests, NACKs with RTX).

use super::*;
use framecast_core::sync::MutexExt;

/// RTCP sender state.
#[derive(Debug)]
pub(super) struct Rtcp {
    pub(super) stats: SenderStats,
    /// An RTP packet has been seen (SSRC known).
    pub(super) active: bool,
    pub(super) last_rtp_ts: u32,
    pub(super) last_running_time: Option<ClockTime>,
    pub(super) clock_rate: u32,
    pub(super) last_report: Option<Instant>,
    pub(super) cname: String,
}

impl Default for Rtcp {
    fn default() -> Self {
        Rtcp {
            stats: SenderStats::default(),
            active: false,
            last_rtp_ts: 0,
            last_running_time: None,
            clock_rate: 90_000,
            last_report: None,
            cname: String::new(),
        }
    }
}

impl UdpSink {
    /// Sends an RTCP compound packet (SR + SDES, and BYE when `bye`) when
    /// one is due.
    pub(super) fn maybe_rtcp(&self, element: &Element, st: &mut Stream, bye: bool) {
        if !st.rtcp.active || !self.rtcp_enabled.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        if !bye
            && st
                .rtcp
                .last_report
                .is_some_and(|t| now.duration_since(t) < RTCP_INTERVAL)
        {
            return;
        }
        st.rtcp.last_report = Some(now);
        let ntp = NtpTimestamp::now();
        let r = &st.rtcp;
        let rtp_ts = match (r.last_running_time, element.context()) {
            (Some(last), Some(ctx)) => {
                let now_rt = ctx.running_time();
                let ticks = |d: ClockTime| {
                    (u128::from(d.nseconds()) * u128::from(r.clock_rate) / 1_000_000_000) as u32
                };
                if now_rt >= last {
                    r.last_rtp_ts.wrapping_add(ticks(now_rt - last))
                } else {
                    r.last_rtp_ts.wrapping_sub(ticks(last - now_rt))
                }
            }
            _ => r.last_rtp_ts,
        };
        let mut buf = [0u8; 512];
        let len = {
            let mut w = CompoundWriter::new(&mut buf);
            let ok = w
                .sender_report(&r.stats.report(ntp, rtp_ts), &[])
                .and_then(|_| w.sdes_cname(r.stats.ssrc, &r.cname))
                .and_then(|_| {
                    if bye {
                        w.bye(&[r.stats.ssrc], None)
                    } else {
                        Ok(())
                    }
                });
            if ok.is_err() {
                return;
            }
            w.finish()
        };
        let (Some(sock), clients) = (st.socket.as_ref(), self.clients.load()) else {
            return;
        };
        let mut with_rtcp = clients.iter().filter(|c| c.has_rtcp).peekable();
        let Some(first) = with_rtcp.peek().copied() else {
            return;
        };
        let mut msgs = [(&buf[..len], &first.rtcp); MMSG_CHUNK];
        loop {
            let mut n = 0;
            for (m, c) in msgs.iter_mut().zip(with_rtcp.by_ref()) {
                *m = (&buf[..len], &c.rtcp);
                n += 1;
            }
            if n == 0 {
                break;
            }
            self.record(element, sys::send_batch(sock, &msgs[..n]), true);
        }
    }
    /// Starts the thread that reads clients' RTCP feedback on a clone of
    /// `sock`: keyframe requests go upstream, NACKs are answered from
    /// `history` as RTX on `rtx_pt`.
    pub(super) fn start_feedback(
        &self,
        element: &Element,
        sock: &UdpSocket,
        rtx_pt: u8,
        history: Option<Arc<Mutex<RetransmissionHistory>>>,
    ) -> Result<()> {
        let io = |what: &str, e: std::io::Error| Error::Io {
            context: format!("{}: {what}", element.name()),
            source: e,
        };
        let clone = sock
            .try_clone()
            .map_err(|e| io("cloning the socket for RTCP feedback", e))?;
        let clients_of = element.clone();
        let rtx = history.map(|history| Retransmission {
            payload_type: rtx_pt,
            ssrc: random_u32(),
            history,
            is_client: Box::new(move |addr| {
                UdpSink::from_element(&clients_of).is_some_and(|sink| sink.is_client(addr))
            }),
        });
        let c = &self.feedback_counters;
        for v in [
            &c.keyframe_requests,
            &c.nacks,
            &c.retransmissions,
            &c.missed,
            &c.refused,
        ] {
            v.store(0, Ordering::Relaxed);
        }
        let pad = element.sink_pad();
        let thread = FeedbackThread::start(element.name(), clone, rtx, c.clone(), move || {
            // Upstream to the encoder, which forces an IDR (rate-limited).
            if let Some(pad) = pad.as_ref() {
                pad.push_event(Event::force_key_unit_upstream(true));
            }
        })
        .map_err(|e| io("starting the RTCP feedback thread", e))?;
        *self.feedback.locked() = Some(thread);
        Ok(())
    }
}
