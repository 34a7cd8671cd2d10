"""Exercise feedback: one callout for a digitcore.exercises.ExerciseResult.

    lesson_kit.exercise_feedback(check("mnist_loss", mnist_loss))   # not started / passes / diagnosis + hint
"""

from __future__ import annotations

import marimo as mo


def _not_started(result) -> bool:
    """True when the student has not written the function yet (NotImplementedError or returning None)."""
    if getattr(result, "not_started", False):
        return True
    items = getattr(result, "items", None) or []
    if any(v.passed for _, v in items):
        return False
    return any("not started" in (v.message or "").lower() for _, v in items)


def exercise_feedback(result) -> mo.Html:
    """A callout for an ExerciseResult: not started yet (neutral), passed (success), or the first failing
    check's diagnosis with its hint (warn). Never a traceback."""
    if result is None:
        return mo.callout(mo.md("No result yet."), kind="neutral")
    name = getattr(result, "exercise", "exercise")
    if _not_started(result):
        return mo.callout(
            mo.md(f"**`{name}`: not started yet.** Replace `raise NotImplementedError` with your code; "
                  "this box checks it again every time the function changes."),
            kind="neutral",
        )
    try:
        text = result.markdown()
    except Exception:  # noqa: BLE001  fall back to the first failure's message
        items = getattr(result, "items", None) or []
        text = next((f"`{name}`: {v.message}" for _, v in items if not v.passed), f"`{name}`: checked.")
    if getattr(result, "passed", False):
        return mo.callout(mo.md(f"{text}\n\nWell done."),
                          kind="success")
    return mo.callout(mo.md(text), kind="warn")
