"""Arithmetic instead of torch.where, and updates inside torch.no_grad()."""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    s = torch.sigmoid(predictions)
    targets = targets.to(s.dtype)
    return (targets * (1 - s) + (1 - targets) * s).mean()


def apply_step(params, time, speed, lr):
    preds = params[0] * time * time + params[1] * time + params[2]
    loss = (preds - speed).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad.zero_()
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss_func(model(xb), yb).backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None


def mnist_distance(a, b):
    return (a - b).abs().flatten(-2).mean(-1)


def batch_accuracy(xb, yb):
    return ((xb > 0) == (yb == 1)).float().mean()
