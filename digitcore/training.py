"""Training runs behind a slider, without marimo: one setting trained with a time budget, cached by its settings.

    run = training.fit(data, lr, bs, epochs)          # a Run: Recorder-style rows, and how it ended
    run = training.fit(data, lr, bs, epochs, student=(train_epoch, mnist_loss))   # with the student's functions
    run = training.member_run(sweep_result, lr)       # one learning rate of a digitcore.sweep as a Run

digitcore.verdict says how a Run ended; digitcore.lesson_kit.training shows one in a marimo cell as it trains.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import torch

from . import chapter, models
from .dataloader import DataLoaders
from .learner import Callback, CancelFitException, Learner

BUDGET_S = 15.0  # seconds per run: it stops between epochs when one more would not fit, or cuts an epoch short
VALID_BS = 1024  # validation batch size: fixed, so it costs the same whatever the training batch size
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


def cached_run(data, lr: float, bs: int, epochs: int, *, model: str = "linear", seed: int = 0, student=None,
               loss: str = "mnist_loss") -> Run | None:
    """The Run `fit` would return from its cache for these settings (marked `cached`), or None."""
    loss = "mnist_loss" if student is not None else loss
    run = _CACHE.get(run_key(data, model, lr, bs, epochs, seed, _impl_key(student), loss))
    return None if run is None else replace(run, cached=True)


def fit(data, lr: float, bs: int, epochs: int, *, model: str = "linear", seed: int = 0, student=None,
        loss: str = "mnist_loss", budget_s: float | None = BUDGET_S, on_batch=None, on_epoch=None) -> Run:
    """Train a fresh `model` on `data` (a DigitSample) and return the Run; cached by its settings.

    student: None for digitcore's Learner, or (train_epoch, mnist_loss) to train with the student's own.
    loss: "mnist_loss" (the chapter's, with sigmoid) or "squared" (squared error on the raw output; reference only).
    on_batch(epoch, i, n_iter) and on_epoch(rows) are called as training goes (not on a cache hit).
    """
    loss = "mnist_loss" if student is not None else loss  # the student's run uses their own mnist_loss
    hit = cached_run(data, lr, bs, epochs, model=model, seed=seed, student=student, loss=loss)
    if hit is not None:
        return hit
    key = run_key(data, model, lr, bs, epochs, seed, _impl_key(student), loss)
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
