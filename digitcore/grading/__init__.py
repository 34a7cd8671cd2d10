"""Sandboxed grading of the exercises: one submission (grade_submission) or a whole class (grade_class).
The names load on first use, so that importing one module (digitcore.exercises imports report) imports no other."""

_EXPORTS = {
    "grade_submission": "runner", "grade_class": "classroom", "SubmissionReport": "report",
    "ExerciseResult": "report", "GraderError": "client",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
