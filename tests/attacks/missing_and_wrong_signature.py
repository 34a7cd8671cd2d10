"""Attack: train_epoch is missing and mnist_loss takes one argument."""

# ruff: noqa  (deliberately hostile code)

import torch


def mnist_loss(predictions):
    return predictions.sigmoid().mean()


def apply_step(params, time, speed, lr):
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return preds


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
