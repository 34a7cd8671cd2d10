"""A short whole class on `digitcore class` in Chromium (the CI-sized cousin of benchmarks/bench_soak.py, same
students: tests/browser/class_students.py): 2 workers, 24 students arriving over two minutes, moving the learning rate,
reloading and leaving, and one worker killed with SIGKILL halfway.

Nobody sees an error; every student of the killed worker is back on a live lesson (its page ran the lesson again
and then answered a slider move) with nobody pressing reload; no other student's websocket ever closed. The only
time bound is a generous one for busy CI machines: the benchmark measures and prints how long the way back takes
(issue 18 asks for 10 s).
"""

import os
import random
import shutil

import pytest
from class_students import assert_class_held, plan, play
from marimo_driver import ROOT, serve_class

LESSON = ROOT / "lessons" / "05_sgd.py"
WORKERS, STUDENTS, MINUTES = 2, 24, 2.0
SESSION_TTL = 5
WAY_BACK_BOUND = 60   # seconds: a generous bound, not the target (bench_soak.py measures the real figure)
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)

# On request (DIGITCORE_SOAK=1). Every CI run plays a class of 40 wire students through a killed worker instead
# (tests/test_class_over_a_lesson.py): the same students, with the server's work and none of the browsers'. Here one
# thread drives 24 Chromium pages on the machine that serves them, 5 to 7 CPU-seconds a page; in the whole suite on
# a 2-core machine it failed in two CI dry runs (a page read mid-reload and a slider not drawn within 30 s, since
# fixed; then two students still loading on the killed worker, counted as bystanders, since counted apart as
# interrupted). Alone it passed in 4 to 5 minutes. What the real frontend does after a worker dies (its 3 s wait
# before reconnecting) is in the suite too: tests/browser/test_class.py kills a worker under Chromium pages.
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
    assert_class_held(played, students, log, (run.run_dir / "class.out").read_text(), WAY_BACK_BOUND)
