# `framecast-bench latency`, the Python cases: one program (read raw frames
# from stdin into a numpy array until EOF, push each) with two senders.
# argv: framecast TO FORMAT WIDTH HEIGHT FPS BITRATE_KBPS
#       gst PIPELINE FORMAT WIDTH HEIGHT   (gst-python: GStreamer's appsrc,
#       the pipeline the benchmark gives, with gst-x264's encoder settings)
import sys

import numpy as np


def frames(shape):
    """Yields `frame` each time it is filled from stdin, to the end."""
    frame = np.empty(shape, dtype=np.uint8)
    view = memoryview(frame).cast("B")
    stdin = sys.stdin.buffer
    while True:
        got = 0
        while got < len(view):
            n = stdin.readinto(view[got:])
            if not n:
                return
            got += n
        yield frame


def framecast_sender(to, fmt, width, height, fps, bitrate):
    import framecast

    tx = framecast.Sender(to, width=int(width), height=int(height), fps=int(fps),
                          codec="h264", format=fmt, bitrate=int(bitrate))
    for frame in frames(tx.shape):
        tx.push(frame)
    tx.finish()


def gst_sender(description, fmt, width, height):
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstApp", "1.0")
    from gi.repository import Gst, GstApp  # noqa: F401

    Gst.init(None)
    pipeline = Gst.parse_launch(description)
    src = pipeline.get_by_name("src")
    bus = pipeline.get_bus()

    def fail(what):
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        if msg is not None:
            err, debug = msg.parse_error()
            what = f"{what}: {err.message} ({debug})"
        print(what, file=sys.stderr)
        pipeline.set_state(Gst.State.NULL)
        sys.exit(1)

    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        fail("the pipeline did not start")
    width, height = int(width), int(height)
    # I420: the Y rows, then U and V as half as many rows of `width`.
    shape = (height, width, 3) if fmt == "BGR" else (height * 3 // 2, width)
    for frame in frames(shape):
        # What users write today: a new GstBuffer wrapping a copy.
        ret = src.emit("push-buffer", Gst.Buffer.new_wrapped(frame.tobytes()))
        if ret != Gst.FlowReturn.OK:
            fail(f"push-buffer: {ret.value_nick}")
    src.emit("end-of-stream")
    msg = bus.timed_pop_filtered(10 * Gst.SECOND,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        fail("no end of stream")
    pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    senders = {"framecast": framecast_sender, "gst": gst_sender}
    senders[sys.argv[1]](*sys.argv[2:])
