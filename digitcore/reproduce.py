"""Re-run the chapter and put the book's numbers beside ours (`reproduce`), and time our engine (`bench`).

The book's setup, followed exactly: training batches of 256 in the data's order (fastai's DataLoader does not
shuffle unless asked, and the chapter does not ask), validation batches of 256, plain SGD, mnist_loss.
"""

import contextlib
import os
import sys
import threading
import time

import torch
from torch import nn

from .chapter import batch_accuracy, init_params, mnist_loss, pixel_similarity, simple_net, train_epoch, validate_epoch
from .data import load_sample
from .dataloader import DataLoader, DataLoaders
from .learner import Callback, Learner, default_device, default_threads
from .models import linear_model, resnet18_digits, simple_net_model

BOOK = {
    "pixel_similarity": {"threes": 0.9168, "sevens": 0.9854, "mean": 0.9511},
    "linear": 0.9676,  # Learner(dls, nn.Linear(784, 1), SGD, mnist_loss, batch_accuracy).fit(10, lr=1)
    "simple_net": 0.9828,  # same with Linear(784,30)-ReLU-Linear(30,1), fit(40, 0.1)
    "resnet18": 0.9971,  # resnet18, fit_one_cycle(1, 0.1), cross-entropy
}
RUNS = {"linear": (linear_model, 10, 1.0), "simple_net": (simple_net_model, 40, 0.1)}
BATCH_SIZE = 256


def book_dls(data, device=None, seed: int = 0, shuffle: bool = False) -> DataLoaders:
    """The chapter's loaders over stacked tensors: train and valid in batches of 256."""
    dls = DataLoaders.from_sample(data, BATCH_SIZE, BATCH_SIZE, shuffle=shuffle, seed=seed)
    return dls.to(device) if device is not None else dls


class _Clock:
    """Wall seconds and this process's CPU seconds (the fairer figure when other programs share the cores)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def figures(self) -> dict:
        return {"seconds": self.wall, "cpu_seconds": self.cpu}


def train_book_model(data, which: str, seed: int = 0, device=None, cbs=(), n_epoch=None, lr=None) -> dict:
    """Train "linear" or "simple_net" as the chapter does; returns accuracy, seconds and the recorder."""
    model_fn, book_epochs, book_lr = RUNS[which]
    device = device or default_device()
    learn = Learner(book_dls(data, device, seed), model_fn(seed=seed), loss_func=mnist_loss,
                    metrics=batch_accuracy, cbs=cbs, device=device)
    with _Clock() as clock:
        rec = learn.fit(n_epoch or book_epochs, book_lr if lr is None else lr)
    acc = rec.rows[-1]["batch_accuracy"] if rec.rows else float("nan")
    return {"accuracy": acc, **clock.figures(), "recorder": rec}


def hand_params(seed: int = 0) -> list[torch.Tensor]:
    """The hand-written simple_net's parameters as the chapter makes them: w1, b1, w2, b2 from init_params, N(0, 1)."""
    g = torch.Generator().manual_seed(seed)
    return [init_params((28 * 28, 30), generator=g), init_params(30, generator=g),
            init_params((30, 1), generator=g), init_params(1, generator=g)]


def simple_net_by_hand(data, seed: int = 0, n_epoch: int = 40, lr: float = 0.1) -> dict:
    """The chapter's hand-written simple_net (hand_params, no nn.Module), trained by the chapter's own train_epoch
    and validate_epoch over the book's loaders; the accuracy after every epoch."""
    w1, b1, w2, b2 = hand_params(seed)

    def model(xb):
        return simple_net(xb, w1, b1, w2, b2)

    dls = book_dls(data, "cpu")
    accuracies = []
    with _Clock() as clock:
        for _ in range(n_epoch):
            train_epoch(model, lr, [w1, b1, w2, b2], dls.train)
            accuracies.append(validate_epoch(model, dls.valid))
    return {"accuracy": accuracies[-1], "accuracies": accuracies, **clock.figures()}


def simple_net_with_learner(data, seed: int = 0) -> dict:
    """The book's simple_net run: nn.Sequential, Learner with SGD, mnist_loss and batch_accuracy, fit(40, 0.1), in
    the book's unshuffled batches, on the CPU; the accuracy after every epoch (the book's recorder.values[i][2])."""
    run = train_book_model(data, "simple_net", seed=seed, device="cpu")
    return {**run, "accuracies": [row["batch_accuracy"] for row in run["recorder"].rows]}


BOOK_PATH_RUNS = {"learner": simple_net_with_learner, "by hand": simple_net_by_hand}
_BOOK_PATH_DONE: dict[tuple, dict] = {}  # book_path_run()'s results, per run and data source, for every lesson tab
_BOOK_PATH_LOCK = threading.Lock()  # tabs are threads of one process: the second waits for the first's run


def book_path_run(data, which: str) -> dict:
    """The chapter's 40-epoch simple_net run `which` ("learner" or "by hand"), trained once per process and data
    source: a lesson's every tab reads the same result instead of training again."""
    key = (which, data.source)
    with _BOOK_PATH_LOCK:
        if key not in _BOOK_PATH_DONE:
            _BOOK_PATH_DONE[key] = BOOK_PATH_RUNS[which](data)
        return _BOOK_PATH_DONE[key]


def train_resnet18(data, seed: int = 0, device=None, lr_max: float = 1e-2, epochs: int = 1) -> dict:
    """resnet18 on the 3s and 7s as two classes (3 -> 0, 7 -> 1): Adam, one-cycle, cross-entropy, batch 256.

    The book's cnn_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy, metrics=accuracy)
    .fit_one_cycle(1, 0.1), with these differences (the full table: lesson 08 and docs/book.md): one input channel
    (resnet18_digits' first convolution) instead of three equal ones; torchvision's head (average pool, one linear
    layer) instead of fastai's; torch.optim.Adam without weight decay instead of fastai's Adam (weight decay 0.01);
    torch's OneCycleLR peaking at lr_max = 0.01 instead of fastai's one-cycle peaking at 0.1; batches of 256 with
    the last partial one kept (49 steps) instead of 64 with it dropped (193 steps)."""
    device = device or default_device()
    (tx, ty), (vx, vy) = data.train_xy(), data.valid_xy()
    to_images = lambda x: x.view(-1, 1, 28, 28)
    to_class = lambda y: (1 - y).view(-1).long()
    dls = DataLoaders(
        DataLoader.from_tensors(to_images(tx), to_class(ty), batch_size=BATCH_SIZE, shuffle=True, seed=seed),
        DataLoader.from_tensors(to_images(vx), to_class(vy), batch_size=BATCH_SIZE),
    )

    def accuracy(preds, targets):
        return (preds.argmax(dim=1) == targets).float().mean()

    model = resnet18_digits(2, seed=seed)
    if torch.device(device).type == "cpu":
        model = model.to(memory_format=torch.channels_last)  # faster convolutions on a CPU
    learn = Learner(dls, model, opt_func=torch.optim.Adam,
                    loss_func=nn.functional.cross_entropy, metrics=accuracy, device=device,
                    cbs=[OneCycle(lr_max)])
    start = time.perf_counter()
    rec = learn.fit(epochs, lr_max)
    return {"accuracy": rec.rows[-1]["accuracy"] if rec.rows else float("nan"),
            "seconds": time.perf_counter() - start, "recorder": rec}


class OneCycle(Callback):
    """Callback: torch's OneCycleLR over the whole fit, stepped after every batch (needs a torch optimizer)."""

    order = -1

    def __init__(self, lr_max: float):
        self.lr_max = lr_max

    def before_fit(self, learn):
        total = learn.n_epoch * learn.n_iter
        self.sched = torch.optim.lr_scheduler.OneCycleLR(learn.opt, max_lr=self.lr_max, total_steps=total)

    def after_batch(self, learn):
        if self.sched.last_epoch < self.sched.total_steps - 1:
            self.sched.step()


def reproduce(path=None, deep: bool = False, seed: int = 0, device=None) -> dict:
    """Every result of the chapter, re-run: {name: {"accuracy", "seconds", "book"}}."""
    data = load_sample(path)
    start = time.perf_counter()
    pix = pixel_similarity(data)
    out = {"pixel_similarity": {"accuracy": pix["mean"], "seconds": time.perf_counter() - start,
                                "book": BOOK["pixel_similarity"]["mean"], "threes": pix["threes"],
                                "sevens": pix["sevens"], "book_threes": BOOK["pixel_similarity"]["threes"],
                                "book_sevens": BOOK["pixel_similarity"]["sevens"]}}
    for name in RUNS:
        r = train_book_model(data, name, seed=seed, device=device)
        out[name] = {"accuracy": r["accuracy"], "seconds": r["seconds"], "book": BOOK[name]}
    if deep:
        r = train_resnet18(data, seed=seed, device=device)
        out["resnet18"] = {"accuracy": r["accuracy"], "seconds": r["seconds"], "book": BOOK["resnet18"]}
    out["data"] = data.source
    return out


# --- bench: the same training, three ways ---------------------------------------------------------------


class ItemByItemLoader:
    """BASELINE ONLY: a loader that gathers and collates every batch item by item, as fastai's DataLoader
    does for the book's `list(zip(x, y))` dataset. Kept to measure what stacking once buys."""

    def __init__(self, dataset, batch_size: int):
        self.dataset, self.batch_size = dataset, batch_size

    def __iter__(self):
        for i in range(0, len(self.dataset), self.batch_size):
            items = [self.dataset[j] for j in range(i, min(i + self.batch_size, len(self.dataset)))]
            yield torch.stack([x for x, _ in items]), torch.stack([y for _, y in items])


def _book_loop(data, which: str, seed: int) -> dict:
    """BASELINE: the chapter's hand-written loop (train_epoch / validate_epoch over item-by-item loaders)."""
    model_fn, n_epoch, lr = RUNS[which]
    (tx, ty), (vx, vy) = data.train_xy(), data.valid_xy()
    dl = ItemByItemLoader(list(zip(tx, ty)), BATCH_SIZE)
    valid_dl = ItemByItemLoader(list(zip(vx, vy)), BATCH_SIZE)
    model = model_fn(seed=seed)
    params = list(model.parameters())
    with _Clock() as clock:
        for _ in range(n_epoch):
            train_epoch(model, lr, params, dl)
            acc = validate_epoch(model, valid_dl)
    return {"accuracy": acc, **clock.figures()}


def _bare_loop(data, which: str, seed: int) -> dict:
    """FLOOR: the least an eager PyTorch loop can do, for scale: slices of stacked tensors, forward, loss,
    backward, one fused step; validation in one batch; no callbacks, no recording. The Learner's overhead is its
    distance from this; no eager engine can beat fastai by more than this loop does."""
    model_fn, n_epoch, lr = RUNS[which]
    (tx, ty), (vx, vy) = data.train_xy(), data.valid_xy()
    model = model_fn(seed=seed)
    params = list(model.parameters())
    saved, threads = torch.get_num_threads(), default_threads(model)  # as the Learner chooses
    if threads:
        torch.set_num_threads(threads)
    try:
        with _Clock() as clock:
            for _ in range(n_epoch):
                for i in range(0, len(tx), BATCH_SIZE):
                    mnist_loss(model(tx[i : i + BATCH_SIZE]), ty[i : i + BATCH_SIZE]).backward()
                    with torch.no_grad():
                        torch._foreach_add_(params, [p.grad for p in params], alpha=-lr)
                    for p in params:
                        p.grad = None
                with torch.no_grad():
                    acc = float(batch_accuracy(model(vx), vy))
    finally:
        torch.set_num_threads(saved)
    return {"accuracy": acc, **clock.figures()}


def _fastai(data, which: str, seed: int, book_setup: bool = True):
    """fastai 2's Learner on the book's dls, if fastai is importable here; else None.

    book_setup: as the book runs it (`from fastai.vision.all import *` gives every Learner a progress bar and the
    epoch table); its output goes to /dev/null. False: the leanest fastai, without progress bar or table."""
    try:
        from fastai.callback.progress import ProgressCallback
        from fastai.data.core import DataLoaders as FDataLoaders
        from fastai.data.load import DataLoader as FDataLoader
        from fastai.learner import Learner as FLearner
        from fastai.optimizer import SGD as FSGD
    except ImportError:
        return None
    model_fn, n_epoch, lr = RUNS[which]
    (tx, ty), (vx, vy) = data.train_xy(), data.valid_xy()
    dls = FDataLoaders(FDataLoader(list(zip(tx, ty)), batch_size=BATCH_SIZE),
                       FDataLoader(list(zip(vx, vy)), batch_size=BATCH_SIZE), device=torch.device("cpu"))
    learn = FLearner(dls, model_fn(seed=seed), opt_func=FSGD, loss_func=mnist_loss, metrics=batch_accuracy)
    if book_setup:
        if not any(isinstance(cb, ProgressCallback) for cb in learn.cbs):
            learn.add_cb(ProgressCallback())
    else:
        learn.remove_cbs([cb for cb in learn.cbs if isinstance(cb, ProgressCallback)])
        learn.logger = lambda *args, **kwargs: None
    with _output_to_devnull(), _Clock() as clock:
        learn.fit(n_epoch, lr=lr)
    return {"accuracy": float(learn.recorder.values[-1][2]), **clock.figures()}


@contextlib.contextmanager
def _output_to_devnull():
    """Send this process's stdout and stderr to /dev/null, at the file-descriptor level (fastprogress writes
    around sys.stdout)."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1), os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush(), sys.stderr.flush()
        os.dup2(saved[0], 1), os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def bench(path=None, seed: int = 0, repeat: int = 3) -> dict:
    """Time linear fit(10, lr=1) and simple_net fit(40, 0.1): ours, the book's loop, fastai (if importable).

    On the CPU, in this process, on the same data, models and initial weights, after one untimed warm-up run.
    Each way runs `repeat` times, the ways taking turns, and reports its median (times on a shared machine
    wander by a third from run to run). Each way runs as it would by default: torch's thread count for the
    book's loop and fastai, the Learner's own choice for ours (one thread for the linear model, torch's count
    for simple_net)."""
    return _bench(load_sample(path), seed, max(1, repeat))


def _median_run(runs: list[dict]) -> dict:
    """The run with the median wall time, and every run's wall seconds."""
    ranked = sorted(runs, key=lambda r: r["seconds"])
    return {**ranked[(len(ranked) - 1) // 2], "runs": [round(r["seconds"], 4) for r in runs]}


def _bench(data, seed: int, repeat: int) -> dict:
    import importlib.metadata

    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "data": data.source,  # torch's count
           "repeat": repeat}
    try:
        out["fastai"] = importlib.metadata.version("fastai")
    except importlib.metadata.PackageNotFoundError:
        out["fastai"] = None
    train_book_model(data, "linear", seed=seed, device="cpu")  # warm-up: torch's one-time start-up costs would
    for which in RUNS:                                          # otherwise land on whichever way runs first (ours)
        ways = {"ours": lambda: train_book_model(data, which, seed=seed, device="cpu"),
                "bare_loop": lambda: _bare_loop(data, which, seed),
                "book_loop": lambda: _book_loop(data, which, seed)}
        if out["fastai"]:
            ways["fastai"] = lambda: _fastai(data, which, seed)
            ways["fastai_lean"] = lambda: _fastai(data, which, seed, book_setup=False)
        runs = {way: [] for way in ways}
        for _ in range(repeat):
            for way, run in ways.items():
                r = run()
                if r is not None:  # fastai installed but not importable: no row
                    runs[way].append({"accuracy": r["accuracy"], "seconds": r["seconds"],
                                      "cpu_seconds": r["cpu_seconds"]})
        row = {way: _median_run(rs) for way, rs in runs.items() if rs}
        for other in ("bare_loop", "book_loop", "fastai", "fastai_lean"):
            if other in row:
                row[f"speedup_vs_{other}"] = row[other]["seconds"] / row["ours"]["seconds"]
                row[f"cpu_speedup_vs_{other}"] = row[other]["cpu_seconds"] / row["ours"]["cpu_seconds"]
        out[which] = row
    return out
