#!/usr/bin/python3
"""A GStreamer H.264 RTP receiver, with or without retransmission, for
framecast's interop test (crates/framecast/tests/gstreamer_retransmission.rs)
and the impairments benchmark (`framecast-bench impairments`, its
GStreamer-with-retransmission row).

gst-launch-1.0 cannot connect rtpbin's `request-aux-receiver` signal, which
is how an `rtprtxreceive` goes in front of the jitter buffer (it turns
RFC 4588 RTX, on its own SSRC and payload type, back into the original
packets), so the pipeline is built here with PyGObject:

    udpsrc (RTP) ─┐                  ┌─ rtph264depay ─ avdec_h264 ─ fakesink
    udpsrc (RTCP) ┴ rtpbin (avpf) ───┤
                                     └─ send_rtcp_src ─ udpsink (RTCP, NACKs)

With --rtx, `rtpbin do-retransmission=true` makes the jitter buffer ask for
what is missing (its rtx requests become Generic NACKs in early AVPF RTCP),
and the aux receiver maps RTX payload type 97 onto 96.

--bandwidth sets the session's bandwidth (the stream's, as an SDP's b=AS
would): GStreamer derives its RTCP interval from it, and RFC 4585 allows
one early feedback packet per interval, so with the default (0.2-0.5 s at
1 Mbit/s) most NACKs wait for the next regular report.

Prints "ready" on standard error once its sockets are bound; runs until a
line (or end of file) on standard input, or --seconds, then prints one
JSON object on standard output: the access units the depayloader
delivered, the frames the decoder delivered, the frames that arrived
intact and clean (see FrameIntegrity), the jitter buffer's `stats` and
the RTX receiver's counters; with --times also when each frame was
decoded (`decoded_at_ns`, CLOCK_MONOTONIC) and, for each frame whose
framecast frame-counter stamp survived, its number and latency
(`stamps`: [frame, decoded - stamped ns]). Exits with status 3, saying what, when
PyGObject or a GStreamer element is missing (the test skips or fails on
it).
"""

import argparse
import json
import sys
import threading
import time

try:
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst
except (ImportError, ValueError) as e:
    print(f"missing: PyGObject with GStreamer 1.0 ({e})", file=sys.stderr)
    sys.exit(3)

H264_CAPS = (
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"
)
RTX_PT_MAP = "application/x-rtp-pt-map,96=(uint)97"


def make(factory, **props):
    element = Gst.ElementFactory.make(factory, None)
    if element is None:
        print(f"missing: GStreamer element {factory}", file=sys.stderr)
        sys.exit(3)
    for name, value in props.items():
        element.set_property(name.replace("_", "-"), value)
    return element


def structure_dict(s):
    """A GstStructure's numeric fields as a dict (JSON-able)."""
    out = {}
    if s is None:
        return out
    for i in range(s.n_fields()):
        name = s.nth_field_name(i)
        value = s.get_value(name)
        if isinstance(value, (bool, int, float)):
            out[name] = value
    return out


class FrameIntegrity:
    """Which frames arrived whole, from the RTP packets the jitter buffer
    lets through (retransmitted ones restored), in order.

    avdec_h264 conceals what is missing and flags nothing, so its frame
    count barely moves with loss; what a viewer sees does. A frame (the
    packets up to a marker bit) is *intact* when no sequence number is
    missing in it or just before it, and *clean* when it and every frame
    back to the last IDR are intact: a P frame decoded from a damaged
    reference shows the damage too, until the next IDR.
    """

    def __init__(self):
        self.next_seq = None
        self.whole = True
        self.has_idr = False
        self.chain_clean = False
        self.intact = 0
        self.clean = 0
        self.keyframes = 0

    def packet(self, data):
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        seq = int.from_bytes(data[2:4], "big")
        if self.next_seq is not None and seq != self.next_seq:
            self.whole = False
        self.next_seq = (seq + 1) & 0xFFFF
        offset = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10 and len(data) >= offset + 4:
            offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
        if IDR in nal_types(data[offset:]):
            self.has_idr = True
        if data[1] & 0x80:
            # The frame's last packet (the marker bit).
            if self.has_idr:
                self.keyframes += 1
            self.intact += self.whole
            self.chain_clean = self.whole and (self.has_idr or self.chain_clean)
            self.clean += self.chain_clean
            self.whole = True
            self.has_idr = False


IDR = 5
STAP_A = 24
FU_A = 28


MASK64 = (1 << 64) - 1
STAMP_BITS = 160


def stamp_check(frame, ts):
    """`check_value` of framecast's frame-counter stamp
    (crates/framecast/src/elements/video/counter.rs)."""
    h = ((frame * 0x9E3779B97F4A7C15) & MASK64) ^ (((ts << 29) | (ts >> 35)) & MASK64)
    h ^= h >> 31
    h = (h * 0xBF58476D1CE4E5B9) & MASK64
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & MASK64
    h ^= h >> 31
    return ((h >> 32) ^ (h & 0xFFFFFFFF)) ^ 0x5A3CC3A5


def read_stamp(luma, stride, width, height):
    """(frame, CLOCK_MONOTONIC ns) from the stamp in a limited-range luma
    plane, as `decode_counter` reads it; None when damaged or absent."""
    block = next((b for b in (16, 8, 4, 2, 1)
                  if (width // b) * (height // b) >= STAMP_BITS), None)
    if block is None:
        return None
    per_row, inset = width // block, block // 4
    side = block - 2 * inset
    value = 0
    for k in range(STAMP_BITS):
        x = k % per_row * block + inset
        y = k // per_row * block + inset
        total = sum(sum(luma[row * stride + x:row * stride + x + side])
                    for row in range(y, y + side))
        value = value << 1 | (total // (side * side) > (16 + 235) // 2)
    frame, ts, check = value >> 96, (value >> 32) & MASK64, value & 0xFFFFFFFF
    if check != stamp_check(frame, ts) or ts == MASK64:
        return None
    return frame, ts


def nal_types(payload):
    """The NAL unit types an H.264 RTP payload (RFC 6184) starts or holds."""
    if not payload:
        return []
    kind = payload[0] & 0x1F
    if kind == FU_A:
        # Only the fragment that starts the NAL unit says its type.
        return [payload[1] & 0x1F] if len(payload) > 1 and payload[1] & 0x80 else []
    if kind == STAP_A:
        types, at = [], 1
        while at + 2 < len(payload):
            size = int.from_bytes(payload[at:at + 2], "big")
            types.append(payload[at + 2] & 0x1F)
            at += 2 + size
        return types
    return [kind]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="only check that every element is there (exit 0, or 3 saying what)")
    ap.add_argument("--port", type=int, default=0, help="RTP in (RTCP in: port + 1)")
    ap.add_argument("--rtcp-to", type=int, default=0, help="127.0.0.1 port RTCP goes to")
    ap.add_argument("--rtx", action="store_true", help="ask for retransmissions")
    ap.add_argument("--seconds", type=float, default=10.0, help="longest run")
    ap.add_argument("--bandwidth", type=float, default=0, help="session bandwidth, bit/s (sets the RTCP interval)")
    ap.add_argument("--latency", type=int, default=200, help="jitter buffer latency, ms")
    ap.add_argument("--times", action="store_true",
                    help="report when each frame was decoded and the latencies of its stamps")
    args = ap.parse_args()

    Gst.init(None)
    if args.check:
        for factory in ("rtpbin", "rtprtxreceive", "udpsrc", "udpsink", "rtph264depay",
                        "avdec_h264", "fakesink"):
            make(factory)
        return 0
    if not (args.port and args.rtcp_to):
        ap.error("--port and --rtcp-to are needed")
    pipeline = Gst.Pipeline.new("receiver")
    rtpbin = make(
        "rtpbin",
        latency=args.latency,
        do_retransmission=args.rtx,
        # 3: GST_RTP_PROFILE_AVPF, where feedback (the NACKs) may go in
        # early RTCP, at once.
        rtp_profile=3,
    )
    rtp_in = make("udpsrc", address="127.0.0.1", port=args.port,
                  caps=Gst.Caps.from_string(H264_CAPS), buffer_size=4 << 20)
    rtcp_in = make("udpsrc", address="127.0.0.1", port=args.port + 1)
    rtcp_out = make("udpsink", host="127.0.0.1", port=args.rtcp_to,
                    sync=False, **{"async": False})
    depay = make("rtph264depay")
    decode = make("avdec_h264")
    sink = make("fakesink", sync=False)
    rtx_receive = []
    if args.rtx:
        # Made once up front, so a missing plugin is a clear exit, not a
        # signal handler that fails while the pipeline starts.
        make("rtprtxreceive")
    for e in (rtpbin, rtp_in, rtcp_in, rtcp_out, depay, decode, sink):
        pipeline.add(e)

    def aux_receiver(_rtpbin, session):
        rtx = make("rtprtxreceive",
                   payload_type_map=Gst.Structure.new_from_string(RTX_PT_MAP))
        rtx_receive.append(rtx)
        bin_ = Gst.Bin.new(None)
        bin_.add(rtx)
        bin_.add_pad(Gst.GhostPad.new(f"sink_{session}", rtx.get_static_pad("sink")))
        bin_.add_pad(Gst.GhostPad.new(f"src_{session}", rtx.get_static_pad("src")))
        return bin_

    def pt_map(_rtpbin, _session, pt):
        if pt == 96:
            return Gst.Caps.from_string(H264_CAPS)
        if pt == 97:
            return Gst.Caps.from_string(
                "application/x-rtp,media=video,clock-rate=90000,encoding-name=RTX,apt=96")
        return None

    # Connected before the session exists: requesting its pads creates it,
    # and asks for the aux receiver then.
    if args.rtx:
        rtpbin.connect("request-aux-receiver", aux_receiver)
    rtpbin.connect("request-pt-map", pt_map)

    depay.link(decode)
    decode.link(sink)
    rtp_in.link_pads("src", rtpbin, "recv_rtp_sink_0")
    rtcp_in.link_pads("src", rtpbin, "recv_rtcp_sink_0")
    rtcp_src = rtpbin.request_pad_simple("send_rtcp_src_0")
    rtcp_src.link(rtcp_out.get_static_pad("sink"))
    if args.bandwidth:
        session = rtpbin.emit("get-internal-session", 0)
        session.set_property("bandwidth", float(args.bandwidth))

    jitterbuffers = {}
    rtpbin.connect("new-jitterbuffer",
                   lambda _b, jb, _session, ssrc: jitterbuffers.__setitem__(ssrc, jb))
    linked = []

    def pad_added(_rtpbin, pad):
        # recv_rtp_src_<session>_<ssrc>_<pt>: the H.264 stream to the
        # depayloader (the first one; RTX unmapped without --rtx is not).
        name = pad.get_name()
        sink_pad = depay.get_static_pad("sink")
        if name.startswith("recv_rtp_src_") and name.endswith("_96") and not sink_pad.is_linked():
            pad.link(sink_pad)
            linked.append(int(name.split("_")[4]))

    rtpbin.connect("pad-added", pad_added)

    counts = {"depayloaded": 0, "frames": 0}
    frames = FrameIntegrity()
    decoded_at, stamps = [], []

    def count_depayloaded(_pad, _info):
        counts["depayloaded"] += 1
        return Gst.PadProbeReturn.OK

    def count_decoded(pad, info):
        counts["frames"] += 1
        if args.times:
            now = time.monotonic_ns()
            decoded_at.append(now)
            caps = pad.get_current_caps()
            buf = info.get_buffer()
            if caps is not None and buf is not None:
                st = caps.get_structure(0)
                width, height = st.get_value("width"), st.get_value("height")
                ok, mapped = buf.map(Gst.MapFlags.READ)
                if ok:
                    # I420's default luma stride (avdec_h264 adds no meta here).
                    got = read_stamp(mapped.data, (width + 3) & ~3, width, height)
                    buf.unmap(mapped)
                    if got is not None:
                        stamps.append([got[0], now - got[1]])
        return Gst.PadProbeReturn.OK

    def check_packet(_pad, info):
        buf = info.get_buffer()
        ok, mapped = buf.map(Gst.MapFlags.READ)
        if ok:
            frames.packet(bytes(mapped.data))
            buf.unmap(mapped)
        return Gst.PadProbeReturn.OK

    depay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, check_packet)
    depay.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, count_depayloaded)
    decode.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, count_decoded)

    loop = GLib.MainLoop()
    errors = []

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            errors.append(f"{err.message} ({debug})")
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)

    def wait_for_stdin():
        sys.stdin.readline()
        GLib.idle_add(loop.quit)

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    GLib.timeout_add(int(args.seconds * 1000), loop.quit)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print("error: the pipeline did not start", file=sys.stderr)
        sys.exit(1)
    # The sockets are bound once the state change has returned (udpsrc
    # binds going to READY): what is sent from now on is received.
    print("ready", file=sys.stderr, flush=True)
    loop.run()

    report = dict(counts)
    report.update(intact=frames.intact, clean=frames.clean, keyframes=frames.keyframes)
    jb = jitterbuffers.get(linked[0]) if linked else None
    report["jitterbuffer"] = structure_dict(jb.get_property("stats")) if jb else {}
    report["rtx_receive"] = {
        name: rtx_receive[0].get_property(name)
        for name in ("num-rtx-requests", "num-rtx-packets", "num-rtx-assoc-packets")
    } if rtx_receive else {}
    if args.times:
        report["decoded_at_ns"] = decoded_at
        report["stamps"] = stamps
    report["errors"] = errors
    pipeline.set_state(Gst.State.NULL)
    print(json.dumps(report), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
