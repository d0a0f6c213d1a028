#!/usr/bin/python3
"""GStreamer's RTSP server in PLAY mode, for framecast's RTSP receive tests.

usage: gst_rtsp_play_server.py PORT PATH

Serves rtsp://127.0.0.1:PORT/PATH: a live 320x240 white test picture,
H.264 from x264enc tune=zerolatency, so the receiver can check what it
decodes (luma near 235).
"""
import sys

from gst_rtsp_common import serve, server_and_factory

port, path = sys.argv[1], sys.argv[2]
server, factory = server_and_factory(port)
factory.set_shared(True)
factory.set_launch(
    "( videotestsrc is-live=true pattern=white ! video/x-raw,width=320,height=240,framerate=30/1 "
    "! x264enc tune=zerolatency key-int-max=30 ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)
serve(server, factory, port, path)
