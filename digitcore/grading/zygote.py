"""The zygote: a warm process that has imported torch once and forks a sandboxed child per exercise.

    python -m digitcore.grading.zygote [--probes FILE ...]

It speaks length-prefixed JSON frames on stdin/stdout with the trusted grader (client.py). For each
request (one student, one exercise, its probes with plain inputs) it forks A, which starts a new
session and PID namespace and forks B, the worker (worker.py), PID 1 of that namespace. The zygote
reads B's frames with a deadline per step; on overrun it SIGKILLs A's process group, B dies with
its parent (and every process in its namespace with B), and the zygote, a child subreaper, kills
and reaps anything left. It never runs student code and never runs a torch op itself, so forking
stays safe. It does not import the reference (digitcore.chapter, digitcore.exercises).
"""

import argparse
import importlib.util
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import sandbox, worker
from .frames import FrameEOF, FrameError, FrameTimeout, read_frame, write_frame

CHILD_FRAME_CAP = 16 << 20
REQUEST_CAP = 256 << 20
STARTUP_SECONDS = 20.0   # fork + lock down, before any student code runs
PACKAGE = Path(__file__).resolve().parent.parent


def default_hidden() -> list[str]:
    """The project's own files: the digitcore package and, in a source checkout, the whole project
    root except the Python environment that runs it."""
    hidden = [str(PACKAGE)]
    root = PACKAGE.parent
    if (root / "pyproject.toml").exists():
        keep = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        keep |= {Path(p).resolve() for p in sys.path if p and "-packages" in p}
        for entry in sorted(root.iterdir()):
            real = entry.resolve()
            if not any(k == real or real in k.parents for k in keep):
                hidden.append(str(entry))
    return sorted(set(hidden))


def load_probes(paths: list[str]) -> dict:
    """Load probe modules by file path, standalone (their package's __init__ is not run)."""
    probes = {}
    for i, path in enumerate(paths):
        if not os.path.exists(path):
            continue
        spec = importlib.util.spec_from_file_location(f"digitcore_probes_{i}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        probes.update({k: v for k, v in vars(module).items() if callable(v) and not k.startswith("_")})
    return probes


def preload() -> list[str]:
    """Import what students and probes use, once, so each fork starts warm."""
    done = []
    # torch._dynamo: the first torch.optim optimizer imports it (6 s), which would eat a check's time limit.
    for name in ("torch", "torch.optim", "torch._dynamo", "numpy", "math", "random", "functools", "itertools",
                 "collections", "marimo"):
        try:
            __import__(name)
            done.append(name)
        except Exception:  # noqa: BLE001, S110 - optional: whatever is missing is imported on demand
            pass
    return done


class Zygote:
    def __init__(self, probes: dict, base_hidden: list[str]):
        self.probes = probes
        self.base_hidden = base_hidden
        self.root = sandbox.privileged()
        self.scratch = tempfile.mkdtemp(prefix="digitcore-grading-")  # workers' folders without a private /tmp
        self.ending: list[tuple[int, float]] = []

    # -- one child ------------------------------------------------------------------------------
    def spawn(self, req: dict, hidden: list[str]) -> tuple[int, int]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # A: new session, new PID namespace, then B
            code = 72
            try:
                os.close(r)
                for fd in (self.proto_in, self.proto_out):
                    os.close(fd)
                sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
                os.setsid()
                in_ns = self.root and sandbox.unshare(sandbox.CLONE_NEWPID)
                b = os.fork()
                if b == 0:
                    worker.run(w, req, self.probes, hidden, in_ns, self.scratch)
                    os._exit(73)
                os.close(w)
                _, status = os.waitpid(b, 0)
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            finally:
                os._exit(code)
        os.close(w)
        return pid, r

    def kill(self, pid: int) -> int | None:
        """SIGKILL A's process group, reap A, then kill and reap every stray child. A's exit code."""
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        code = None
        try:
            _, status = os.waitpid(pid, 0)
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        except ChildProcessError:
            pass
        self.kill_strays()
        return code

    def reap_ending(self, wait: bool = False, patience: float = 5.0):
        """Reap children that finished normally, without waiting (their teardown then overlaps the next
        student's work); with wait=True, wait for all. One still alive after `patience` s is killed."""
        still = []
        for pid, since in self.ending:
            while True:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                if time.monotonic() - since > patience:
                    self.kill(pid)
                    break
                if not wait:
                    still.append((pid, since))
                    break
                time.sleep(0.002)
        self.ending = still

    def kill_strays(self):
        """As a child subreaper we inherit orphans: none may outlive a request."""
        for _ in range(100):
            kids = children_of(os.getpid())
            if not kids:
                break
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for k in kids:
                try:
                    os.waitpid(k, 0)
                except ChildProcessError:
                    pass

    # -- one request: one exercise of one student ----------------------------------------------
    def grade(self, req: dict) -> dict:
        hidden = sorted(set(self.base_hidden) | set(req.get("hide", [])))
        limit = float(req["time_limit"])
        out = {"kind": "response", "layers": None, "fatal": None, "info": None, "results": {},
               "forks": 0, "seconds": {"load": None, "probes": {}}, "engine": None}
        pending = list(req["probes"])
        t0 = time.monotonic()
        while True:
            pid, fd = self.spawn(dict(req, probes=pending), hidden)
            out["forks"] += 1
            again = self.follow(pid, fd, pending, out, limit)
            os.close(fd)
            if not again or not pending:
                break
        for spec in pending:
            out["results"].setdefault(spec["check"], {"status": "not_run"})
        out["seconds"]["total"] = round(time.monotonic() - t0, 4)
        return out

    def follow(self, pid: int, fd: int, pending: list, out: dict, limit: float) -> bool:
        """Read one child's frames. Returns True when the remaining probes deserve a fresh child."""
        phase, deadline, mark = "start", time.monotonic() + STARTUP_SECONDS, time.monotonic()
        results = out["results"]
        try:
            while True:
                frame = read_frame(fd, cap=CHILD_FRAME_CAP, deadline=deadline)
                kind = frame.get("kind") if isinstance(frame, dict) else None
                now = time.monotonic()
                if phase == "start" and kind == "ready":
                    out["layers"] = [str(x) for x in frame.get("layers", [])][:20]
                    phase, deadline, mark = "load", now + limit, now
                elif phase == "start" and kind == "broken":
                    out["engine"] = f"the sandbox could not start: {str(frame.get('message'))[:300]}"
                    return False
                elif phase == "load" and kind == "fatal":
                    out["fatal"] = {"kind": "error", "error": frame.get("error")}
                    return False
                elif phase == "load" and kind == "loaded":
                    out["info"] = frame.get("info")
                    out["seconds"]["load"] = round(now - mark, 4)
                    phase, deadline, mark = "probe", now + limit, now
                    if not isinstance(out["info"], dict) or out["info"].get("status") != "found":
                        return False
                elif phase == "probe" and kind == "result" and pending and frame.get("check") == pending[0]["check"]:
                    spec = pending.pop(0)
                    results[spec["check"]] = frame
                    out["seconds"]["probes"][spec["check"]] = round(now - mark, 4)
                    deadline, mark = now + limit, now
                elif phase == "probe" and kind == "done" and not pending:
                    return False
                else:
                    raise FrameError(f"unexpected frame {kind!r} while {phase}")
        except FrameTimeout:
            self.kill(pid)
            pid = None
            if phase == "start":
                out["engine"] = "the sandbox did not start in time"
            elif phase == "load":
                out["fatal"] = {"kind": "timeout", "seconds": limit}
            elif pending:
                results[pending.pop(0)["check"]] = {"status": "timeout", "seconds": limit}
            return False
        except (FrameEOF, FrameError) as e:
            code, pid = self.kill(pid), None
            how = exit_description(code)
            if phase == "start":
                out["engine"] = f"the sandbox ended before it started ({how})"
                return False
            if phase == "load":
                out["fatal"] = {"kind": "crashed", "how": how}
                return False
            if not pending:
                return False
            if isinstance(e, FrameEOF) or "cut short" in str(e):
                results[pending.pop(0)["check"]] = {"status": "crashed", "how": how}
            else:
                results[pending.pop(0)["check"]] = {"status": "garbled", "why": str(e)[:200]}
            return True
        finally:
            if pid is not None:  # ended normally: it is exiting on its own; reaped after the response
                self.ending.append((pid, time.monotonic()))

    # -- serving ------------------------------------------------------------------------------
    def serve(self):
        self.proto_in, self.proto_out = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(2, 1)  # stray prints in the zygote must not corrupt the protocol
        sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
        sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
        loaded = sorted(m for m in sys.modules if m.startswith("digitcore"))
        write_frame(self.proto_out, {"kind": "ready", "pid": os.getpid(), "root": self.root,
                                     "probes": sorted(self.probes), "modules": loaded})
        while True:
            try:
                req = read_frame(self.proto_in, cap=REQUEST_CAP)
            except (FrameEOF, FrameError):
                break
            if req.get("cmd") == "quit":
                break
            try:
                resp = self.grade(req)
            except Exception as e:  # noqa: BLE001 - a bug here must not take the grader down silently
                self.reap_ending(wait=True, patience=0)
                self.kill_strays()
                resp = {"kind": "response", "engine": f"zygote error: {type(e).__name__}: {e}"}
            write_frame(self.proto_out, resp)
            self.reap_ending()
            if not self.root:  # no PID namespace to take escaped processes down: look for them now
                self.kill_strays()
                for entry in os.listdir(self.scratch):  # and no private /tmp: clear the workers' folders
                    shutil.rmtree(os.path.join(self.scratch, entry), ignore_errors=True)
            if not self.ending:
                continue
            if select.select([self.proto_in], [], [], 0.5)[0] == []:  # idle: finish the reaping
                self.reap_ending(wait=True)
        self.reap_ending(wait=True)
        self.kill_strays()
        shutil.rmtree(self.scratch, ignore_errors=True)


def children_of(ppid: int) -> list[int]:
    kids = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
                if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                    kids.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def exit_description(code: int | None) -> str:
    if code is None:
        return "it ended"
    if code >= 128:
        sig = code - 128
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        extra = " (killed: out of memory or CPU time?)" if sig in (signal.SIGKILL, signal.SIGXCPU) else ""
        return f"killed by {name}{extra}"
    return f"exit status {code}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", nargs="*", default=[str(PACKAGE / "exercises" / "probes.py")])
    args = parser.parse_args(argv)
    sys.path[:] = [p for p in sys.path if p not in ("", "/", os.getcwd())]  # -m put the cwd there
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    preload()
    probes = load_probes(args.probes)
    Zygote(probes, default_hidden()).serve()


if __name__ == "__main__":
    main()
