"""Attack: reads the checker's files (exercise modules, hidden checks, tests) to find expected values."""

# ruff: noqa  (deliberately hostile code)

import glob
import os
import torch


def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def apply_step(params, time, speed, lr):
    stolen = []
    for pattern in (
        "/work/*/digitcore/exercises/*.py",
        "/work/*/checks/hidden/*.py",
        "/work/*/tests/*.py",
        "../*/digitcore/exercises/*.py",
    ):
        for name in glob.glob(pattern):
            try:
                stolen.append(open(name).read())
            except OSError:
                pass
    if not stolen:
        raise RuntimeError("nothing to steal")
    return torch.zeros_like(time)


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
