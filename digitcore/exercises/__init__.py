"""The graded exercises: their checks, and `check()`, the in-process runner the lessons call.

Each exercise module (mnist_loss, apply_step, train_epoch, mnist_distance, batch_accuracy) lists its checks:
a probe that runs next to the student's code and only observes (digitcore.exercises.probes), an input, and a
judge that compares the observation with the reference on the trusted side and names the likely
misconception. The grader (digitcore.grading) runs the same checks in a sandbox; `check()` runs them here.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field

from digitcore.grading.wording import NOT_STARTED

from . import apply_step, batch_accuracy, mnist_distance, mnist_loss, train_epoch
from .common import Check, Verdict, explain_error

_MODULES = {m.EXERCISE: m for m in (mnist_loss, apply_step, train_epoch, mnist_distance, batch_accuracy)}

CHECKS: dict[str, list[Check]] = {name: list(m.CHECKS) for name, m in _MODULES.items()}


@dataclass
class ExerciseResult:
    exercise: str
    score: float
    max_score: float
    items: list[tuple[Check, Verdict]] = field(default_factory=list)
    not_started: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(v.passed for _, v in self.items)

    def markdown(self) -> str:
        """Short feedback: success, or the first failing check's diagnosis and hint."""
        head = f"`{self.exercise}`"
        if self.not_started:
            return (f"**{head}: not started yet.** Replace `raise NotImplementedError` with your code "
                    "(and `return` the result where the exercise asks for one), then run again.")
        n_ok = sum(v.passed for _, v in self.items)
        if self.passed:
            return f"**{head}: all {len(self.items)} checks pass ({_pts(self.score)}/{_pts(self.max_score)}).**"
        check, verdict = next((c, v) for c, v in self.items if not v.passed)
        lines = [f"**{head}: {_pts(self.score)}/{_pts(self.max_score)}**, {n_ok} of {len(self.items)} checks pass.",
                 "", f"**{check.title}** failed: {verdict.message}"]
        if verdict.misconception:
            lines += ["", f"*{verdict.misconception[:1].upper()}{verdict.misconception[1:]}*"]
        if verdict.hint:
            lines += ["", f"Hint: {verdict.hint}"]
        others = [c.title for c, v in self.items if not v.passed and c is not check]
        if others:
            lines += ["", "Also failing: " + "; ".join(others) + "."]
        return "\n".join(lines)


def _pts(x: float) -> str:
    return f"{x:g}"


def check(exercise: str, obj, seed: int = 0) -> ExerciseResult:
    """Run every public check of `exercise` on the function `obj` in this process (no sandbox)."""
    if exercise not in CHECKS:
        raise ValueError(f"unknown exercise {exercise!r}; the exercises are {', '.join(CHECKS)}")
    checks = CHECKS[exercise]
    max_score = sum(c.points for c in checks)
    if obj is None or not callable(obj):
        what = "missing" if obj is None else f"a {type(obj).__name__}"
        message = f"`{exercise}` is {what}, not a function: define `def {exercise}(...):` at the top level"
        return ExerciseResult(exercise, 0.0, max_score, [(c, Verdict(False, message)) for c in checks])
    items = []
    for i, c in enumerate(checks):
        try:
            obs = c.probe(obj, _roundtrip(c.make_input(seed)))
        except KeyboardInterrupt:
            raise
        except NotImplementedError:
            if i == 0:
                return _not_started(exercise, checks, max_score)
            items.append((c, Verdict(False, f"{c.title}: your function raised NotImplementedError")))
            continue
        except BaseException as e:  # noqa: BLE001 - the student's error becomes one line of feedback
            items.append((c, error_verdict(c, e, obj)))
            continue
        if i == 0 and not_started(exercise, c.make_input(seed), obs):
            return _not_started(exercise, checks, max_score)
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


def _not_started(exercise, checks, max_score) -> ExerciseResult:
    return ExerciseResult(exercise, 0.0, max_score, [(c, Verdict(False, NOT_STARTED)) for c in checks],
                          not_started=True)


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
    try:
        from digitcore.grading.sandboxed.plain import from_plain, to_plain
    except ImportError:
        return _copy_plain(value)
    return from_plain(to_plain(value))


def _copy_plain(x):
    """A stand-in for grading.sandboxed.plain (only used while it is missing): the same plain subset, copied."""
    import torch

    if type(x) is torch.Tensor:
        return x.detach().cpu().clone()
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) in (list, tuple):
        return [_copy_plain(v) for v in x]
    if type(x) is dict and all(type(k) is str for k in x):
        return {k: _copy_plain(v) for k, v in x.items()}
    return {"__unplain__": type(x).__name__}
