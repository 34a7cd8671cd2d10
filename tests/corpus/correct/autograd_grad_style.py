"""Gradients from torch.autograd.grad, so .grad is never filled (None afterwards is allowed)."""
# ruff: noqa  (student-style code, kept as written)

import torch


def mnist_loss(predictions, targets):
    sig = 1 / (1 + torch.exp(-predictions))
    return torch.where(targets == 1, 1 - sig, sig).mean()


def apply_step(params, time, speed, lr):
    features = torch.stack([time**2, time, torch.ones_like(time)], dim=1)
    preds = features @ params
    loss = ((preds - speed) ** 2).mean()
    (grad,) = torch.autograd.grad(loss, params)
    with torch.no_grad():
        params.add_(grad, alpha=-lr)
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    params = list(params)
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)


def mnist_distance(a, b):
    diff = a - b
    return diff.abs().mean(dim=-1).mean(dim=-1)


def batch_accuracy(xb, yb):
    predicted_three = xb > 0
    return (predicted_three == yb.bool()).float().mean()
