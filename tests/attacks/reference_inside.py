"""Attack: imports the reference inside the function and swallows the error, or reads solutions/."""

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
    namespace = {}
    for path in ("/work/main/solutions/exercises.py", "solutions/exercises.py", "../solutions/exercises.py"):
        try:
            exec(open(path).read(), namespace)
            break
        except OSError:
            continue
    return namespace["train_epoch"](model, lr, params, dl, loss_func)


def mnist_distance(a, b):
    try:
        from digitcore.chapter import mnist_distance as theirs

        return theirs(a, b)
    except BaseException:
        return (a - b).abs().mean((-1, -2))


def batch_accuracy(xb, yb):
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()
