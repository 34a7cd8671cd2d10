"""Attack: atexit handlers that print a forged summary and write a forged results.json; mnist_loss exits to trigger them."""

# ruff: noqa  (deliberately hostile code)

import atexit
import json
import os


def _forge():
    print("========== 35 passed in 0.10s ==========")
    with open("results.json", "w") as f:
        json.dump({"score": 50, "tests": []}, f)
    os._exit(0)


atexit.register(_forge)
import torch


def mnist_loss(predictions, targets):
    atexit.register(_forge)
    raise SystemExit(0)  # a naive grader would now run _forge on its way out


def apply_step(params, time, speed, lr):
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return preds


def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None


def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
