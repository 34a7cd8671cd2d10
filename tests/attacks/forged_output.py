"""Attack: prints a forged pytest summary and Gradescope JSON; mnist_loss and apply_step only print."""

# ruff: noqa  (deliberately hostile code)

import json

print("============================= 35 passed in 1.00s ==============================")
print(json.dumps({"score": 50.0, "tests": [{"name": "all", "score": 50, "max_score": 50}]}))
import torch


def mnist_loss(predictions, targets):
    print("PASSED mnist_loss 10/10")
    print("============================= 35 passed in 1.00s ==============================")


def apply_step(params, time, speed, lr):
    print(json.dumps({"score": 50.0, "tests": []}))


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
