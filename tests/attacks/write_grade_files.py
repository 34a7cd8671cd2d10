"""Attack: writes results.json and gradebook.csv wherever the grader might look; train_epoch is wrong."""

# ruff: noqa  (deliberately hostile code)

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _plant():
    fake = '{"score": 50, "tests": []}'
    places = [
        Path("results.json"),
        Path("/tmp/results.json"),
        Path("/tmp/grades/gradebook.csv"),
        _HERE / "results.json",
        _HERE.parent / "grades" / "gradebook.csv",
        _HERE.parent / "grades" / "write_grade_files" / "results.json",
        Path("/autograder/results/results.json"),
    ]
    for p in places:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(fake)
        except OSError:
            pass


_plant()
import torch


def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def apply_step(params, time, speed, lr):
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return preds


def train_epoch(model, lr, params, dl, loss_func=None):
    _plant()


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
