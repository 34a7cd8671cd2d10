"""A submission written as a marimo notebook: the exercises are top-level @app.function cells."""
# ruff: noqa  (student-style code, kept as written)

import marimo

__generated_with = "0.25.2"
app = marimo.App()

with app.setup:
    import torch


@app.cell
def _():
    import marimo as mo

    mo.md("# My chapter 4 exercises")
    return


@app.function
def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


@app.function
def apply_step(params, time, speed, lr):
    a, b, c = params
    preds = a * time**2 + b * time + c
    loss = ((preds - speed) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return preds


@app.function
def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    for xb, yb in dl:
        loss_func(model(xb), yb).backward()
        for p in params:
            p.data -= lr * p.grad
            p.grad = None


@app.function
def mnist_distance(a, b):
    return (a - b).abs().mean((-1, -2))


@app.function
def batch_accuracy(xb, yb):
    return ((xb.sigmoid() > 0.5) == yb).float().mean()


@app.cell
def _():
    x = torch.tensor([0.9, -2.0, 0.1])
    mnist_loss(x, torch.tensor([1, 0, 1]))
    return


if __name__ == "__main__":
    app.run()
