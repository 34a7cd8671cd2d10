"""A class of simulated students on `digitcore class`, and a worker killed in the middle: the one student state
machine that benchmarks/bench_soak.py (long runs, figures), tests/browser/test_class_soak.py (a short run in
Chromium, on request) and tests/test_class_over_a_lesson.py (a short run of wire students, in every test run) play.

Each student arrives at a planned moment, waits for the lesson, moves the learning rate a few times with a pause to
read between moves, sometimes reloads, and leaves (closes the tab). One thread drives every page of one Chromium:
each step polls a page and returns at once, so many students are on the lesson together. Without a browser each
student is a wire student (wire_student.py) on a thread of its own, the same plan played by `visit_wire`.

At `kill_at` of the run one worker (the one with most students on a live lesson) is killed with SIGKILL, as the OOM
killer would. Its students (the victims) are then watched, nobody pressing reload: when their page has run the
lesson again (back), and when it has answered a slider move after that (live), with the phases in between from
the page's own record of its websocket (closed, next try to connect, open, kernel ready; a wire student records
its close and its new run). A student whose page was still loading on that worker loses its websocket too and
simply renders later (interrupted). Every other student (a bystander) must notice nothing: its websocket never
closes.
"""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from dataclasses import dataclass, field

from marimo_driver import IDLE_JS, LessonPage
from wire_student import WireStudent

LR = "learning rate"
COOKIE = "digitcore_worker"


@dataclass
class Student:
    """One student's visit, stepped by `advance` until it is done."""

    arrive: float            # seconds after the start of the class
    moves_left: int
    reload_once: bool
    page: LessonPage | None = None
    state: str = "waiting"   # waiting, rendering, reading, moving, recovering (its worker died), done
    wake: float = 0.0
    runs_before: int = 0
    worker: str | None = None
    latencies: list = field(default_factory=list)   # (monotonic time, seconds from release to new curves)
    errors: list = field(default_factory=list)
    render_s: float | None = None
    noticed: list = field(default_factory=list)     # websocket closes this student's pages saw (a worker died)
    closes_seen: int = 0                            # ... of them, in the page's current document
    victim: bool = False
    interrupted: bool = False  # still loading on the killed worker when it died: neither timed nor a bystander
    back_s: float | None = None    # seconds from the kill until the page had run the lesson again (page's clock)
    live_s: float | None = None    # ... until a slider move after that had run
    phases: dict = field(default_factory=dict)      # websocket events after the kill, seconds from it
    kill_wall: float | None = None                  # a victim's: when its worker was killed (time.time())

    wire: WireStudent | None = None   # with play(None, ...): the student's tab, reduced to its traffic

    def cookie(self) -> str | None:
        if self.wire is not None:
            return self.wire.worker
        return {c["name"]: c["value"] for c in self.page.page.context.cookies()}.get(COOKIE)


def plan(n: int, span: float, rng: random.Random) -> list[Student]:
    """`n` visits arriving over the first 90% of `span` seconds: 1 to 4 moves each, a third of them reloading."""
    return sorted((Student(arrive=rng.uniform(0, span * 0.9), moves_left=rng.randint(1, 4),
                           reload_once=rng.random() < 0.3) for _ in range(n)), key=lambda s: s.arrive)


def _check(s: Student) -> None:
    """Record what is wrong on the page now: errors in cells, failed runs, a websocket that closed."""
    state = s.page.state()
    if state is None:   # the page is between documents (a reload): its recorder is not in it yet
        return
    if s.page.errors() or s.page.failed_runs():
        s.errors.append(s.page.describe_errors()[:300])
    closes = [e for e in state["ws"] if e["ev"] == "close"]
    s.noticed += closes[s.closes_seen:]
    s.closes_seen = len(closes)


def advance(s: Student, browser, url: str, now: float, rng: random.Random, kill_wall: float | None = None) -> None:
    """One step of a student's visit; never blocks for long (the page is polled, not waited on). `kill_wall`: when
    a worker was killed (time.time()); a victim's times are taken on its page's own clock, not when this loop
    comes round to it (one thread drives every page: on a busy machine a round takes seconds)."""
    if s.state == "waiting" and now >= s.arrive:
        s.page = LessonPage(browser, url)
        s.page.page.goto(url, wait_until="commit")
        s.state, s.wake = "rendering", now
    elif s.state == "recovering":
        if s.page.runs() > s.runs_before and s.page.page.evaluate(IDLE_JS, 400):
            s.back_s = s.page.state()["runs"][s.runs_before]["wall"] / 1000 - kill_wall   # the page's clock
            s.moves_left = max(s.moves_left, 1)   # and now prove it live: a slider move must run
            s.state, s.wake = "reading", now
    elif s.state in ("rendering", "moving") and s.page.page.evaluate(IDLE_JS, 400):
        if s.state == "moving" and s.page.runs() > s.runs_before:
            st = s.page.state()
            s.latencies.append((time.monotonic(), (st["runs"][-1]["t"] - st["releases"][-1]) / 1000))
            if s.victim and s.back_s is not None and s.live_s is None:
                s.live_s = st["runs"][-1]["wall"] / 1000 - kill_wall
        elif s.state == "rendering" and s.render_s is None:
            s.render_s = now - s.wake
        elif s.state == "moving":
            return   # idle, but the move's run has not come yet
        s.worker = s.cookie() or s.worker
        s.state, s.wake = "reading", now + rng.uniform(3, 12)
    elif s.state == "reading" and now >= s.wake:
        _check(s)
        if s.moves_left > 0:
            steps, at = len(s.page.slider_steps(LR)), s.page.slider_index(LR)
            target = rng.choice([i for i in range(0, steps - 4) if i != at])
            s.runs_before = s.page.runs()
            s.page.drag_slider(LR, target)
            s.moves_left -= 1
            s.state = "moving"
        elif s.reload_once:
            s.reload_once, s.moves_left = False, 1
            s.closes_seen = 0   # a new document: its own record of its websocket
            s.page.page.reload(wait_until="commit")
            s.state, s.wake = "rendering", now
        else:
            s.page.close()
            s.state = "done"


def kill_busiest(students: list[Student], run) -> tuple[str, float, list[Student]] | None:
    """SIGKILL the worker with most students on a live lesson now (one still waiting for its first render just
    renders later, elsewhere); returns it, the wall time, and those students (victims). A student still loading
    there is marked interrupted. None, and nothing killed, while no worker has a student on a live lesson."""
    on = [(s, s.cookie()) for s in students if s.state in ("reading", "moving")]
    counts: dict[str, int] = {}
    for _, w in on:
        if w:
            counts[w] = counts.get(w, 0) + 1
    if not counts:
        return None
    killed = max(sorted(counts), key=counts.get)
    victims = [s for s, w in on if w == killed]
    for s in students:   # a page still loading there loses its websocket too; it just renders later, elsewhere
        if s.state == "rendering" and (s.wire is not None or (s.page is not None and not s.page.page.is_closed())) \
                and s.cookie() == killed:
            s.interrupted = True
    for s in victims:
        s.victim = True
        if s.page is not None:
            s.runs_before = s.page.runs()
            s.state = "recovering"   # an interrupted move or first render: the way back is the lesson's new run
    wall = time.time()
    os.killpg(run.info()["pids"][killed], signal.SIGKILL)
    return killed, wall, victims


def ws_phases(s: Student, kill_wall: float) -> dict:
    """A victim's way back, from its page's record: seconds after the kill of the websocket's close, the next try
    to connect, its open, and the new session's kernel-ready."""
    out = {}
    for e in s.page.state()["ws"]:
        t = e["wall"] / 1000 - kill_wall
        if t >= -1 and e["ev"] not in out and (e["ev"] == "close" or "close" in out):
            out[e["ev"]] = round(t, 2)
    return out


@dataclass
class Played:
    students: list[Student]
    samples: list[dict]           # every few seconds: time, and each worker's memory and students (status.json)
    killed: str | None = None
    kill_t: float | None = None   # seconds after the start
    victims: list[Student] = field(default_factory=list)
    haproxy: list[tuple] = field(default_factory=list)   # (seconds after the kill, {worker: HAProxy's status})
    end_status: dict | None = None
    t0: float = 0.0               # the start, on time.monotonic()


def visit_wire(s: Student, url: str, rng: random.Random, t0: float) -> None:
    """A student's whole visit as a wire student, on a thread of its own: the plan `advance` plays with a page
    (arrive, render, read, move, perhaps reload, leave), the reading pauses spent listening to the websocket as an
    open tab does, so a worker's death is noticed at once and the lesson comes back by itself."""
    time.sleep(max(0.0, s.arrive - (time.monotonic() - t0)))
    s.wire = w = WireStudent(url)
    at = None
    try:
        s.state = "rendering"
        s.render_s = w.open()
        s.interrupted = bool(w.closes)   # loading on the worker that died: neither timed nor a bystander
        while True:
            s.worker = w.worker or s.worker
            s.state = "reading"
            w.idle(rng.uniform(3, 12))
            if w.errors or w.failed:
                s.errors.append(f"{w.errors} {w.failed}"[:300])
                w.failed.clear()
            if s.moves_left > 0 or (s.victim and s.live_s is None):
                at = rng.choice([i for i in range(0, w.lr_steps - 4) if i != at])
                s.state = "moving"
                latency = w.move(at)
                s.moves_left -= 1
                if latency is not None:
                    s.latencies.append((time.monotonic(), latency))
                    if s.victim and s.live_s is None and w.closes:
                        s.live_s = w.runs[-1] - s.kill_wall
            elif s.reload_once:
                s.reload_once, s.moves_left = False, 1
                s.state = "rendering"
                closes = len(w.closes)
                w.open()
                s.interrupted = s.interrupted or len(w.closes) > closes
            else:
                break
    except Exception as e:  # noqa: BLE001 - a visit that broke is a session error, not the end of the class
        s.errors.append(f"{type(e).__name__}: {str(e)[:200]}")
    finally:
        w.close()
        s.noticed = list(w.closes)
        s.state = "done"


def play(browser, run, students: list[Student], span: float, rng: random.Random, kill_at: float | None = 0.5,
         sample_every: float = 5.0, session_ttl: float = 10.0, give_up_after: float = 600.0) -> Played:
    """Play the class on `run` (a marimo_driver.ClassRun) until every student left; kill a worker at `kill_at`
    of `span` (None: never). A student still on the lesson `give_up_after` seconds past `span` is an error.
    browser=None: every student is a wire student (wire_student.py) on a thread of its own."""
    t0, next_sample, kill_wall = time.monotonic(), 0.0, None
    out = Played(students, [], t0=t0)
    threads = []
    if browser is None:
        threads = [threading.Thread(target=visit_wire, args=(s, run.url, random.Random(rng.random()), t0),
                                    daemon=True) for s in students]
        for t in threads:
            t.start()
    while True:
        now = time.monotonic() - t0
        for s in students if browser is not None else ():
            if s.state == "done":
                continue
            if now > span + give_up_after:
                s.errors.append(f"still {s.state} {now - s.arrive:.0f} s after arriving")
                s.state = "done"
                continue
            try:
                advance(s, browser, run.url, now, rng, kill_wall)
            except Exception as e:  # noqa: BLE001 - a page that broke is a session error, not the end of the class
                s.errors.append(f"{type(e).__name__}: {str(e)[:200]}")
                s.state = "done"
            if s.state == "done" and s.page is not None and not s.page.page.is_closed():
                s.page.close()
        if kill_at is not None and out.killed is None and now >= span * kill_at:
            kill = kill_busiest(students, run)   # as soon as a worker has students on a live lesson
            if kill:
                (out.killed, kill_wall, out.victims), out.kill_t = kill, now
                for s in out.victims:
                    s.kill_wall = kill_wall
        if kill_wall is not None and time.time() - kill_wall < 90:
            try:
                st = {name: row["status"] for name, row in run.stats().items()}
            except (OSError, IndexError, KeyError):
                st = None
            if st and (not out.haproxy or out.haproxy[-1][1] != st):
                out.haproxy.append((round(time.time() - kill_wall, 2), st))
        for s in out.victims:
            if s.back_s is None and s.wire is not None and s.wire.closes:   # the first run after the kill
                back = [t for t in s.wire.runs if t > kill_wall]
                if back:
                    s.back_s = back[0] - kill_wall
                    s.phases = {"close": round(s.wire.closes[0] - kill_wall, 2), "run": round(s.back_s, 2)}
            if s.back_s is not None and not s.phases and s.page is not None and not s.page.page.is_closed():
                s.phases = ws_phases(s, kill_wall)
        if now >= next_sample:
            status = run.status()
            if status:
                out.samples.append({"t": round(now, 1),
                                    **{f"{w}_gb": v["memory_gb"] for w, v in status["workers"].items()},
                                    **{f"{w}_students": v["students"] for w, v in status["workers"].items()}})
            next_sample = now + sample_every
        if all(s.state == "done" for s in students) and now > span:
            break
        if threads and now > span + give_up_after:
            for s in students:
                if s.state != "done":
                    s.errors.append(f"still {s.state} {now - s.arrive:.0f} s after arriving")
            break
        time.sleep(0.05)
    time.sleep(session_ttl + 10)   # the closed tabs' sessions are freed
    out.end_status = run.status()
    return out


def assert_class_held(played: Played, students: list[Student], log: str, class_out: str,
                      way_back_bound: float) -> None:
    """What a class must hold, whoever plays its students: nobody saw an error; every student of the killed worker
    was back on a live lesson (the lesson ran again, then answered a slider move) with nobody pressing reload, within
    `way_back_bound` seconds (a generous bound for busy CI machines: bench_soak.py measures the real figure); no
    other student's websocket closed; everyone saw the lesson; the worker was restarted; no unexpected traceback."""
    for s in played.victims:   # shown with -s, and on failure
        print(f"victim of {played.killed}: back {s.back_s} s, live {s.live_s} s, websocket {s.phases}")
    print(f"HAProxy after the kill: {played.haproxy}")
    errors = [(i, e) for i, s in enumerate(students) for e in s.errors]
    assert not errors, f"session errors: {errors[:5]}"
    assert played.killed and played.victims, "the kill found no student on a worker"
    for s in played.victims:
        assert s.back_s is not None, f"a student of the killed {played.killed} never got the lesson back: {s.phases}"
        assert s.live_s is not None, f"a student of {played.killed} got the lesson back but no slider move ran"
        assert s.back_s < way_back_bound, f"{s.back_s:.0f} s to the lesson's new run after the kill: {s.phases}"
    noticed = [(i, s.noticed) for i, s in enumerate(students) if s.noticed and not (s.victim or s.interrupted)]
    assert not noticed, f"students of the surviving worker saw their websocket close: {noticed}"
    assert all(s.render_s is not None for s in students), "a student never saw the lesson"
    assert f"worker {played.killed} exited" in class_out, "no restart"
    assert not unexpected_tracebacks(log), log


# marimo's answer to a page that asks for a file of a session that has ended (a closed or reloaded tab, or a
# killed worker's session, asked of the worker its student moved to): an error for that one asset, which the page
# draws again from its new session. Seen in CI, for a quiz widget's script; any other traceback fails the test.
ENDED_SESSION_FILE = ("KeyError: 'Virtual file not found: ", "marimo._utils.http.HTTPException: 404",
                      "RuntimeError: Caught handled exception, but response already started.")


def unexpected_tracebacks(log: str) -> list[str]:
    """The parts of the class's logs (cut at each ERROR line and each log's own header) that hold a traceback,
    less those whose every exception is marimo's for a file of an ended session."""
    parts = re.split(r"(?m)^(?=ERROR:|--- )", log)
    found = []
    for part in parts:
        if "Traceback (most recent call last)" not in part:
            continue
        raised = re.findall(r"(?m)^[A-Za-z_.]*(?:Error|Exception)\b.*$", part)
        if not raised or not all(line.startswith(ENDED_SESSION_FILE) for line in raised):
            found.append(part)
    return found
