"""A compressed class on `digitcore class`, in every CI run: 2 workers, 40 students arriving over two minutes,
each reading, moving the learning rate, sometimes reloading, and leaving; one worker killed with SIGKILL halfway.

The students are wire students (tests/browser/wire_student.py): the page, its scripts, the kernel's websocket and
slider moves as marimo's frontend sends them, and nothing drawn, so the machine's cores serve the class as they
would in a room of laptops. The same class with Chromium pages is tests/browser/test_class_soak.py (on request,
being slow on 2 cores), and benchmarks/bench_soak.py plays both, longer, and prints the figures.

Before anyone arrives, marimo's files are already kept by HAProxy. Then what must hold: no session errors; every
student of the killed worker back on a live lesson by itself; nobody else's websocket closed; the workers' memory at
the end (every student gone, their sessions freed) no more than 25% above its level after the first students (the
issue's 10% is the benchmark's: see MEMORY_BOUND); no traceback in the logs.
"""

import random
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from digitcore.class_server import ASSET_LINKS

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from class_students import assert_class_held, plan, play  # noqa: E402
from marimo_driver import ROOT, serve_class  # noqa: E402

LESSON = ROOT / "lessons" / "05_sgd.py"
WORKERS, STUDENTS, MINUTES = 2, 40, 2.0
SESSION_TTL = 5
WAY_BACK_BOUND = 60   # seconds: generous for busy CI machines, not the target (bench_soak.py prints the figure)
# The workers' memory after everyone left, against after the first students. The issue's 10% is bench_soak.py's to
# measure (+1% over 400 sessions). This class is compressed: after the kill one worker holds the other's students
# too, and keeps some of that peak for a while; seen +7% (2 cores busy) and +13% (a CI dry run). With glibc's
# per-thread malloc arenas back (MALLOC_ARENA_MAX=16, the leak digitcore class fixed) the same run gave +31%.
MEMORY_BOUND = 1.25
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="digitcore class needs HAProxy (apt-get install haproxy)")


def workers_gb(row: dict) -> float:
    return sum(v for k, v in row.items() if k.endswith("_gb") and v is not None)


@pytest.fixture(scope="module")
def klass():
    with serve_class(LESSON, WORKERS, students=STUDENTS,
                     extra=("--session-ttl", str(SESSION_TTL), "--status-every", "2")) as run:
        yield run


def test_the_first_student_finds_marimo_files_kept(klass):
    """`digitcore class` fetches the page's files through HAProxy before anyone arrives: the very first student
    is answered from HAProxy's cache (an Age header), so a class arriving at once does not ask every worker for
    every file."""
    with urllib.request.urlopen(klass.url, timeout=30) as page:
        cookie = page.headers["Set-Cookie"].split(";")[0]
        html = page.read().decode()
    files = [path for path in ASSET_LINKS.findall(html) if path.endswith(".js")]
    assert len(files) > 10, "the page names no script files"
    for path in files[:5]:
        with urllib.request.urlopen(urllib.request.Request(klass.url.rstrip("/") + path,
                                                           headers={"Cookie": cookie}), timeout=30) as r:
            assert r.headers.get("age") is not None, f"{path} came from a worker, not HAProxy's cache"


def test_a_class_of_40_holds_through_a_killed_worker(klass):
    rng = random.Random(18)
    students = plan(STUDENTS, MINUTES * 60, rng)
    played = play(None, klass, students, MINUTES * 60, rng, kill_at=0.5, sample_every=2, session_ttl=SESSION_TTL)
    assert_class_held(played, students, klass.log(), (klass.run_dir / "class.out").read_text(), WAY_BACK_BOUND)
    moves = [lat for s in students for _, lat in s.latencies]
    assert len(moves) >= STUDENTS, f"only {len(moves)} slider moves ran"
    first = next(row for row in played.samples if row["t"] >= MINUTES * 60 * 0.15)
    end = sum(w["memory_gb"] for w in played.end_status["workers"].values())
    assert end <= MEMORY_BOUND * workers_gb(first), (
        f"the workers hold {end:.2f} GB after every student left, against {workers_gb(first):.2f} GB after the "
        f"first students: memory kept per student")
