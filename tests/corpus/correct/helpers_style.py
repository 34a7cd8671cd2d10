"""A student who likes small helpers of their own."""
# ruff: noqa  (student-style code, kept as written)

import torch


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def quadratic(t, params):
    a, b, c = params
    return a * t**2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def step(params, lr):
    with torch.no_grad():
        for p in params:
            p -= p.grad * lr
    for p in params:
        p.grad = None


def mnist_loss(predictions, targets):
    s = sigmoid(predictions)
    return torch.where(targets == 1, 1 - s, s).mean()


def apply_step(params, time, speed, lr):
    preds = quadratic(time, params)
    mse(preds, speed).backward()
    step([params], lr)
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss_func(model(xb), yb).backward()
        step(params, lr)


def mnist_distance(a, b):
    return abs(a - b).mean((-1, -2))


def accuracy(correct):
    return correct.float().mean()


def batch_accuracy(xb, yb):
    return accuracy((sigmoid(xb) > 0.5) == yb)
