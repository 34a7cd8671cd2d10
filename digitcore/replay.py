"""What a sweep's weight snapshots say, without marimo: accuracy at any snapshot, per epoch, and the mistakes.

    epoch_accuracies(data, sw, lr)        # train and valid accuracy at the start and after each epoch
    accuracy_at(x, y, sw.weights(lr))     # valid accuracy after each update (one value per snapshot)
    confident_mistakes(data, w, k=4)      # the k wrong validation digits with the largest |activation|

`sw` is a digitcore.sweep.Sweep; `data` the DigitSample it trained on (its tensors converted once, by data.py).
"""

from __future__ import annotations

import torch

from . import sweep


def activations(x: torch.Tensor, snaps: torch.Tensor) -> torch.Tensor:
    """(S, n) activations of n images under S snapshots (S, 785) of one model."""
    return snaps[:, :784] @ x.T + snaps[:, 784:]


def accuracy_at(x, y, snaps, loss: str = "mnist_loss") -> list[float]:
    """Accuracy on (x, y) under each of S snapshots: a 3 is an activation above 0 (above 0.5 for squared)."""
    acts = activations(x, snaps)
    guess = acts > (0.5 if loss == "squared" else 0.0)
    return (guess == (y[:, 0] == 1)).float().mean(1).tolist()


def train_set(data, sw) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images the sweep used (all of them, or its n_train subset)."""
    train_x, train_y = data.train_xy()
    idx = sweep.train_subset(len(train_x), sw.settings["n_train"], sw.settings["seed"])
    return (train_x, train_y) if idx is None else (train_x[idx], train_y[idx])


def epoch_accuracies(data, sw, lr: float) -> dict:
    """Train and valid accuracy of one member at the start and after each epoch (from the snapshots)."""
    m = sw.member(lr)
    ends = [0] + sw.epoch_ends[: len(m.rows)]
    snaps = sw.weights(lr)[[sw.steps.index(e) for e in ends]]
    train_x, train_y = train_set(data, sw)
    valid_x, valid_y = data.valid_xy()
    loss = sw.settings["loss"]
    return {"epoch": list(range(len(ends))), "train": accuracy_at(train_x, train_y, snaps, loss),
            "valid": accuracy_at(valid_x, valid_y, snaps, loss)}


def confident_mistakes(data, weights: torch.Tensor, k: int = 4, loss: str = "mnist_loss") -> list[dict]:
    """The k validation digits the model (785 weights and bias) gets wrong with the largest |activation|."""
    valid_x, valid_y = data.valid_xy()
    acts = valid_x @ weights[:784] + weights[784]
    threshold = 0.5 if loss == "squared" else 0.0
    wrong = (acts > threshold) != (valid_y[:, 0] == 1)
    idx = torch.nonzero(wrong).flatten()
    idx = idx[(acts[idx] - threshold).abs().argsort(descending=True)][:k]
    return [{"index": int(i), "label": "3" if valid_y[i, 0] == 1 else "7", "activation": float(acts[i]),
             "image": valid_x[i], "votes": valid_x[i] * weights[:784]} for i in idx]
