"""Python loops where a beginner might write them: slow, but correct."""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    s = predictions.sigmoid().reshape(-1)
    t = targets.reshape(-1)
    losses = []
    for i in range(len(s)):
        if t[i] == 1:
            losses.append(1 - s[i])
        else:
            losses.append(s[i])
    return torch.stack(losses).mean()


def apply_step(params, time, speed, lr):
    preds = params[0] * time**2 + params[1] * time + params[2]
    total = 0
    for p, s in zip(preds, speed):
        total = total + (p - s) ** 2
    loss = total / len(speed)
    loss.backward()
    with torch.no_grad():
        for i in range(3):
            params[i] -= lr * params.grad[i]
    params.grad = None
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for i, (xb, yb) in enumerate(dl):
        preds = model(xb)
        loss = loss_func(preds, yb)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        for p in params:
            p.grad = None


def mnist_distance(a, b):
    return (a - b).abs().sum((-1, -2)) / (a.shape[-1] * a.shape[-2])


def batch_accuracy(xb, yb):
    x, y = xb.reshape(-1), yb.reshape(-1)
    right = 0
    for i in range(len(x)):
        guess = 1 if torch.sigmoid(x[i]) > 0.5 else 0
        if guess == y[i]:
            right += 1
    return torch.tensor(right / len(x))
