"""Training inside a marimo cell: a progress bar with an honest ETA while a run or a sweep trains, curves that
grow during a long run, and the verdict in a callout. The training itself is digitcore.training and
digitcore.sweep (no marimo); this module only shows it.

    run = lesson_kit.train_live(data, lr, bs, epochs)   # progress bar + growing curves; cached by its settings
    lesson_kit.run_view(run)                            # its verdict (diverged, saturated, stopped...) + curves
    sw = lesson_kit.lab_sweep(data, bs, epochs)         # every lab learning rate at once, cached by its settings
    lesson_kit.lab_verdict(training.member_run(sw, lr)) # one of them judged like any other run
"""

from __future__ import annotations

import math
import time

import marimo as mo

from .. import plots, sweep, training
from ..verdict import verdict

STREAM_AFTER_S = 0.5  # a run still going after this long shows its curves as they grow, at most this often
_SWEEPS: dict[tuple, object] = {}


def _eta(done: int, total: int, elapsed: float, budget_s: float | None) -> str:
    """What is left, honestly: the rate so far, capped by the time budget (a run stops there)."""
    if done == 0 or elapsed < 0.3:
        return ""
    left = elapsed / done * (total - done)
    if budget_s is not None and elapsed + left > budget_s:
        return f"about {max(budget_s - elapsed, 0):.0f} s left: it will stop at the {budget_s:g} s budget"
    return f"about {left:.0f} s left"


def _progress(bar, total: int, epochs: int, budget_s: float | None):
    """An on_batch(epoch, i, n_iter) that moves `bar` a few times a second (not once per batch), with the ETA in
    its subtitle: marimo's own ETA ignores the budget."""
    state = {"shown": 0, "t": time.perf_counter(), "t0": time.perf_counter()}

    def on_batch(epoch, i, n_iter):
        done, now = epoch * n_iter + i, time.perf_counter()
        if now - state["t"] > 0.1 or i == n_iter:
            eta = _eta(done, total, now - state["t0"], budget_s)
            bar.update(increment=done - state["shown"], subtitle=f"epoch {epoch + 1}/{epochs}  {eta}")
            state["shown"], state["t"] = done, now

    return on_batch


def train_live(data, lr: float, bs: int, epochs: int, *, model: str = "linear", seed: int = 0, student=None,
               loss: str = "mnist_loss", budget_s: float | None = training.BUDGET_S,
               metric: str = "batch_accuracy") -> training.Run:
    """`training.fit` inside a marimo cell: a progress bar (updated within an epoch too) and, once a run has
    taken longer than STREAM_AFTER_S, curves that grow as epochs finish.

    Call it first in its cell (the bar is the cell's output 0, the curves output 1); then show `run_view(run)`.
    A cached setting returns at once, without a bar. A quick run (the lesson's defaults train in about 0.25 s)
    draws no curves along the way: each drawing costs 60 to 80 ms, more than an epoch, and would only delay the
    final chart that `run_view` draws anyway.
    """
    hit = training.cached_run(data, lr, bs, epochs, model=model, seed=seed, student=student, loss=loss)
    if hit is not None:
        return hit
    total = int(epochs) * math.ceil(len(data.train_xy()[0]) / int(bs))
    title = f"training: lr {lr:g}, batch size {bs}, {epochs} epochs"
    with mo.status.progress_bar(total=total, title=title, show_eta=False, remove_on_exit=True) as bar:
        drawn = {"t": time.perf_counter(), "charts": 0}

        def on_epoch(rows):
            if len(rows) == int(epochs) or time.perf_counter() - drawn["t"] < STREAM_AFTER_S:
                return  # the last epoch's chart is run_view's to draw
            chart = plots.described_chart(plots.training_curves(rows, metric=metric))
            mo.output.replace_at_index(chart, 1) if drawn["charts"] else mo.output.append(chart)
            drawn["t"], drawn["charts"] = time.perf_counter(), drawn["charts"] + 1

        run = training.fit(data, lr, bs, epochs, model=model, seed=seed, student=student, loss=loss,
                           budget_s=budget_s, on_batch=_progress(bar, total, epochs, budget_s), on_epoch=on_epoch)
    mo.output.clear()
    return run


def run_view(run: training.Run, metric: str = "batch_accuracy") -> mo.Html:
    """The finished run: its verdict in a callout, and the curves unless it diverged before any epoch."""
    parts = [lab_verdict(run)]
    if run.rows:
        parts.append(plots.described_chart(plots.training_curves(run.rows, metric=metric)))
    return mo.vstack(parts)


def lab_verdict(run: training.Run) -> mo.Html:
    """digitcore.verdict's judgement of a run as a callout."""
    kind, text = verdict(run)
    return mo.callout(mo.md(text), kind=kind)


def lab_sweep(data, bs: int, epochs: int, *, loss: str = "mnist_loss", shuffle: bool = True, init: str = "nn.Linear",
              n_train: int | None = None, seed: int = 0, lrs=None, budget_s: float | None = training.BUDGET_S):
    """Every lab learning rate trained in one batched run (digitcore.sweep), inside a marimo cell: a progress bar
    with an honest ETA while it runs, cached by its settings. Returns the sweep.Sweep (`.cached` set on a hit)."""
    lrs = list(lrs or sweep.LAB_LRS)
    key = (getattr(data, "source", id(data)), int(bs), int(epochs), loss, bool(shuffle), init, n_train, int(seed),
           tuple(lrs))
    if key in _SWEEPS:
        res = _SWEEPS[key]
        res.cached = True
        return res
    tensors = (*data.train_xy(), *data.valid_xy())
    n = len(tensors[0]) if n_train is None else min(int(n_train), len(tensors[0]))
    total = int(epochs) * math.ceil(n / int(bs))
    title = f"training {len(lrs)} learning rates at once: batch size {bs}, {epochs} epochs"
    with mo.status.progress_bar(total=total, title=title, show_eta=False, remove_on_exit=True) as bar:
        res = sweep.sweep(tensors, lrs, int(bs), int(epochs), seed=seed, loss=loss, shuffle=shuffle, init=init,
                          n_train=n_train, budget_s=budget_s, on_batch=_progress(bar, total, epochs, budget_s))
    mo.output.clear()
    res.cached = False
    if len(_SWEEPS) > 40:  # each holds its snapshots (a few MB)
        _SWEEPS.clear()
    _SWEEPS[key] = res
    return res
