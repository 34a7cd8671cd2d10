"""Attack: KeyboardInterrupt, GeneratorExit and a custom BaseException raised from exercises."""

# ruff: noqa  (deliberately hostile code)

import torch


class Escape(BaseException):
    pass


def mnist_loss(predictions, targets):
    raise KeyboardInterrupt


def apply_step(params, time, speed, lr):
    raise Escape("catch me if you can")


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
    raise GeneratorExit
