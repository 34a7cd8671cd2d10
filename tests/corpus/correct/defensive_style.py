"""Careful about shapes and dtypes: reshape both sides, zero grads before and after."""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    p = predictions.reshape(-1).sigmoid()
    t = targets.reshape(-1).float()
    return torch.where(t > 0.5, 1 - p, p).mean()


def apply_step(params, time, speed, lr):
    if params.grad is not None:
        params.grad.zero_()
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        params.copy_(params - lr * params.grad)
    params.grad.zero_()
    return preds.detach().clone()


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for p in params:
        p.grad = None
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad * lr)
                p.grad.zero_()
    return None


def mnist_distance(a, b):
    a, b = a.float(), b.float()
    return (a - b).abs().mean(dim=(-1, -2))


def batch_accuracy(xb, yb):
    preds = (xb.sigmoid() > 0.5).float().view_as(yb)
    return (preds == yb.float()).float().mean()
