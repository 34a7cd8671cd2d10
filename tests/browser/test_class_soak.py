"""A short whole class on `digitcore class` (the CI-sized cousin of benchmarks/bench_soak.py, same students:
tests/browser/class_students.py): 2 workers, 24 students arriving over two minutes, moving the learning rate,
reloading and leaving, and one worker killed with SIGKILL halfway.

Nobody sees an error; every student of the killed worker is back on a live lesson (its page ran the lesson again
and then answered a slider move) with nobody pressing reload; no other student's websocket ever closed. The only
time bound is a generous one for busy CI machines: the benchmark measures and prints how long the way back takes
(issue 18 asks for 10 s).
"""

import os
import random
import re
import shutil

import pytest
from class_students import plan, play
from marimo_driver import ROOT, serve_class

LESSON = ROOT / "lessons" / "05_sgd.py"
WORKERS, STUDENTS, MINUTES = 2, 24, 2.0
SESSION_TTL = 5
WAY_BACK_BOUND = 60   # seconds: a generous bound, not the target (bench_soak.py measures the real figure)
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)

# Opt-in (DIGITCORE_SOAK=1). One thread drives 24 pages on the machine that serves them, and on a 2-core machine in
# the whole suite it has failed in two CI dry runs: first a page read mid-reload and a slider not drawn within 30 s
# (both since fixed), then (2026-12-07) two students who were not counted among the killed worker's saw their
# websocket close. The students' state machine counted only students past their first render as the killed
# worker's; one still loading there loses its websocket too, and is now counted apart (interrupted). Whether that
# was all of it has not been seen in a full suite yet. Alone, it passed at a load of 8 to 10 in 4 min 52 s, and with
# that change in 4 min 0 s.
# Run it on its own: DIGITCORE_SOAK=1 ./dev.sh test tests/browser/test_class_soak.py
pytestmark = [pytest.mark.skipif(os.environ.get("DIGITCORE_SOAK") != "1",
                                 reason="the soak test runs on request: DIGITCORE_SOAK=1 (several minutes, a quiet machine)"),
              pytest.mark.skipif(HAPROXY is None, reason="digitcore class needs HAProxy (apt-get install haproxy)"),
              pytest.mark.skipif(not LESSON.exists(), reason="lessons/05_sgd.py is missing")]


def test_a_class_survives_a_killed_worker(browser):
    rng = random.Random(18)
    students = plan(STUDENTS, MINUTES * 60, rng)
    with serve_class(LESSON, WORKERS, students=STUDENTS,
                     extra=("--session-ttl", str(SESSION_TTL), "--status-every", "2")) as run:
        played = play(browser, run, students, MINUTES * 60, rng, kill_at=0.5, sample_every=2,
                      session_ttl=SESSION_TTL)
        log = run.log()
    for s in played.victims:   # shown with -s, and on failure
        print(f"victim of {played.killed}: back {s.back_s} s, live {s.live_s} s, websocket {s.phases}")
    print(f"HAProxy after the kill: {played.haproxy}")
    errors = [(i, e) for i, s in enumerate(students) for e in s.errors]
    assert not errors, f"session errors: {errors[:5]}"
    assert played.killed and played.victims, "the kill found no student on a worker"
    for s in played.victims:
        assert s.back_s is not None, f"a student of the killed {played.killed} never got the lesson back: {s.phases}"
        assert s.live_s is not None, f"a student of {played.killed} got the lesson back but no slider move ran"
        assert s.back_s < WAY_BACK_BOUND, f"{s.back_s:.0f} s to the lesson's new run after the kill: {s.phases}"
    noticed = [(i, s.noticed) for i, s in enumerate(students) if s.noticed and not (s.victim or s.interrupted)]
    assert not noticed, f"students of the surviving worker saw their websocket close: {noticed}"
    assert all(s.render_s is not None for s in students), "a student never saw the lesson"
    assert f"worker {played.killed} exited" in (run.run_dir / "class.out").read_text(), "no restart"
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
