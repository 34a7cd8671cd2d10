"""Exercise feedback: one callout for a digitcore.exercises.check() result (grading.report.ExerciseResult, the one
result model the grader reports too).

    lesson_kit.exercise_feedback(check("mnist_loss", mnist_loss))   # not started / passes / diagnosis + hint
"""

from __future__ import annotations

import marimo as mo


def exercise_feedback(result) -> mo.Html:
    """A callout for an ExerciseResult: not started yet (neutral), passed (success), or the first failing
    check's diagnosis with its hint (warn). Never a traceback."""
    if result is None:
        return mo.callout(mo.md("No result yet."), kind="neutral")
    if result.not_started:
        return mo.callout(
            mo.md(f"**`{result.exercise}`: not started yet.** Replace `raise NotImplementedError` with your code; "
                  "this box checks it again every time the function changes."),
            kind="neutral",
        )
    if result.passed:
        return mo.callout(mo.md(f"{result.markdown()}\n\nWell done."), kind="success")
    return mo.callout(mo.md(result.markdown()), kind="warn")
