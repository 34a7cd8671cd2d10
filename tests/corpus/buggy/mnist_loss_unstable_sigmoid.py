"""A submission whose hand-written sigmoid exp(x) / (1 + exp(x)) overflows to nan for large activations
(right on the public checks, caught by the hidden check with activations of +-100).

BREAKS: mnist_loss
MISCONCEPTION: unstable_sigmoid
CAUGHT BY: hidden checks
"""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    e = torch.exp(predictions)
    s = e / (1 + e)
    return torch.where(targets == 1, 1 - s, s).mean()


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
