"""The zygote: a warm process that has imported torch once and forks a sandboxed child per exercise.

    python -m digitcore.grading.sandboxed.zygote [--probes FILE ...] [--seccomp FILE] [--sandboxed]

A fork server that never sees a student: on "spawn" it gets a memfd with the job and the write end of the result
pipe (SCM_RIGHTS) and forks A without reading them. A, PID 1 of a fresh PID namespace where it can have one,
forks B, the worker (worker.py), which reads the job only once locked down and writes its frames straight to the
grader: no student's source, output or error passes through the zygote's memory, so every later child is forked
from a heap that never held any. On "end" it kills A's process group and answers with A's exit status. It never
runs a torch op (forking stays safe) and imports neither the reference nor the exercises' judges.
"""

import argparse
import contextlib
import importlib.util
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from . import sandbox, worker
from .frames import CONTROL_CAP, FrameEOF, FrameError, recv_frame_fds, write_frame
from .sandbox import children_of


def load_probes(paths: list[str]) -> dict:
    """Load probe modules by file path (the private copy's, client.private_copy), standalone (their package's
    __init__ is not run)."""
    probes = {}
    for i, path in enumerate(paths):
        spec = importlib.util.spec_from_file_location(f"digitcore_probes_{i}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        probes.update({k: v for k, v in vars(module).items() if callable(v) and k.startswith("probe_")})
    return probes


class Zygote:
    def __init__(self, sock: socket.socket, probes: dict, seccomp_bpf: bytes | None, sandboxed: bool):
        self.sock = sock
        self.probes = probes
        self.seccomp_bpf = seccomp_bpf
        self.sandboxed = sandboxed
        self.spawned = 0
        self.folders: dict[int, str] = {}   # child A -> the work folder made for its worker, until A is reaped
        self.scratch = tempfile.mkdtemp(prefix="digitcore-grading-", dir=sandbox.WORK_DIR if sandboxed else None)
        os.chmod(self.scratch, 0o711)
        self.ending: list[int] = []      # killed, not yet reaped
        self.live: set[int] = set()       # spawned, not yet ended: never a stray
        self.own_pid_ns: int | None = None  # the zygote's own PID namespace (fresh_pid_namespace)

    def spawn(self, req: dict, job_fd: int, result_fd: int) -> int:
        in_ns = os.geteuid() == 0 and sandbox.sandbox_setting() == "full" and self.fresh_pid_namespace()
        self.spawned += 1
        # a user id that no other child of any zygote on this host has at the same time
        uid = sandbox.CHILD_UID_BASE + os.getpid() * sandbox.CHILD_UIDS_PER_ZYGOTE + self.spawned % sandbox.CHILD_UIDS_PER_ZYGOTE
        req = dict(req, child_uid=uid)
        folder = os.path.join(self.scratch, f"c{self.spawned}")
        os.mkdir(folder, 0o700)
        pid = os.fork()
        if pid == 0:  # A: PID 1 of its own PID namespace, a new session; its child B is the worker
            code = 72
            try:
                self.sock.close()
                sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
                os.setsid()
                b = os.fork()
                if b == 0:
                    worker.run(job_fd, result_fd, req, self.probes, in_pid_namespace=in_ns, sandboxed=self.sandboxed,
                               folder=folder, seccomp_bpf=self.seccomp_bpf)
                    os._exit(73)
                os.close(job_fd)
                os.close(result_fd)
                # reap until the worker ends (as an init, orphans come to A too); its exit status is A's own
                while (ended := os.wait())[0] != b:
                    pass
                code = exit_code(ended[1])
            finally:
                os._exit(code)
        self.live.add(pid)
        self.folders[pid] = folder
        return pid

    def fresh_pid_namespace(self) -> bool:
        """Make the next child (A) PID 1 of a PID namespace of its own, so that the worker (B, A's child) is not:
        the kernel discards a signal that PID 1 sends itself (os.kill of itself, raise(SIGSEGV) would return
        normally). unshare(CLONE_NEWPID) works once per namespace the zygote's children go to, so first go
        back to our own (setns); no extra fork is needed, as there would be for an init between A and B."""
        if self.own_pid_ns is None:
            try:
                self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return False
        return sandbox.libc_call("setns", self.own_pid_ns, sandbox.CLONE_NEWPID) and sandbox.libc_call("unshare", sandbox.CLONE_NEWPID)

    def end(self, pid: int, wait: float | None) -> int | None:
        """Stop child A: wait up to `wait` s for it to end by itself, then kill it and return its exit status
        (None: unknown). wait=None: kill now, reap later (reap_ending)."""
        self.live.discard(pid)
        limit = time.monotonic() + (wait or 0)
        try:
            while time.monotonic() < limit and not os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                time.sleep(0.01)
        except ChildProcessError:   # not ours (or gone): nothing to kill
            return None
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
        if wait is None:
            self.ending.append(pid)
            return None
        try:
            code = exit_code(os.waitpid(pid, 0)[1])
        except ChildProcessError:
            code = None
        self.after_child()
        return code

    def after_child(self):
        """Kill and reap what is left of ended children (B, orphaned to us when A died first, or anything it
        started without a PID namespace of its own), and remove the work folders of every child that is gone
        (never a live one's: a child killed now is reaped later, after the next one has started)."""
        self.kill_strays(keep=self.live | set(self.ending))
        for child in [c for c in self.folders if c not in self.live and c not in self.ending]:
            shutil.rmtree(self.folders.pop(child), ignore_errors=True)

    def reap_ending(self, block: bool):
        for pid in list(self.ending):
            try:
                if os.waitpid(pid, 0 if block else os.WNOHANG)[0]:
                    self.ending.remove(pid)
            except ChildProcessError:
                self.ending.remove(pid)
        if not self.ending:
            self.after_child()

    def kill_strays(self, keep=frozenset()):
        """As a child subreaper we inherit orphans: none may outlive a request."""
        for _ in range(100):
            kids = [k for k in children_of(os.getpid()) if k not in keep]
            if not kids:
                break
            for k in kids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(k, signal.SIGKILL)
            for k in kids:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(k, 0)

    def serve(self):
        sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
        sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
        sandbox.prctl(sandbox.PR_SET_DUMPABLE, 0)
        reply = {"kind": "ready", "probes": sorted(self.probes),
                 "modules": sorted(m for m in sys.modules if m.startswith("digitcore"))}
        while True:
            write_frame(self.sock.fileno(), reply, cap=CONTROL_CAP)
            if self.ending and not select.select([self.sock], [], [], 0.2)[0]:
                self.reap_ending(block=True)   # idle: finish the reaping
            try:
                req, fds = recv_frame_fds(self.sock, CONTROL_CAP)
            except (FrameEOF, FrameError, OSError, ValueError):
                break
            cmd = req.get("cmd") if isinstance(req, dict) else None
            try:
                if cmd == "spawn" and len(fds) == 2:
                    self.reap_ending(block=False)
                    reply = {"kind": "spawned", "pid": self.spawn(req, *fds)}
                elif cmd == "end":
                    reply = {"kind": "ended", "code": self.end(int(req["pid"]), req.get("wait"))}
                else:
                    break
            finally:
                for fd in fds:
                    os.close(fd)
        self.reap_ending(block=True)   # already killed (end)
        self.kill_strays()
        shutil.rmtree(self.scratch, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", nargs="*", default=[])
    parser.add_argument("--seccomp", default=None, help="a BPF program file (sandbox.seccomp_program)")
    parser.add_argument("--sandboxed", action="store_true", help="running inside the bwrap allow-list root")
    args = parser.parse_args(argv)
    sys.path[:] = [p for p in sys.path if p not in ("", "/", os.getcwd())]  # -m put the cwd there
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sock = socket.socket(fileno=os.dup(0))
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    os.dup2(2, 1)  # stray prints in the zygote must not reach anything
    bpf = Path(args.seccomp).read_bytes() if args.seccomp else None
    # what students and probes use, imported once so that each fork starts warm (torch._dynamo: the first
    # torch.optim optimizer imports it, 6 s, which would eat a check's time limit)
    for name in ("torch", "torch.optim", "torch._dynamo", "numpy", "math", "random", "functools", "itertools",
                 "collections", "marimo"):
        with contextlib.suppress(Exception):   # optional: whatever is missing is imported on demand
            __import__(name)
    Zygote(sock, load_probes(args.probes), bpf, args.sandboxed).serve()


def exit_code(status: int) -> int:
    """A wait status as an exit status: the process's own, or 128 + the signal that ended it."""
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    main()
