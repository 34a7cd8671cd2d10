"""The grading engine on honest submissions of every shape, hidden checks, and the report formats."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from digitcore.grading.classroom import grade_class
from digitcore.grading.client import ZygoteClient
from digitcore.grading.registry import checks_for, probe_files
from digitcore.grading.report import feedback_markdown, gradescope_results
from digitcore.grading.runner import grade_with
from digitcore.grading.sandboxed.zygote import children_of
from digitcore.grading.sources import SubmissionError, scan_class

SOLUTION = Path(__file__).parent.parent / "solutions" / "exercises.py"

NOTEBOOK = '''import marimo

__generated_with = "0.25.2"
app = marimo.App()

with app.setup:
    import torch


@app.function
def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


@app.function
def apply_step(params, time, speed, lr):
    a, b, c = params
    preds = a * time**2 + b * time + c
    ((preds - speed) ** 2).mean().backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return preds


@app.function
def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss_func(model(xb), yb).backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None


@app.function
def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


@app.function
def batch_accuracy(xb, yb):
    return ((xb.sigmoid() > 0.5) == yb).float().mean()


@app.cell
def _():
    import os
    os._exit(3)  # an ordinary cell: it does not run when the notebook is imported
    return


if __name__ == "__main__":
    app.run()
'''


@pytest.fixture(scope="module")
def registry():
    return checks_for()


@pytest.fixture(scope="module")
def zygote(registry):
    with ZygoteClient(probe_files(registry)).start() as z:
        z.wait_ready()
        yield z
        assert no_children_left(z.host_pid)


def no_children_left(pid: int, wait: float = 10.0) -> bool:
    """The zygote reaps its finished workers just after answering: give it a moment."""
    deadline = time.monotonic() + wait
    while children_of(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return children_of(pid) == []


def grade(zygote, registry, path, **kw):
    report = grade_with(zygote, path, registry, time_limit=5.0, **kw)
    assert no_children_left(zygote.host_pid)
    assert not report.engine_errors
    return report


def test_worker_never_loads_the_reference(zygote):
    modules = set(zygote.info["modules"])
    assert not any(m.startswith(("digitcore.exercises", "digitcore.chapter")) for m in modules), modules
    assert {"probe_mnist_loss", "probe_train_epoch"} <= set(zygote.info["probes"])


def test_plain_file_full_marks(zygote, registry):
    report = grade(zygote, registry, SOLUTION)
    assert report.fatal is None and report.total == report.max_total == 50


def test_marimo_notebook_full_marks(zygote, registry, tmp_path):
    nb = tmp_path / "05_my_notebook.py"
    nb.write_text(NOTEBOOK)
    report = grade(zygote, registry, nb)
    assert report.student == "05_my_notebook"
    assert report.fatal is None and report.total == 50, report.points()


def test_folder_of_files(zygote, registry, tmp_path):
    """Exercises spread over files that import each other; conftest.py and test files are never run."""
    folder = tmp_path / "bob"
    folder.mkdir()
    marker = tmp_path / "conftest_ran"
    (folder / "helpers.py").write_text("def squash(x):\n    return x.sigmoid()\n")
    (folder / "losses.py").write_text(
        "import torch\nfrom helpers import squash\n\n\ndef mnist_loss(predictions, targets):\n"
        "    p = squash(predictions)\n    return torch.where(targets == 1, 1 - p, p).mean()\n")
    rest = SOLUTION.read_text().split("def apply_step")[1]
    (folder / "steps.py").write_text("import torch\nfrom losses import mnist_loss\n\n\ndef apply_step" + rest)
    for bad in ("conftest.py", "test_mine.py"):
        (folder / bad).write_text(f"import os\nopen({str(marker)!r}, 'w').close()\nos._exit(1)\n")
    report = grade(zygote, registry, folder)
    assert report.student == "bob"
    assert report.fatal is None and report.total == 50, report.points()
    assert not marker.exists()


def test_file_named_like_a_library(zygote, registry, tmp_path):
    path = tmp_path / "torch.py"
    shutil.copy(SOLUTION, path)
    assert grade(zygote, registry, path).total == 50


def test_unreadable_submissions_are_clear(zygote, registry, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no code")
    (empty / "linked.py").symlink_to(SOLUTION)  # links are never followed
    report = grade(zygote, registry, empty)
    assert report.total == 0 and "no .py files" in report.fatal
    report = grade(zygote, registry, tmp_path / "nope.py")
    assert report.total == 0 and "does not exist" in report.fatal
    assert all(ex.max_score == 10 for ex in report.exercises.values())


HIDDEN = '''
from digitcore.exercises import Check, Verdict, probes


def make_input(seed):
    import torch
    return {"predictions": torch.tensor([5.0, -5.0]), "targets": torch.tensor([1, 0]), "backward": False}


def judge(inp, obs):
    return Verdict(False, "the secret value was not matched")


HIDDEN_CHECKS = [Check("mnist_loss", "secret", "a secret case", 2.0, probes.probe_mnist_loss, make_input, judge)]
'''


def test_hidden_checks(zygote, tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "secret.py").write_text(HIDDEN)
    (hidden / "_ignored.py").write_text("raise RuntimeError('files starting with _ are skipped')\n")
    public = checks_for(False, hidden)
    assert all(not c.hidden for cs in public.values() for c in cs)
    registry = checks_for(True, hidden)
    secret = [c for c in registry["mnist_loss"] if c.name == "secret"]
    assert len(secret) == 1 and secret[0].hidden

    report = grade(zygote, registry, SOLUTION)
    assert report.exercises["mnist_loss"].max_score == 12 and report.exercises["mnist_loss"].score == 10
    results = gradescope_results(report)
    test = next(t for t in results["tests"] if t["name"].endswith("a secret case"))
    assert test["visibility"] == "after_published" and test["score"] == 0 and test["max_score"] == 2
    assert sum(t["score"] for t in results["tests"]) == results["score"] == report.total
    assert "(hidden check)" in feedback_markdown(report)


def test_gradescope_format(zygote, registry):
    report = grade(zygote, registry, SOLUTION)
    results = json.loads(json.dumps(gradescope_results(report)))
    assert results["score"] == 50
    assert len(results["tests"]) == sum(len(cs) for cs in registry.values())
    for t in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(t)
        assert t["visibility"] == "visible" and t["status"] == "passed"


def test_out_must_not_be_inside_the_submissions(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SOLUTION, subs / "alice.py")
    with pytest.raises(SubmissionError, match="inside the submissions folder"):
        grade_class(subs, subs / "grades")
    with pytest.raises(SubmissionError, match="inside the grades folder"):
        grade_class(subs, tmp_path)


def test_students_are_files_and_folders(tmp_path):
    for name in ("alice.py", ".hidden.py", "notes.txt", "conftest.py"):
        (tmp_path / name).write_text("")
    for name in ("bob", "__pycache__", ".git"):
        (tmp_path / name).mkdir()
    os.symlink(SOLUTION, tmp_path / "mallory.py")
    assert sorted(scan_class(tmp_path)[0]) == ["alice", "bob"]
