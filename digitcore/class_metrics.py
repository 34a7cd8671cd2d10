"""How long a class's slider moves take, told by each `digitcore class` worker to the instructor's status line.

Neither HAProxy nor marimo can tell it: a slider move reaches marimo as a POST that is answered at once, and the
new outputs come back later over the websocket. So each worker of `digitcore class` times its kernels' own runs,
from marimo's preparation of a run to the end of it (marimo's runner hooks), and appends one line per run to a
file the class server reads: `<unix time> <seconds>`. A kernel's first run (opening the page) is a first render,
not a move: its line ends in `first`, which the status line does not count and benchmarks/bench_class.py reads (when
a student's lab was live on the server, whatever their browser took to draw it).

Only workers started by `digitcore class` do this (it sets DIGITCORE_CLASS_METRICS); `marimo run` and `digitcore
lesson` on their own are untouched.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

ENV = "DIGITCORE_CLASS_METRICS"


class KernelRunTimer:
    """marimo runner hooks that time every run of a kernel (one kernel thread per tab in `marimo run`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.local = threading.local()
        self.lock = threading.Lock()

    def started(self, ctx=None) -> None:
        self.local.t0 = time.perf_counter()

    def finished(self, ctx=None) -> None:
        t0 = getattr(self.local, "t0", None)
        if t0 is None:
            return
        self.local.t0 = None
        runs = getattr(self.local, "runs", 0)
        self.local.runs = runs + 1
        line = f"{time.time():.3f} {time.perf_counter() - t0:.4f}{' first' * (runs == 0)}\n"
        with self.lock, open(self.path, "a") as f:
            f.write(line)


def install_from_env() -> bool:
    """In a `digitcore class` worker (DIGITCORE_CLASS_METRICS names its file): time every kernel run from now on.
    Returns whether the hooks are in. marimo's hook lists are internal; if they moved, the status line says
    'slider n/a' rather than the worker failing."""
    path = os.environ.get(ENV)
    if not path:
        return False
    try:
        from marimo._runtime.runner.hooks_on_finish import ON_FINISH_HOOKS
        from marimo._runtime.runner.hooks_preparation import PREPARATION_HOOKS
    except ImportError:
        return False
    timer = KernelRunTimer(Path(path))
    PREPARATION_HOOKS.append(timer.started)
    ON_FINISH_HOOKS.append(timer.finished)
    return True


def recent_runs(path: Path, window: float = 60.0, now: float | None = None) -> list[float]:
    """The run times (seconds) a worker recorded in the last `window` seconds."""
    now = time.time() if now is None else now
    try:
        lines = Path(path).read_text().splitlines()[-5000:]
    except OSError:
        return []
    runs = []
    for line in lines:
        if line.endswith(" first"):
            continue  # a first render, not a move
        try:
            when, seconds = (float(x) for x in line.split())
        except ValueError:
            continue
        if now - when <= window:
            runs.append(seconds)
    return runs


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]
