"""Every lesson in lessons/ runs clean: as a script, as an HTML export, under `marimo check`, as an importable
module, and as a Jupyter notebook under nbval. Lessons run on the MNIST_SAMPLE shipped in the package
(DIGITCORE_DATA=offline, the same images as the real folders); one test runs the main lesson on the real data when
it is configured.
"""

import builtins
import dis
import importlib
import inspect
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSON_DIR = ROOT / "lessons"
LESSONS = sorted(LESSON_DIR.glob("[0-9][0-9]_*.py"))
IDS = [p.stem for p in LESSONS]
PY = sys.executable
MARIMO = [PY, "-m", "marimo"]
TIMEOUT = 300  # per subprocess; a lesson takes well under a minute on the shipped sample

# What `marimo export html` writes for a cell that failed: an error output ("type": "error" with an "ename"),
# a traceback on the cell's console (an exception, or an Altair chart too big to draw).
ERROR_MARKERS = ('"type": "error"', '"ename"', "Traceback (most recent call last)", "MaxRowsError")


def _env(data: str = "offline") -> dict:
    return {**os.environ, "DIGITCORE_DATA": data, "PYTHONUNBUFFERED": "1"}


def _run(cmd: list, cwd: Path = ROOT, data: str = "offline") -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(data), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _tail(proc: subprocess.CompletedProcess, n: int = 3000) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-n:]}\n--- stderr ---\n{proc.stderr[-n:]}"


def test_lessons_exist():
    assert LESSONS, f"no lessons matching [0-9][0-9]_*.py in {LESSON_DIR}"
    assert any(p.stem == "05_sgd" for p in LESSONS), "the main lesson 05_sgd.py is missing"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_runs_as_script(lesson):
    proc = _run([PY, lesson])
    assert proc.returncode == 0, f"python {lesson.name} failed:\n{_tail(proc)}"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_exports_html_without_errors(lesson, tmp_path):
    # marimo's `export html` also saves its run as the notebook's session snapshot, beside it: export a copy, so
    # that the lessons' shipped snapshots (digitcore/snapshots.py) stay as they are
    from digitcore.snapshots import copy_first_screen, snapshot_path

    shipped = snapshot_path(lesson).read_bytes()
    copy = tmp_path / "lessons" / lesson.name
    copy.parent.mkdir()
    copy.write_bytes(lesson.read_bytes())
    copy_first_screen(lesson, copy)
    out = tmp_path / f"{lesson.stem}.html"
    proc = _run(MARIMO + ["export", "html", copy, "-o", out, "-f"])
    assert proc.returncode == 0, f"marimo export html {lesson.name} failed:\n{_tail(proc)}"
    assert snapshot_path(lesson).read_bytes() == shipped, "the export rewrote the lesson's shipped snapshot"
    page = out.read_text(encoding="utf-8")
    found = [m for m in ERROR_MARKERS if m in page]
    assert not found, f"{lesson.name}: the exported page shows errors ({', '.join(found)}); {_tail(proc, 1500)}"


def test_marimo_check_strict():
    proc = _run(MARIMO + ["check", "--strict", *LESSONS])
    assert proc.returncode == 0, f"marimo check --strict found problems:\n{_tail(proc)}"


def _globals_used(code) -> set[str]:
    """Names a function (and the functions, lambdas and comprehensions nested in it) reads as globals."""
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _globals_used(const)
    return names


def _lesson_module(lesson: Path):
    sys.path.insert(0, str(lesson.parent))
    try:
        return importlib.import_module(lesson.stem)
    finally:
        sys.path.remove(str(lesson.parent))


def _own_functions(module) -> dict:
    """The lesson's top-level functions (`@app.function`): functions whose home is this module."""
    return {name: obj for name, obj in vars(module).items()
            if inspect.isfunction(obj) and obj.__module__ == module.__name__}


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("DIGITCORE_DATA", "offline")


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_top_level_functions_are_importable(lesson, offline):
    module = _lesson_module(lesson)
    assert hasattr(module, "app"), f"{lesson.name} is not a marimo notebook (no `app`)"
    functions = _own_functions(module)
    for name, fn in functions.items():
        missing = sorted(n for n in _globals_used(fn.__code__)
                         if n not in vars(module) and not hasattr(builtins, n))
        assert not missing, (f"{lesson.name}: top-level function {name}() uses {missing}, which exist only inside "
                             "marimo cells: import them in `with app.setup:` (a plain import raises NameError)")
        private = sorted(n for n in _globals_used(fn.__code__) if n.startswith("_") and n in functions)
        assert not private, (f"{lesson.name}: {name}() calls {private}: marimo makes names that start with _ "
                             "private to their cell, so this raises NameError inside marimo; drop the underscore")
        required = [p for p in inspect.signature(fn).parameters.values()
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not required:  # a cheap default call: it must work from plain Python
            try:
                fn()
            except NotImplementedError:
                pass


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_exercises_ship_as_stubs_that_grade(lesson, offline):
    """An exercise in a lesson is the student's to write: the shipped file has the stub, and check() says so."""
    from digitcore.exercises import CHECKS, check

    module = _lesson_module(lesson)
    for name, fn in _own_functions(module).items():
        if name in CHECKS:
            result = check(name, fn)
            assert result.not_started, (f"{lesson.name}: exercise {name}() should ship as a stub "
                                        f"(raise NotImplementedError); check() says: {result.markdown()}")


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_runs_under_nbval(lesson, tmp_path):
    notebook = tmp_path / f"{lesson.stem}.ipynb"
    proc = _run(MARIMO + ["export", "ipynb", lesson, "-o", notebook, "-f"])
    assert proc.returncode == 0, f"marimo export ipynb {lesson.name} failed:\n{_tail(proc)}"
    proc = _run([PY, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", notebook.name], cwd=tmp_path)
    assert proc.returncode == 0, f"nbval on {notebook.name} failed:\n{_tail(proc)}"


def test_main_lesson_on_real_data(shared_data):
    lesson = LESSON_DIR / "05_sgd.py"
    proc = _run([PY, lesson], data=str(shared_data))
    assert proc.returncode == 0, f"05_sgd.py on the real data failed:\n{_tail(proc)}"


def test_training_lab_ends_well_at_every_extreme(offline):
    """The lab's slider extremes end with a clear verdict, never a NaN chart or an exception."""
    from digitcore import sweep, training
    from digitcore.data import load_sample
    from digitcore.verdict import verdict

    data = load_sample()
    module = _lesson_module(LESSON_DIR / "05_sgd.py")
    lrs, sizes = sweep.LAB_LRS, module.BATCH_SIZES
    for lr, bs in [(lrs[0], 256), (lrs[-1], 256), (1, sizes[0]), (1, sizes[-1])]:
        run = training.fit(data, lr, bs, 3)
        kind, text = verdict(run)
        assert run.rows or run.diverged_at, (lr, bs, text)
        assert all(math.isfinite(v) for r in run.rows for v in r.values()), f"NaN in the rows: lr={lr}, bs={bs}"
        if lr == lrs[-1]:
            assert kind == "warn" and ("saturated" in text or "diverged" in text.lower()), text
    again = training.fit(data, lrs[-1], 256, 3)
    assert again.cached, "a setting already trained should come back from the cache"


def test_exercise_feedback_says_where_the_student_is():
    import torch

    from digitcore import chapter, lesson_kit
    from digitcore.exercises import check

    def stub(predictions, targets):
        raise NotImplementedError

    def no_sigmoid(predictions, targets):
        return torch.where(targets == 1, 1 - predictions, predictions).mean()

    def kind(callout) -> str:
        return callout.text.split("data-kind='&quot;")[1].split("&quot;")[0]

    assert "not started" in lesson_kit.exercise_feedback(check("mnist_loss", stub)).text
    assert kind(lesson_kit.exercise_feedback(check("mnist_loss", chapter.mnist_loss))) == "success"
    wrong = lesson_kit.exercise_feedback(check("mnist_loss", no_sigmoid))
    assert kind(wrong) == "warn" and "Traceback" not in wrong.text


def test_time_budget_cuts_a_slow_run_short_but_keeps_a_chart(offline):
    from digitcore import training
    from digitcore.data import load_sample
    from digitcore.verdict import verdict

    run = training.fit(load_sample(), 1.0, 1, 5, budget_s=0.05, seed=123)
    assert len(run.rows) == 1 and run.stopped, run.stopped
    assert 0 < run.updates < 800 * 5
    kind, text = verdict(run)
    assert "time budget" in text and kind in ("info", "warn")
