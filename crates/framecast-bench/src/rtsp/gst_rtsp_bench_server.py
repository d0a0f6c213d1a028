#!/usr/bin/python3
"""GStreamer's RTSP server, one shared media, for `framecast-bench rtsp`.

usage: gst_rtsp_bench_server.py PORT PATH WIDTH HEIGHT FPS KBITS GOP [--encode-only]

Serves rtsp://127.0.0.1:PORT/PATH: a live test pattern, H.264 from
x264enc tune=zerolatency speed-preset=ultrafast, one encode shared by every
viewer (factory.set_shared(True)), as `framecast serve` shares its one
encode. With --encode-only it runs the same source and encoder into a
fakesink with no server: the encode's own cost, to subtract.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, path, width, height, fps, kbits, gop = sys.argv[1:8]
chain = (
    f"videotestsrc is-live=true ! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
    f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbits} key-int-max={gop} "
    "! rtph264pay name=pay0 pt=96 config-interval=-1"
)
if "--encode-only" in sys.argv:
    pipeline = Gst.parse_launch(chain + " ! fakesink sync=false")
    pipeline.set_state(Gst.State.PLAYING)
    print("listening", file=sys.stderr, flush=True)
    GLib.MainLoop().run()
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_shared(True)
factory.set_launch("( " + chain + " )")
server.get_mount_points().add_factory("/" + path, factory)
if server.attach(None) == 0:
    sys.exit("cannot listen on port " + port)
print("listening", file=sys.stderr, flush=True)
GLib.MainLoop().run()
