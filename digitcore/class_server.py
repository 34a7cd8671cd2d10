"""`digitcore class`: serve one lesson to a whole class on one link, with several `marimo run` processes behind HAProxy.

One `marimo run` process holds every student as a thread under one GIL, so it is quick for two students and slow
for eight (docs/class.md has the figures). This command starts N workers, each `digitcore lesson LESSON` (marimo
run, warmed up) on its own loopback port, and HAProxy in front of them on the class's address. HAProxy deals new
students to the workers in turn and sets a cookie, `digitcore_worker`, so every later
request of that browser (the page, its assets, its websocket, its slider updates) reaches the same worker, where
its marimo session lives. Students on one worker share its training cache (a setting one of them trained comes
back at once for the others); students on different workers share nothing but the machine.

Ctrl-C (or SIGTERM) stops HAProxy, then every worker, and waits for them. A worker that dies is restarted on its
port; HAProxy's health checks keep students away from it meanwhile and send them to another.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .lesson_server import find_lesson

# Measured with benchmarks/bench_class.py (docs/class.md): with 8 students on 2 cores, 4 workers gave a lower slider
# median than 2 in both side-by-side runs (1.6 s vs 2.1 s, 1.9 s vs 2.9 s): in one process the students' runs and
# marimo's own server thread queue for one GIL. A worker costs about 0.86 GB before its first student.
STUDENTS_PER_WORKER = 2
WORKERS_PER_CORE = 2
WORKER_GB, STUDENT_GB = 0.86, 0.1
SESSION_TTL = 30  # seconds a closed or reloaded tab's session lives on, in case it reconnects (marimo: 120)
COOKIE = "digitcore_worker"
WORKER_HEADER = "X-Digitcore-Worker"  # names the worker that answered: handy for checking stickiness


def plan_workers(students: int, cores: int | None = None, memory_gb: float | None = None) -> int:
    """How many marimo workers for `students`: one per STUDENTS_PER_WORKER, at most WORKERS_PER_CORE per core,
    and no more than the memory available holds (with the students' own share)."""
    cores = cores or os.cpu_count() or 1
    memory_gb = available_memory_gb() if memory_gb is None else memory_gb
    by_memory = int((memory_gb - students * STUDENT_GB) / WORKER_GB) if memory_gb else cores * WORKERS_PER_CORE
    return max(1, min(math.ceil(students / STUDENTS_PER_WORKER), cores * WORKERS_PER_CORE, by_memory))


def available_memory_gb() -> float | None:
    """MemAvailable from /proc/meminfo, in GB; None where there is no such file."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def haproxy_config(bind_host: str, port: int, worker_ports: list[int], stats_socket: Path) -> str:
    """HAProxy's configuration: one frontend on the class's address, the workers behind it, sticky by cookie."""
    servers = "\n".join(f"    server w{i} 127.0.0.1:{p} check inter 2s fall 2 rise 1 cookie w{i}"
                        for i, p in enumerate(worker_ports, 1))
    return f"""\
# Written by `digitcore class`; see digitcore/class_server.py.
global
    maxconn 4096
    stats socket {stats_socket} mode 600 level user

defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 8h          # a student's websocket lasts the whole class
    timeout http-request 30s
    timeout client-fin 30s
    option redispatch          # a student whose worker is down goes to another one
    retries 2

frontend class
    bind {bind_host}:{port}
    default_backend workers

backend workers
    balance roundrobin         # new students are dealt to the workers in turn: even when a class arrives at once
    cookie {COOKIE} insert indirect nocache httponly
    option httpchk GET /health
    http-response set-header {WORKER_HEADER} %s
{servers}
"""


def haproxy_stats(stats_socket: Path) -> list[dict]:
    """HAProxy's `show stat`: one dict per frontend, backend and server (scur: current connections, stot: total)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(stats_socket))
        s.sendall(b"show stat\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    lines = raw.decode().strip().splitlines()
    header = lines[0].lstrip("# ").split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:] if line]


def _die_with_parent() -> None:
    """In a child, before exec: Linux sends it SIGTERM when the class command dies, however it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True,  # Ctrl-C reaches only us; we stop them in order
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group, SIGKILL to whatever is left after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
            return


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ClassServer:
    """The running class: HAProxy and its workers. `start()`, then `supervise()` until Ctrl-C, then `stop()`."""

    lesson: Path
    workers: int
    host: str = "0.0.0.0"
    port: int = 8080
    run_dir: Path | None = None
    session_ttl: int = SESSION_TTL
    marimo_args: list[str] = field(default_factory=list)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)  # "haproxy", "w1", "w2", ...
    ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="digitcore-class-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stats_socket = self.run_dir / "haproxy.sock"

    def worker_cmd(self, name: str) -> list[str]:
        return [sys.executable, "-m", "digitcore", "lesson", str(self.lesson), "--headless", "--host", "127.0.0.1",
                "--port", str(self.ports[name]), "--no-token", "--session-ttl", str(self.session_ttl),
                *self.marimo_args]

    def start(self, timeout: float = 600.0) -> None:
        haproxy = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
                                                   if os.access(p, os.X_OK)), None)
        if haproxy is None:
            raise SystemExit("digitcore class: HAProxy is not installed. Install it (Debian/Ubuntu: "
                             "`sudo apt-get install haproxy`; macOS: `brew install haproxy`), or serve one small group "
                             "with `digitcore lesson`.")
        for i in range(1, self.workers + 1):
            self.ports[f"w{i}"] = _free_port()
            self.procs[f"w{i}"] = _spawn(self.worker_cmd(f"w{i}"), self.run_dir / f"w{i}.log")
        config = self.run_dir / "haproxy.cfg"
        config.write_text(haproxy_config(self.host, self.port, list(self.ports.values()), self.stats_socket))
        check = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            self.stop()
            raise SystemExit(f"digitcore class: HAProxy refused its configuration ({config}):\n{check.stdout}"
                             f"{check.stderr}")
        deadline = time.monotonic() + timeout
        while not all(_healthy(p) for p in self.ports.values()):
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                why = f"worker {dead[0]} exited" if dead else f"workers not ready after {timeout:.0f} s"
                log = (self.run_dir / f"{(dead or ['w1'])[0]}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"digitcore class: {why}; its log ({self.run_dir}):\n{log}")
            time.sleep(0.5)
        self.procs["haproxy"] = _spawn([haproxy, "-db", "-f", str(config)], self.run_dir / "haproxy.log")
        while not self.stats_socket.exists():  # HAProxy creates it once it listens
            if self.procs["haproxy"].poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("digitcore class: HAProxy did not start (is the port free?):\n"
                                 + (self.run_dir / "haproxy.log").read_text(errors="replace")[-3000:])
            time.sleep(0.1)
        (self.run_dir / "class.json").write_text(json.dumps(
            {"url": self.url, "lesson": str(self.lesson), "stats_socket": str(self.stats_socket),
             "pids": {n: p.pid for n, p in self.procs.items()}, "ports": self.ports}, indent=2))

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    def supervise(self, poll: float = 1.0) -> None:
        """Restart a worker that died, until interrupted; HAProxy dying ends the class."""
        while True:
            time.sleep(poll)
            if self.procs["haproxy"].poll() is not None:
                raise SystemExit("digitcore class: HAProxy stopped:\n"
                                 + (self.run_dir / "haproxy.log").read_text(errors="replace")[-2000:])
            for name, proc in list(self.procs.items()):
                if name != "haproxy" and proc.poll() is not None:
                    print(f"digitcore class: worker {name} exited ({proc.returncode}); restarting it "
                          f"(its log: {self.run_dir / (name + '.log')})", file=sys.stderr, flush=True)
                    self.procs[name] = _spawn(self.worker_cmd(name), self.run_dir / f"{name}.log")

    def stop(self) -> None:
        """HAProxy first (no new requests), then the workers, each with its whole process group."""
        for name in sorted(self.procs, key=lambda n: n != "haproxy"):
            _stop(self.procs[name])


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the class the way Ctrl-C does


def serve_class(name: str | None, students: int, workers: int | None = None, host: str = "0.0.0.0",
                port: int = 8080, run_dir: str | None = None, session_ttl: int = SESSION_TTL,
                marimo_args: list[str] = ()) -> None:
    lesson = find_lesson(name)
    n = workers or plan_workers(students)
    server = ClassServer(lesson, n, host=host, port=port, run_dir=run_dir, session_ttl=session_ttl,
                         marimo_args=list(marimo_args))
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"digitcore class: starting {n} marimo worker{'s' * (n > 1)} for {students} students of {lesson.stem} "
              f"(logs in {server.run_dir})", file=sys.stderr, flush=True)
        server.start()
        print(f"digitcore class: {lesson.stem} is on {server.url} (HAProxy on {host}:{port}, {n} workers); "
              f"Ctrl-C stops it", file=sys.stderr, flush=True)
        server.supervise()
    except KeyboardInterrupt:
        print("digitcore class: stopping", file=sys.stderr, flush=True)
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
