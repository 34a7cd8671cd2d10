"""Length-prefixed JSON frames over pipes, read with a deadline and a size cap.

A frame is 4 bytes of big-endian length, then that many bytes of UTF-8 JSON. The reader never
trusts the length beyond its cap and never waits past its deadline.
"""

import json
import os
import select
import struct
import time


class FrameError(Exception):
    """The other end sent something that is not a frame (too big, not JSON, cut short)."""


class FrameTimeout(Exception):
    """No complete frame before the deadline."""


class FrameEOF(Exception):
    """The other end closed the pipe (the process ended) before a frame started."""


def write_frame(fd: int, obj) -> None:
    data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
    buf = memoryview(struct.pack(">I", len(data)) + data)
    while buf:
        n = os.write(fd, buf)
        buf = buf[n:]


def _read_exact(fd: int, n: int, deadline: float | None, started: bool) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise FrameTimeout()
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            if not started and got == 0:
                raise FrameEOF()
            raise FrameError("frame cut short")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, *, cap: int, deadline: float | None = None):
    """Read one frame from fd; deadline is a time.monotonic() value (None: wait forever)."""
    (n,) = struct.unpack(">I", _read_exact(fd, 4, deadline, started=False))
    if n > cap:
        raise FrameError(f"frame of {n} bytes is over the {cap}-byte cap")
    data = _read_exact(fd, n, deadline, started=True)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise FrameError("frame is not JSON") from e
