"""Live training in marimo: exercise feedback, a settings cache, streaming curves with a progress bar.

    live.exercise_feedback(check("mnist_loss", mnist_loss))   # a callout: not started / passes / diagnosis + hint
    run = live.train_live(data, lr, bs, epochs)                # in a cell: progress bar + growing curves; cached
    live.run_view(run)                                         # its verdict (diverged, saturated, stopped...) + curves
    live.fit(data, lr, bs, epochs)                             # the same run without marimo (scripts, tests)
"""

from __future__ import annotations

import html
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import marimo as mo
import torch

from . import chapter, models, plots, sweep
from .dataloader import DataLoaders
from .learner import Callback, CancelFitException, Learner

# ---------------------------------------------------------------------------------------------------------------
# Exercise feedback: one callout for a digitcore.exercises.check() result (grading.report.ExerciseResult)


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


# ---------------------------------------------------------------------------------------------------------------
# Training behind a slider: one run per setting, cached; streamed into the cell as it happens

BUDGET_S = 15.0  # seconds per run: it stops between epochs when one more would not fit, or cuts an epoch short
VALID_BS = 1024  # validation batch size: fixed, so it costs the same whatever the training batch size
STREAM_AFTER_S = 0.5  # a run still going after this long shows its curves as they grow, at most this often
BASELINE = 0.9511  # lesson 02's pixel similarity on the validation set: a run below it is no success
MODELS = {"linear": models.linear_model, "simple_net": models.simple_net_model}


def squared_error(preds, targets):
    """The loss most people try first: squared distance of the raw output from the 0/1 target, no sigmoid.
    Unlike mnist_loss it is unbounded, so a learning rate that is too large really does blow up."""
    return ((preds - targets) ** 2).mean()


def threshold_accuracy(preds, targets):
    """Accuracy when the raw output itself is the guess: above 0.5 means "a 3"."""
    return ((preds > 0.5).float() == targets).float().mean()


threshold_accuracy.__name__ = "batch_accuracy"  # the same column as mnist_loss runs, so charts treat both alike
LOSSES = {"mnist_loss": (chapter.mnist_loss, chapter.batch_accuracy), "squared": (squared_error, threshold_accuracy)}
_CACHE: dict[tuple, Run] = {}


@contextmanager
def one_thread():
    """Run torch on one CPU thread for a while: the models here are tiny, and two threads fighting other busy
    processes for two cores made each step up to ten times slower on a loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Run:
    """What one training run did: Recorder-style rows, and how it ended."""

    settings: dict
    rows: list[dict] = field(default_factory=list)  # {"epoch", "train_loss", "valid_loss", "batch_accuracy", "seconds"}
    start: dict = field(default_factory=dict)  # valid_loss and batch_accuracy of the untrained model
    diverged_at: int | None = None
    message: str = ""  # "diverged at epoch k: ..." (from the Learner) or "" when it did not
    stopped: str = ""  # why it stopped before the last epoch (the time budget), or ""
    error: str = ""  # one line when the student's own code raised
    saturated: float = 0.0  # fraction of validation activations where sigmoid is flat (|activation| > 10)
    weight_max: float = 0.0  # largest |parameter| after training
    seconds: float = 0.0
    updates: int = 0  # parameter updates (batches) done
    cached: bool = False
    together: int = 0  # when it came from a sweep: how many learning rates trained with it in one batched run


def run_key(data, model: str, lr: float, bs: int, epochs: int, seed: int, impl, loss: str = "mnist_loss") -> tuple:
    """What makes two runs the same: (data source, model, lr, bs, epochs, seed, implementation, loss)."""
    return (getattr(data, "source", id(data)), model, float(lr), int(bs), int(epochs), int(seed), impl, loss)


def _impl_key(student) -> object:
    """"reference", or the student's functions (their code objects too, so an edit means a new run)."""
    if student is None:
        return "reference"
    return tuple((id(fn), getattr(fn, "__code__", None)) for fn in student)


_XY: dict[str, tuple] = {}  # data source -> (train_x, train_y, valid_x, valid_y): converted to float once


def _tensors(data) -> tuple:
    key = getattr(data, "source", str(id(data)))
    if key not in _XY:
        _XY[key] = (*data.train_xy(), *data.valid_xy())
    return _XY[key]


def _evaluate(model, dl, loss_func, accuracy=chapter.batch_accuracy) -> dict:
    """Validation loss and accuracy (means weighted by batch size) and how saturated the activations are."""
    total = {"valid_loss": 0.0, "batch_accuracy": 0.0, "saturated": 0.0}
    n = 0
    with torch.no_grad():
        for xb, yb in dl:
            xb, yb = xb.to(_device(model)), yb.to(_device(model))
            preds = model(xb)
            total["valid_loss"] += float(loss_func(preds, yb)) * len(xb)
            total["batch_accuracy"] += float(accuracy(preds, yb)) * len(xb)
            total["saturated"] += float((preds.abs() > 10).float().sum())
            n += len(xb)
    return {k: v / max(n, 1) for k, v in total.items()}


def _device(model) -> torch.device:
    return next(model.parameters()).device


class _Clock:
    """The time budget of one run, and the training loader wrapped so it can end an epoch early.

    Between epochs, a run stops if one more epoch would end past the budget; inside an epoch (batch size 1 on a
    slow machine), the loader stops handing out batches once the budget is spent, so that epoch is cut short
    but still validated and charted.
    """

    def __init__(self, dl, budget_s: float | None):
        self.dl, self.budget_s = dl, budget_s
        self.t0 = time.perf_counter()
        self.updates, self.cut, self.stopped = 0, None, ""

    # the loader side: what Learner and train_epoch iterate
    def __len__(self) -> int:
        return len(self.dl)

    def to(self, device):
        self.dl.to(device)
        return self

    def __iter__(self):
        for i, batch in enumerate(self.dl):
            if i > 0 and self.budget_s is not None and time.perf_counter() - self.t0 > self.budget_s:
                self.cut = (i, len(self.dl))
                return
            self.updates += 1
            yield batch

    # the judge: called after each epoch
    def stop_reason(self, rows: list, n_epoch: int) -> str:
        elapsed = time.perf_counter() - self.t0
        if self.cut and rows:
            i, n = self.cut
            return (f"stopped during epoch {len(rows)}, after {i:,} of its {n:,} updates: the run had used up this "
                    f"page's time budget of {self.budget_s:g} s; epoch {len(rows)} in the chart is that partial one")
        if self.budget_s is None or not rows or len(rows) >= n_epoch or elapsed + rows[-1]["seconds"] <= self.budget_s:
            return ""
        return (f"stopped after {len(rows)} of {n_epoch} epochs: one more would pass this page's time budget of "
                f"{self.budget_s:g} s ({elapsed:.1f} s so far)")


class _Watch(Callback):
    """Per-batch and per-epoch hooks for a Learner, and the time budget."""

    order = 20

    def __init__(self, clock: _Clock, on_batch, on_epoch):
        self.clock, self.on_batch, self.on_epoch = clock, on_batch, on_epoch

    def after_batch(self, learn):
        if self.on_batch:
            self.on_batch(learn.epoch, learn.iter + 1, learn.n_iter)

    def after_epoch(self, learn):
        if self.on_epoch:
            self.on_epoch(learn.recorder.rows)
        self.clock.stopped = self.clock.stop_reason(learn.recorder.rows, learn.n_epoch)
        if self.clock.stopped:
            raise CancelFitException()


def _fit_reference(run: Run, dls, model, lr, epochs, on_batch, on_epoch, clock: _Clock, loss: str) -> None:
    loss_func, accuracy = LOSSES[loss]
    learn = Learner(DataLoaders(clock, dls.valid), model, loss_func=loss_func,
                    metrics=accuracy, cbs=[_Watch(clock, on_batch, on_epoch)])
    rec = learn.fit(int(epochs), float(lr))
    run.rows, run.diverged_at, run.message = rec.rows, rec.diverged_at, rec.message


def _fit_student(run: Run, dls, model, lr, epochs, student, on_batch, on_epoch, clock: _Clock) -> None:
    """The student's train_epoch and mnist_loss in a small loop, validated by the reference validate_epoch."""
    train_epoch, loss_func = student
    params = list(model.parameters())
    n_iter = len(clock)
    for epoch in range(int(epochs)):
        start, losses = time.perf_counter(), []

        def recording_loss(preds, yb, _epoch=epoch, _losses=losses):  # records each batch's loss, reports progress
            loss = loss_func(preds, yb)
            _losses.append((float(loss.detach()), len(yb)))
            if on_batch:
                on_batch(_epoch, len(_losses), n_iter)
            return loss

        try:
            train_epoch(model, float(lr), params, clock, loss_func=recording_loss)
        except Exception as e:  # noqa: BLE001  the student's code: say what broke in one line, never a traceback
            run.error = f"your train_epoch raised {type(e).__name__}: {e}"
            return
        train_loss = sum(v * n for v, n in losses) / max(sum(n for _, n in losses), 1)
        valid = _evaluate(model, dls.valid, loss_func)
        finite = math.isfinite(train_loss) and math.isfinite(valid["valid_loss"])
        if not finite or not all(bool(torch.isfinite(p).all()) for p in params):
            run.diverged_at = epoch + 1
            run.message = (f"diverged at epoch {epoch + 1}: the learning rate is too high for this model; "
                           "try a smaller one")
            return
        accuracy = chapter.validate_epoch(model, dls.valid)
        run.rows.append({"epoch": epoch + 1, "train_loss": train_loss, "valid_loss": valid["valid_loss"],
                         "batch_accuracy": accuracy, "seconds": time.perf_counter() - start})
        if on_epoch:
            on_epoch(run.rows)
        clock.stopped = clock.stop_reason(run.rows, int(epochs))
        if clock.stopped:
            return


def fit(data, lr: float, bs: int, epochs: int, *, model: str = "linear", seed: int = 0, student=None,
        loss: str = "mnist_loss", budget_s: float | None = BUDGET_S, on_batch=None, on_epoch=None) -> Run:
    """Train a fresh `model` on `data` (a DigitSample) and return the Run; cached by its settings.

    student: None for digitcore's Learner, or (train_epoch, mnist_loss) to train with the student's own.
    loss: "mnist_loss" (the chapter's, with sigmoid) or "squared" (squared error on the raw output; reference only).
    on_batch(epoch, i, n_iter) and on_epoch(rows) are called as training goes (not on a cache hit).
    """
    loss = "mnist_loss" if student is not None else loss  # the student's run uses their own mnist_loss
    key = run_key(data, model, lr, bs, epochs, seed, _impl_key(student), loss)
    if key in _CACHE:
        return replace(_CACHE[key], cached=True)
    settings = {"model": model, "lr": float(lr), "bs": int(bs), "epochs": int(epochs), "seed": int(seed),
                "impl": "reference" if student is None else "yours", "loss": loss}
    run = Run(settings=settings)
    dls = DataLoaders.from_sample(data, int(bs), VALID_BS, shuffle=True, seed=seed)
    net = MODELS[model](seed=seed).to("cuda" if torch.cuda.is_available() else "cpu")
    dls.to(_device(net))
    start = _evaluate(net, dls.valid, *LOSSES[loss])
    run.start = {"valid_loss": start["valid_loss"], "batch_accuracy": start["batch_accuracy"]}
    clock = _Clock(dls.train, budget_s)
    with one_thread():
        if student is None:
            _fit_reference(run, dls, net, lr, epochs, on_batch, on_epoch, clock, loss)
        else:
            _fit_student(run, dls, net, lr, epochs, student, on_batch, on_epoch, clock)
    run.seconds = time.perf_counter() - clock.t0
    run.updates, run.stopped = clock.updates, clock.stopped
    with torch.no_grad():
        run.weight_max = max(float(p.abs().max()) for p in net.parameters())
    if not run.diverged_at and not run.error and loss == "mnist_loss":  # only a sigmoid saturates
        run.saturated = _evaluate(net, dls.valid, chapter.mnist_loss)["saturated"]
    if not run.error:  # a broken student function is not worth remembering
        if len(_CACHE) > 500:
            _CACHE.clear()
        _CACHE[key] = run
    return run


def train_live(data, lr: float, bs: int, epochs: int, *, model: str = "linear", seed: int = 0, student=None,
               loss: str = "mnist_loss", budget_s: float | None = BUDGET_S, metric: str = "batch_accuracy") -> Run:
    """`fit` inside a marimo cell: a progress bar (updated within an epoch too) and, once a run has taken longer
    than STREAM_AFTER_S, curves that grow as epochs finish.

    Call it first in its cell (the bar is the cell's output 0, the curves output 1); then show `run_view(run)`.
    A cached setting returns at once, without a bar. A quick run (the lesson's defaults train in about 0.25 s)
    draws no curves along the way: each drawing costs 60 to 80 ms, more than an epoch, and would only delay the
    final chart that `run_view` draws anyway.
    """
    key = run_key(data, model, lr, bs, epochs, seed, _impl_key(student), "mnist_loss" if student else loss)
    if key in _CACHE:
        return replace(_CACHE[key], cached=True)
    n_iter = math.ceil(len(_tensors(data)[0]) / int(bs))
    title = f"training: lr {lr:g}, batch size {bs}, {epochs} epochs"
    total = int(epochs) * n_iter
    with mo.status.progress_bar(total=total, title=title, show_eta=False, remove_on_exit=True) as bar:
        state = {"done": 0, "shown": 0, "t": time.perf_counter(), "drawn": time.perf_counter(), "charts": 0,
                 "t0": time.perf_counter()}

        def on_batch(epoch, i, n):
            state["done"] = epoch * n + i
            now = time.perf_counter()
            if now - state["t"] > 0.1 or i == n:  # a few updates a second, not one per batch
                eta = _eta(state["done"], total, now - state["t0"], budget_s)  # marimo's own ETA ignores the budget
                bar.update(increment=state["done"] - state["shown"], subtitle=f"epoch {epoch + 1}/{epochs}  {eta}")
                state["shown"], state["t"] = state["done"], now

        def on_epoch(rows):
            if len(rows) == int(epochs) or time.perf_counter() - state["drawn"] < STREAM_AFTER_S:
                return  # the last epoch's chart is run_view's to draw
            chart = plots.described_chart(plots.training_curves(rows, metric=metric))
            mo.output.replace_at_index(chart, 1) if state["charts"] else mo.output.append(chart)
            state["drawn"], state["charts"] = time.perf_counter(), state["charts"] + 1

        run = fit(data, lr, bs, epochs, model=model, seed=seed, student=student, loss=loss, budget_s=budget_s,
                  on_batch=on_batch, on_epoch=on_epoch)
    mo.output.clear()
    return run


def verdict(run: Run) -> tuple[str, str]:
    """(callout kind, markdown) saying honestly how the run ended."""
    if run.error:
        return "danger", f"**Training with your functions stopped:** {run.error}"
    if run.diverged_at:
        why = (" Squared error has no sigmoid to bound it: each step that overshoots makes the next error, and so "
               "the next step, bigger, until the numbers overflow." if run.settings.get("loss") == "squared" else "")
        return "danger", (f"**Diverged at epoch {run.diverged_at}.** The loss or the weights stopped being finite "
                          f"numbers, so there is nothing to chart.{why} The learning rate is too high for this "
                          "model: try a smaller one.")
    if not run.rows:
        return "warn", "No epoch finished."
    last = run.rows[-1]
    best_acc = max(r["batch_accuracy"] for r in run.rows)
    epochs = f"{len(run.rows)} epoch{'s' if len(run.rows) != 1 else ''}"
    took = f"trained earlier in {run.seconds:.2f} s, shown from the cache" if run.cached else f"{run.seconds:.2f} s"
    if run.together > 1:
        took = (f"all {run.together} learning rates trained together in {run.seconds:.2f} s"
                + (", earlier: shown from the cache" if run.cached else ""))
    head = (f"**{epochs}, {run.updates:,} updates ({took}):** validation accuracy "
            f"{last['batch_accuracy']:.4f}, loss {last['valid_loss']:.4f}.")
    notes = []
    if run.stopped:
        notes.append(run.stopped + ".")
    if run.saturated > 0.5 and run.weight_max > 20:
        notes.append(
            f"**The learning rate is so large that the model saturated.** The weights grew to {run.weight_max:,.0f}, "
            f"and {run.saturated:.0%} of the validation activations are beyond ±10, where the sigmoid is flat: "
            "its gradient is almost 0 there, so those images stop teaching the model anything. The loss cannot "
            "blow up (the sigmoid keeps every prediction in (0, 1)), so instead of diverging the model gets "
            "*stuck* wherever the first few huge steps threw it.")
    later = [r["valid_loss"] for r in run.rows[1:]]
    if len(later) >= 2 and max(later) - min(later) < 1e-4:
        notes.append("**Training is stuck:** after the first epoch the validation loss "
                     + ("does not change at all." if max(later) == min(later) else "hardly changes."))
    if last["valid_loss"] > 0.9 * run.start.get("valid_loss", 0) and run.weight_max < 20:
        notes.append("**The model has barely moved:** with steps this small it would need far more epochs; "
                     "try a larger learning rate.")
    if len(run.rows) > 1 and last["valid_loss"] > run.rows[0]["valid_loss"] * 1.05:
        notes.append("**Training got worse:** the validation loss went up from epoch 1 to the end.")
    if last["batch_accuracy"] < best_acc - 0.01:
        notes.append(f"Accuracy peaked at {best_acc:.4f} and fell back: steps this size bounce around the minimum.")
    if last["valid_loss"] >= run.start.get("valid_loss", math.inf):
        notes.append("The model ends **no better than where it started** (untrained validation loss "
                     f"{run.start['valid_loss']:.4f}).")
    if run.start.get("saturated", 0) > 0.2 and run.settings.get("loss") == "mnist_loss":
        notes.append(f"At the start, {run.start['saturated']:.0%} of the validation activations were already "
                     "saturated (beyond ±10, where the sigmoid is flat): those images hardly move the weights. With "
                     "shuffled batches that makes a start from large weights such as init_params' N(0, 1) the "
                     "slow one (lesson 05, section 7).")
    if last["batch_accuracy"] < BASELINE and not any(n.startswith("**") for n in notes):
        notes.append(f"Accuracy {last['batch_accuracy']:.4f} is below the {BASELINE} of lesson 02's pixel "
                     "similarity, which learns nothing at all.")
    kind = "warn" if any(n.startswith("**") for n in notes) else "info" if notes else "success"
    return kind, "\n\n".join([head] + notes)


def run_view(run: Run, metric: str = "batch_accuracy") -> mo.Html:
    """The finished run: its verdict in a callout, and the curves unless it diverged before any epoch."""
    kind, text = verdict(run)
    parts = [mo.callout(mo.md(text), kind=kind)]
    if run.rows:
        parts.append(plots.described_chart(plots.training_curves(run.rows, metric=metric)))
    return mo.vstack(parts)


# ---------------------------------------------------------------------------------------------------------------
# The lab: every slider learning rate trained at once (digitcore.sweep), then viewed one lr at a time

_SWEEPS: dict[tuple, object] = {}
INIT_STD = {"nn.Linear": 1 / (28 * math.sqrt(3)), "N(0,1)": 1.0}  # std of the starting weights


def _eta(done: int, total: int, elapsed: float, budget_s: float | None) -> str:
    """What is left, honestly: the rate so far, capped by the time budget (a run stops there)."""
    if done == 0 or elapsed < 0.3:
        return ""
    left = elapsed / done * (total - done)
    if budget_s is not None and elapsed + left > budget_s:
        return f"about {max(budget_s - elapsed, 0):.0f} s left: it will stop at the {budget_s:g} s budget"
    return f"about {left:.0f} s left"


def lab_sweep(data, bs: int, epochs: int, *, loss: str = "mnist_loss", shuffle: bool = True, init: str = "nn.Linear",
              n_train: int | None = None, seed: int = 0, lrs=None, budget_s: float | None = BUDGET_S):
    """Every lab learning rate trained in one batched run (digitcore.sweep), inside a marimo cell: a progress bar
    with an honest ETA while it runs, cached by its settings. Returns the sweep.Sweep (`.cached` set on a hit)."""
    lrs = list(lrs or sweep.LAB_LRS)
    key = (getattr(data, "source", id(data)), int(bs), int(epochs), loss, bool(shuffle), init, n_train, int(seed),
           tuple(lrs))
    if key in _SWEEPS:
        res = _SWEEPS[key]
        res.cached = True
        return res
    n = len(_tensors(data)[0]) if n_train is None else min(int(n_train), len(_tensors(data)[0]))
    n_iter = math.ceil(n / int(bs))
    total = int(epochs) * n_iter
    title = f"training {len(lrs)} learning rates at once: batch size {bs}, {epochs} epochs"
    with mo.status.progress_bar(total=total, title=title, show_eta=False, remove_on_exit=True) as bar:
        state = {"shown": 0, "t": time.perf_counter(), "t0": time.perf_counter()}

        def on_batch(epoch, i, n_it):
            done, now = epoch * n_it + i, time.perf_counter()
            if now - state["t"] > 0.1 or i == n_it:
                eta = _eta(done, total, now - state["t0"], budget_s)
                bar.update(increment=done - state["shown"], subtitle=f"epoch {epoch + 1}/{epochs}  {eta}")
                state["shown"], state["t"] = done, now

        res = sweep.sweep(_tensors(data), lrs, int(bs), int(epochs), seed=seed, loss=loss, shuffle=shuffle,
                              init=init, n_train=n_train, budget_s=budget_s, on_batch=on_batch)
    mo.output.clear()
    res.cached = False
    if len(_SWEEPS) > 40:  # each holds its snapshots (a few MB)
        _SWEEPS.clear()
    _SWEEPS[key] = res
    return res


def member_run(sw, lr: float) -> Run:
    """One learning rate of a sweep as a Run, so `verdict` can judge it like any other run."""
    m = sw.member(lr)
    s = sw.settings
    settings = {"model": "linear", "lr": float(lr), "bs": s["bs"], "epochs": s["epochs"], "seed": s["seed"],
                "impl": "reference", "loss": s["loss"]}
    return Run(settings=settings, rows=list(m.rows), start=dict(m.start), diverged_at=m.diverged_at,
               message=m.message, stopped=sw.stopped, saturated=m.saturated if s["loss"] == "mnist_loss" else 0.0,
               weight_max=m.weight_max, seconds=sw.seconds, updates=sw.updates, cached=getattr(sw, "cached", False),
               together=len(sw.members))


def _activations(x: torch.Tensor, snaps: torch.Tensor) -> torch.Tensor:
    """(S, n) activations of n images under S snapshots (S, 785) of one model."""
    return snaps[:, :784] @ x.T + snaps[:, 784:]


def _accuracy_at(x, y, snaps, loss: str) -> list[float]:
    acts = _activations(x, snaps)
    guess = acts > (0.5 if loss == "squared" else 0.0)
    return (guess == (y[:, 0] == 1)).float().mean(1).tolist()


def _train_set(data, sw) -> tuple[torch.Tensor, torch.Tensor]:
    train_x, train_y = _tensors(data)[:2]
    idx = sweep.train_subset(len(train_x), sw.settings["n_train"], sw.settings["seed"])
    return (train_x, train_y) if idx is None else (train_x[idx], train_y[idx])


def epoch_accuracies(data, sw, lr: float) -> dict:
    """Train and valid accuracy of one member at the start and after each epoch (from the snapshots)."""
    m = sw.member(lr)
    ends = [0] + sw.epoch_ends[: len(m.rows)]
    snaps = sw.weights(lr)[[sw.steps.index(e) for e in ends]]
    train_x, train_y = _train_set(data, sw)
    valid_x, valid_y = _tensors(data)[2:]
    loss = sw.settings["loss"]
    return {"epoch": list(range(len(ends))), "train": _accuracy_at(train_x, train_y, snaps, loss),
            "valid": _accuracy_at(valid_x, valid_y, snaps, loss)}


_SET_COLORS = {"domain": ["train", "valid"], "range": ["#e76f51", "#264653"]}


def _epoch_x(epochs: int) -> dict:
    axis = {"tickMinStep": 1, "format": "d"}
    if epochs <= 10:
        axis["values"] = list(range(epochs + 1))
    return {"field": "epoch", "type": "quantitative", "scale": {"domain": [0, epochs]}, "axis": axis,
            "title": "epoch (0 = untrained)"}


def lab_curves(data, sw, lr: float):
    """Loss and accuracy of one member, train and valid, from the untrained start (epoch 0) to the end, on FIXED
    axes (so lr 0.001 and lr 1 look as different as they are), each chart with its own legend."""
    m, s = sw.member(lr), sw.settings
    if not m.rows:
        return plots.training_curves([])
    acc = epoch_accuracies(data, sw, lr)
    loss_rows = [{"epoch": 0, "set": "valid", "loss": m.start["valid_loss"]}]
    for r in m.rows:
        loss_rows += [{"epoch": r["epoch"], "set": "train", "loss": r["train_loss"]},
                      {"epoch": r["epoch"], "set": "valid", "loss": r["valid_loss"]}]
    acc_rows = [{"epoch": e, "set": name, "accuracy": a} for name in ("train", "valid")
                for e, a in zip(acc["epoch"], acc[name])]
    top = 0.55 if s["loss"] == "mnist_loss" else 1.0

    def chart(rows, field, domain, title, name):
        return {"data": {"values": rows}, "mark": {"type": "line", "point": True, "clip": True},
                "width": 210, "height": 190, "title": name,
                "encoding": {"x": _epoch_x(s["epochs"]),
                             "y": {"field": field, "type": "quantitative", "scale": {"domain": domain},
                                   "axis": {"format": ".2f"}, "title": title},
                             "color": {"field": "set", "type": "nominal", "scale": _SET_COLORS,
                                       "legend": {"orient": "top-right", "title": None}},
                             "tooltip": [{"field": "epoch", "type": "quantitative"},
                                         {"field": "set", "type": "nominal"},
                                         {"field": field, "type": "quantitative", "format": ".4f"}]}}

    return plots.VegaLite({"hconcat": [chart(loss_rows, "loss", [0, top], f"{s['loss']} (fixed axis 0 to {top:g})", "loss"),
                                       chart(acc_rows, "accuracy", [0.4, 1.0], "accuracy (fixed axis 0.4 to 1)",
                                             "accuracy")],
                           "resolve": {"legend": {"color": "independent"}},
                           "description": _curves_description(m, acc, lr)})


def _curves_description(m, acc: dict, lr: float) -> str:
    """The lab's curves in one sentence: 'valid accuracy rises from 0.50 to 0.97 over 5 epochs at lr 1'."""
    first, last = acc["valid"][0], acc["valid"][-1]
    trend = "rises" if last > first else "falls" if last < first else "stays"
    loss = f"valid loss from {m.start['valid_loss']:.3f} to {m.rows[-1]['valid_loss']:.3f}"
    return (f"Training curves at lr {lr:g}: valid accuracy {trend} from {first:.2f} to {last:.2f} over "
            f"{len(m.rows)} epochs, {loss}.")


def lr_chart(sw, lr: float):
    """Final validation loss and accuracy against the learning rate (log axis), for every member, on one fixed
    0-to-1 axis: the U-shape of the loss, and where runs stall or diverge (diverged runs: a cross at 0, no line
    through them). The chosen lr is a dashed rule."""
    rows = []
    for m in sw.members:
        state = f"diverged at epoch {m.diverged_at}" if m.diverged_at else "trained"
        for what, value in (("final valid loss", m.loss), ("final accuracy", m.accuracy)):
            rows.append({"lr": m.lr, "what": what, "value": 0.0 if m.diverged_at else min(value, 1.0),
                         "state": state, "diverged": bool(m.diverged_at)})
    x = {"field": "lr", "type": "quantitative", "scale": {"type": "log"},
         "axis": {"format": "~g", "values": [1e-3, 1e-1, 10, 1e3, 1e5]}, "title": "learning rate (log scale)"}
    y = {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]}, "axis": {"format": ".1f"},
         "title": None}
    color = {"field": "what", "type": "nominal",
             "scale": {"domain": ["final valid loss", "final accuracy"], "range": ["#264653", "#2a9d8f"]},
             "legend": {"orient": "bottom", "title": None}}
    line = {"mark": "line", "transform": [{"filter": "!datum.diverged"}],
            "encoding": {"x": x, "y": y, "color": color}}
    points = {"mark": {"type": "point", "filled": True, "size": 45},
              "encoding": {"x": x, "y": y, "color": color,
                           "shape": {"condition": {"test": "datum.diverged", "value": "cross"}, "value": "circle"},
                           "tooltip": [{"field": "lr", "type": "quantitative", "format": "~g"},
                                       {"field": "what", "type": "nominal"},
                                       {"field": "value", "type": "quantitative", "format": ".4f"},
                                       {"field": "state", "type": "nominal"}]}}
    rule = {"data": {"values": [{"lr": float(lr)}]}, "mark": {"type": "rule", "color": "#999", "strokeDash": [4, 3]},
            "encoding": {"x": {"field": "lr", "type": "quantitative"}}}
    best = max(sw.members, key=lambda m: -1.0 if m.diverged_at else m.accuracy)
    diverged = [f"{m.lr:g}" for m in sw.members if m.diverged_at]
    description = (f"Final valid loss and accuracy against the learning rate, {len(sw.members)} rates from "
                   f"{sw.members[0].lr:g} to {sw.members[-1].lr:g}; lr {lr:g} is marked. Best accuracy "
                   f"{best.accuracy:.4f} at lr {best.lr:g}; "
                   + (f"diverged (drawn as crosses at 0): lr {', '.join(diverged)}." if diverged else "none diverged."))
    return plots.VegaLite({"data": {"values": rows}, "layer": [line, points, rule], "width": 200, "height": 170,
                           "title": f"after {sw.settings['epochs']} epochs, by lr", "description": description})


def update_curve(data, sw, lr: float):
    """Validation accuracy after each update (each snapshot) of one member, epochs marked. Unshuffled, as the
    book's loader is, each epoch is all 3s then all 7s, and the accuracy saw-tooths inside the epoch."""
    valid_x, valid_y = _tensors(data)[2:]
    pick = torch.arange(0, len(valid_x), 4)  # every 4th valid image: a quarter of the work, the same shape of curve
    acc = _accuracy_at(valid_x[pick], valid_y[pick], sw.weights(lr), sw.settings["loss"])
    order = "shuffled" if sw.settings["shuffle"] else "not shuffled: all 3s, then all 7s"
    x = {"field": "update", "type": "quantitative", "title": "parameter updates (grey lines: end of an epoch)"}
    rules = {"data": {"values": [{"update": e} for e in sw.epoch_ends]}, "mark": {"type": "rule", "color": "#ccc"},
             "encoding": {"x": x}}
    line = {"data": {"values": [{"update": u, "accuracy": a} for u, a in zip(sw.steps, acc)]},
            "mark": {"type": "line", "color": "#2a9d8f"},
            "encoding": {"x": x, "y": {"field": "accuracy", "type": "quantitative", "scale": {"domain": [0.4, 1.0]},
                                       "axis": {"format": ".2f"}, "title": "valid accuracy (1 in 4 images)"},
                         "tooltip": [{"field": "update", "type": "quantitative"},
                                     {"field": "accuracy", "type": "quantitative", "format": ".4f"}]}}
    description = (f"Valid accuracy after each of {sw.updates:,} updates at lr {lr:g} ({order}): from {acc[0]:.2f} "
                   f"to {acc[-1]:.2f}, lowest {min(acc):.2f}, highest {max(acc):.2f}; grey lines mark the "
                   f"{len(sw.epoch_ends)} epoch ends.")
    return plots.VegaLite({"layer": [rules, line], "width": 640, "height": 130,
                           "title": f"accuracy update by update ({order})", "description": description})


def lab_verdict(run: Run) -> mo.Html:
    kind, text = verdict(run)
    return mo.callout(mo.md(text), kind=kind)


# ---------------------------------------------------------------------------------------------------------------
# Seeing the weights: the 784 weights as a 28x28 picture, and which pixels voted 3 or 7 on a mistake

def signed_img(a, scale: int, alt: str, vmax: float | None = None) -> str:
    """A 28x28 signed map as an <img> in the course's colours (plots.SIGNED_LEGEND), with its alt text."""
    return (f"<img src='data:image/png;base64,{plots.signed_png(a, scale, vmax)}' alt='{html.escape(alt, quote=True)}' "
            f"width='{28 * scale}' height='{28 * scale}' style='image-rendering:pixelated;border:1px solid #ddd'/>")


def confident_mistakes(data, weights: torch.Tensor, k: int = 4, loss: str = "mnist_loss") -> list[dict]:
    """The k validation digits the model (785 weights and bias) gets wrong with the largest |activation|."""
    valid_x, valid_y = _tensors(data)[2:]
    acts = valid_x @ weights[:784] + weights[784]
    threshold = 0.5 if loss == "squared" else 0.0
    wrong = (acts > threshold) != (valid_y[:, 0] == 1)
    idx = torch.nonzero(wrong).flatten()
    idx = idx[(acts[idx] - threshold).abs().argsort(descending=True)][:k]
    return [{"index": int(i), "label": "3" if valid_y[i, 0] == 1 else "7", "activation": float(acts[i]),
             "image": valid_x[i], "votes": valid_x[i] * weights[:784]} for i in idx]


def _mistake_cell(m: dict, vmax: float, legend: str) -> str:
    """One confident mistake: the digit, its pixels' votes (weight times pixel), its label and activation."""
    digit = plots.digit_images(m["image"].view(28, 28), scale=3, what=f"a {m['label']} the model got wrong").text
    votes = signed_img(m["votes"], 3, f"the votes of this {m['label']}'s pixels: {legend}", vmax)
    return (f"<div style='text-align:center'>{digit}{votes}<br/>"
            f"<small>a {m['label']}, activation {m['activation']:+.2f}</small></div>")


def weights_view(data, sw, lr: float, at: int, k: int = 4) -> mo.Html:
    """Snapshot `at` of one member: its 784 weights as a 28x28 picture and, for its most confident mistakes,
    each pixel's vote (weight times pixel: blue pushed towards "3", red towards "7", as plots.SIGNED_LEGEND)."""
    w = sw.weights(lr)[at]
    step = sw.steps[at]
    epoch = sum(1 for e in sw.epoch_ends if e < step) + (1 if step else 0)
    valid_x, valid_y = _tensors(data)[2:]
    acc = _accuracy_at(valid_x, valid_y, w[None], sw.settings["loss"])[0]
    head = mo.md(f"**after {step:,} of {sw.updates:,} updates** (epoch {epoch}): validation accuracy **{acc:.4f}**; "
                 f"weights from {float(w[:784].min()):.3g} to {float(w[:784].max()):.3g}, bias {float(w[784]):.3g}")
    legend = "blue pixels push towards 3, red towards 7, white not at all"
    picture = mo.Html("<div style='text-align:center'>"
                      f"{signed_img(w[:784], 6, f'the 784 weights after {step:,} updates: {legend}')}<br/>"
                      f"<small>the 784 weights: {legend}</small></div>")
    mistakes = confident_mistakes(data, w, k, sw.settings["loss"])
    if mistakes:
        vmax = max(float(m["votes"].abs().max()) for m in mistakes) or 1.0
        cells = "".join(_mistake_cell(m, vmax, legend) for m in mistakes)
        votes = mo.Html("<div><b>its most confident mistakes</b>, and which pixels voted 3 (blue) or 7 (red): "
                        f"weight times pixel<div style='display:flex;gap:10px;margin-top:4px'>{cells}</div></div>")
    else:
        votes = mo.md("*no validation digit is wrong at this point*")
    return mo.vstack([head, mo.hstack([picture, votes], justify="start", gap=2, align="start")])
