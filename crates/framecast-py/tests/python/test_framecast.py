"""The framecast Python module end to end on 127.0.0.1.

Run by tests/python.rs (`cargo test -p framecast-py`), which builds the
module and puts it on PYTHONPATH; or by hand after `maturin develop`:
`python3 -m unittest discover -s crates/framecast-py/tests/python`.
"""

import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import numpy as np

import framecast


def free_port_pair():
    """An even port whose next port is free too (RTP, RTCP)."""
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
    raise RuntimeError("no free port pair on 127.0.0.1")


def gradient(width, height, n):
    """A BGR picture that changes with n: a horizontal ramp per channel."""
    x = np.arange(width, dtype=np.uint16)
    row = np.stack([(x + 8 * n) % 200 + 20, (x // 2 + 50) % 200 + 20,
                    np.full(width, 60 + n % 100)], axis=-1).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(row, (height, width, 3)))


def pull_all(rx, limit=200, timeout=2.0, with_info=False):
    """Every frame until the stream ends (or `limit`, or a timeout): arrays,
    or with `with_info` the `framecast.Frame`s of `pull_frame`."""
    frames = []
    deadline = time.monotonic() + 20
    while len(frames) < limit and time.monotonic() < deadline:
        frame = rx.pull_frame(timeout=timeout) if with_info else rx.pull(timeout=timeout)
        if frame is None:
            break
        frames.append(frame if with_info else frame.copy())
    return frames


class SendAndReceive(unittest.TestCase):
    def test_h264_bgr_frames_arrive_with_latency(self):
        port = free_port_pair()
        w, h = 320, 240
        with framecast.Receiver(port, address="127.0.0.1", codec="h264") as rx:
            self.assertEqual(rx.port, port)
            with framecast.Sender(f"127.0.0.1:{port}", width=w, height=h, fps=30) as tx:
                self.assertEqual(tx.shape, (h, w, 3))
                self.assertEqual((tx.width, tx.height, tx.format), (w, h, "BGR"))
                sent = []
                start = time.monotonic()
                for n in range(30):
                    frame = gradient(w, h, n)
                    sent.append(frame)
                    tx.push(frame)
                    time.sleep(max(0.0, start + (n + 1) / 30 - time.monotonic()))
                stats = tx.stats()
                self.assertEqual(stats["frames_in"], 30)
                self.assertGreater(stats["packets"], 30)
                self.assertGreater(stats["latency_max"], 0)
                self.assertLess(stats["latency_max"], 1.0)
                sdp = tx.sdp(timeout=2.0)
                self.assertIn("H264/90000", sdp)
            self.assertTrue(tx.finished)
            frames = pull_all(rx)
            self.assertTrue(rx.eos, "the sender's BYE ends the stream")
            self.assertIsNone(rx.pull(timeout=0.1))
        self.assertGreaterEqual(len(frames), 25)
        for frame in frames:
            self.assertEqual(frame.shape, (h, w, 3))
            self.assertEqual(frame.dtype, np.uint8)
        # The last frame is the last one sent (latest wins, none after),
        # through a lossy codec: close, not equal.
        diff = np.abs(frames[-1].astype(int) - sent[-1].astype(int)).mean()
        self.assertLess(diff, 4.0)
        self.assertIsNotNone(rx.last_latency)
        self.assertGreater(rx.last_latency, 0)
        self.assertLess(rx.last_latency, 1.0)

    def test_raw_i420_is_bit_exact_into_a_reused_array(self):
        port = free_port_pair()
        w, h = 64, 48
        rx = framecast.Receiver(port, address="127.0.0.1", codec="raw", size=(w, h),
                                format="I420")
        tx = framecast.Sender(f"127.0.0.1:{port}", width=w, height=h, codec="raw",
                              format="I420")
        self.assertEqual(tx.shape, (h * 3 // 2, w))
        out = np.zeros((h * 3 // 2, w), np.uint8)
        rng = np.random.default_rng(7)
        for _ in range(5):
            frame = rng.integers(0, 256, size=(h * 3 // 2, w), dtype=np.uint8)
            tx.push(frame)
            got = rx.pull(timeout=5.0, out=out)
            self.assertIs(got, out, "the frame is written into `out`")
            np.testing.assert_array_equal(out, frame)
        tx.push(bytes(frame))  # any buffer of the right size is a frame
        np.testing.assert_array_equal(rx.pull(timeout=5.0), frame)
        with self.assertRaisesRegex(ValueError, r"out: expected a \(72, 64\)"):
            tx.push(frame)
            rx.pull(timeout=5.0, out=np.zeros((10, 10), np.uint8))
        tx.finish()
        stats = rx.stop()
        self.assertEqual(stats["lost"], 0)
        self.assertGreater(stats["packets"], 0)

    def test_crops_and_flipped_views_arrive_row_for_row(self):
        # A gray picture with a steep vertical ramp (8 levels a row): raw
        # video carries gray through I420 and back within a level or two,
        # so a frame one row off is 8 levels off.
        port = free_port_pair()
        w, h = 160, 120
        ramp = (np.arange(400, dtype=np.uint16)[:, None] * 8 % 200 + 30).astype(np.uint8)
        big = np.repeat(np.repeat(ramp, 600, axis=1)[:, :, None], 3, axis=2)
        crop = big[100:100 + h, 200:200 + w]
        self.assertFalse(crop.flags["C_CONTIGUOUS"])
        flipped = np.ascontiguousarray(crop)[::-1]
        with framecast.Receiver(port, address="127.0.0.1", codec="raw", size=(w, h)) as rx, \
                framecast.Sender(f"127.0.0.1:{port}", width=w, height=h, codec="raw") as tx:
            for view in (crop, flipped):
                tx.push(view)
                frame = rx.pull(timeout=5.0)
                self.assertIsNotNone(frame)
                rows = frame[:, :, 1].astype(int).mean(axis=1)
                expected = view[:, :, 1].astype(int).mean(axis=1)
                self.assertLess(np.abs(rows - expected).max(), 3, (rows[:4], expected[:4]))

    def test_iteration_ends_with_the_stream(self):
        port = free_port_pair()
        w, h = 64, 48
        rx = framecast.Receiver(port, address="127.0.0.1", codec="raw", size=(w, h))
        with framecast.Sender(f"127.0.0.1:{port}", width=w, height=h, codec="raw") as tx:
            for n in range(5):
                tx.push(gradient(w, h, n))
                time.sleep(0.01)
        frames = [f for f in rx]  # ends at the sender's BYE
        self.assertEqual(len(frames), 5)
        self.assertTrue(rx.eos)
        self.assertEqual(rx.stats()["frames"], 5)
        self.assertEqual(repr(rx), f"<framecast.Receiver port {port}, 5 frames>")
        self.assertEqual(rx.warnings(), [])
        stats = rx.stop()
        self.assertTrue(stats["bye"])
        self.assertIsNone(stats["stopped_without_bye"])
        self.assertEqual((stats["frames"], stats["lost"], stats["stray"]), (5, 0, 0))
        self.assertEqual(repr(rx), "<framecast.Receiver stopped, 5 frames>")

    def test_a_sender_that_vanishes_without_bye_is_said_so(self):
        port = free_port_pair()
        w, h = 64, 48
        with framecast.Receiver(port, address="127.0.0.1", codec="raw", size=(w, h)) as rx:
            stats = rx.stats()
            self.assertIsNone(stats["silent_for"])
            self.assertIsNone(stats["stopped_without_bye"])
            # Another process sends 10 frames over 0.3 s, then dies without
            # finishing its stream: no RTCP BYE.
            result = run_script(f"""
                import os, time, numpy as np, framecast
                tx = framecast.Sender("127.0.0.1:{port}", width={w}, height={h}, codec="raw")
                for n in range(10):
                    tx.push(np.full(tx.shape, n, np.uint8))
                    time.sleep(0.03)
                time.sleep(0.2)
                os._exit(0)
            """, "")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(len(pull_all(rx, timeout=0.5)), 10)
            self.assertFalse(rx.eos)
            deadline = time.monotonic() + 10
            while rx.stats()["stopped_without_bye"] is None and time.monotonic() < deadline:
                time.sleep(0.1)
            stats = rx.stats()
            self.assertFalse(stats["bye"])
            self.assertGreaterEqual(stats["silent_for"], 2.0)
            # The stream ran from the first frame's packets to the last's.
            self.assertGreater(stats["stopped_without_bye"], 0.2)
            self.assertLess(stats["stopped_without_bye"], 2.0)
            self.assertEqual(stats["stopped_without_bye"], stats["streamed"])

    def test_a_slow_loop_gets_the_newest_frame_with_drop_old(self):
        port = free_port_pair()
        w, h = 64, 48
        with framecast.Receiver(port, address="127.0.0.1", codec="raw", size=(w, h),
                                format="I420", max_buffers=1, drop_old=True) as rx, \
                framecast.Sender(f"127.0.0.1:{port}", width=w, height=h, codec="raw",
                                 format="I420") as tx:
            for n in range(10):
                tx.push(np.full(tx.shape, 16 + 20 * n, np.uint8))
                time.sleep(0.01)
            deadline = time.monotonic() + 5
            while rx.stats()["dropped"] < 9 and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual(rx.stats()["dropped"], 9)
            frame = rx.pull(timeout=2.0)
            self.assertTrue((frame == 16 + 20 * 9).all())

    def test_stop_ends_a_pull_waiting_in_another_thread(self):
        port = free_port_pair()
        rx = framecast.Receiver(port, address="127.0.0.1")
        result = []
        t = threading.Thread(target=lambda: result.append(rx.pull(timeout=None)))
        t.start()
        time.sleep(0.3)
        started = time.monotonic()
        rx.stop()
        t.join(timeout=10)
        self.assertFalse(t.is_alive(), "pull still waiting after stop()")
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(result, [None])
        with self.assertRaisesRegex(framecast.FramecastError, "stopped"):
            rx.pull(timeout=0)

    def test_the_blocks_exception_is_not_replaced(self):
        port = free_port_pair()
        with self.assertRaisesRegex(KeyError, "mine"):
            with framecast.Receiver(port, address="127.0.0.1"), \
                    framecast.Sender(f"127.0.0.1:{port}", width=64, height=48):
                raise KeyError("mine")

    def test_pull_lets_other_threads_run(self):
        port = free_port_pair()
        ticks = []
        stop = threading.Event()

        def ticker():
            while not stop.is_set() and len(ticks) < 1000:
                ticks.append(1)
                time.sleep(0.01)

        with framecast.Receiver(port, address="127.0.0.1") as rx:
            t = threading.Thread(target=ticker)
            t.start()
            self.assertIsNone(rx.pull(timeout=0.5))
            stop.set()
            t.join()
        # The GIL is released while pull waits: the ticker ran meanwhile.
        self.assertGreater(len(ticks), 10)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tx = framecast.Sender("127.0.0.1:9", width=32, height=16, codec="raw")

    def tearDown(self):
        if not self.tx.finished:
            self.tx.finish()

    def test_wrong_shape_says_the_shape_expected(self):
        with self.assertRaisesRegex(ValueError,
                                    r"expected a \(16, 32, 3\) uint8 array \(BGR 32x16, "
                                    r"1536 bytes\), got shape \(32, 16, 3\)"):
            self.tx.push(np.zeros((32, 16, 3), np.uint8))

    def test_wrong_size_and_type(self):
        with self.assertRaisesRegex(ValueError, "got 1535 bytes"):
            self.tx.push(bytes(1535))
        with self.assertRaisesRegex(ValueError, r"expected a \(16, 32, 3\) uint8 array .*not unsigned bytes"):
            self.tx.push(np.zeros((16, 32, 3), np.float32))
        # Strided views are frames too (copied packed).
        self.tx.push(np.zeros((16, 96, 3), np.uint8)[:, ::3])

    def test_push_after_finish(self):
        self.tx.finish()
        with self.assertRaisesRegex(framecast.FramecastError, "finished"):
            self.tx.push(np.zeros((16, 32, 3), np.uint8))
        with self.assertRaisesRegex(framecast.FramecastError, "finished"):
            self.tx.finish()

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "codec \"vp8\""):
            framecast.Sender("127.0.0.1:9", codec="vp8")
        with self.assertRaisesRegex(ValueError, "unknown video format \"BRG\""):
            framecast.Sender("127.0.0.1:9", format="BRG")
        with self.assertRaisesRegex(ValueError, "host:port"):
            framecast.Sender(5000)
        with self.assertRaisesRegex(ValueError, "give a port"):
            framecast.Receiver()
        with self.assertRaisesRegex(ValueError, "needs a size|--size|size"):
            framecast.Receiver(free_port_pair(), codec="raw")


def run_script(body, tracers):
    """Runs `body` in a fresh interpreter with FRAMECAST_TRACERS set."""
    env = dict(os.environ, FRAMECAST_TRACERS=tracers)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body)], env=env,
                          capture_output=True, text=True, timeout=60)


class Leaks(unittest.TestCase):
    def test_live_objects_are_named_and_go_away(self):
        result = run_script("""
            import framecast, numpy as np
            assert framecast.leaks.enabled()
            before = framecast.leaks.live_count()
            tx = framecast.Sender("127.0.0.1:9", width=64, height=32, codec="raw")
            tx.push(np.zeros(tx.shape, np.uint8))
            # The Sender is one entry, at this line, holding its pipeline.
            live = framecast.leaks.live()
            sender = [g for g in live if g["type"] == "Sender"]
            assert sender and sender[0]["site"] == "<string>:5", live
            assert sender[0]["parts"] > 10, live
            framecast.leaks.start_tracking()
            tx.push(np.zeros(tx.shape, np.uint8))
            tx.finish()
            del tx
            cp = framecast.leaks.checkpoint()
            assert cp["removed"], cp
            assert framecast.leaks.live_count() == before, framecast.leaks.report()
            print("ok")
        """, "leaks(fatal=true)")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ok", result.stdout)
        self.assertIn("no leaks", result.stderr)

    def test_a_sender_alive_at_exit_fails_a_fatal_run(self):
        # Kept in a global and never finished: at exit its pipeline is
        # still alive, and the QA run fails with the objects named.
        result = run_script("""
            import framecast, numpy as np
            tx = framecast.Sender("127.0.0.1:9", width=64, height=32, codec="raw")
            tx.push(np.zeros(tx.shape, np.uint8))
        """, "leaks(fatal=true)")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("Leaks detected", result.stderr)
        self.assertIn("Element", result.stderr)

    def test_a_leaked_sender_is_reported_at_the_python_line_summary_first(self):
        # A program file, as users run them: the report starts with a
        # short summary naming the Python line, the details come after.
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "leak.py")
            with open(path, "w") as f:
                f.write(textwrap.dedent("""\
                    import numpy as np
                    import framecast


                    def start():
                        return framecast.Sender("127.0.0.1:9", width=64, height=32,
                                                codec="raw")

                    tx = start()
                    tx.push(np.zeros(tx.shape, np.uint8))
                    """))
            env = dict(os.environ, FRAMECAST_TRACERS="leaks")
            result = subprocess.run([sys.executable, path], env=env, capture_output=True,
                                    text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stderr.splitlines()
        start = next(i for i, l in enumerate(lines) if l.startswith("Leaks detected"))
        details = lines.index("  objects:", start)
        summary = lines[start + 2:details]
        self.assertIn(f"1 x Sender created at {path}:6:", summary[0], result.stderr)
        self.assertLessEqual(len(summary), 3, result.stderr)
        self.assertTrue(lines[details + 1].startswith(f"    Sender #"), result.stderr)
        self.assertIn(f"created at {path}:6 (in ", lines[details + 1])
        # Its pipeline and elements are in the details, under it.
        self.assertTrue(any(l.startswith("      Pipeline #") for l in lines[details:]),
                        result.stderr)

    @unittest.skipUnless(hasattr(signal, "SIGUSR1"), "POSIX signals")
    def test_sigusr1_and_sigusr2_in_a_python_program(self):
        # FRAMECAST_LEAKS_TRACER_SIG in a Python program: SIGUSR1 lists the
        # live objects (the Sender at its Python line) instead of killing
        # the interpreter, SIGUSR2 starts tracking.
        env = dict(os.environ, FRAMECAST_TRACERS="leaks", FRAMECAST_LEAKS_TRACER_SIG="1")
        body = textwrap.dedent("""
            import sys, framecast
            tx = framecast.Sender("127.0.0.1:9", width=64, height=32, codec="raw")
            print("READY", flush=True)
            sys.stdin.readline()
            tx.finish()
        """)
        child = subprocess.Popen([sys.executable, "-c", body], env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in child.stderr],
                         daemon=True).start()

        def wait_for(needle, seen):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                seen.append(line)
                if needle in line:
                    return
            self.fail(f"no {needle!r} in {seen}")

        try:
            self.assertEqual(child.stdout.readline().strip(), "READY")
            seen = []
            os.kill(child.pid, signal.SIGUSR1)
            wait_for("Sender created at <string>:3:", seen)
            os.kill(child.pid, signal.SIGUSR2)
            wait_for("activity tracking started", seen)
            child.stdin.write("\n")
            child.stdin.flush()
            self.assertEqual(child.wait(timeout=30), 0, seen)
            wait_for("no leaks", seen)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    def test_enable_without_the_environment(self):
        result = run_script("""
            import framecast
            assert not framecast.leaks.enabled()
            try:
                framecast.leaks.live()
                raise SystemExit("live() without a tracer should raise")
            except framecast.FramecastError as e:
                assert "FRAMECAST_TRACERS=leaks" in str(e), e
            assert framecast.leaks.enable(filters=["Buffer"])
            assert not framecast.leaks.enable()
            assert framecast.leaks.live_count() == 0
            print("ok")
        """, "")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ok", result.stdout)


if __name__ == "__main__":
    unittest.main()


class Dashboard(unittest.TestCase):
    def test_the_dashboard_serves_a_python_programs_live_objects(self):
        # FRAMECAST_DASHBOARD at import, and framecast.dashboard() beside it.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, FRAMECAST_DASHBOARD=f"127.0.0.1:{port}")
        env.pop("FRAMECAST_TRACERS", None)
        body = textwrap.dedent(f"""
            import json, socket, urllib.request, numpy as np
            import framecast
            tx = framecast.Sender("127.0.0.1:9", width=64, height=32, codec="raw")
            tx.push(np.zeros(tx.shape, np.uint8))
            got = json.load(urllib.request.urlopen("http://127.0.0.1:{port}/api/objects"))
            assert got["total"] > 0, got
            assert any(g["type"] == "Sender" for g in got["groups"]), got
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                other = s.getsockname()[1]
            url = framecast.dashboard(f"127.0.0.1:{{other}}")
            page = urllib.request.urlopen(url).read().decode()
            assert "framecast dashboard" in page, page[:200]
            tx.finish()
            print("ok")
        """)
        result = subprocess.run([sys.executable, "-c", body], env=env,
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ok", result.stdout)
