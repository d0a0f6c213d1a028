"""framecast.VideoWriter against OpenCV's own: the same script, one line
changed, decoded by ffmpeg from the SDP. Needs opencv-python-headless (PyPI)
and ffmpeg; without them the tests skip unless FRAMECAST_REQUIRE_INTEROP=1.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import numpy as np

import framecast
from test_framecast import free_port_pair

try:
    import cv2
except ImportError:  # pragma: no cover - depends on the environment
    cv2 = None

REQUIRED = os.environ.get("FRAMECAST_REQUIRE_INTEROP") == "1"
MISSING = [name for name, ok in (("cv2", cv2 is not None),
                                 ("ffmpeg", shutil.which("ffmpeg"))) if not ok]
if MISSING and REQUIRED:
    raise RuntimeError(f"{MISSING} missing and FRAMECAST_REQUIRE_INTEROP=1")

W, H, FPS, SECONDS = 1280, 720, 30, 10
SMALL = (64, 36)  # ffmpeg scales the decoded frames down: 300 frames stay small


def colour(i, n):
    """Frame i's background (BGR): blue ramps up over the clip, red down."""
    b = 20 + i * 215 // (n - 1)
    return (b, 128, 255 - b)


def opencv_script(make_writer, n):
    """A typical OpenCV loop: draw a frame, write it, at the camera's rate."""
    out = make_writer()
    start = time.monotonic()
    for i in range(n):
        frame = np.full((H, W, 3), colour(i, n), np.uint8)
        cv2.putText(frame, f"frame {i}", (400, 380), cv2.FONT_HERSHEY_SIMPLEX,
                    3, (255, 255, 255), 6)
        out.write(frame)
        time.sleep(max(0.0, start + (i + 1) / FPS - time.monotonic()))
    stats = out.stats()
    out.release()
    return stats


@unittest.skipIf(MISSING, f"{MISSING} not found")
class PortedOpenCVScript(unittest.TestCase):
    def test_ten_seconds_of_720p30_reach_ffmpeg_through_the_sdp(self):
        port = free_port_pair()
        n = FPS * SECONDS
        with tempfile.TemporaryDirectory() as tmp:
            sdp = os.path.join(tmp, "stream.sdp")
            # The one line a port changes:
            #   cv2.VideoWriter("appsrc ! ... ! udpsink ...", cv2.CAP_GSTREAMER, 0, FPS, (W, H))
            writer = framecast.VideoWriter(
                f"rtp://127.0.0.1:{port}?sdp={sdp}",
                cv2.VideoWriter_fourcc(*"H264"), FPS, (W, H))
            self.assertTrue(writer.isOpened(), writer.error)
            self.assertTrue(os.path.exists(sdp))
            ffmpeg = subprocess.Popen(
                ["ffmpeg", "-nostdin", "-loglevel", "error",
                 "-protocol_whitelist", "file,udp,rtp", "-i", sdp,
                 "-vf", f"scale={SMALL[0]}:{SMALL[1]}", "-fps_mode", "passthrough",
                 "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            chunks = []
            reader = threading.Thread(
                target=lambda: chunks.extend(iter(lambda: ffmpeg.stdout.read(1 << 16), b"")))
            reader.start()
            try:
                # ffmpeg must listen before the first keyframe is sent.
                wait_until_bound(port, ffmpeg)
                stats = opencv_script(lambda: writer, n)
                time.sleep(1.0)
            finally:
                ffmpeg.terminate()
                reader.join(timeout=10)
                ffmpeg.wait(timeout=10)
                errors = ffmpeg.stderr.read().decode(errors="replace")
                ffmpeg.stdout.close()
                ffmpeg.stderr.close()
        raw = b"".join(chunks)
        size = SMALL[0] * SMALL[1] * 3
        frames = np.frombuffer(raw[: len(raw) // size * size], np.uint8).reshape(
            -1, SMALL[1], SMALL[0], 3)
        self.assertEqual(stats["frames_in"], n)
        # Latest wins on a loaded machine: what the encoder skipped is
        # counted, the rest arrives.
        self.assertGreaterEqual(len(frames), 0.9 * (n - stats["dropped"]),
                                f"{len(frames)} frames decoded, {stats}, "
                                f"{errors}")
        self.assertLessEqual(len(frames), n)
        # Content: the corner's colour says which frame it is, in order.
        corner = frames[:, :4, :4, :].reshape(len(frames), -1, 3).mean(axis=1)
        blue = corner[:, 0]
        est = (blue - 20) * (n - 1) / 215
        self.assertLess(est[0], 40)
        self.assertGreater(est[-1], n - 40)
        self.assertTrue(np.all(np.diff(est) > -6), est)
        self.assertTrue(np.all(np.abs(corner[:, 1] - 128) < 12), corner[:, 1])


class OpenCVShape(unittest.TestCase):
    def test_fourcc_matches_opencv_and_unknown_ones_are_refused(self):
        self.assertEqual(framecast.VideoWriter.fourcc(*"H264"),
                         ord("H") | ord("2") << 8 | ord("6") << 16 | ord("4") << 24)
        if cv2 is not None:
            for code in ("H264", "avc1", "MJPG"):
                self.assertEqual(framecast.VideoWriter.fourcc(*code),
                                 cv2.VideoWriter_fourcc(*code))
            self.assertEqual(framecast.VIDEOWRITER_PROP_QUALITY, cv2.VIDEOWRITER_PROP_QUALITY)
            self.assertEqual(framecast.VIDEOWRITER_PROP_KEY_INTERVAL,
                             cv2.VIDEOWRITER_PROP_KEY_INTERVAL)
            self.assertEqual(framecast.VIDEOWRITER_PROP_NSTRIPES,
                             cv2.VIDEOWRITER_PROP_NSTRIPES)
        port = free_port_pair()
        w = framecast.VideoWriter(f"rtp://127.0.0.1:{port}",
                                  framecast.VideoWriter.fourcc(*"XVID"), 30, (64, 48))
        self.assertFalse(w.isOpened())
        self.assertIn("XVID", w.error)
        with self.assertRaisesRegex(ValueError, "XVID"):
            framecast.VideoWriter(f"rtp://127.0.0.1:{port}",
                                  framecast.VideoWriter.fourcc(*"XVID"), 30, (64, 48),
                                  strict=True)

    def test_destinations_not_supported_yet_or_wrong_say_so(self):
        fourcc = framecast.VideoWriter.fourcc(*"H264")
        for url, says in (("https://127.0.0.1:8080/cam", "not supported yet"),
                          ("http://127.0.0.1:8080", "expected http://host:port/path"),
                          ("out.avi", ".h264"),
                          ("rtsp://127.0.0.1:8554/cam?tcp=1", "unknown option"),
                          ("ftp://x:1", "unknown scheme")):
            w = framecast.VideoWriter(url, fourcc, 30, (64, 48))
            self.assertFalse(w.isOpened(), url)
            self.assertIn(says, w.error)
        with tempfile.TemporaryDirectory() as d:
            w = framecast.VideoWriter(os.path.join(d, "x.h264"),
                                      framecast.VideoWriter.fourcc(*"MJPG"), 30, (64, 48))
            self.assertFalse(w.isOpened())
            self.assertIn("extension", w.error)

    def test_open_write_get_set_release_and_the_shape_expected(self):
        port = free_port_pair()
        w = framecast.VideoWriter()
        self.assertFalse(w.isOpened())
        self.assertEqual(w.getBackendName(), "framecast")
        # OpenCV's apiPreference form and params form.
        self.assertTrue(w.open(f"rtp://127.0.0.1:{port}", 0, framecast.VideoWriter.fourcc(*"MJPG"),
                               30.0, (64, 48),
                               [framecast.VIDEOWRITER_PROP_QUALITY, 60]), w.error)
        self.assertEqual(w.get(framecast.VIDEOWRITER_PROP_QUALITY), 60)
        self.assertTrue(w.set(framecast.VIDEOWRITER_PROP_QUALITY, 90))
        self.assertEqual(w.get(framecast.VIDEOWRITER_PROP_QUALITY), 90)
        self.assertFalse(w.set(framecast.VIDEOWRITER_PROP_KEY_INTERVAL, 10))
        with self.assertRaisesRegex(ValueError, r"\(48, 64, 3\)"):
            w.write(np.zeros((64, 48, 3), np.uint8))
        w.write(np.zeros((48, 64, 3), np.uint8))
        w.release()
        self.assertFalse(w.isOpened())
        w.release()  # twice is fine, as OpenCV
        with framecast.VideoWriter(f"rtp://127.0.0.1:{port}", framecast.VideoWriter.fourcc(*"H264"),
                                   30, (64, 48), False,
                                   params=[framecast.VIDEOWRITER_PROP_BITRATE, 500,
                                           framecast.VIDEOWRITER_PROP_KEY_INTERVAL, 15,
                                           framecast.VIDEOWRITER_PROP_NSTRIPES, 1]) as g:
            self.assertEqual(g.get(framecast.VIDEOWRITER_PROP_BITRATE), 500)
            self.assertEqual(g.get(framecast.VIDEOWRITER_PROP_NSTRIPES), 1)
            self.assertEqual(g.get(framecast.VIDEOWRITER_PROP_KEY_INTERVAL), 15)
            self.assertEqual(g.get(framecast.VIDEOWRITER_PROP_IS_COLOR), 0)
            g.write(np.zeros((48, 64), np.uint8))
        self.assertFalse(g.isOpened())

    def test_block_loses_no_frame_of_a_fast_loop(self):
        port = free_port_pair()
        fourcc = framecast.VideoWriter.fourcc(*"H264")
        for block, expect_drops in ((True, False), (False, True)):
            w = framecast.VideoWriter(f"rtp://127.0.0.1:{port}", fourcc, 30, (640, 480),
                                      block=block, strict=True)
            frame = np.zeros((480, 640, 3), np.uint8)
            for i in range(120):
                frame[:] = i
                w.write(frame)
            stats = w.stats()
            w.release()
            self.assertEqual(stats["frames_in"], 120)
            if expect_drops:
                self.assertGreater(stats["dropped"], 0, stats)
            else:
                self.assertEqual(stats["dropped"], 0, stats)

    def test_other_threads_read_the_writer_while_one_writes(self):
        # write lets the GIL go while it converts; repr/get/stats from
        # another thread meanwhile must not wait on the writer's state
        # while holding the GIL (they deadlocked: write held the state's
        # lock across the conversion). Bounded: 3 s of reads.
        port = free_port_pair()
        w = framecast.VideoWriter(f"rtp://127.0.0.1:{port}", framecast.VideoWriter.fourcc(*"H264"),
                                  30, (1280, 720), strict=True)
        done = threading.Event()
        written = [0]

        def write():
            frame = np.zeros((720, 1280, 3), np.uint8)
            while not done.is_set():
                w.write(frame)
                written[0] += 1

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        reads = 0
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            self.assertIn("1280x720", repr(w))
            self.assertEqual(w.get(framecast.VIDEOWRITER_PROP_BITRATE) > 0, True)
            w.stats()
            reads += 1
        done.set()
        writer.join(timeout=10)
        self.assertFalse(writer.is_alive(), "the writing thread is stuck")
        w.release()
        self.assertGreater(written[0], 10)
        self.assertGreater(reads, 100)


def wait_until_bound(port, process, seconds=20):
    """Waits until `process` has bound UDP `port` on 127.0.0.1 (binding it
    ourselves fails then), failing if the process ends first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before binding {port}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.02)
    raise AssertionError(f"nothing bound UDP port {port} within {seconds} s")


def free_tcp_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(shutil.which("ffmpeg") and shutil.which("ffprobe"), "ffmpeg missing")
class Destinations(unittest.TestCase):
    """The other filenames OpenCV users give: a file to record, an RTSP
    URL to serve (`?listen=1`) or to publish into."""

    def test_records_every_frame_into_h264_and_mjpeg_files(self):
        for code, fmt in (("H264", "h264"), ("MJPG", "mjpeg")):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, f"out.{fmt}")
                w = framecast.VideoWriter(path, framecast.VideoWriter.fourcc(*code), 30,
                                          (320, 240), block=True, strict=True)
                frame = np.zeros((240, 320, 3), np.uint8)
                for i in range(45):
                    frame[:] = (i * 5) % 256
                    w.write(frame)
                w.release()
                probe = subprocess.run(
                    ["ffprobe", "-v", "error", "-f", fmt, "-count_frames",
                     "-select_streams", "v:0", "-show_entries",
                     "stream=width,height,nb_read_frames", "-of", "default=nw=1", path],
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(probe.returncode, 0, probe.stderr)
                fields = dict(line.split("=", 1) for line in probe.stdout.split())
                self.assertEqual(fields, {"width": "320", "height": "240",
                                          "nb_read_frames": "45"}, (code, probe.stdout))

    def _write_while(self, writer, done, seconds=20):
        frame = np.zeros((240, 320, 3), np.uint8)
        deadline = time.monotonic() + seconds
        i = 0
        while not done.is_set() and time.monotonic() < deadline:
            frame[:] = (i * 3) % 256
            writer.write(frame)
            i += 1
            time.sleep(1 / 30)

    def _while_writing(self, url, fourcc, peer):
        """Opens a writer on `url` and writes into it (another thread)
        while `peer()` runs; returns what `peer` returned."""
        w = framecast.VideoWriter(url, framecast.VideoWriter.fourcc(*fourcc), 30, (320, 240),
                                  strict=True)
        done = threading.Event()
        writer = threading.Thread(target=self._write_while, args=(w, done))
        writer.start()
        try:
            return peer(w)
        finally:
            done.set()
            writer.join()
            w.release()

    def test_serves_rtsp_with_listen_1_and_ffmpeg_plays_it(self):
        port = free_tcp_port()
        play = self._while_writing(
            f"rtsp://127.0.0.1:{port}/cam?listen=1", "H264", lambda _: subprocess.run(
                ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i",
                 f"rtsp://127.0.0.1:{port}/cam", "-frames:v", "10", "-f", "null", "-"],
                capture_output=True, text=True, timeout=30))
        self.assertEqual(play.returncode, 0, play.stderr)

    def test_publishes_into_an_rtsp_server(self):
        port = free_tcp_port()
        server = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-rtsp_flags", "listen", "-i",
             f"rtsp://127.0.0.1:{port}/x", "-frames:v", "10", "-f", "null", "-"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)  # ffmpeg's listening socket
        try:
            _, err = self._while_writing(f"rtsp://127.0.0.1:{port}/x", "H264",
                                         lambda _: server.communicate(timeout=30))
        finally:
            if server.poll() is None:
                server.kill()
        self.assertEqual(server.returncode, 0, err)

    def test_serves_browsers_over_http_and_ffmpeg_reads_the_mjpeg(self):
        port = free_tcp_port()

        def probe(w):
            self.assertEqual(repr(w), f"<framecast.VideoWriter http://127.0.0.1:{port}/cam "
                                      "320x240 @ 30>")
            return subprocess.run(
                ["ffprobe", "-v", "error", "-f", "mpjpeg", "-i",
                 f"http://127.0.0.1:{port}/cam/mjpeg", "-count_frames", "-read_intervals",
                 "%+#5", "-select_streams", "v", "-show_entries", "stream=width,height",
                 "-of", "csv=p=0"],
                capture_output=True, text=True, timeout=30)

        play = self._while_writing(f"http://127.0.0.1:{port}/cam", "MJPG", probe)
        self.assertEqual(play.returncode, 0, play.stderr)
        self.assertEqual(play.stdout.strip().splitlines()[0], "320,240")


if __name__ == "__main__":
    unittest.main()
