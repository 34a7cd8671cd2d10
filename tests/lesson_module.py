"""Import a lesson file as a module, for tests of what it computes: `lesson("07_nonlinearity")`.

A name like `07_nonlinearity` cannot follow `import`, so the lessons folder goes on sys.path for the one call.
Importing runs the lesson's setup cell and defines its @app.function functions; no other cell runs."""

import importlib
import sys
from pathlib import Path

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def lesson(stem: str):
    sys.path.insert(0, str(LESSONS))
    try:
        return importlib.import_module(stem)
    finally:
        sys.path.remove(str(LESSONS))
