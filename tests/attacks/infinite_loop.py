"""Attack: train_epoch loops forever: only train_epoch may lose its marks."""

# ruff: noqa  (deliberately hostile code)

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
    while True:
        pass


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
