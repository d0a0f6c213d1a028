"""What framecast's gst-rtsp-server test programs share (imported by
gst_rtsp_play_server.py and gst_rtsp_record_server.py, next to it): a
server on 127.0.0.1:PORT with one media factory, and the serving loop
that says "listening" on stderr once it accepts connections.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402,F401


def server_and_factory(port):
    """A server that will listen on 127.0.0.1:port, and a media factory."""
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    return server, GstRtspServer.RTSPMediaFactory()


def serve(server, factory, port, path):
    """Mounts factory at /path and serves until killed."""
    server.get_mount_points().add_factory("/" + path, factory)
    if server.attach(None) == 0:
        sys.exit("cannot listen on port " + port)
    print("listening", file=sys.stderr, flush=True)
    GLib.MainLoop().run()
