"""Attack: ignores SIGTERM and SIGINT at import, then apply_step sleeps forever."""

# ruff: noqa  (deliberately hostile code)

import signal
import time as _time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
import torch


def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def apply_step(params, time, speed, lr):
    while True:
        _time.sleep(0.1)


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
