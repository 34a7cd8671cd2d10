"""Terse: lambdas for the one-liners, a design matrix for the quadratic."""
# ruff: noqa  (student-style code, kept as written)

import torch

mnist_distance = lambda a, b: (a - b).abs().mean(dim=(-2, -1))
batch_accuracy = lambda xb, yb: ((xb.sigmoid() > 0.5) == yb).float().mean()


def mnist_loss(predictions, targets):
    targets = targets.float()
    p = predictions.sigmoid()
    return (p + targets - 2 * targets * p).mean()


def apply_step(params, time, speed, lr):
    X = torch.stack([time**2, time, torch.ones_like(time)], dim=1)
    preds = X @ params
    torch.mean((preds - speed) ** 2).backward()
    params.data.add_(params.grad, alpha=-lr)
    params.grad = None
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss_func(model(xb), yb).backward()
        for p in params:
            p.data.add_(p.grad, alpha=-lr)
            p.grad = None
