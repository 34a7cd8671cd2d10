"""A class past one machine (docs/class.md): two `digitcore class` "machines" on their own loopback addresses
(127.0.0.2 with two workers, 127.0.0.3 with one), each with its own HAProxy and workers, behind `digitcore front`.

Every student sticks to one worker of one machine (both cookies, every request, websockets included) across
reloads; when one machine stops, its students land on the other and their lesson runs again there.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from marimo_driver import ROOT, SPAWNED, LessonPage, free_port, group_alive, serve_class, stop

LESSON = ROOT / "lessons" / "03_broadcasting.py"   # a light lesson: this test is about where requests go
MACHINES = {"127.0.0.2": 2, "127.0.0.3": 1}          # address -> workers
STUDENTS = 4
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="digitcore front needs HAProxy (apt-get install haproxy)")


class Student:
    """A page with its own cookies, recording which machine and which worker answered each request."""

    def __init__(self, browser, url: str):
        self.url = url
        self.lesson = LessonPage(browser, url)
        self.seen: list[tuple[str, str | None]] = []
        self.lesson.page.on("response", self._seen)

    def _seen(self, response):
        machine = response.headers.get("x-digitcore-machine")
        if machine:   # a file from a machine's cache names no worker
            self.seen.append((machine, response.headers.get("x-digitcore-worker")))

    def place(self) -> tuple[str, str]:
        """(machine, worker): the one machine and the one worker every request of this student reached so far."""
        machines = {m for m, _ in self.seen}
        workers = {w for _, w in self.seen if w}
        assert len(machines) == 1 and len(workers) == 1, f"requests went to {sorted(set(self.seen))}"
        cookies = {c["name"]: c["value"] for c in self.lesson.page.context.cookies()}
        machine, worker = machines.pop(), workers.pop()
        assert cookies.get("digitcore_machine") == machine and cookies.get("digitcore_worker") == worker, cookies
        return machine, worker

    def reload(self) -> None:
        self.seen.clear()
        self.lesson.page.reload(wait_until="commit")   # a new document: its recorder starts counting runs at 0
        self.lesson.wait_idle(timeout=400)

    def assert_fine(self) -> None:
        page = self.lesson
        assert page.errors() == {} and page.failed_runs() == [] and page.page_errors == [], page.describe_errors()


@contextlib.contextmanager
def front(machines: list[str]):
    """`digitcore front` on a free 127.0.0.1 port before `machines`; stopped with SIGTERM, as Ctrl-C would."""
    port, folder = free_port(), Path(tempfile.mkdtemp(prefix="digitcore-front-test-"))
    cmd = [sys.executable, "-m", "digitcore", "front", "--host", "127.0.0.1", "--port", str(port), "--run-dir",
           str(folder), *(x for m in machines for x in ("--machine", m))]
    with open(folder / "front.out", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    SPAWNED.append(proc.pid)
    try:
        deadline = time.monotonic() + 60
        while not (folder / "haproxy.sock").exists():
            assert proc.poll() is None and time.monotonic() < deadline, (folder / "front.out").read_text()
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            stop(proc)
        assert not group_alive(proc.pid), "digitcore front left HAProxy running"


@pytest.fixture(scope="module")
def room(browser):
    stacks = {host: contextlib.ExitStack() for host in MACHINES}
    try:
        runs = {host: stacks[host].enter_context(serve_class(LESSON, n, students=2 * n, host=host))
                for host, n in MACHINES.items()}
        addresses = [run.url.removeprefix("http://").rstrip("/") for run in runs.values()]
        with front(addresses) as url:
            students = [Student(browser, url) for _ in range(STUDENTS)]
            for s in students:   # the class arrives at once
                s.lesson.page.goto(url, wait_until="commit")
            for s in students:
                s.lesson.wait_idle(timeout=400)
            yield stacks, students
            for s in students:
                s.lesson.close()
    finally:
        for stack in stacks.values():
            stack.close()


def test_every_student_sticks_to_one_worker_of_one_machine_across_reloads(room):
    _, students = room
    before = []
    for s in students:
        s.assert_fine()
        before.append(s.place())
    assert {m for m, _ in before} == {"m1", "m2"}, f"the front used one machine only: {before}"
    for s in students:
        s.reload()
        s.assert_fine()
    assert [s.place() for s in students] == before, "a reload moved a student to another machine or worker"


def test_when_a_machine_stops_its_students_land_on_the_other(room):
    stacks, students = room
    places = [s.place() for s in students]
    stopped = list(MACHINES)[1]   # the front names the machines in order: 127.0.0.3 is m2
    moved = [s for s, (m, _) in zip(students, places) if m == "m2"]
    assert moved, f"no student was on m2: {places}"
    stacks[stopped].close()   # SIGTERM, as Ctrl-C on that machine: its HAProxy and workers are gone
    browser = students[0].lesson.page.context.browser
    for s in moved:   # the student comes back (a fresh tab with the same cookies, so no request of the old one counts)
        cookies = s.lesson.page.context.cookies()
        s.lesson.close()
        back = Student(browser, s.url)
        back.lesson.page.context.add_cookies(cookies)
        back.lesson.page.goto(s.url, wait_until="commit")
        back.lesson.wait_idle(timeout=400)
        back.assert_fine()
        assert back.place()[0] == "m1", "a student of the stopped machine did not land on the other one"
        s.lesson = back.lesson   # the fixture closes it
    for s, place in zip(students, places):
        if place[0] == "m1":
            assert s.place() == place, "a student of the running machine was moved"
