"""torch.nn.functional and torch.optim: the library's own building blocks."""
# ruff: noqa  (student-style code, kept as written)

import torch
import torch.nn.functional as F


def mnist_loss(predictions, targets):
    probs = torch.sigmoid(predictions)
    loss = torch.where(targets.bool(), 1.0 - probs, probs)
    return torch.mean(loss)


def apply_step(params, time, speed, lr):
    a, b, c = params[0], params[1], params[2]
    preds = a * time**2 + b * time + c
    F.mse_loss(preds, speed).backward()
    with torch.no_grad():
        params.sub_(lr * params.grad)
        params.grad = None
    return preds.detach()


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    opt = torch.optim.SGD(list(params), lr=lr)
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()


def mnist_distance(a, b):
    return torch.mean(torch.abs(a - b), dim=(-2, -1))


def batch_accuracy(xb, yb):
    hits = (torch.sigmoid(xb) > 0.5) == yb
    return torch.mean(hits.to(torch.float32))
