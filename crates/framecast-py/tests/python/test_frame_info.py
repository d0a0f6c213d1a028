"""Per-frame capture time and id from `push`/`write` to `pull_frame`, through
a network that loses and reorders packets (a relay on 127.0.0.1, as
framecast-impair's Rust relay does it: RTP forwarded impaired, the
receiver's feedback (NACK) relayed back to the sender unimpaired).
"""

import select
import socket
import threading
import time
import unittest

import numpy as np

import framecast
from test_framecast import free_port_pair, gradient, pull_all

W, H = 320, 240


class LossyRelay:
    """Forwards datagrams sent to `port` on to `to`: drops one in `drop_every`
    and holds one in `reorder_every` back behind the next. What comes back
    to its sending socket (RTCP feedback) goes to the sender unimpaired."""

    def __init__(self, to, drop_every=15, reorder_every=4, max_run=30.0):
        self.to = to
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.port = self.rx.getsockname()[1]
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tx.bind(("127.0.0.1", 0))
        self.drop_every, self.reorder_every, self.max_run = drop_every, reorder_every, max_run
        self.dropped = self.reordered = self.forwarded = self.feedback = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        sender, held, n = None, None, 0
        deadline = time.monotonic() + self.max_run
        while not self._stop.is_set() and time.monotonic() < deadline:
            ready, _, _ = select.select([self.rx, self.tx], [], [], 0.05)
            if self.tx in ready:
                data = self.tx.recv(2048)
                if sender is not None:
                    self.rx.sendto(data, sender)
                    self.feedback += 1
            if self.rx not in ready:
                continue
            data, sender = self.rx.recvfrom(2048)
            n += 1
            if n % self.drop_every == 0:
                self.dropped += 1
                continue
            if held is None and n % self.reorder_every == 0:
                held = data
                continue
            self.tx.sendto(data, self.to)
            self.forwarded += 1
            if held is not None:
                self.tx.sendto(held, self.to)
                self.reordered += 1
                held = None

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.rx.close()
        self.tx.close()


class FrameInfo(unittest.TestCase):
    def check(self, frames, sent, at_least):
        self.assertGreaterEqual(len(frames), at_least, frames)
        last = -1
        for f in frames:
            self.assertIsNotNone(f.frame_id, f)
            self.assertGreater(f.frame_id, last, "ids in order, none repeated")
            last = f.frame_id
            self.assertIn(f.frame_id, sent)
            # NTP's 2**-32 s steps: the float the program gave, to the µs.
            self.assertAlmostEqual(f.capture_time, sent[f.frame_id], delta=1e-6)
            # Captured 50 ms before the push: the latency says so.
            self.assertGreaterEqual(f.latency, 0.05, f)
            self.assertLess(f.latency, 5.0, f)
            self.assertEqual(f.image.shape, (H, W, 3))
            self.assertEqual(f.image.dtype, np.uint8)

    def test_ids_and_capture_times_survive_loss_and_reordering(self):
        port = free_port_pair()
        relay = LossyRelay(("127.0.0.1", port))
        try:
            with framecast.Receiver(port, address="127.0.0.1") as rx:
                sent = {}
                with framecast.Sender(f"127.0.0.1:{relay.port}", width=W, height=H,
                                      fps=30, bitrate=1000) as tx:
                    start = time.monotonic()
                    for n in range(60):
                        fid = 10**12 + 7 * n
                        sent[fid] = time.time() - 0.05
                        tx.push(gradient(W, H, n), capture_time=sent[fid], frame_id=fid)
                        time.sleep(max(0.0, start + (n + 1) / 30 - time.monotonic()))
                frames = pull_all(rx, 60, with_info=True)
        finally:
            relay.stop()
        self.assertGreaterEqual(relay.dropped, 5)
        self.assertGreaterEqual(relay.reordered, 20)
        self.check(frames, sent, 48)
        self.assertIn("frame_id=", repr(frames[0]))

    def test_video_writer_write_takes_them_too_and_pull_fills_out(self):
        port = free_port_pair()
        with framecast.Receiver(port, address="127.0.0.1") as rx:
            sent = {}
            with framecast.VideoWriter(f"rtp://127.0.0.1:{port}",
                                       framecast.VideoWriter.fourcc(*"H264"), 30, (W, H)) as w:
                for n in range(20):
                    sent[n] = time.time() - 0.05
                    w.write(gradient(W, H, n), capture_time=sent[n], frame_id=n)
                    time.sleep(1 / 30)
            out = np.zeros((H, W, 3), np.uint8)
            first = rx.pull_frame(timeout=5.0, out=out)
            self.assertIs(first.image, out)
            frames = [first] + pull_all(rx, 19, with_info=True)
        self.check(frames, sent, 15)

    def test_a_frame_without_them_says_none_and_bad_values_are_refused(self):
        port = free_port_pair()
        with framecast.Receiver(port, address="127.0.0.1") as rx:
            with framecast.Sender(f"127.0.0.1:{port}", width=W, height=H) as tx:
                with self.assertRaisesRegex(ValueError, "capture_time"):
                    tx.push(gradient(W, H, 0), capture_time=-1.0)
                with self.assertRaises(OverflowError):
                    tx.push(gradient(W, H, 0), frame_id=-1)
                for n in range(5):
                    tx.push(gradient(W, H, n))
                    time.sleep(1 / 30)
            frames = pull_all(rx, 5, with_info=True)
        self.assertGreaterEqual(len(frames), 3)
        for f in frames:
            self.assertIsNone(f.frame_id)
            # The push time, on the sender's wall clock.
            self.assertAlmostEqual(f.capture_time, time.time(), delta=5.0)


if __name__ == "__main__":
    unittest.main()
