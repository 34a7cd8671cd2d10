"""A class of simulated students on `digitcore class`, and a worker killed in the middle: the one student state
machine that benchmarks/bench_soak.py (long runs, figures) and tests/browser/test_class_soak.py (a short run in CI,
assertions) both play.

Each student arrives at a planned moment, waits for the lesson, moves the learning rate a few times with a pause to
read between moves, sometimes reloads, and leaves (closes the tab). One thread drives every page of one Chromium:
each step polls a page and returns at once, so many students are on the lesson together. At `kill_at` of the run
one worker (the one with most students on a live lesson) is killed with SIGKILL, as the OOM killer would. Its students
(the victims) are then watched, nobody pressing reload: when their page has run the lesson again (back), and when
it has answered a slider move after that (live), with the phases in between from the page's own record of its
websocket (closed, next try to connect, open, kernel ready). A student whose page was still loading on that
worker loses its websocket too and simply renders later (interrupted). Every other student (a bystander) must
notice nothing: its websocket never closes.
"""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass, field

from marimo_driver import IDLE_JS, LessonPage

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

    def cookie(self) -> str | None:
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
    renders later, elsewhere); returns it, the wall time, and those students, each set to wait for its page to come
    back by itself. None, and nothing killed, while no worker has such a student."""
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
        if s.state == "rendering" and s.page is not None and not s.page.page.is_closed() and s.cookie() == killed:
            s.interrupted = True
    for s in victims:
        s.victim = True
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


def play(browser, run, students: list[Student], span: float, rng: random.Random, kill_at: float | None = 0.5,
         sample_every: float = 5.0, session_ttl: float = 10.0, give_up_after: float = 600.0) -> Played:
    """Play the class on `run` (a marimo_driver.ClassRun) until every student left; kill a worker at `kill_at`
    of `span` (None: never). A student still on the lesson `give_up_after` seconds past `span` is an error."""
    t0, next_sample, kill_wall = time.monotonic(), 0.0, None
    out = Played(students, [], t0=t0)
    while True:
        now = time.monotonic() - t0
        for s in students:
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
        if kill_wall is not None and time.time() - kill_wall < 90:
            try:
                st = {name: row["status"] for name, row in run.stats().items()}
            except (OSError, IndexError, KeyError):
                st = None
            if st and (not out.haproxy or out.haproxy[-1][1] != st):
                out.haproxy.append((round(time.time() - kill_wall, 2), st))
        for s in out.victims:
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
        time.sleep(0.05)
    time.sleep(session_ttl + 10)   # the closed tabs' sessions are freed
    out.end_status = run.status()
    return out
