# framecast.VideoWriter, the Python-side benchmark (issue 14): a cv2-style
# loop writes BGR frames at the camera's rate to rtp://127.0.0.1; a
# framecast.Receiver in another process decodes them and reports capture ->
# decoded latency (from the sender's RTCP); this process reports its CPU per
# frame (encoder threads included). Standalone for now (not wired into
# `framecast bench`).
# argv: WIDTH HEIGHT FPS SECONDS
import json
import os
import resource
import socket
import subprocess
import sys
import time

import numpy as np

RECEIVE = r"""
import json, sys, numpy as np, framecast
lat = []
with framecast.Receiver(int(sys.argv[1]), codec="h264", address="127.0.0.1", latency=0.0) as rx:
    print("ready", flush=True)
    while True:
        f = rx.pull(timeout=3.0)
        if f is None:
            break
        if rx.last_latency is not None:
            lat.append(rx.last_latency)
    print(json.dumps({"frames": rx.stats()["frames"], "latency": lat}))
"""


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


def main():
    width, height, fps, seconds = (int(a) for a in sys.argv[1:5])
    started = time.perf_counter()
    import framecast
    import_s = time.perf_counter() - started
    port = free_port_pair()
    rx = subprocess.Popen([sys.executable, "-c", RECEIVE, str(port)],
                          stdout=subprocess.PIPE, text=True)
    assert rx.stdout.readline().strip() == "ready"
    out = framecast.VideoWriter(f"rtp://127.0.0.1:{port}",
                                framecast.VideoWriter.fourcc(*"H264"), fps, (width, height),
                                strict=True)
    n = fps * seconds
    x = np.arange(width, dtype=np.uint16)
    # Drawn before the clock starts: the CPU measured is write's.
    frames = [np.ascontiguousarray(np.broadcast_to(
        ((x + 8 * i) % 200 + 20).astype(np.uint8)[None, :, None], (height, width, 3)))
        for i in range(16)]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    for i in range(n):
        out.write(frames[i % len(frames)])
        time.sleep(max(0.0, t0 + (i + 1) / fps - time.monotonic()))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    stats = out.stats()
    out.release()
    got = json.loads(rx.stdout.readline())
    rx.wait(timeout=10)
    lat = np.array(got["latency"]) * 1000
    cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / n * 1000
    print(json.dumps({
        "size": f"{width}x{height}@{fps}", "frames_written": n, "frames_decoded": got["frames"],
        "dropped": stats["dropped"], "latency_p50_ms": round(float(np.percentile(lat, 50)), 2),
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 2),
        "cpu_ms_per_frame": round(cpu, 2), "import_ms": round(import_s * 1000, 1),
        "module": os.path.dirname(framecast.__file__),
    }))


if __name__ == "__main__":
    main()
