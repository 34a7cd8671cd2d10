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

While the class runs, the instructor sees the room: a status line every `status_every` seconds (and
`status.json` in the run folder) with the students connected to each worker (marimo's own count of open
websockets), each worker's CPU and memory (from /proc), its restarts and whether HAProxy sees it up, and the
slider moves of the last minute (each worker times its kernels' runs: digitcore/class_metrics.py). HAProxy's own
statistics page, on 127.0.0.1 only, shows the rest (sessions, bytes, health checks, response times).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import re
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

from .class_metrics import ENV as METRICS_ENV
from .class_metrics import percentile, recent_runs
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


def _haproxy_head(command: str, stats_socket: Path, server: str) -> str:
    """The global and defaults sections both of our HAProxy configurations share (`server`: what is behind it)."""
    return f"""\
# Written by `{command}`; see digitcore/class_server.py.
global
    maxconn 4096               # 300 students, a websocket each and a few page loads at once
    stats socket {stats_socket} mode 600 level user

defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 8h          # a student's websocket lasts the whole class
    timeout http-request 30s
    timeout client-fin 30s
    # A {server} busy starting many sessions at once (all the students of a worker that died, say) answers /health
    # late but is alive: seen, a survivor missing HAProxy's default 2 s and then even 10 s, marked down with the dead
    # worker, and every request refused. Marked down, its own students' requests would go to a worker without their
    # session. So a check waits 30 s; a worker that died refuses the check's connection at once and is still down
    # within two checks. (`option persist` would keep students on a {server} marked down, but then a dead one's
    # students wait a second more for HAProxy's pause before its retry: measured.)
    timeout check 30s
    # a student whose {server} died goes to another one at the first refused connection: plain `option redispatch`
    # waits for the last retry, after HAProxy's one-second pause before each (measured: 2 to 3 s for a websocket)
    option redispatch 1
    retries 2
"""


def haproxy_config(bind_host: str, port: int, worker_ports: list[int], stats_socket: Path,
                   stats_port: int | None = None) -> str:
    """HAProxy's configuration: one frontend on the class's address, the workers behind it, sticky by cookie;
    with `stats_port`, HAProxy's own statistics page on 127.0.0.1 (the instructor's machine only)."""
    servers = "\n".join(f"    server w{i} 127.0.0.1:{p} check inter 1s fall 2 rise 1 cookie w{i}"
                        for i, p in enumerate(worker_ports, 1))
    return _haproxy_head("digitcore class", stats_socket, "worker") + f"""
# marimo's page pulls about 180 script and style files from the worker for every arriving student, the same files
# for everyone (their names carry a hash of their content): HAProxy keeps them, so a worker sends each once.
cache marimo_assets
    total-max-size 256         # MB
    max-object-size 33554432   # bytes: the largest of marimo's scripts is a few MB
    max-age 86400

frontend class
    bind {bind_host}:{port}
    default_backend workers

backend workers
    balance roundrobin         # new students are dealt to the workers in turn: even when a class arrives at once
    cookie {COOKIE} insert indirect nocache httponly
    option httpchk GET /health
    # kept only from a student who already has a worker: a response that sets the cookie must never be shared
    http-request set-var(txn.asset) bool(true) if {{ path_beg /assets/ }} {{ req.cook({COOKIE}) -m found }}
    http-request cache-use marimo_assets if {{ var(txn.asset) -m bool }}
    http-response del-header vary if {{ var(txn.asset) -m bool }}
    http-response set-header cache-control "public, max-age=86400, immutable" if {{ var(txn.asset) -m bool }}
    http-response cache-store marimo_assets if {{ var(txn.asset) -m bool }} !{{ res.hdr(set-cookie) -m found }}
    http-response set-header {WORKER_HEADER} %s unless {{ var(txn.asset) -m bool }}  # a kept file is nobody's
{servers}
""" + ("" if stats_port is None else f"""
frontend instructor_stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /
    stats refresh 5s
    stats show-legends
""")


MACHINE_COOKIE = "digitcore_machine"
MACHINE_HEADER = "X-Digitcore-Machine"  # names the machine that answered, beside the worker's own header


def front_config(bind_host: str, port: int, machines: list[str], stats_socket: Path) -> str:
    """The front HAProxy of a class too big for one machine (docs/class.md, "Past one machine"): each address in
    `machines` ("10.0.0.1:8080") runs `digitcore class`; new students are dealt to the machines in turn, a cookie keeps
    each on its machine (whose own cookie keeps it on its worker), and a machine that stops answering loses its
    students to the others. The front does no training: it only passes connections on."""
    servers = "\n".join(f"    server m{i} {m} check inter 1s fall 2 rise 1 cookie m{i}" for i, m in enumerate(machines, 1))
    return _haproxy_head("digitcore front", stats_socket, "machine") + f"""
frontend class
    bind {bind_host}:{port}
    default_backend machines

backend machines
    balance roundrobin
    cookie {MACHINE_COOKIE} insert indirect nocache httponly
    option httpchk GET /health
    http-response set-header {MACHINE_HEADER} %s
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


def process_usage(pgid: int) -> tuple[float, int]:
    """(CPU seconds used so far, resident bytes) of every live process in process group `pgid` (a worker and
    whatever it started), from /proc; (0.0, 0) where there is no /proc."""
    ticks, pages = 0, 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:          # fields after the name: state, ppid, pgrp, ...
            ticks += int(fields[11]) + int(fields[12])   # utime + stime
            pages += int(fields[21])                     # rss
    return ticks / os.sysconf("SC_CLK_TCK"), pages * os.sysconf("SC_PAGE_SIZE")


def marimo_connections(port: int) -> int | None:
    """marimo's own count of open websockets (one per student's tab) on a worker, or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status/connections", timeout=2) as r:
            return int(json.load(r)["active"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _die_with_parent() -> None:
    """In a child, before exec: Linux sends it SIGTERM when the class command dies, however it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
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


ASSET_LINKS = re.compile(r"""(?:src|href)=["']\.?(/assets/[^"']+)["']""")


def warm_assets(url: str, timeout: float = 10.0) -> int:
    """Fetch the page's script, style and font files once through HAProxy, before any student, so that HAProxy
    keeps them: a class that arrives at once would otherwise find none kept, and every student would ask a worker
    for each of them. Returns how many were fetched; best effort (a file not fetched here is kept from its first
    student instead)."""
    fetched = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as page:   # deals a worker, like a student's first visit
            cookie = page.headers.get("Set-Cookie", "").split(";")[0]
            html = page.read().decode(errors="replace")
        for path in dict.fromkeys(ASSET_LINKS.findall(html)):   # HAProxy keeps what a request with a cookie gets
            with urllib.request.urlopen(urllib.request.Request(url.rstrip("/") + path, headers={"Cookie": cookie}),
                                        timeout=timeout) as r:
                r.read()
                fetched += 1
    except OSError:
        pass
    return fetched


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
    stats_port: int | None = None  # HAProxy's statistics page on 127.0.0.1 (None: a free port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)  # "haproxy", "w1", "w2", ...
    ports: dict[str, int] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    _cpu: dict[str, tuple[float, float]] = field(default_factory=dict)  # worker -> (wall, CPU seconds) last seen

    def __post_init__(self):
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="digitcore-class-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stats_socket = self.run_dir / "haproxy.sock"
        self.stats_port = self.stats_port or _free_port()

    def metrics_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.runs"

    def spawn_worker(self, name: str, run_first: bool = True) -> None:
        self.procs[name] = _spawn(self.worker_cmd(name, run_first), self.run_dir / f"{name}.log",
                                  env=self.worker_env(name))

    def worker_env(self, name: str) -> dict[str, str]:
        """The worker's environment: where it records its kernels' runs, and at most 2 malloc arenas. Each marimo
        session's kernel is a thread, and glibc gives new threads arenas of their own (up to 8 per core) that keep
        the memory a closed session freed: a worker grew by about 20 MB per student for good (777 MB to 1,248 MB
        after 8 waves of 3 students who all left) and stayed within 4% of its first wave with 2 arenas. An
        instructor's own MALLOC_ARENA_MAX wins."""
        return {"MALLOC_ARENA_MAX": "2", **os.environ, METRICS_ENV: str(self.metrics_file(name))}

    def worker_cmd(self, name: str, run_first: bool = True) -> list[str]:
        """The worker's command: at the class's start it runs its lesson once before serving (`--run-first`); a
        restart does not, so it takes no CPU from the survivors while they take in the dead worker's students."""
        return [sys.executable, "-m", "digitcore", "lesson", str(self.lesson), *["--run-first"] * run_first,
                "--headless", "--host", "127.0.0.1",
                "--port", str(self.ports[name]), "--no-token", "--session-ttl", str(self.session_ttl),
                # marimo's skew protection rejects (401) every slider move that a page loaded from one worker sends
                # to another: exactly what a student's page must do when its worker dies and HAProxy moves it.
                # The workers of a class run one marimo, the version mismatch it guards against cannot happen.
                "--no-skew-protection", *self.marimo_args]

    def start(self, timeout: float = 600.0) -> None:
        haproxy = find_haproxy()
        for i in range(1, self.workers + 1):
            self.ports[f"w{i}"] = _free_port()
            self.restarts[f"w{i}"] = 0
            self.spawn_worker(f"w{i}")
        config = self.run_dir / "haproxy.cfg"
        config.write_text(haproxy_config(self.host, self.port, list(self.ports.values()), self.stats_socket,
                                         self.stats_port))
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
        warm_assets(self.url)
        (self.run_dir / "class.json").write_text(json.dumps(
            {"url": self.url, "lesson": str(self.lesson), "stats_socket": str(self.stats_socket),
             "stats_page": self.stats_url,
             "pids": {n: p.pid for n, p in self.procs.items()}, "ports": self.ports}, indent=2))

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.stats_port}/"

    def status(self) -> dict:
        """The room now: per worker, students connected (marimo's count of open websockets), HAProxy's view (up or
        down, its current connections), CPU share since the last call, memory, restarts; and the slider moves of
        the last minute (count, median, p95 in seconds), per worker and for the class."""
        try:
            servers = {row["svname"]: row for row in haproxy_stats(self.stats_socket) if row.get("pxname") == "workers"}
        except (OSError, IndexError):
            servers = {}
        now, workers, all_runs = time.monotonic(), {}, []
        for name, port in self.ports.items():
            proc = self.procs.get(name)
            cpu, rss = process_usage(proc.pid) if proc is not None and proc.poll() is None else (0.0, 0)
            wall0, cpu0 = self._cpu.get(name, (now, cpu))
            self._cpu[name] = (now, cpu)
            runs = recent_runs(self.metrics_file(name))
            all_runs += runs
            row = servers.get(name, {})
            workers[name] = {
                "students": marimo_connections(port), "haproxy": row.get("status", "?"),
                "haproxy_connections": int(row["scur"]) if row.get("scur", "").isdigit() else None,
                "cpu_percent": round(100 * (cpu - cpu0) / (now - wall0), 1) if now > wall0 else None,
                "memory_gb": round(rss / 2**30, 2), "restarts": self.restarts.get(name, 0),
                "moves_last_minute": len(runs), "move_p95_s": percentile(runs, 95)}
        students = [w["students"] for w in workers.values() if w["students"] is not None]
        return {"time": time.strftime("%H:%M:%S"), "students": sum(students), "workers": workers,
                "memory_gb": round(sum(w["memory_gb"] for w in workers.values()), 2),
                "restarts": sum(self.restarts.values()), "moves_last_minute": len(all_runs),
                "move_median_s": percentile(all_runs, 50), "move_p95_s": percentile(all_runs, 95),
                "stats_page": self.stats_url}

    def report_status(self) -> dict:
        """One status line on stderr for the instructor, and the same as JSON in the run folder."""
        st = self.status()
        _write_json(self.run_dir / "status.json", st)
        print(format_status(st), file=sys.stderr, flush=True)
        return st

    def supervise(self, poll: float = 1.0, status_every: float | None = 30.0) -> None:
        """Restart a worker that died, and report the room every `status_every` seconds, until interrupted;
        HAProxy dying ends the class."""
        next_status = time.monotonic() + (status_every or 0)
        while True:
            time.sleep(poll)
            if status_every and time.monotonic() >= next_status:
                next_status = time.monotonic() + status_every
                self.report_status()
            if self.procs["haproxy"].poll() is not None:
                raise SystemExit("digitcore class: HAProxy stopped:\n"
                                 + (self.run_dir / "haproxy.log").read_text(errors="replace")[-2000:])
            for name, proc in list(self.procs.items()):
                if name != "haproxy" and proc.poll() is not None:
                    print(f"digitcore class: worker {name} exited ({proc.returncode}); restarting it "
                          f"(its log: {self.run_dir / (name + '.log')})", file=sys.stderr, flush=True)
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self.spawn_worker(name, run_first=False)

    def stop(self) -> None:
        """HAProxy first (no new requests), then the workers, each with its whole process group."""
        for name in sorted(self.procs, key=lambda n: n != "haproxy"):
            _stop(self.procs[name])


def format_status(st: dict) -> str:
    """The status dict as one line: `digitcore class 10:42:07: 12 students | w1 3 up 41% 1.1 GB | ... | slider ...`."""
    def secs(x):
        return "n/a" if x is None else f"{x:.2f} s"

    parts = [f"digitcore class {st['time']}: {st['students']} students"]
    for name, w in st["workers"].items():
        students = "?" if w["students"] is None else w["students"]
        cpu = "?" if w["cpu_percent"] is None else f"{w['cpu_percent']:.0f}%"
        restarted = f", {w['restarts']} restarts" if w["restarts"] else ""
        parts.append(f"{name} {students} {w['haproxy'].lower()} {cpu} {w['memory_gb']:.1f} GB{restarted}")
    parts.append(f"slider moves last minute: {st['moves_last_minute']}, median {secs(st['move_median_s'])}, "
                 f"p95 {secs(st['move_p95_s'])}")
    parts.append(f"restarts {st['restarts']}; more: {st['stats_page']}")
    return " | ".join(parts)


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


def find_haproxy() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
                                             if os.access(p, os.X_OK)), None)
    if found is None:
        raise SystemExit("digitcore: HAProxy is not installed. Install it (Debian/Ubuntu: `sudo apt-get install "
                         "haproxy`; macOS: `brew install haproxy`), or serve one small group with `digitcore lesson`.")
    return found


def serve_front(machines: list[str], host: str = "0.0.0.0", port: int = 80, run_dir: str | None = None) -> None:
    """`digitcore front`: the front HAProxy before several `digitcore class` machines, until Ctrl-C."""
    if not machines:
        raise SystemExit("digitcore front: name the machines that run `digitcore class`, e.g. --machine 10.0.0.1:8080")
    folder = Path(run_dir or tempfile.mkdtemp(prefix="digitcore-front-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "haproxy.cfg"
    config.write_text(front_config(host, port, machines, folder / "haproxy.sock"))
    haproxy = find_haproxy()
    check = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"digitcore front: HAProxy refused its configuration ({config}):\n{check.stdout}{check.stderr}")
    proc = _spawn([haproxy, "-db", "-f", str(config)], folder / "haproxy.log")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"digitcore front: http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/ deals students "
              f"to {len(machines)} machines ({', '.join(machines)}); Ctrl-C stops it (config and log in {folder})",
              file=sys.stderr, flush=True)
        proc.wait()
        raise SystemExit("digitcore front: HAProxy stopped:\n" + (folder / "haproxy.log").read_text(errors="replace")[-2000:])
    except KeyboardInterrupt:
        print("digitcore front: stopping", file=sys.stderr, flush=True)
    finally:
        _stop(proc)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the class the way Ctrl-C does


def serve_class(name: str | None, students: int, workers: int | None = None, host: str = "0.0.0.0",
                port: int = 8080, run_dir: str | None = None, session_ttl: int = SESSION_TTL,
                marimo_args: list[str] = (), status_every: float = 30.0, stats_port: int | None = None) -> None:
    lesson = find_lesson(name)
    n = workers or plan_workers(students)
    server = ClassServer(lesson, n, host=host, port=port, run_dir=run_dir, session_ttl=session_ttl,
                         marimo_args=list(marimo_args), stats_port=stats_port)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"digitcore class: starting {n} marimo worker{'s' * (n > 1)} for {students} students of {lesson.stem} "
              f"(logs in {server.run_dir})", file=sys.stderr, flush=True)
        server.start()
        print(f"digitcore class: {lesson.stem} is on {server.url} (HAProxy on {host}:{port}, {n} workers); "
              f"Ctrl-C stops it", file=sys.stderr, flush=True)
        print(f"digitcore class: the room, every {status_every:g} s below and in {server.run_dir / 'status.json'}; "
              f"HAProxy's statistics on {server.stats_url} (this machine only)", file=sys.stderr, flush=True)
        server.supervise(status_every=status_every)
    except KeyboardInterrupt:
        print("digitcore class: stopping", file=sys.stderr, flush=True)
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
