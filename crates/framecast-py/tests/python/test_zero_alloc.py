"""No heap allocation per frame from Python either: the module counts its
own Rust allocations (framecast.leaks.heap_allocations(), a counting global
allocator on every thread), and a steady-state loop of VideoWriter.write,
Sender.push and Receiver.pull adds none, as the Rust tests prove for the
Rust API (sender_zero_alloc, receiver_zero_alloc).

Each frame is waited for on the wire (its last RTP packet, marker bit set)
or pulled decoded, so every counted frame went the whole way."""

import socket
import unittest

import numpy as np

import framecast
from test_framecast import free_port_pair

W, H = 320, 240
WARM, COUNTED = 60, 150


def frames():
    """Two BGR images taking turns, and a crop of a larger one (strided)."""
    big = np.zeros((H * 2, W * 2, 3), np.uint8)
    big[::7] = 90
    return [np.full((H, W, 3), 40, np.uint8), np.full((H, W, 3), 200, np.uint8)], \
        big[50:50 + H, 100:100 + W]


class WireListener:
    """A UDP socket on 127.0.0.1 that waits for each frame's last packet."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(2.0)
        self.port = self.socket.getsockname()[1]

    def wait_frame(self):
        for _ in range(1000):
            packet = self.socket.recv(2048)
            if len(packet) > 1 and packet[1] & 0x80:
                return
        raise AssertionError("no RTP marker in 1000 packets")

    def close(self):
        self.socket.close()


def allocations(loop, count):
    before = framecast.leaks.heap_allocations()
    loop(count)
    return framecast.leaks.heap_allocations() - before


class SteadyStateAllocatesNothing(unittest.TestCase):
    def setUp(self):
        self.wire = WireListener()
        self.addCleanup(self.wire.close)

    def test_the_counter_counts(self):
        # A loop that does allocate on the Rust side: a new Sender.
        before = framecast.leaks.heap_allocations()
        framecast.Sender(f"127.0.0.1:{self.wire.port}", width=W, height=H).finish()
        self.assertGreater(framecast.leaks.heap_allocations() - before, 100)

    def test_videowriter_write_packed_and_strided(self):
        images, crop = frames()
        fourcc = framecast.VideoWriter.fourcc(*"H264")
        with framecast.VideoWriter(f"rtp://127.0.0.1:{self.wire.port}", fourcc, 30, (W, H)) as w:
            def write(count, image=None):
                for n in range(count):
                    w.write(images[n % 2] if image is None else image)
                    self.wire.wait_frame()
            write(WARM)
            self.assertEqual(allocations(write, COUNTED), 0, "write, C-ordered arrays")
            # A crop: packed into the writer's scratch first (made once).
            write(5, crop)
            self.assertEqual(allocations(lambda n: write(n, crop), COUNTED), 0,
                             "write, a strided view")
            self.assertEqual(w.stats()["dropped"], 0)

    def test_sender_push(self):
        images, _ = frames()
        with framecast.Sender(f"127.0.0.1:{self.wire.port}", width=W, height=H) as tx:
            def push(count):
                for n in range(count):
                    tx.push(images[n % 2], frame_id=n)
                    self.wire.wait_frame()
            push(WARM)
            self.assertEqual(allocations(push, COUNTED), 0, "Sender.push")

    def test_receiver_pull_into_out_and_into_new_arrays(self):
        images, _ = frames()
        port = free_port_pair()
        out = np.empty((H, W, 3), np.uint8)
        with framecast.Receiver(port, codec="h264", address="127.0.0.1", latency=0.0) as rx, \
                framecast.Sender(f"127.0.0.1:{port}", width=W, height=H) as tx:
            pulled = []

            def pull(count, into):
                for n in range(count):
                    tx.push(images[n % 2])
                    if rx.pull(timeout=2.0, out=into) is not None:
                        pulled.append(n)
            pull(WARM, out)
            self.assertEqual(allocations(lambda n: pull(n, out), COUNTED), 0, "pull(out=)")
            # A new array per frame is Python's allocation, not ours.
            self.assertEqual(allocations(lambda n: pull(n, None), COUNTED), 0, "pull()")
            self.assertGreater(len(pulled), WARM + COUNTED)
            self.assertTrue((out > 0).any(), "out holds a decoded picture")


if __name__ == "__main__":
    unittest.main()
