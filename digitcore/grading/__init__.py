"""Sandboxed grading of the exercises: one submission (grade_submission) or a whole class (grade_class).

The names are loaded on first use, so that the worker process (python -m digitcore.grading.sandboxed.zygote)
imports only what it needs and never the reference implementation.
"""

_EXPORTS = {
    "grade_submission": "runner", "grade_class": "classroom", "SubmissionReport": "report",
    "ExerciseReport": "report", "GraderError": "client",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
