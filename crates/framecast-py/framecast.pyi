"""Type stubs of the framecast module (maturin ships them in the wheel)."""

import sys
from os import PathLike
from types import TracebackType
from typing import Any, Union

import numpy as np
import numpy.typing as npt

# Frames are any object with the buffer protocol of unsigned bytes. Python
# 3.12 names that protocol; before it, the types frames usually are (no
# dependency on typing_extensions).
if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    Buffer = Union[bytes, bytearray, memoryview, npt.NDArray[np.uint8]]

__version__: str

class FramecastError(RuntimeError):
    """A pipeline or element failed (the message names the element)."""

class Sender:
    """Sends frames to clients over RTP/UDP (H.264, JPEG or raw video)."""

    def __init__(
        self,
        to: str | list[str] | None = None,
        *,
        serve: str | None = None,
        width: int = 1280,
        height: int = 720,
        fps: int = 30,
        codec: str = "h264",
        format: str = "BGR",
        bitrate: int = 4000,
        max_queued: int = 2,
    ) -> None: ...
    def push(
        self, frame: Buffer, capture_time: float | None = None, frame_id: int | None = None
    ) -> None:
        """Copies the frame into a pooled frame and queues it (latest wins).

        capture_time (seconds since the Unix epoch, as time.time()) and
        frame_id reach the receiver with the frame (Receiver.pull_frame)."""
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def format(self) -> str: ...
    @property
    def finished(self) -> bool: ...
    def stats(self) -> dict[str, float]: ...
    def sdp(self, timeout: float = 2.0) -> str: ...
    def finish(self) -> dict[str, float]: ...
    def __enter__(self) -> Sender: ...
    def __exit__(
        self,
        ty: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool: ...

class Frame:
    """A frame from Receiver.pull_frame: the pixels and what the sender said."""

    @property
    def image(self) -> npt.NDArray[np.uint8]: ...
    @property
    def capture_time(self) -> float | None:
        """Seconds since the Unix epoch on the sender's wall clock."""
    @property
    def frame_id(self) -> int | None: ...
    @property
    def latency(self) -> float | None:
        """Seconds from the capture to the pull."""

class Receiver:
    """Receives an RTP stream and hands out decoded frames as numpy arrays."""

    def __init__(
        self,
        port: int | None = None,
        *,
        sdp: str | PathLike[str] | None = None,
        codec: str = "h264",
        size: tuple[int, int] | None = None,
        address: str = "0.0.0.0",
        latency: float = 0.05,
        format: str | None = "BGR",
        max_buffers: int = 4,
        drop_old: bool = False,
    ) -> None: ...
    def pull(
        self, timeout: float | None = 1.0, out: npt.NDArray[np.uint8] | None = None
    ) -> npt.NDArray[np.uint8] | None: ...
    def pull_frame(
        self, timeout: float | None = 1.0, out: npt.NDArray[np.uint8] | None = None
    ) -> Frame | None: ...
    def __iter__(self) -> Receiver: ...
    def __next__(self) -> npt.NDArray[np.uint8]: ...
    @property
    def last_latency(self) -> float | None: ...
    @property
    def eos(self) -> bool: ...
    @property
    def port(self) -> int | None: ...
    def stats(self) -> dict[str, float | bool | None]: ...
    def warnings(self) -> list[str]: ...
    def stop(self) -> dict[str, float | bool | None]: ...
    def __enter__(self) -> Receiver: ...
    def __exit__(
        self,
        ty: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool: ...

class _Leaks:
    @staticmethod
    def enable(
        *,
        filters: list[str] | None = None,
        stack_traces: bool = False,
        check_refs: bool = False,
        fatal: bool = False,
    ) -> bool: ...
    @staticmethod
    def enabled() -> bool: ...
    @staticmethod
    def live_count() -> int: ...
    @staticmethod
    def live() -> list[dict[str, Any]]: ...
    @staticmethod
    def report() -> str: ...
    @staticmethod
    def start_tracking() -> None: ...
    @staticmethod
    def checkpoint() -> dict[str, list[tuple[str, str]]]: ...
    @staticmethod
    def stop_tracking() -> bool: ...
    @staticmethod
    def heap_allocations() -> int:
        """Heap allocations framecast's Rust code made in this process so
        far (every thread; not Python's own nor OpenH264's): a steady-state
        write/push/pull loop adds none."""
        ...

leaks: _Leaks

def dashboard(addr: str = "127.0.0.1:8080", token: str | None = None) -> str:
    """Serves the live dashboard at http://addr/ for the rest of the
    process; returns its URL (FRAMECAST_DASHBOARD=addr does it at import)."""
    ...

VIDEOWRITER_PROP_QUALITY: int
VIDEOWRITER_PROP_IS_COLOR: int
VIDEOWRITER_PROP_KEY_INTERVAL: int
VIDEOWRITER_PROP_BITRATE: int
VIDEOWRITER_PROP_NSTRIPES: int

class VideoWriter:
    """cv2.VideoWriter's shape over a framecast sender; the filename is a
    destination URL: rtp://host:port[?sdp=FILE], rtsp://host:port/path
    (publish; ?listen=1 serves), http://host:port/path[?token=T] (serve
    browsers), or a .h264/.mjpeg/.yuv file to record."""

    def __init__(
        self,
        *args: Any,
        params: list[int] | None = None,
        strict: bool = False,
        block: bool = False,
    ) -> None: ...
    def open(self, *args: Any, params: list[int] | None = None) -> bool: ...
    def isOpened(self) -> bool: ...
    @property
    def error(self) -> str | None: ...
    def write(
        self, image: Buffer, capture_time: float | None = None, frame_id: int | None = None
    ) -> None: ...
    def release(self) -> None: ...
    def get(self, prop_id: int) -> float: ...
    def set(self, prop_id: int, value: float) -> bool: ...
    def stats(self) -> dict[str, float]: ...
    def getBackendName(self) -> str: ...
    @staticmethod
    def fourcc(c1: str, c2: str, c3: str, c4: str) -> int: ...
    def __enter__(self) -> VideoWriter: ...
    def __exit__(
        self,
        ty: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool: ...
