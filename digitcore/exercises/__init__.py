"""The graded exercises: their checks, and `check()`, the in-process runner the lessons call.

Each exercise module (mnist_loss, apply_step, train_epoch, mnist_distance, batch_accuracy) lists its checks:
a probe that runs next to the student's code and only observes (digitcore.exercises.probes), an input, and a
judge that compares the observation with the reference on the trusted side and names the likely
misconception. The grader (digitcore.grading) runs the same checks in a sandbox; `check()` runs them here.
"""

from __future__ import annotations

import os
import traceback

from digitcore.grading.report import ExerciseResult
from digitcore.grading.sandboxed.plain import from_plain, to_plain
from digitcore.grading.wording import NOT_STARTED

from . import apply_step, batch_accuracy, mnist_distance, mnist_loss, train_epoch
from .common import Check, Verdict, explain_error

_MODULES = {m.EXERCISE: m for m in (mnist_loss, apply_step, train_epoch, mnist_distance, batch_accuracy)}

CHECKS: dict[str, list[Check]] = {name: list(m.CHECKS) for name, m in _MODULES.items()}


def check(exercise: str, obj, seed: int = 0) -> ExerciseResult:
    """Run every public check of `exercise` on the function `obj` in this process (no sandbox)."""
    if exercise not in CHECKS:
        raise ValueError(f"unknown exercise {exercise!r}; the exercises are {', '.join(CHECKS)}")
    checks = CHECKS[exercise]
    max_score = sum(c.points for c in checks)
    if obj is None or not callable(obj):
        what = "missing" if obj is None else f"a {type(obj).__name__}"
        return ExerciseResult.zero(exercise, checks, f"`{exercise}` is {what}, not a function: define "
                                                     f"`def {exercise}(...):` at the top level")
    items = []
    for i, c in enumerate(checks):
        try:
            obs = c.probe(obj, _roundtrip(c.make_input(seed)))
        except KeyboardInterrupt:
            raise
        except NotImplementedError:
            if i == 0:
                return ExerciseResult.zero(exercise, checks, NOT_STARTED, not_started=True)
            items.append((c, Verdict(False, f"{c.title}: your function raised NotImplementedError")))
            continue
        except BaseException as e:  # noqa: BLE001 - the student's error becomes one line of feedback
            items.append((c, error_verdict(c, e, obj)))
            continue
        if i == 0 and not_started(exercise, c.make_input(seed), obs):
            return ExerciseResult.zero(exercise, checks, NOT_STARTED, not_started=True)
        items.append((c, c.judge(c.make_input(seed), _roundtrip(obs))))
    score = sum(c.points for c, v in items if v.passed)
    return ExerciseResult(exercise, score, max_score, items)


def error_verdict(c: Check, e: BaseException, obj=None) -> Verdict:
    """A failed check for an exception from student code: one line, plus a hint when we know the error."""
    return error_diagnosis(c.exercise, f"{c.title}: your function raised {student_error(e, obj)}")


def error_diagnosis(exercise: str, message: str) -> Verdict:
    """A failed Verdict for an error message from student code, with the misconception behind it when we
    know one: first the exercise's own reading of the error (its ERROR_HINTS), then the common ones."""
    module = _MODULES.get(exercise)
    known = explain_error(message, getattr(module, "ERROR_HINTS", ()), getattr(module, "MISCONCEPTIONS", {}))
    if known is None:
        return Verdict(False, message)
    tag, question, hint = known
    return Verdict(False, message, misconception=question, hint=hint, tag=tag)


def not_started(exercise: str, inp, obs) -> bool:
    """The exercise's own rule for an observation of its first check that means "not started yet" (it returned
    None and did nothing, say); an exercise without one (a registry of the tests' own) has none."""
    rule = getattr(_MODULES.get(exercise), "not_started", None)
    return callable(rule) and bool(rule(inp, obs))


def student_error(e: BaseException, obj=None) -> str:
    """One line for an exception raised by student code: "TypeError: ... (line N of your code)"."""
    try:
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    except Exception:  # noqa: BLE001 - a student's exception whose __str__ fails
        text = ""
    message = f"{type(e).__name__}: {text}"[:240] if text else type(e).__name__
    line = _student_line(e, obj)
    return message + (f" (line {line} of your code)" if line else "")


def _student_line(e: BaseException, obj) -> int | None:
    frames = traceback.extract_tb(e.__traceback__)
    code = getattr(obj, "__code__", None)
    own = [f.lineno for f in frames if code is not None and f.filename == code.co_filename]
    if own:
        return own[-1]
    ours = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    theirs = [f.lineno for f in frames
              if not f.filename.startswith(ours) and "site-packages" not in f.filename
              and not f.filename.startswith("<frozen")]
    return theirs[-1] if theirs else None


def _roundtrip(value):
    """What crosses the process boundary in the grader: plain data, rebuilt. The lessons get the same here."""
    return from_plain(to_plain(value))
