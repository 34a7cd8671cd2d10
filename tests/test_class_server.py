"""`digitcore class` without a browser: how many workers it plans, and a configuration HAProxy accepts.

The class itself, with students in Chromium, is tested in tests/browser/test_class.py.
"""

import shutil
import subprocess

import pytest

from digitcore.class_metrics import KernelRunTimer, percentile, recent_runs
from digitcore.class_server import STUDENTS_PER_WORKER, WORKERS_PER_CORE, format_status, haproxy_config, plan_workers, process_usage

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


def test_plan_workers_follows_students_cores_and_memory():
    assert plan_workers(1, cores=8, memory_gb=64) == 1
    assert plan_workers(8, cores=8, memory_gb=64) == 8 // STUDENTS_PER_WORKER
    assert plan_workers(300, cores=8, memory_gb=512) == 8 * WORKERS_PER_CORE  # never more than the cores hold
    assert plan_workers(30, cores=8, memory_gb=6) < plan_workers(30, cores=8, memory_gb=64)  # nor the memory
    assert plan_workers(30, cores=8, memory_gb=1) == 1  # always one


def test_config_sends_every_request_of_a_student_to_one_worker():
    config = haproxy_config("127.0.0.1", 8080, [40001, 40002], stats_socket="/tmp/x.sock")
    assert "cookie digitcore_worker insert indirect nocache" in config
    assert "server w1 127.0.0.1:40001 check" in config and "cookie w1" in config
    assert "server w2 127.0.0.1:40002 check" in config and "cookie w2" in config
    assert "timeout tunnel" in config  # websockets stay open for the class
    assert "option redispatch" in config


@pytest.mark.skipif(HAPROXY is None, reason="HAProxy is not installed (apt-get install haproxy)")
def test_haproxy_accepts_the_config(tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config("127.0.0.1", 8080, [40001, 40002, 40003], tmp_path / "haproxy.sock"))
    result = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(HAPROXY is None, reason="HAProxy is not installed (apt-get install haproxy)")
def test_the_statistics_page_is_for_this_machine_only(tmp_path):
    config = haproxy_config("0.0.0.0", 8080, [40001], tmp_path / "haproxy.sock", stats_port=40100)
    assert "bind 127.0.0.1:40100" in config and "stats enable" in config
    assert haproxy_config("0.0.0.0", 8080, [40001], tmp_path / "haproxy.sock").count("stats enable") == 0
    (tmp_path / "haproxy.cfg").write_text(config)
    result = subprocess.run([HAPROXY, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_worker_times_every_run_but_the_first_render(tmp_path):
    timer = KernelRunTimer(tmp_path / "w1.runs")
    for _ in range(3):   # the tab opens (its first run), then two slider moves
        timer.started()
        timer.finished()
    timer.finished()     # a finish with no start (hooks installed mid-run) is not a run
    runs = recent_runs(tmp_path / "w1.runs")
    assert len(runs) == 2 and all(0 <= r < 1 for r in runs)
    lines = (tmp_path / "w1.runs").read_text().splitlines()   # the first render is recorded, marked as such
    assert len(lines) == 3 and lines[0].endswith(" first") and not lines[1].endswith(" first")
    assert recent_runs(tmp_path / "w1.runs", now=10**12) == []          # older than the window
    assert recent_runs(tmp_path / "missing.runs") == []


def test_percentiles_by_nearest_rank():
    assert percentile([], 95) is None
    assert percentile([0.3], 50) == 0.3
    values = [i / 10 for i in range(1, 21)]   # 0.1 .. 2.0
    assert percentile(values, 50) == 1.0 and percentile(values, 95) == 1.9 and percentile(values, 100) == 2.0


def test_process_usage_counts_this_process_group():
    import os
    cpu, rss = process_usage(os.getpgid(0))
    assert cpu > 0 and rss > 10 << 20
    assert process_usage(2**22 + 12345) == (0.0, 0)


def test_the_status_line_says_the_room():
    st = {"time": "10:42:07", "students": 5, "memory_gb": 2.1, "restarts": 1, "moves_last_minute": 12,
          "move_median_s": 0.14, "move_p95_s": 0.31, "stats_page": "http://127.0.0.1:9/",
          "workers": {"w1": {"students": 3, "haproxy": "UP", "cpu_percent": 41.0, "memory_gb": 1.1, "restarts": 0},
                      "w2": {"students": None, "haproxy": "DOWN", "cpu_percent": None, "memory_gb": 0.0, "restarts": 1}}}
    line = format_status(st)
    assert line.startswith("digitcore class 10:42:07: 5 students")
    assert "w1 3 up 41% 1.1 GB" in line and "w2 ? down ? 0.0 GB, 1 restarts" in line
    assert "slider moves last minute: 12, median 0.14 s, p95 0.31 s" in line and "http://127.0.0.1:9/" in line


@pytest.mark.skipif(HAPROXY is None, reason="HAProxy is not installed (apt-get install haproxy)")
def test_the_front_keeps_a_student_on_one_machine(tmp_path):
    from digitcore.class_server import front_config

    config = front_config("0.0.0.0", 80, ["10.0.0.1:8080", "10.0.0.2:8080"], tmp_path / "front.sock")
    assert "cookie digitcore_machine insert indirect nocache" in config and "option redispatch" in config
    assert "server m1 10.0.0.1:8080 check" in config and "server m2 10.0.0.2:8080 check" in config
    assert "timeout tunnel" in config  # websockets stay open through the front too
    (tmp_path / "front.cfg").write_text(config)
    result = subprocess.run([HAPROXY, "-c", "-f", str(tmp_path / "front.cfg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_class_worker_runs_its_lesson_before_its_first_student(tmp_path):
    """A worker runs the lesson once before serving, so what every kernel computes alike (the lab's sweep, the
    book's runs) is done before the first student arrives, who would otherwise pay for it."""
    from digitcore import sweep
    from digitcore.class_server import ClassServer
    from digitcore.lesson_kit import shared
    from digitcore.lesson_server import find_lesson, warm_up

    lesson = find_lesson("05_sgd")
    server = ClassServer(lesson, 2, run_dir=tmp_path, ports={"w1": 2719})
    assert "--run-first" in server.worker_cmd("w1")
    assert "--run-first" not in server.worker_cmd("w1", run_first=False)  # a restart leaves the CPU to the survivors
    sweep._DONE.clear(), shared._SHARED.clear()
    warm_up(lesson)  # one student's `digitcore lesson`: imports and data only
    assert not sweep._DONE and not shared._SHARED
    warm_up(lesson, run_lesson=True)
    assert sweep._DONE and shared._SHARED, "the lesson's shared work was not done before serving"


def test_a_class_worker_keeps_few_malloc_arenas(tmp_path, monkeypatch):
    """Closed sessions' memory goes back to the worker only with few malloc arenas (docs/class.md, "Memory over a
    whole class"); an instructor's own setting is kept."""
    from digitcore.class_server import ClassServer
    from digitcore.lesson_server import find_lesson

    server = ClassServer(find_lesson("05_sgd"), 1, run_dir=tmp_path)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert server.worker_env("w1")["MALLOC_ARENA_MAX"] == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert server.worker_env("w1")["MALLOC_ARENA_MAX"] == "4"
