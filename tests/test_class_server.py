"""`digitcore class` without a browser: how many workers it plans, and a configuration HAProxy accepts.

The class itself, with students in Chromium, is tested in tests/browser/test_class.py.
"""

import shutil
import subprocess

import pytest

from digitcore.class_server import STUDENTS_PER_WORKER, WORKERS_PER_CORE, haproxy_config, plan_workers

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
