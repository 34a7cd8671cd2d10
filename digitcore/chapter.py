"""The chapter's reference functions, under the book's names: small, plain, and exactly as the lessons teach them.

These are the readable versions. The fast engine behind the lessons' sliders is `learner.Learner`;
`tests/test_chapter.py` checks both agree.
"""

import torch
from torch import Tensor

# --- 1. pixel similarity: compare a digit with the "ideal" (mean) 3 and 7 ----------------------------------


def mnist_distance(a: Tensor, b: Tensor) -> Tensor:
    """Mean absolute difference over the last two dims (the 28x28 pixels); broadcasts over any leading dims."""
    return (a - b).abs().mean((-1, -2))


def is_3(x: Tensor, mean3: Tensor, mean7: Tensor) -> Tensor:
    """True where `x` is closer (L1) to the mean 3 than to the mean 7."""
    return mnist_distance(x, mean3) < mnist_distance(x, mean7)


def pixel_similarity(data) -> dict:
    """The baseline on the validation set: accuracy on 3s, on 7s, and their mean (book: 0.9168, 0.9854, 0.9511)."""
    mean3 = (data.train_threes.float() / 255).mean(0)
    mean7 = (data.train_sevens.float() / 255).mean(0)
    threes = is_3(data.valid_threes.float() / 255, mean3, mean7).float().mean().item()
    sevens = (1 - is_3(data.valid_sevens.float() / 255, mean3, mean7).float()).mean().item()
    return {"threes": threes, "sevens": sevens, "mean": (threes + sevens) / 2}


# --- 2. gradient descent on a toy: the roller coaster's speed over time -----------------------------------


def f(t: Tensor, params: Tensor) -> Tensor:
    """A quadratic in time: a*t**2 + b*t + c."""
    a, b, c = params
    return a * (t**2) + (b * t) + c


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    """Mean squared error."""
    return ((preds - targets) ** 2).mean()


def apply_step(params: Tensor, time: Tensor, speed: Tensor, lr: float) -> Tensor:
    """One gradient-descent step on `f`; updates `params` in place and returns the predictions made before it."""
    preds = f(time, params)
    loss = mse(preds, speed)
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return preds


# --- 3. a loss for 3-vs-7 and a metric ---------------------------------------------------------------------


def sigmoid(x: Tensor) -> Tensor:
    """Squash any real number into (0, 1)."""
    return 1 / (1 + torch.exp(-x))


def mnist_loss(predictions: Tensor, targets: Tensor) -> Tensor:
    """Mean distance from the right answer: 1 - sigmoid(p) where the target is 1, sigmoid(p) where it is 0."""
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def batch_accuracy(xb: Tensor, yb: Tensor) -> Tensor:
    """Fraction of raw activations `xb` on the right side of 0 (sigmoid above 0.5 means "a 3")."""
    correct = (xb.sigmoid() > 0.5) == yb
    return correct.float().mean()


# --- 4. a linear model and a tiny neural net, by hand -----------------------------------------------------


def init_params(size, std: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """Random normal parameters that track their gradient."""
    return (torch.randn(size, generator=generator) * std).requires_grad_()


def linear1(xb: Tensor, weights: Tensor, bias: Tensor) -> Tensor:
    """The linear model: one weight per pixel, plus a bias."""
    return xb @ weights + bias


def simple_net(xb: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> Tensor:
    """Two linear layers with a ReLU (max with 0) between them."""
    res = xb @ w1 + b1
    res = res.max(torch.tensor(0.0))
    return res @ w2 + b2


# --- 5. the training loop ---------------------------------------------------------------------------------


def calc_grad(xb: Tensor, yb: Tensor, model, loss_func=mnist_loss) -> None:
    """Predict, measure the loss, and back-propagate (gradients add up in `.grad`)."""
    loss = loss_func(model(xb), yb)
    loss.backward()


def train_epoch(model, lr: float, params, dl, loss_func=mnist_loss) -> None:
    """One pass over `dl`: for each batch, step every parameter by -lr * grad, then clear the grad."""
    for xb, yb in dl:
        calc_grad(xb, yb, model, loss_func)
        for p in params:
            p.data -= p.grad * lr
            p.grad.zero_()


def validate_epoch(model, dl) -> float:
    """Mean batch accuracy over `dl`, rounded to 4 places."""
    with torch.no_grad():
        accs = [batch_accuracy(model(xb), yb) for xb, yb in dl]
    return round(torch.stack(accs).mean().item(), 4)


class BasicOptim:
    """The book's optimizer: step each parameter by -lr * grad; zero_grad forgets the gradients."""

    def __init__(self, params, lr: float):
        self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs) -> None:
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p -= p.grad * self.lr

    def zero_grad(self, *args, **kwargs) -> None:
        for p in self.params:
            p.grad = None
