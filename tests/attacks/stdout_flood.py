"""Attack: floods stdout: mnist_loss prints forever, batch_accuracy prints 50 MB then answers."""

# ruff: noqa  (deliberately hostile code)

import sys
import os
import torch


def mnist_loss(predictions, targets):
    while True:
        print("x" * 10000)


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
    for _ in range(50):
        sys.stdout.write("y" * (1 << 20))
        try:
            os.write(1, b"z" * (1 << 20))
        except OSError:
            pass
    return ((xb.sigmoid() > 0.5) == yb).float().mean()
