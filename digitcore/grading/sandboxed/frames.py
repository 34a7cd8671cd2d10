"""Length-prefixed JSON frames (4 bytes of big-endian length, then UTF-8 JSON) with a deadline and a byte cap.

The reader checks the length against its cap before it reads a byte of the body, and never waits past its
deadline; the writer refuses a frame over its own cap. Between the grader and a zygote, frames may carry file
descriptors (SCM_RIGHTS): that is how a student's files reach the child without the zygote reading them.
"""

import json
import os
import select
import socket
import struct
import time

CONTROL_CAP = 64 << 10      # grader <-> zygote frames: a handful of small fields (the job travels in a memfd)
SMALL_FRAME = 16 << 10      # a child's ready, loaded, fatal and done frames: a few hundred bytes each

class FrameError(Exception):
    """The other end sent something that is not a frame (too big, not JSON, cut short)."""


class FrameTimeout(Exception):
    """No complete frame before the deadline."""


class FrameEOF(Exception):
    """The other end closed the pipe (the process ended) before a frame started."""


class FrameTooBig(ValueError):
    """A frame this side was about to send is over its cap."""


def encode(obj, cap: int) -> bytes:
    data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > cap:
        raise FrameTooBig(f"frame of {len(data)} bytes is over the {cap}-byte cap")
    return struct.pack(">I", len(data)) + data


def write_frame(fd: int, obj, cap: int) -> None:
    buf = memoryview(encode(obj, cap))
    while buf:
        buf = buf[os.write(fd, buf):]


def _read_exact(fd: int, n: int, deadline: float | None, started: bool) -> bytes:
    data = bytearray()
    while len(data) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise FrameTimeout()
        chunk = os.read(fd, min(n - len(data), 1 << 20))
        if not chunk:
            raise FrameEOF() if not started and not data else FrameError("frame cut short")
        data += chunk
    return data


def read_frame(fd: int, *, cap: int, deadline: float | None = None, head: bytes = b""):
    """Read one frame from fd; deadline is a time.monotonic() value (None: wait forever); `head`: the first
    bytes of its length, when they were already read."""
    (n,) = struct.unpack(">I", head + _read_exact(fd, 4 - len(head), deadline, started=bool(head)))
    if n > cap:
        raise FrameError(f"frame of {n} bytes is over the {cap}-byte cap")
    data = _read_exact(fd, n, deadline, started=True)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise FrameError("frame is not JSON") from e


def send_frame_fds(sock: socket.socket, obj, fds: list[int], cap: int) -> None:
    """One frame on a unix socket, with `fds` riding on its first byte."""
    data = encode(obj, cap)
    sock.sendall(data[socket.send_fds(sock, [data], fds):])   # the rest, if the first send was short


def recv_frame_fds(sock: socket.socket, cap: int, max_fds: int = 4) -> tuple[object, list[int]]:
    """One frame from a unix socket and the descriptors that came with it (closed here if it is bad)."""
    data, fds, _, _ = socket.recv_fds(sock, 4, max_fds)
    try:
        if not data:
            raise FrameEOF()
        return read_frame(sock.fileno(), cap=cap, head=data), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
