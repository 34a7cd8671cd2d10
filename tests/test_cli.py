"""The `digitcore` command: help that explains itself, clean data errors, and the shape of --json output."""

import json
import os
import subprocess
import sys

import pytest

from digitcore import cli
from digitcore import reproduce as rp
from digitcore.models import linear_model, simple_net_model


def run(*args, **kwargs):
    cmd = [sys.executable, "-m", "digitcore", *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, **kwargs)


def test_help_explains_every_subcommand():
    top = run("--help")
    assert top.returncode == 0
    for word in ("data", "reproduce", "bench", "lesson", "handout", "DIGITCORE_DATA"):
        assert word in top.stdout
    for sub, words in (("reproduce", ("--json", "--deep", "fit(10, lr=1)")), ("bench", ("--json", "fastai")),
                       ("data", ("info", "download")), ("lesson", ("--edit", "05_sgd", "--port"))):
        out = run(sub, "--help")
        assert out.returncode == 0 and all(w in out.stdout for w in words), out.stdout


def test_unknown_options_are_refused_except_for_marimo_after_a_lesson():
    out = run("bench", "--bogus")
    assert out.returncode == 2 and "unrecognized arguments: --bogus" in out.stderr


@pytest.mark.parametrize("name", [None, "05", "05_sgd", "05_sgd.py", "lessons/05_sgd.py"])
def test_find_lesson_by_number_name_or_path(name):
    from digitcore.lesson_server import LESSONS, find_lesson

    assert find_lesson(name).resolve() == LESSONS / "05_sgd.py"


def test_lesson_that_does_not_exist_lists_the_lessons():
    out = run("lesson", "99", "--headless")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "'99' is not a lesson" in out.stderr and "05_sgd" in out.stderr and "09_further_research" in out.stderr


def test_lesson_warm_up_imports_and_loads_what_the_lesson_needs():
    code = ("import sys, torch; from pathlib import Path; from digitcore import lesson_server as ls, data; "
            "s = ls.warm_up(ls.find_lesson('05')); "
            "print(sorted(m for m in ('altair', 'pandas', 'digitcore.lesson_kit') if m in sys.modules), "
            "len(data._memory), torch.get_num_threads(), s > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "DIGITCORE_DATA": "offline"})
    assert out.stdout.split() == ["['altair',", "'digitcore.lesson_kit',", "'pandas']", "1", "1", "True"], out.stderr


def test_data_error_is_one_clean_message(tmp_path):
    missing = tmp_path / "nowhere"
    out = run("data", "info", "--data", str(missing))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and str(missing) in out.stderr
    assert out.stdout == ""


def test_data_info(shared_data, capsys):
    assert cli.main(["data", "info", "--data", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "6,131" in out and "1,028" in out


@pytest.fixture
def one_epoch(monkeypatch):
    """The real commands, but one epoch per model: the --json shape is what is tested here."""
    monkeypatch.setattr(rp, "RUNS", {"linear": (linear_model, 1, 1.0), "simple_net": (simple_net_model, 1, 0.1)})


def test_reproduce_json(shared_data, capsys, one_epoch):
    assert cli.main(["reproduce", "--json", "--data", str(shared_data)]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("pixel_similarity", "linear", "simple_net"):
        assert isinstance(res[key]["accuracy"], float) and res[key]["seconds"] >= 0 and "book" in res[key]
    assert round(res["pixel_similarity"]["accuracy"], 4) == 0.9511
    assert "resnet18" not in res


def test_reproduce_table(shared_data, capsys, one_epoch):
    assert cli.main(["reproduce", "--data", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "pixel similarity: 3s" in out and "0.9168" in out and "simple_net" in out


def test_bench_json(shared_data, capsys, one_epoch):
    assert cli.main(["bench", "--json", "--repeat", "1", "--data", str(shared_data)]) == 0
    res = json.loads(capsys.readouterr().out)
    for which in ("linear", "simple_net"):
        row = res[which]
        assert row["ours"]["seconds"] > 0 and row["book_loop"]["seconds"] > 0
        assert row["speedup_vs_book_loop"] == pytest.approx(row["book_loop"]["seconds"] / row["ours"]["seconds"])
        # same model, same data, same order, same lr: the two loops learn the same thing
        assert abs(row["ours"]["accuracy"] - row["book_loop"]["accuracy"]) < 0.01
        assert abs(row["ours"]["accuracy"] - row["bare_loop"]["accuracy"]) < 0.01


def test_lessons_run_as_soon_as_they_open_for_editing():
    """marimo's own default is to wait for "Run all" in `marimo edit`; the project's pyproject.toml turns that
    on for every lesson. This reads the setting the way `marimo edit` does (the nearest pyproject.toml, over the
    user's own marimo.toml)."""
    from marimo._config.manager import get_default_config_manager

    from digitcore.lesson_server import LESSONS

    lessons = sorted(LESSONS.glob("[0-9][0-9]_*.py"))
    assert lessons
    for lesson in lessons:
        config = get_default_config_manager(current_path=str(lesson)).get_config()
        assert config["runtime"]["auto_instantiate"] is True, lesson


def test_handout_into_a_folder_in_use_is_one_clean_refusal(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    out = run("handout", str(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "not an empty folder" in out.stderr and str(tmp_path) in out.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
