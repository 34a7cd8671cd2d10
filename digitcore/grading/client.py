"""The trusted side's handle on one zygote (zygote.py): start it in the sandbox, grade one exercise at a time.

For each exercise the job (the student's files, the probes' inputs) goes into a fresh memfd, handed with the write
end of a result pipe to the zygote (SCM_RIGHTS); the forked child writes its frames straight back here, where they
are read with a deadline per step and a byte cap per frame. A zygote that dies is started again, and the exercise
gets an engine error.
"""

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .sandboxed import sandbox
from .sandboxed.frames import CONTROL_CAP, SMALL_FRAME, FrameEOF, FrameError, FrameTimeout, read_frame, send_frame_fds
from .wording import exit_description

FRAME_BASE = 32 << 10            # a result frame: this, plus twice its check's own input (inputs-after echo it)
STARTUP_TIMEOUT = 300.0
STARTUP_SECONDS = 20.0           # fork + lock down, before any student code runs
CONTROL_SECONDS = 60.0
PACKAGE = Path(__file__).resolve().parent.parent
PROJECT = str(PACKAGE.parent)


class GraderError(RuntimeError):
    """The grading engine itself failed (not the student's code)."""


def isolation_mode() -> dict:
    """{"bwrap": usable here, "seccomp": BPF bytes or None, "root": bool, "landlock": the kernel's Landlock
    version (0: none or not used)}, worked out once per setting and user."""
    return _mode(sandbox.sandbox_setting(), os.geteuid())


@functools.cache
def _mode(setting: str, euid: int) -> dict:
    return {"bwrap": sandbox.bwrap_usable(), "seccomp": sandbox.seccomp_program(), "root": euid == 0,
            "landlock": 0 if setting == "none" else sandbox.landlock_abi()}


def refuse_unseparated_class(students: int, unsafe_no_isolation: bool) -> None:
    """Where nothing the kernel enforces keeps one student's code from another's files (neither bubblewrap as
    root, which gives each child its own mount namespace, nor Landlock: macOS, an old kernel, or
    DIGITCORE_SANDBOX=none), a class of more than one student is graded only when the instructor says so
    plainly; every report's isolation line then says what is given up."""
    mode = isolation_mode()
    if students > 1 and not ((mode["bwrap"] and mode["root"]) or mode["landlock"]) and not unsafe_no_isolation:
        raise GraderError("refusing to grade a class here: nothing keeps one student's code from reading or "
                          "changing another's work (no bubblewrap as root, no Landlock; see docs/isolation.md). "
                          "Pass --unsafe-no-isolation to grade anyway.")


def private_copy(probe_files: list[str], bpf: bytes | None) -> tuple[str, list[str]]:
    """A folder holding only what the zygote runs: a whole copy of digitcore.grading.sandboxed inside stub
    packages (nothing else of the project: not chapter.py, not the judges), the probe files, the seccomp program."""
    folder = tempfile.mkdtemp(prefix="digitcore-sandbox-")
    os.chmod(folder, 0o755)
    pkg = Path(folder, "digitcore", "grading")
    shutil.copytree(PACKAGE / "grading" / "sandboxed", pkg / "sandboxed", ignore=shutil.ignore_patterns("__pycache__"))
    for init in (pkg.parent / "__init__.py", pkg / "__init__.py"):
        init.write_text('"""A private copy of the sandboxed grading package (see digitcore/grading/client.py)."""\n')
    probes = [p for p in probe_files if os.path.isfile(p)]
    Path(folder, "probes").mkdir()
    for i, path in enumerate(probes):
        shutil.copyfile(path, Path(folder, "probes", f"probes_{i}.py"))
    if bpf:
        Path(folder, "seccomp.bpf").write_bytes(bpf)
    for p in Path(folder).rglob("*"):   # readable by the user nobody, whatever the umask
        p.chmod(0o755 if p.is_dir() else 0o644)
    return folder, [f"probes/probes_{i}.py" for i in range(len(probes))]


class ZygoteClient:
    """One warm worker process. Not thread-safe: one request at a time (a pool holds several)."""

    def __init__(self, probe_files: list[str]):
        self.probe_files = list(probe_files)
        self.proc = None
        self.sock = None
        self.private = None
        self.info = None
        self.startup_seconds = None

    def start(self):
        """Start the zygote; it imports torch meanwhile (wait_ready waits for it, and grade does)."""
        mode = isolation_mode()
        self.private, probes = private_copy(self.probe_files, mode["seccomp"])
        inside = sandbox.GRADER_DIR if mode["bwrap"] else self.private
        argv = [sys.executable, "-m", "digitcore.grading.sandboxed.zygote",
                "--probes", *(os.path.join(inside, p) for p in probes)]
        if mode["seccomp"]:
            argv += ["--seccomp", os.path.join(inside, "seccomp.bpf")]
        # the zygote's environment: nothing of the grader's own (no tokens, no paths of interest)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONPATH": inside, "HOME": "/",
               **{key: os.environ[key] for key in ("MARIMO_SKIP_UPDATE_CHECK", "DIGITCORE_SANDBOX") if key in os.environ}}
        if mode["bwrap"]:
            argv = sandbox.bwrap_command(self.private, PROJECT, argv + ["--sandboxed"], root=mode["root"], env=env)
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(argv, stdin=theirs, stdout=self.stderr, stderr=self.stderr, env=env,
                                         cwd="/", start_new_session=True)
        finally:
            theirs.close()
        self.info = None
        return self

    def wait_ready(self):
        if self.info is not None:
            return self.info
        try:
            self.info = read_frame(self.sock.fileno(), cap=CONTROL_CAP, deadline=self._t0 + STARTUP_TIMEOUT)
        except (FrameEOF, FrameError, FrameTimeout, OSError) as e:
            self.stderr.seek(0)
            tail = self.stderr.read()[-2000:].decode(errors="replace").strip()
            self.close()
            raise GraderError(f"the grading worker did not start ({type(e).__name__}): {tail}") from e
        self.startup_seconds = time.monotonic() - self._t0
        return self.info

    @property
    def host_pid(self) -> int | None:
        """The zygote's process id as this side sees it (inside bwrap it is a grandchild of bwrap)."""
        todo = [self.proc.pid] if self.proc is not None else []
        while todo:
            pid = todo.pop()
            with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"digitcore.grading.sandboxed.zygote" in f.read() and not os.readlink(f"/proc/{pid}/exe").endswith("bwrap"):
                    return pid
            todo += sandbox.children_of(pid)
        return None

    def close(self):
        proc, self.proc = self.proc, None
        if self.sock is not None:
            self.sock.close()   # the zygote sees EOF, ends its children and exits
            self.sock = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if self.private:
            shutil.rmtree(self.private, ignore_errors=True)
            self.private = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, obj, fds=()) -> dict:
        send_frame_fds(self.sock, obj, list(fds), CONTROL_CAP)
        resp = read_frame(self.sock.fileno(), cap=CONTROL_CAP, deadline=time.monotonic() + CONTROL_SECONDS)
        if not isinstance(resp, dict):
            raise FrameError("not a response")
        return resp

    def _spawn(self, req: dict, pending: list) -> tuple[int, int]:
        job = {k: req.get(k) for k in ("sources", "exercise", "all_exercises", "output_cap")}
        # in the allow-list root the hidden paths do not exist: never tell the worker them
        job.update(probes=pending, hide=[] if isolation_mode()["bwrap"] else req.get("hide"))
        memfd = job_file()
        r, w = os.pipe()
        try:
            with open(memfd, "wb", closefd=False) as f:
                f.write(json.dumps(job, separators=(",", ":"), allow_nan=False).encode())
            limits = {"cmd": "spawn", "memory_mb": int(req["memory_mb"]), "output_cap": int(req["output_cap"]),
                      "cpu_seconds": int(req["time_limit"] * (len(pending) + 1)) + 5}
            resp = self._call(limits, fds=[memfd, w])
            if resp.get("kind") != "spawned" or not isinstance(resp.get("pid"), int):
                raise FrameError("the zygote did not spawn")
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(memfd)
            os.close(w)
        return resp["pid"], r

    def _end(self, pid: int, wait: float | None) -> dict:
        """End child A; how it ended, as data: {"signal": N} or {"exit_code": N} (the zygote reports 128 + the
        signal that ended the worker, as A's own exit status), {} when that is not known."""
        code = self._call({"cmd": "end", "pid": pid, "wait": wait}).get("code")
        if type(code) is not int:
            return {}
        return {"signal": code - 128} if code >= 128 else {"exit_code": code}

    def grade(self, req: dict, deadline: float) -> dict:
        """Run one exercise's probes in sandboxed children. `deadline` (time.monotonic()): the end of the
        student's and the exercise's wall budget; checks it cuts off get status "budget"."""
        waiting = time.monotonic()
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.wait_ready()
        except GraderError as e:
            return {"engine": str(e)[:300]}
        waited = time.monotonic() - waiting   # a zygote starting (or restarting) is not the student's time
        deadline += waited
        limit = float(req["time_limit"])
        # and layers, engine, fatal, info and load_guard as the child's frames tell them
        out = {"results": {}, "forks": 0, "seconds": {"probes": {}}, "budget": False, "waited": round(waited, 4)}
        pending = [dict(spec, cap=FRAME_BASE + 2 * len(json.dumps(spec["input"], separators=(",", ":"))))
                   for spec in req["probes"]]
        t0 = time.monotonic()
        try:
            while pending and time.monotonic() < deadline:
                out["forks"] += 1
                if not self.follow(*self._spawn(req, pending), pending, out, limit, deadline):
                    break
        except (FrameEOF, FrameError, FrameTimeout, OSError) as e:
            self.close()
            self.start()
            return {"engine": f"the grading worker failed ({type(e).__name__})"}
        cut = time.monotonic() >= deadline
        for spec in pending:
            out["results"].setdefault(spec["check"], {"status": "budget" if cut else "not_run"})
        out["budget"] = out["budget"] or (cut and bool(pending))
        out["seconds"]["total"] = round(time.monotonic() - t0, 4)
        return out

    def follow(self, pid: int, fd: int, pending: list, out: dict, limit: float, deadline: float) -> bool:
        """Read one child's frames (and close their pipe). Returns True when the remaining probes deserve a fresh child."""
        phase, mark = "start", time.monotonic()
        step_end, results, ended = mark + STARTUP_SECONDS, out["results"], None
        try:
            while True:
                cut = phase != "start" and deadline < step_end
                cap = int(pending[0]["cap"]) if phase == "probe" and pending else SMALL_FRAME
                frame = read_frame(fd, cap=cap, deadline=deadline if cut else step_end)
                kind = frame.get("kind") if isinstance(frame, dict) else None
                now = time.monotonic()
                if phase == "start" and kind == "ready":
                    out["layers"] = _strs(frame.get("layers"), 20, 40)
                    phase, step_end, mark = "load", now + limit, now
                elif phase == "start" and kind == "broken":
                    out["engine"] = f"the sandbox could not start: {str(frame.get('message'))[:300]}"
                    return False
                elif phase == "load" and kind == "fatal":
                    out["fatal"] = {"kind": "error", "error": frame.get("error")}
                    return False
                elif phase == "load" and kind == "loaded":
                    out["info"] = frame.get("info")
                    out["load_guard"] = {k: _strs(frame.get(k), 5, 200) for k in ("refused", "reference")}
                    out["seconds"]["load"] = round(now - mark, 4)
                    phase, step_end, mark = "probe", now + limit, now
                    if not isinstance(out["info"], dict) or out["info"].get("status") != "found":
                        return False
                elif phase == "probe" and kind == "result" and pending and frame.get("check") == pending[0]["check"]:
                    spec = pending.pop(0)
                    results[spec["check"]] = frame
                    out["seconds"]["probes"][spec["check"]] = round(now - mark, 4)
                    step_end, mark = now + limit, now
                elif phase == "probe" and kind == "done" and not pending:
                    return False
                else:
                    raise FrameError(f"unexpected frame {kind!r} while {phase}")
        except (FrameTimeout, FrameEOF, FrameError) as e:
            if isinstance(e, FrameTimeout):   # over its step's time limit, or the wall budget's (cut)
                out["budget"] |= cut
                what = {"status": "budget"} if cut else {"status": "timeout", "seconds": limit}
            else:   # it ended (EOF, a frame cut short): wait a moment for its exit status; it broke the protocol: kill
                died = isinstance(e, FrameEOF) or "cut short" in str(e)
                ended = self._end(pid, 2.0 if died else 0.0)
                what = {"status": "crashed", **ended} if died else {"status": "garbled", "why": str(e)[:200]}
            if phase == "start":
                out["engine"] = (f"the sandbox ended before it started ({exit_description(ended)})" if ended is not None
                                 else "the sandbox did not start in time")
            elif phase == "load":
                out["fatal"] = {"kind": "crashed", **ended} if ended is not None else {"kind": what.pop("status"), **what}
            elif pending:
                results[pending.pop(0)["check"]] = what
                return ended is not None
            return False
        finally:
            os.close(fd)
            if ended is None:   # kill it now, reap it later
                self._end(pid, None)


def _strs(value, items: int, chars: int) -> list[str]:
    """A list the child sent, as at most `items` strings of at most `chars` characters."""
    return [str(x)[:chars] for x in value[:items]] if isinstance(value, list) else []


def job_file() -> int:
    """A file that exists only as this descriptor: a memfd on Linux, an unlinked temporary file elsewhere."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("digitcore-job", os.MFD_CLOEXEC)
    fd, path = tempfile.mkstemp(prefix="digitcore-job-")
    os.unlink(path)
    return fd
