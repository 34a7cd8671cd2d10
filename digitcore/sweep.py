"""Every learning rate at once: the linear model trained for many learning rates in one batched run.

    res = sweep(data, [0.01, 0.1, 1, 10], bs=256, epochs=5)   # one run; four models side by side
    res.member(1).rows, res.member(1).diverged_at              # what lr 1 did, epoch by epoch
    res.as_json()                                              # one object per lr: lr, accuracy, loss, diverged_at

How: the k models' weights are the k columns of one (784, k) matrix W and one (k,) bias. A batch xb (n, 784)
goes through all of them in one product, xb @ W + b -> (n, k), and column j is model j's activations. The loss
of column j depends on column j only, so the gradient of the sum of the k losses is, column by column, each
model's own gradient; the step subtracts grad * lrs with a (k,) vector of learning rates. Same starting
weights and the same batches as a separate run with that seed: each column is the run its lr would have had
alone, to float rounding (tests/test_sweep.py checks it against the Learner).

A model whose loss or weights stop being finite at the end of an epoch is marked diverged at that epoch (as
the Learner marks a run) and frozen: its column is set to 0 and its learning rate to 0. No column ever reads
another, so its infinities could not reach the others anyway; freezing keeps them out of the arithmetic.

Snapshots of every model's weights are kept at up to MAX_SNAPSHOTS points of the run (after every update for a
short run), so that a page can replay how the weights changed and chart accuracy update by update.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from . import models
from .dataloader import DataLoader

LOSSES = ("mnist_loss", "squared")
INITS = ("nn.Linear", "N(0,1)")
MAX_SNAPSHOTS = 256
LAB_LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000]  # lesson 05's slider
SATURATED = 10.0  # |activation| beyond which the sigmoid is flat (slope below 5e-5)


def column_losses(preds: torch.Tensor, yb: torch.Tensor, loss: str) -> torch.Tensor:
    """(k,) losses of (n, k) activations against (n, 1) targets: each column's own mean."""
    if loss == "squared":
        return ((preds - yb) ** 2).mean(0)
    p = preds.sigmoid()
    return torch.where(yb == 1, 1 - p, p).mean(0)


def column_accuracy(preds: torch.Tensor, yb: torch.Tensor, loss: str) -> torch.Tensor:
    """(k,) accuracies: a 3 is an activation above 0 (mnist_loss: sigmoid above 0.5) or above 0.5 (squared)."""
    guess = preds > (0.5 if loss == "squared" else 0.0)
    return (guess == (yb == 1)).float().mean(0)


def initial_weights(init: str = "nn.Linear", seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(784,) weights and a bias to start from: nn.Linear's (uniform within +-1/28, as digitcore's Learner starts)
    or init_params' N(0, 1) (the book's hand-made model), drawn from `seed` without touching the global RNG."""
    if init == "nn.Linear":
        lin = models.linear_model(seed=seed)
        return lin.weight.detach()[0].clone(), lin.bias.detach()[0].clone()
    if init == "N(0,1)":
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(28 * 28, generator=gen), torch.randn((), generator=gen)
    raise ValueError(f"init must be one of {INITS}, got {init!r}")


def side_by_side(w0: torch.Tensor, b0: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """k copies of one linear model's start, as one model per column: W (784, k) and b (k,)."""
    W = w0[:, None].repeat(1, k).requires_grad_()  # model j's weights are column j
    b = b0.repeat(k).requires_grad_()
    return W, b


def step_every_model(W: torch.Tensor, b: torch.Tensor, lrs: torch.Tensor, xb, yb, loss: str) -> torch.Tensor:
    """One SGD update of all k models on the batch (xb, yb), model j with its own lrs[j]; returns their k losses."""
    losses = column_losses(xb @ W + b, yb, loss)  # (k,): each model's own loss
    losses.sum().backward()  # column j of W.grad is model j's gradient: no column reads another
    with torch.no_grad():
        W -= W.grad * lrs
        b -= b.grad * lrs
    W.grad = b.grad = None
    return losses.detach()


def train_subset(n_total: int, n: int | None, seed: int = 0) -> torch.Tensor | None:
    """Indices of a random subset of n of the n_total training images, kept in their original order (so an
    unshuffled loader still sees all 3s, then all 7s); None for all of them."""
    if n is None or n >= n_total:
        return None
    gen = torch.Generator().manual_seed(seed + 1)
    return torch.randperm(n_total, generator=gen)[:n].sort().values


@dataclass
class Member:
    """One learning rate's run inside a sweep, with the Learner's Recorder fields."""

    lr: float
    rows: list[dict] = field(default_factory=list)  # {"epoch", "train_loss", "valid_loss", "batch_accuracy", "seconds"}
    start: dict = field(default_factory=dict)  # valid_loss, batch_accuracy, saturated of the untrained model
    diverged_at: int | None = None
    message: str = ""
    saturated: float = 0.0  # share of validation activations beyond +-10 at the end (0 when diverged)
    weight_max: float = 0.0  # largest |parameter| at the end

    @property
    def accuracy(self) -> float | None:
        """Final validation accuracy; None when the run diverged (its last weights are not numbers)."""
        return None if self.diverged_at or not self.rows else self.rows[-1]["batch_accuracy"]

    @property
    def loss(self) -> float | None:
        return None if self.diverged_at or not self.rows else self.rows[-1]["valid_loss"]

    def as_json(self) -> dict:
        return {"lr": self.lr, "accuracy": self.accuracy, "loss": self.loss, "diverged_at": self.diverged_at}


@dataclass
class Sweep:
    """A batched run: its settings, one Member per learning rate, and the weights' snapshots."""

    settings: dict
    members: list[Member]
    seconds: float = 0.0
    updates: int = 0  # parameter updates (batches) done, the same for every member
    stopped: str = ""  # why it stopped early (the time budget), or ""
    steps: list[int] = field(default_factory=list)  # the update count at each snapshot (0 = untrained)
    epoch_ends: list[int] = field(default_factory=list)  # the update count at the end of each epoch
    snapshots: torch.Tensor | None = None  # (len(steps), 785, k): 784 weights and the bias of every member
    cached: bool = False  # set by digitcore.lesson_kit.lab_sweep when it comes from its cache

    @property
    def lrs(self) -> list[float]:
        return [m.lr for m in self.members]

    def index(self, lr: float) -> int:
        for i, m in enumerate(self.members):
            if math.isclose(m.lr, float(lr), rel_tol=1e-9):
                return i
        raise KeyError(f"lr {lr:g} is not in this sweep ({', '.join(f'{m.lr:g}' for m in self.members)})")

    def member(self, lr: float) -> Member:
        return self.members[self.index(lr)]

    def weights(self, lr: float) -> torch.Tensor:
        """(len(steps), 785) snapshots of one member: 784 weights then the bias."""
        return self.snapshots[:, :, self.index(lr)]

    def as_json(self) -> list[dict]:
        return [m.as_json() for m in self.members]


def sweep(data, lrs, bs: int = 256, epochs: int = 5, *, seed: int = 0, loss: str = "mnist_loss",
          shuffle: bool = True, init: str = "nn.Linear", n_train: int | None = None,
          budget_s: float | None = None, on_batch=None, device: str = "cpu", threads: int | None = 1) -> Sweep:
    """Train one linear model per learning rate in `lrs`, all in one batched run (see the module docstring).

    data: a DigitSample, or a tuple (train_x, train_y, valid_x, valid_y) of float tensors.
    The batches are those of DataLoader.from_tensors(train_x, train_y, batch_size=bs, shuffle=shuffle, seed=seed),
    as in digitcore.training.fit, so a member equals a separate run of training.fit (or the Learner) with that seed.
    n_train: train on a random subset of that many images (in their original order), or None for all.
    budget_s: stop between epochs when one more would pass it, or inside an epoch once it is spent (that partial
    epoch is still validated). on_batch(epoch, i, n_iter) is called after every update.
    threads: CPU threads while training (default 1: the products are small, and on a busy 2-core machine two
    threads fighting other processes made a sweep ten times slower); None keeps torch's setting.
    """
    # A run with no budget and no progress callback depends on its arguments alone: every student's tab on a
    # lesson server asks for the same ones, so it is trained once per process and shared (treat it as read-only).
    key = None
    if budget_s is None and on_batch is None and not isinstance(data, tuple):
        key = (id(data), tuple(float(lr) for lr in lrs), int(bs), int(epochs), int(seed), loss, bool(shuffle), init,
               n_train, device)
        if key in _DONE:
            return _DONE[key][1]
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        result = _sweep(data, lrs, bs, epochs, seed, loss, shuffle, init, n_train, budget_s, on_batch, device)
    finally:
        torch.set_num_threads(before)
    if key is not None:
        if len(_DONE) >= 16:
            _DONE.pop(next(iter(_DONE)))
        _DONE[key] = (data, result)   # the data held too, so its id cannot be reused while the entry lives
    return result


_DONE: dict[tuple, tuple] = {}   # sweep()'s shared results, oldest first


def _sweep(data, lrs, bs, epochs, seed, loss, shuffle, init, n_train, budget_s, on_batch, device) -> Sweep:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    lrs = [float(lr) for lr in lrs]
    if not lrs:
        raise ValueError("no learning rates to sweep: give at least one")
    if bs < 1 or epochs < 1:
        raise ValueError(f"batch size and epochs must be at least 1, got bs={bs}, epochs={epochs}")
    train_x, train_y, valid_x, valid_y = data if isinstance(data, tuple) else (*data.train_xy(), *data.valid_xy())
    subset = train_subset(len(train_x), n_train, seed)
    if subset is not None:
        train_x, train_y = train_x[subset], train_y[subset]
    dev = torch.device(device)
    valid_x, valid_y = valid_x.to(dev), valid_y.to(dev)
    dl = DataLoader.from_tensors(train_x, train_y, batch_size=int(bs), shuffle=shuffle, seed=seed).to(dev)
    k, n_iter = len(lrs), len(dl)
    w0, b0 = initial_weights(init, seed)
    W, b = side_by_side(w0.to(dev), b0.to(dev), k)
    lr_vec = torch.tensor(lrs, device=dev)
    settings = {"lrs": lrs, "bs": int(bs), "epochs": int(epochs), "seed": int(seed), "loss": loss,
                "shuffle": bool(shuffle), "init": init, "n_train": len(train_x)}
    res = Sweep(settings=settings, members=[Member(lr) for lr in lrs])

    every = max(1, math.ceil(n_iter * int(epochs) / MAX_SNAPSHOTS))
    snaps, steps = [], []

    def snapshot(step: int) -> None:
        snaps.append(torch.cat([W.detach(), b.detach()[None]]).clone())
        steps.append(step)

    def evaluate() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            preds = valid_x @ W + b
            sat = (preds.abs() > SATURATED).float().mean(0)
            return column_losses(preds, valid_y, loss), column_accuracy(preds, valid_y, loss), sat

    v_loss, v_acc, v_sat = evaluate()
    for j, m in enumerate(res.members):
        m.start = {"valid_loss": float(v_loss[j]), "batch_accuracy": float(v_acc[j]), "saturated": float(v_sat[j])}
    snapshot(0)
    alive = torch.ones(k, dtype=torch.bool, device=dev)
    t0 = time.perf_counter()
    updates = 0
    for epoch in range(int(epochs)):
        start = time.perf_counter()
        loss_sum, n_seen = torch.zeros(k, device=dev), 0
        cut = None
        for i, (xb, yb) in enumerate(dl):
            if i > 0 and budget_s is not None and time.perf_counter() - t0 > budget_s:
                cut = (i, n_iter)
                break
            loss_sum += step_every_model(W, b, lr_vec, xb, yb, loss) * len(xb)
            n_seen += len(xb)
            updates += 1
            if updates % every == 0:
                snapshot(updates)
            if on_batch:
                on_batch(epoch, i + 1, n_iter)
        if steps[-1] != updates:
            snapshot(updates)
        res.epoch_ends.append(updates)
        train_loss = loss_sum / max(n_seen, 1)
        v_loss, v_acc, _ = evaluate()
        with torch.no_grad():
            finite = (torch.isfinite(train_loss) & torch.isfinite(v_loss) & torch.isfinite(W).all(0)
                      & torch.isfinite(b))
        seconds = time.perf_counter() - start
        values = torch.stack([train_loss, v_loss, v_acc, finite.float()]).tolist()  # one read-back per epoch
        for j, m in enumerate(res.members):
            if not alive[j]:
                continue
            if not values[3][j]:
                m.diverged_at = epoch + 1
                m.message = (f"diverged at epoch {epoch + 1}: the learning rate is too high for this model; "
                             "try a smaller one")
                alive[j] = False
                with torch.no_grad():  # frozen: no infinities in later arithmetic
                    W[:, j] = 0.0
                    b[j] = 0.0
                    lr_vec[j] = 0.0
                continue
            m.rows.append({"epoch": epoch + 1, "train_loss": values[0][j], "valid_loss": values[1][j],
                           "batch_accuracy": values[2][j], "seconds": seconds})
        if cut:
            i, n = cut
            res.stopped = (f"stopped during epoch {epoch + 1}, after {i:,} of its {n:,} updates: the run had used up "
                           f"its time budget of {budget_s:g} s; epoch {epoch + 1} in the chart is that partial one")
            break
        elapsed = time.perf_counter() - t0
        if not bool(alive.any()):
            break
        if budget_s is not None and epoch + 1 < int(epochs) and elapsed + seconds > budget_s:
            res.stopped = (f"stopped after {epoch + 1} of {epochs} epochs: one more would pass the time budget of "
                           f"{budget_s:g} s ({elapsed:.1f} s so far)")
            break
    res.seconds, res.updates = time.perf_counter() - t0, updates
    res.steps, res.snapshots = steps, torch.stack(snaps).cpu()
    _, _, sat = evaluate()
    with torch.no_grad():
        wmax = torch.maximum(W.abs().amax(0), b.abs()).tolist()
    for j, m in enumerate(res.members):
        if not m.diverged_at:
            m.saturated, m.weight_max = float(sat[j]), wmax[j]
    return res


# ---------------------------------------------------------------------------------------------------------------
# `digitcore bench`: the sweep against one run of the same length, side by side

def bench(data, lrs, bs: int = 256, epochs: int = 5, repeat: int = 3, seed: int = 0) -> dict:
    """Seconds for one Learner run (lr 1) and for the sweep over all `lrs`, the two taking turns, `repeat` times
    each (median), after one untimed warm-up of each. Both on one CPU thread, as the lab runs them."""
    from .chapter import batch_accuracy, mnist_loss
    from .dataloader import DataLoaders
    from .learner import Learner

    tensors = (*data.train_xy(), *data.valid_xy())

    def one_run() -> float:
        dls = DataLoaders.from_sample(data, bs, shuffle=True, seed=seed)
        learn = Learner(dls, models.linear_model(seed=seed), loss_func=mnist_loss, metrics=batch_accuracy,
                        device="cpu", threads=1)
        t0 = time.perf_counter()
        learn.fit(epochs, 1.0)
        return time.perf_counter() - t0

    def all_at_once() -> float:
        return sweep(tensors, lrs, bs, epochs, seed=seed, threads=1).seconds

    one_run(), all_at_once()  # warm-up
    singles, sweeps = [], []
    for _ in range(max(1, repeat)):
        singles.append(one_run())
        sweeps.append(all_at_once())
    single, together = sorted(singles)[(len(singles) - 1) // 2], sorted(sweeps)[(len(sweeps) - 1) // 2]
    return {"lrs": len(lrs), "bs": bs, "epochs": epochs, "one_run_seconds": single, "sweep_seconds": together,
            "ratio": together / single, "target_ratio": 3.0, "one_run_runs": singles, "sweep_runs": sweeps}


# ---------------------------------------------------------------------------------------------------------------
# `digitcore sweep`


def parse_lrs(text: str) -> list[float]:
    """"0.1,1,10" -> [0.1, 1.0, 10.0]; a clear error naming the bad item otherwise."""
    out = []
    for item in text.split(","):
        try:
            lr = float(item)
        except ValueError:
            raise ValueError(f"--lrs: {item.strip()!r} is not a number; give learning rates like 0.01,0.1,1") from None
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"--lrs: {item.strip()} is not a positive learning rate")
        out.append(lr)
    return out


def table(res: Sweep) -> str:
    """The sweep as a text table, one line per learning rate."""
    s = res.settings
    lines = [f"{len(res.members)} learning rates trained together: batch size {s['bs']}, {s['epochs']} epochs, "
             f"{s['n_train']:,} training images, seed {s['seed']}, {res.updates:,} updates, {res.seconds:.2f} s",
             f"{'lr':>10}{'accuracy':>10}{'loss':>10}  diverged at epoch"]
    for m in res.members:
        acc = "" if m.accuracy is None else f"{m.accuracy:.4f}"
        loss = "" if m.loss is None else f"{m.loss:.4f}"
        lines.append(f"{m.lr:>10g}{acc:>10}{loss:>10}  {m.diverged_at or ''}")
    if res.stopped:
        lines.append(res.stopped)
    return "\n".join(lines)


def bench_sweep(path=None, repeat: int = 3) -> dict:
    """`digitcore bench`'s sweep row: the lab's 17 slider learning rates together against one run, at the lab's
    defaults (batch size 256, 5 epochs)."""
    from .data import load_sample

    return bench(load_sample(path), LAB_LRS, repeat=repeat)


def bench_text(res: dict) -> str:
    return (f"sweep: {res['lrs']} learning rates trained together (batch size {res['bs']}, {res['epochs']} epochs) "
            f"{res['sweep_seconds']:.2f} s, one run {res['one_run_seconds']:.2f} s: {res['ratio']:.1f}x the time of "
            f"one run (target: at most {res['target_ratio']:g}x; median of {len(res['sweep_runs'])}, taking turns)")


def main(path, lrs: str | None, bs: int, epochs: int, as_json: bool, seed: int = 0) -> int:
    """`digitcore sweep`: print the table, or one JSON object per lr (a JSON list)."""
    import json
    import sys

    from .data import load_sample

    try:
        rates = parse_lrs(lrs) if lrs else LAB_LRS
        if bs < 1 or epochs < 1:
            raise ValueError(f"--bs and --epochs must be at least 1 (got --bs {bs}, --epochs {epochs})")
    except ValueError as e:
        print(f"digitcore sweep: {e}", file=sys.stderr)
        return 2
    res = sweep(load_sample(path), rates, bs, epochs, seed=seed)
    print(json.dumps(res.as_json(), indent=2) if as_json else table(res))
    return 0
