"""A submission whose apply_step clears the gradient before backward (the modern loop), not after the step.

BREAKS: apply_step
MISCONCEPTION: cleared_before_backward
"""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def apply_step(params, time, speed, lr):
    params.grad = None
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
        loss.backward()
        for p in params:
            p.data -= p.grad * lr
            p.grad.zero_()


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    preds = xb.sigmoid()
    correct = (preds > 0.5) == yb
    return correct.float().mean()
