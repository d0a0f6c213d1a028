# The Python-side writer benchmark (issue 14): a cv2-style loop writes BGR
# frames at the camera's rate to rtp://127.0.0.1 through one of three
# writers, and one receiver (a framecast.Receiver in another process, the
# same for all three) decodes them:
#
#   framecast  framecast.VideoWriter("rtp://...", fourcc("H264"), ...)
#   gst        what OpenCV users do today (PyPI's OpenCV has no GStreamer):
#              PyGObject's appsrc, push-buffer of Gst.Buffer.new_wrapped(
#              frame.tobytes()), videoconvert ! x264enc ! rtph264pay !
#              udpsink, under Debian's /usr/bin/python3 (python3-gi)
#   vidgear    vidgear's WriteGear (PyPI), which pipes the frames into an
#              ffmpeg process (libx264, -f rtp)
#
# Latency is the same measurement for all: each frame carries its index in
# its top-left pixels (32 blocks of 16x16, black or white); the writer notes
# the wall-clock time before each write, the receiver the time each decoded
# frame was pulled and the index it reads back. CPU is the writing
# process's user + system time per frame, plus its children's for vidgear
# (the ffmpeg process does its encoding), measured over the write loop
# only (the frames are drawn before it starts).
#
#   python3 videowriter_python.py compare 1280 720 30 10 [WRITERS]
#     (WRITERS: a comma list of framecast, framecast-1 (one encoder thread:
#     VIDEOWRITER_PROP_NSTRIPES 1), gst, vidgear; the first three by default)
#   python3 videowriter_python.py write WRITER PORT WIDTH HEIGHT FPS SECONDS
#   python3 videowriter_python.py receive PORT
#   python3 videowriter_python.py encode WIDTH HEIGHT [THREADS,...] [ROUNDS]
#     (openh264's encode time a frame for each encoder thread count)
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time

import numpy as np

BITS = 32
BLOCK = 16
BITRATE_KBPS = 4000
HERE = os.path.abspath(__file__)
# gi is Debian's (python3-gi), under its own interpreter.
GST_PYTHON = os.environ.get("GST_PYTHON", "/usr/bin/python3")


def free_port_pair():
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1] & ~1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def stamp(frame, index):
    """Writes `index` into the frame's top-left blocks (white = 1)."""
    bits = (index >> np.arange(BITS)) & 1
    row = np.repeat(bits * 219 + 16, BLOCK).astype(np.uint8)
    frame[:BLOCK, :BITS * BLOCK, :] = row[None, :, None]


def read_stamp(frame):
    """The index `stamp` wrote, read from the blocks' centres."""
    centres = frame[BLOCK // 2, BLOCK // 2:BITS * BLOCK:BLOCK, 1] > 128
    return int(np.sum(centres.astype(np.int64) << np.arange(BITS)))


def cpu_seconds(children):
    u = resource.getrusage(resource.RUSAGE_SELF)
    t = u.ru_utime + u.ru_stime
    if children:
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        t += c.ru_utime + c.ru_stime
    return t


class FramecastWriter:
    children = False
    # Encoder threads (VIDEOWRITER_PROP_NSTRIPES): 0 is one per core.
    stripes = 0

    def __init__(self, port, width, height, fps):
        import framecast

        self.out = framecast.VideoWriter(f"rtp://127.0.0.1:{port}",
                                         framecast.VideoWriter.fourcc(*"H264"), fps,
                                         (width, height), strict=True,
                                         params=[framecast.VIDEOWRITER_PROP_BITRATE,
                                                 BITRATE_KBPS] + self.stripe_params(framecast))
        self.write = self.out.write

    def stripe_params(self, framecast):
        # Only when asked: a module from before NSTRIPES runs the default.
        return [framecast.VIDEOWRITER_PROP_NSTRIPES, self.stripes] if self.stripes else []

    def close(self):
        s = self.out.stats()
        self.out.release()
        frames = max(s["frames_out"], 1)
        # The writer's own split of the latency: encoding, and push to the
        # frame's last packet on the wire (the rest is the receiver's).
        return s["dropped"], {"encode_ms": round(s["encode_time"] / frames * 1000, 2),
                              "push_to_wire_ms": round(s["latency"] * 1000, 2)}


class GstWriter:
    children = False

    def __init__(self, port, width, height, fps):
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstApp", "1.0")
        from gi.repository import Gst, GstApp  # noqa: F401

        Gst.init(None)
        self.Gst = Gst
        # gst-x264's settings of the latency benchmark (BENCHMARKS.md).
        self.pipeline = Gst.parse_launch(
            "appsrc name=src is-live=true do-timestamp=true format=time "
            f"caps=video/x-raw,format=BGR,width={width},height={height},framerate={fps}/1 "
            "! videoconvert ! video/x-raw,format=I420 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={BITRATE_KBPS} "
            "key-int-max=30 ! rtph264pay config-interval=-1 mtu=1400 pt=96 "
            f"! udpsink host=127.0.0.1 port={port} sync=false")
        self.src = self.pipeline.get_by_name("src")
        self.pipeline.set_state(Gst.State.PLAYING)

    def write(self, frame):
        # What users write today: a new GstBuffer wrapping a copy.
        self.src.emit("push-buffer", self.Gst.Buffer.new_wrapped(frame.tobytes()))

    def close(self):
        Gst = self.Gst
        self.src.emit("end-of-stream")
        self.pipeline.get_bus().timed_pop_filtered(
            10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        self.pipeline.set_state(Gst.State.NULL)
        return 0, {}


class VidgearWriter:
    children = True

    def __init__(self, port, width, height, fps):
        from vidgear.gears import WriteGear

        params = {"-input_framerate": fps, "-vcodec": "libx264", "-preset": "ultrafast",
                  "-tune": "zerolatency", "-b:v": f"{BITRATE_KBPS}k", "-g": 30,
                  "-pix_fmt": "yuv420p", "-f": "rtp"}
        self.out = WriteGear(output=f"rtp://127.0.0.1:{port}", compression_mode=True,
                             logging=False, **params)
        self.write = self.out.write

    def close(self):
        self.out.close()
        return 0, {}


class FramecastOneStripe(FramecastWriter):
    # One encoder thread: the least CPU, where cores are scarce.
    stripes = 1


WRITERS = {"framecast": FramecastWriter, "framecast-1": FramecastOneStripe, "gst": GstWriter,
           "vidgear": VidgearWriter}


def content(width, height):
    """16 BGR frames of a gradient moving 8 pixels a frame."""
    x = np.arange(width, dtype=np.uint16)
    return [np.ascontiguousarray(np.broadcast_to(
        ((x + 8 * i) % 200 + 20).astype(np.uint8)[None, :, None], (height, width, 3)))
        for i in range(16)]


def encode_split(width, height, stripes, rounds):
    """openh264's encode time per frame for each encoder thread count
    (VIDEOWRITER_PROP_NSTRIPES), 150 frames paced at 30 fps each, to a
    socket of our own that is never read (the kernel drops what overflows)."""
    import framecast

    frames = content(width, height)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        port = sink.getsockname()[1]
        for _ in range(rounds):
            for n in stripes:
                out = framecast.VideoWriter(
                    f"rtp://127.0.0.1:{port}", framecast.VideoWriter.fourcc(*"H264"), 30,
                    (width, height), strict=True,
                    params=[framecast.VIDEOWRITER_PROP_BITRATE, BITRATE_KBPS,
                            framecast.VIDEOWRITER_PROP_NSTRIPES, n])
                t0 = time.monotonic()
                for i in range(150):
                    out.write(frames[i % len(frames)])
                    time.sleep(max(0.0, t0 + (i + 1) / 30 - time.monotonic()))
                s = out.stats()
                out.release()
                frames_out = max(s["frames_out"], 1)
                print(json.dumps({"threads": n, "size": f"{width}x{height}",
                                  "encode_ms": round(s["encode_time"] / frames_out * 1000, 2),
                                  "push_to_wire_ms": round(s["latency"] * 1000, 2)}))


def write(name, port, width, height, fps, seconds):
    n = fps * seconds
    # Drawn before the clock starts; only the index stamp (32 small block
    # writes, the same for every writer) is drawn in the loop.
    frames = content(width, height)
    started = time.perf_counter()
    out = WRITERS[name](port, width, height, fps)
    open_s = time.perf_counter() - started
    written = []
    cpu0 = cpu_seconds(out.children)
    t0 = time.monotonic()
    for i in range(n):
        frame = frames[i % len(frames)]
        stamp(frame, i)
        written.append(time.time())
        out.write(frame)
        time.sleep(max(0.0, t0 + (i + 1) / fps - time.monotonic()))
    cpu1 = cpu_seconds(False)
    dropped, split = out.close()
    if out.children:
        # vidgear's ffmpeg does the encoding: its whole run is counted,
        # once it has exited (RUSAGE_CHILDREN counts waited-for children).
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu1 += c.ru_utime + c.ru_stime
    print(json.dumps({"written": written, "cpu_s": cpu1 - cpu0, "dropped": dropped,
                      "open_ms": open_s * 1000, **split}))


def receive(port):
    import framecast

    pulled = {}
    with framecast.Receiver(port, codec="h264", address="127.0.0.1", latency=0.0) as rx:
        print("ready", flush=True)
        while True:
            # Until the writer is done and the stream quiet (not every
            # writer says RTCP BYE).
            f = rx.pull(timeout=3.0)
            if f is None:
                break
            pulled.setdefault(read_stamp(f), time.time())
    print(json.dumps(pulled))


def case(name, width, height, fps, seconds):
    # numpy's OpenBLAS threads spin on idle cores after an operation (3-4 %
    # of a writer's samples in perf): one thread in every process, so no
    # writer pays for them.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    port = free_port_pair()
    rx = subprocess.Popen([sys.executable, HERE, "receive", str(port)],
                          stdout=subprocess.PIPE, text=True)
    assert rx.stdout.readline().strip() == "ready"
    python = GST_PYTHON if name == "gst" else sys.executable
    tx = subprocess.run([python, HERE, "write", name, str(port), str(width), str(height),
                         str(fps), str(seconds)], capture_output=True, text=True, timeout=120)
    if tx.returncode != 0:
        rx.kill()
        raise RuntimeError(f"{name}: {tx.stderr[-2000:]}")
    sent = json.loads(tx.stdout.strip().splitlines()[-1])
    pulled = {int(k): v for k, v in json.loads(rx.communicate(timeout=60)[0]).items()}
    n = len(sent["written"])
    lat = np.array([(pulled[i] - sent["written"][i]) * 1000 for i in range(n) if i in pulled])
    pct = (lambda q: round(float(np.percentile(lat, q)), 2)) if len(lat) else (lambda q: None)
    return {"writer": name, "size": f"{width}x{height}@{fps}", "written": n,
            "decoded": len(lat), "undecodable_stamps": len(set(pulled) - set(range(n))),
            "dropped": sent["dropped"], "p50_ms": pct(50), "p99_ms": pct(99),
            "cpu_ms_per_frame": round(sent["cpu_s"] / n * 1000, 2),
            "open_ms": round(sent["open_ms"], 1),
            **{k: sent[k] for k in ("encode_ms", "push_to_wire_ms") if k in sent}}


def main():
    mode = sys.argv[1]
    if mode == "receive":
        receive(int(sys.argv[2]))
    elif mode == "encode":
        width, height = int(sys.argv[2]), int(sys.argv[3])
        stripes = [int(a) for a in sys.argv[4].split(",")] if len(sys.argv) > 4 else [1, 2, 4]
        encode_split(width, height, stripes, int(sys.argv[5]) if len(sys.argv) > 5 else 2)
    elif mode == "write":
        name, *numbers = sys.argv[2:]
        write(name, *(int(a) for a in numbers))
    else:
        width, height, fps, seconds = (int(a) for a in sys.argv[2:6])
        names = sys.argv[6].split(",") if len(sys.argv) > 6 else ["framecast", "gst", "vidgear"]
        if "vidgear" in names and not shutil.which("ffmpeg"):
            raise RuntimeError("vidgear drives ffmpeg, which is not on PATH")
        rows = [case(name, width, height, fps, seconds) for name in names]
        for r in rows:
            print(json.dumps(r))
        others = [r for r in rows if not r["writer"].startswith("framecast")]
        for ours in (r for r in rows if r["writer"].startswith("framecast") and others):
            best = {k: min(r[k] for r in others) for k in ("p50_ms", "cpu_ms_per_frame")}
            print(json.dumps({f"{ours['writer']} / best other": {
                k: round(ours[k] / best[k], 2) for k in best}}))


if __name__ == "__main__":
    main()
