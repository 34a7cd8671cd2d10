"""`digitcore lesson`: open a lesson with marimo, with its slow start-up work done once, before the first page.

`marimo run` gives every browser tab a kernel thread inside the one server process, so whatever the server
process has already imported or loaded is there when the lesson's first cell runs. A lesson's first screen
waits on importing torch, pandas and altair and on loading the digits: several seconds on a small machine.
This launcher does that work in the server process before marimo starts serving, so no tab ever waits for it
(and a second tab or a reload finds it all done too). `marimo run lessons/05_sgd.py` works just as well, only
slower to show its first screen; benchmarks/bench_lesson_latency.py measures both.

The work is done before the server starts, not beside it in a thread: Python's per-module import locks report
a deadlock (`_DeadlockError`) when two threads import packages that import each other, and marimo's start-up
and a warm-up thread did exactly that here (narwhals), killing the server.

`marimo edit` runs each kernel in a process of its own, so there is nothing to warm up there. Plain `marimo run`
is safe too when a whole class opens a cold server at once: see digitcore/lesson_imports.py.
"""

import runpy
import sys
import time
from pathlib import Path

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
DEFAULT = "05_sgd"


def find_lesson(name: str | None = None) -> Path:
    """'05', '05_sgd', '05_sgd.py', 'lessons/05_sgd.py', or a path to any notebook file -> its path."""
    name = name or DEFAULT
    as_path = Path(name)
    if as_path.suffix == ".py" and as_path.is_file():
        return as_path
    stem = as_path.name.removesuffix(".py")
    matches = sorted(LESSONS.glob(f"{stem}*.py")) if LESSONS.is_dir() else []
    exact = [p for p in matches if p.stem == stem]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    known = ", ".join(p.stem for p in sorted(LESSONS.glob("[0-9][0-9]_*.py"))) or f"none: {LESSONS} is missing"
    why = "matches several lessons" if matches else "is not a lesson"
    raise SystemExit(f"digitcore lesson: {name!r} {why}; the lessons are: {known}")


def warm_up(lesson: Path, run_lesson: bool = False) -> float:
    """Import what the lessons import and load the data they load, in this process (with `run_lesson`, also run the
    lesson once as a script); returns the seconds taken. Errors are the lesson's to report (it says what is wrong
    with the data), so they are ignored here."""
    start = time.perf_counter()
    try:
        import torch

        from . import lesson_imports  # noqa: F401  what every lesson's setup cell imports first
        from .data import load_mnist, load_sample

        torch.set_num_threads(1)  # what every lesson sets; kernel threads started from now on begin with it

        load_sample()
        if "load_mnist(" in lesson.read_text(errors="replace"):
            load_mnist()
        if run_lesson:
            # What every student's kernel computes identically (the sample's float images, the lab's first sweep,
            # the book's runs: lesson_kit.once_per_process, sweep's memo) is then done before the first student
            # arrives, who otherwise pays for it. Not for one student's `digitcore lesson`: it would only delay
            # the page, while the first kernel computes the same beside marimo's page loading.
            runpy.run_path(str(lesson), run_name="digitcore_warm_up")["app"].run()
    except Exception:  # noqa: BLE001
        pass
    return time.perf_counter() - start


def serve(name: str | None = None, edit: bool = False, marimo_args: list[str] = (), run_first: bool = False) -> None:
    """Run `marimo run` (or `marimo edit`) on the lesson in this process, warmed up first in run mode (with
    `run_first`, by running the lesson once: what `digitcore class` asks of its workers)."""
    lesson = find_lesson(name)
    if not edit:
        print(f"digitcore: getting {lesson.stem} ready (importing torch, loading the digits)", file=sys.stderr,
              flush=True)
        print(f"digitcore: ready in {warm_up(lesson, run_first):.1f} s; starting marimo", file=sys.stderr, flush=True)
        from .class_metrics import install_from_env
        install_from_env()  # a `digitcore class` worker times its slider moves for the instructor's status line
    sys.argv = ["marimo", "edit" if edit else "run", *marimo_args, str(lesson)]
    runpy.run_module("marimo", run_name="__main__", alter_sys=True)
