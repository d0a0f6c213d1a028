#!/usr/bin/python3
"""GStreamer's RTSP server in RECORD mode, for framecast's publish tests.

usage: gst_rtsp_record_server.py PORT PATH [USER PASSWORD]

Accepts ANNOUNCE/RECORD on rtsp://127.0.0.1:PORT/PATH, decodes the H.264
it receives and writes the frames as raw I420 to stdout (fd 1), where the
test reads them. With USER and PASSWORD, Digest authentication is required.
"""
import sys

from gst_rtsp_common import GstRtsp, GstRtspServer, serve, server_and_factory

port, path = sys.argv[1], sys.argv[2]
server, factory = server_and_factory(port)
factory.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
factory.set_launch(
    "( rtph264depay name=depay0 ! avdec_h264 ! videoconvert "
    "! video/x-raw,format=I420 ! fdsink fd=1 sync=false )"
)
if len(sys.argv) > 4:
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    token = GstRtspServer.RTSPToken.new()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "publisher")
    auth.add_digest(sys.argv[3], sys.argv[4], token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_role("publisher")
    perms.add_permission_for_role("publisher", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role("publisher", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(perms)
serve(server, factory, port, path)
