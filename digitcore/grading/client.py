"""The trusted side's handle on one zygote process: start it, send requests, restart it if it dies."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .frames import FrameEOF, FrameError, FrameTimeout, read_frame, write_frame

RESPONSE_CAP = 512 << 20
STARTUP_TIMEOUT = 300.0
PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)


class GraderError(RuntimeError):
    """The grading engine itself failed (not the student's code)."""


def clean_env() -> dict:
    """The zygote's environment: nothing of the grader's own (no tokens, no paths of interest)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "PYTHONPATH": PACKAGE_PARENT}
    for key in ("HOME", "MARIMO_SKIP_UPDATE_CHECK", "DIGITCORE_SANDBOX"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class ZygoteClient:
    """One warm worker process. Not thread-safe: one request at a time (a pool holds several)."""

    def __init__(self, probe_files: list[str]):
        self.probe_files = list(probe_files)
        self.proc = None
        self.info = None
        self.restarts = -1
        self.startup_seconds = None

    def start(self, wait: bool = True):
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        cmd = [sys.executable, "-m", "digitcore.grading.zygote", "--probes", *self.probe_files]
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env=clean_env(), cwd="/", start_new_session=True)
        self.restarts += 1
        self.info = None
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        if self.info is not None:
            return self.info
        try:
            self.info = read_frame(self.proc.stdout.fileno(), cap=1 << 20, deadline=self._t0 + STARTUP_TIMEOUT)
        except (FrameEOF, FrameError, FrameTimeout) as e:
            tail = self._stderr_tail()
            self.close()
            raise GraderError(f"the grading worker did not start ({type(e).__name__}): {tail}") from e
        self.startup_seconds = time.monotonic() - self._t0
        return self.info

    def _stderr_tail(self) -> str:
        try:
            self.stderr.seek(0)
            return self.stderr.read()[-2000:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def request(self, req: dict, timeout: float) -> dict:
        """Send one request; on any failure of the zygote, restart it and return an engine error."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.wait_ready()
        try:
            write_frame(self.proc.stdin.fileno(), req)
            resp = read_frame(self.proc.stdout.fileno(), cap=RESPONSE_CAP, deadline=time.monotonic() + timeout)
            if not isinstance(resp, dict) or resp.get("kind") != "response":
                raise FrameError("not a response")
            return resp
        except (FrameEOF, FrameError, FrameTimeout, OSError) as e:
            self.close()
            self.start(wait=False)
            return {"kind": "response", "engine": f"the grading worker failed ({type(e).__name__})"}

    def close(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                write_frame(proc.stdin.fileno(), {"cmd": "quit"})
                proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
