"""Learner: the training loop of the chapter, fast enough to re-run behind a slider.

    learn = Learner(dls, linear_model(), opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy)
    learn.fit(10, lr=1)          # -> learn.recorder.rows, one dict per epoch

Where the speed comes from: batches are slices of pre-stacked tensors (see dataloader.py), the optimizer steps all
parameters in one fused call and drops gradients instead of zeroing them, losses and metrics stay on the device and
are read back once per epoch, and validation runs without autograd. Bad hyper-parameters never raise: when the loss
or a parameter stops being a finite number, training stops and the recorder says at which epoch.

Callbacks (miniai style): subclass `Callback`, define any of before_fit, before_epoch, after_batch, after_epoch,
after_fit; each gets the learner, which exposes epoch (0-based), n_epoch, iter, n_iter, loss, recorder.
Raise CancelFitException in a callback to stop training cleanly.
"""

import math
import sys
import time

import torch

from .chapter import batch_accuracy, mnist_loss

HOOKS = ("before_fit", "before_epoch", "after_batch", "after_epoch", "after_fit")


class CancelFitException(Exception):
    """Raised by a callback to end `fit` early (after_fit still runs)."""


class Callback:
    """Base class: override any hook in HOOKS; callbacks run in increasing `order`."""

    order = 0


class ProgressCallback(Callback):
    """Terminal progress on stderr: a bar during each epoch, then one line of results per epoch."""

    order = 10

    def __init__(self, file=None, width: int = 30):
        self.file, self.width = file, width

    def _out(self):
        return self.file or sys.stderr

    def before_fit(self, learn):
        self._every = max(1, learn.n_iter // self.width)
        self._bar = self._out().isatty()

    def after_batch(self, learn):
        if self._bar and (learn.iter % self._every == 0 or learn.iter == learn.n_iter - 1):
            done = int(self.width * (learn.iter + 1) / learn.n_iter)
            print(f"\repoch {learn.epoch + 1}/{learn.n_epoch} [{'#' * done}{'.' * (self.width - done)}]",
                  end="", file=self._out(), flush=True)

    def after_epoch(self, learn):
        row = learn.recorder.rows[-1]
        cols = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "seconds"))
        clear = "\r\033[K" if self._bar else ""
        print(f"{clear}epoch {row['epoch']}/{learn.n_epoch}  {cols}  {row['seconds']:.2f}s", file=self._out(),
              flush=True)

    def after_fit(self, learn):
        if learn.recorder.message:
            clear = "\r\033[K" if self._bar else ""
            print(f"{clear}{learn.recorder.message}", file=self._out(), flush=True)


class SGD:
    """Plain SGD: p -= lr * p.grad for every parameter in one fused call; zero_grad drops the gradients."""

    def __init__(self, params, lr: float):
        self.params, self.lr = [p for p in params if p.requires_grad], lr

    def step(self) -> None:
        with torch.no_grad():
            params = [p for p in self.params if p.grad is not None]
            if params:
                torch._foreach_add_(params, [p.grad for p in params], alpha=-self.lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


class Recorder:
    """What happened during `fit`: one row per finished epoch, and whether (and when) training diverged.

    rows: [{"epoch": 1, "train_loss": ..., "valid_loss": ..., "<metric>": ..., "seconds": ...}, ...]
    A diverged epoch gets no row: its numbers are not numbers. diverged_at is its 1-based index.
    """

    def __init__(self):
        self.rows: list[dict] = []
        self.diverged_at: int | None = None
        self.message: str = ""

    def __repr__(self) -> str:
        lines = ["  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())
                 for r in self.rows]
        return "\n".join(lines + ([self.message] if self.message else [])) or "Recorder(no epochs yet)"


def _name(fn) -> str:
    fn = getattr(fn, "func", fn)  # functools.partial
    return getattr(fn, "__name__", type(fn).__name__)


def default_threads(model) -> int | None:
    """CPU threads for fitting `model`: 1 for tiny models (under 10,000 parameters, like the linear model), whose
    products are too small to split across threads; None (torch's current setting) for anything bigger."""
    return 1 if sum(p.numel() for p in model.parameters()) < 10_000 else None


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Learner:
    """Data + model + optimizer + loss + metrics, and `fit` to train them."""

    def __init__(self, dls, model, opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy, cbs=(), device=None,
                 threads: int | None = None):
        """threads: CPU threads while fitting; by default `default_threads(model)`: 1 for tiny models, otherwise
        torch's current setting (every core, unless the caller chose fewer, as the lessons do to leave a core for
        the browser)."""
        self.device = torch.device(device) if device is not None else default_device()
        self.dls, self.model = dls, model.to(self.device)
        if hasattr(dls, "to"):
            dls.to(self.device)  # stacked tensors move once, not batch by batch
        self.opt_func, self.loss_func = opt_func, loss_func
        self.metrics = [] if metrics is None else list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
        self.cbs = list(cbs)
        if threads is None and self.device.type == "cpu":
            threads = default_threads(model)
        self.threads = threads
        self.recorder = Recorder()
        self.opt = None
        self.epoch = self.n_epoch = self.iter = self.n_iter = 0
        self.loss = None

    # --- callbacks ---
    def _hooks(self, name: str) -> list:
        return [getattr(cb, name) for cb in sorted(self.cbs, key=lambda cb: cb.order) if hasattr(cb, name)]

    def _call(self, name: str) -> None:
        for hook in self._hooks(name):
            hook(self)

    # --- training ---
    def fit(self, n_epoch: int, lr: float) -> Recorder:
        """Train for `n_epoch` epochs at learning rate `lr` (a fresh optimizer, the model as it is now)."""
        self.n_epoch, self.lr = n_epoch, lr
        self.recorder = Recorder()
        self.opt = self.opt_func(list(self.model.parameters()), lr)
        self.n_iter = len(self.dls.train)
        self._after_batch = self._hooks("after_batch")
        saved_threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            self._call("before_fit")
            for self.epoch in range(n_epoch):
                self._call("before_epoch")
                start = time.perf_counter()
                train_loss = self._train_epoch()
                values = self._validate(train_loss)  # one read-back from the device per epoch
                if not all(math.isfinite(v) for v in values[:2] if v is not None) or not self._params_finite():
                    k = self.epoch + 1
                    self.recorder.diverged_at = k
                    self.recorder.message = (f"diverged at epoch {k}: the learning rate is too high for this model; "
                                             "try a smaller one")
                    break
                names = ["train_loss", "valid_loss"] + [_name(m) for m in self.metrics]
                row = {"epoch": self.epoch + 1, **dict(zip(names, values)), "seconds": time.perf_counter() - start}
                self.recorder.rows.append(row)
                self._call("after_epoch")
        except CancelFitException:
            pass
        finally:
            torch.set_num_threads(saved_threads)
        self._call("after_fit")
        return self.recorder

    def _batches(self, dl):
        for xb, yb in dl:
            if xb.device != self.device:  # only collated loaders need moving batch by batch
                xb, yb = xb.to(self.device), yb.to(self.device)
            yield xb, yb

    def _train_epoch(self) -> torch.Tensor:
        model, loss_func, opt, after_batch = self.model, self.loss_func, self.opt, self._after_batch
        model.train()
        losses, sizes = [], []
        for i, (xb, yb) in enumerate(self._batches(self.dls.train)):
            self.iter = i
            loss = loss_func(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
            self.loss = loss.detach()
            losses.append(self.loss)
            sizes.append(len(xb))
            for hook in after_batch:
                hook(self)
        if not losses:
            return torch.tensor(float("nan"))
        weights = torch.tensor(sizes, dtype=losses[0].dtype, device=losses[0].device)
        return (torch.stack(losses) * weights).sum() / weights.sum()

    def _validate(self, train_loss: torch.Tensor) -> list[float]:
        """[train_loss, valid_loss, *metrics] as floats; losses and metrics are means weighted by batch size."""
        model, loss_func, metrics = self.model, self.loss_func, self.metrics
        model.eval()
        sums, n = None, 0
        with torch.no_grad():
            for xb, yb in self._batches(self.dls.valid):
                preds = model(xb)
                vals = torch.stack([loss_func(preds, yb).float()] + [m(preds, yb).float() for m in metrics]) * len(xb)
                sums = vals if sums is None else sums + vals
                n += len(xb)
        if sums is None:
            return [float(train_loss)] + [None] * (1 + len(metrics))  # no validation data
        return torch.cat([train_loss.float().reshape(1).to(sums.device), sums / n]).tolist()

    def _params_finite(self) -> bool:
        with torch.no_grad():
            return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())
