"""A submission whose train_epoch zeroes the gradients before backward (like opt.zero_grad()), not after each update.

BREAKS: train_epoch
MISCONCEPTION: cleared_before_backward
"""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def apply_step(params, time, speed, lr):
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        loss = loss_func(model(xb), yb)
        loss.backward()
        for p in params:
            p.data -= p.grad * lr


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    preds = xb.sigmoid()
    correct = (preds > 0.5) == yb
    return correct.float().mean()
