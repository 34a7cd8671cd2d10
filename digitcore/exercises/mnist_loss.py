"""mnist_loss(predictions, targets): inputs, judges and the misconceptions we can recognise."""

from functools import partial

import torch

from digitcore import chapter

from . import probes
from .common import (
    Check,
    Garbled,
    as_output_tensor,
    close,
    fail,
    field,
    finite,
    first_match,
    fmt,
    got_vs_expected,
    inputs_unchanged,
    is_float,
    judge,
    kind,
    ok,
    reshuffled,
    untrusted,
)

EXERCISE = "mnist_loss"

MISCONCEPTIONS = {
    "no_sigmoid": (
        "did you apply sigmoid to the predictions first?",
        ("Raw activations can be any real number, so `1 - predictions` can be negative or above 1. "
        "Squash them into (0, 1) with `predictions.sigmoid()` before comparing with the targets.")),
    "swapped_branches": (
        "are the two branches of `torch.where` swapped?",
        ("Where the target is 1 the loss is `1 - sigmoid(p)` (small when p is confidently positive); "
        "where it is 0 it is `sigmoid(p)`. A sigmoid written as 1/(1+exp(x)) swaps them too.")),
    "sum_not_mean": (
        "did you use `.sum()` instead of `.mean()`?",
        "The loss is the mean over the batch, so that it does not grow with the batch size."),
    "not_reduced": (
        "did you forget to average over the batch?",
        "Return one number: call `.mean()` over all the per-item losses (no `dim=`)."),
    "broadcast": (
        "did you reshape only one of predictions and targets?",
        ("With one `(n,)` and one `(n, 1)` tensor, `torch.where` broadcasts to an `(n, n)` grid. "
        "Leave both shapes alone (they already match), or reshape both the same way.")),
    "not_differentiable": (
        ("did the result leave PyTorch's tensors (`.item()`, `.numpy()`, `float()`, `torch.tensor(...)`, "
        "`.detach()`)?"),
        "Autograd can only follow tensor operations on `predictions`: compute the loss with them only."),
    "mutates_input": (
        "did you modify predictions or targets in place (e.g. `predictions.sigmoid_()`, `+=`, item assignment)?",
        ("An in-place operation changes the caller's tensors; when predictions requires grad, autograd refuses "
        "it outright ('a leaf Variable that requires grad is being used in an in-place operation'). Use the "
        "out-of-place versions (`predictions.sigmoid()`, `a = a + b`), which return new tensors.")),
    "sigmoid_mse": (
        "did you take the squared error of the sigmoid outputs, `((predictions.sigmoid() - targets)**2).mean()`?",
        ("That is a different loss (and a flatter one: squaring shrinks the gradient of confident mistakes). "
        "This chapter's loss is linear in the sigmoid: `torch.where(targets == 1, 1 - s, s).mean()` with "
        "`s = predictions.sigmoid()`.")),
    "unstable_sigmoid": (
        "does your sigmoid overflow for large activations?",
        ("In float32 `torch.exp(x)` is inf once x is above about 88, and `exp(x) / (1 + exp(x))` is then inf/inf, "
        "which is nan. Use `predictions.sigmoid()`, or `1 / (1 + torch.exp(-x))`, which only rounds to 0 or 1 there.")),
    "cross_entropy": (
        "did you use the log (cross-entropy) loss?",
        ("This chapter's loss is simpler: `1 - sigmoid(p)` where the target is 1 and `sigmoid(p)` where it "
        "is 0, averaged over the batch.")),
}


def _per_item(p, t):
    s = p.sigmoid()
    return torch.where(t == 1, 1 - s, s)


# Known wrong variants, tried in this order when a value does not match.
VARIANTS = [
    ("no_sigmoid", lambda p, t: torch.where(t == 1, 1 - p, p).float().mean()),
    ("swapped_branches", lambda p, t: torch.where(t == 1, p.sigmoid(), 1 - p.sigmoid()).mean()),
    ("sum_not_mean", lambda p, t: _per_item(p, t).sum()),
    ("broadcast", lambda p, t: _per_item(p.reshape(-1), t.reshape(-1, 1)).mean()),
    ("broadcast", lambda p, t: _per_item(p.reshape(-1, 1), t.reshape(-1)).mean()),
    ("cross_entropy", lambda p, t: torch.nn.functional.binary_cross_entropy_with_logits(p, t.to(p.dtype))),
    ("sigmoid_mse", lambda p, t: ((p.sigmoid() - t.to(p.dtype)) ** 2).mean()),
]

# Errors that mean something specific in this exercise (see common.explain_error).
ERROR_HINTS = [("leaf Variable that requires grad is being used in an in-place operation", "mutates_input")]


# --- inputs ---------------------------------------------------------------------------------------------

FIXED_P = [0.9, -2.0, 0.1, 3.0, -0.5]
FIXED_T = [1, 0, 1, 0, 0]


def input_fixed(seed, shape="1d", dtype="float", backward=False):
    """FIXED_P and FIXED_T for seed 0 (the lessons); for any other seed new values of the same kind, and
    targets drawn anew (an empty band to keep: each may flip), so the loss moves far from seed to seed."""
    p, t = telling(seed, lambda k: reshuffled(FIXED_P, FIXED_T, seed, offset=1500 + 100_003 * k, keep=(0.0, 0.0)))
    t = t.long() if dtype == "int" else t
    if shape == "2d":
        p, t = p.view(-1, 1), t.view(-1, 1)
    return {"predictions": p, "targets": t, "backward": backward}


def input_random(seed, n=64, scale=3.0, backward=False, offset=1000):
    g = torch.Generator().manual_seed(offset + seed)
    p, t = telling(seed, lambda k: (torch.randn(n, 1, generator=g) * scale,
                                    torch.randint(0, 2, (n, 1), generator=g).float()))
    return {"predictions": p, "targets": t, "backward": backward}


def input_int_targets(seed):
    g = torch.Generator().manual_seed(2000 + seed)
    p, t = telling(seed, lambda k: (torch.randn(8, generator=g) * 2, torch.tensor([1, 0, 0, 1, 1, 0, 1, 0])))
    return {"predictions": p, "targets": t, "backward": False}


def telling(seed, draw, tries=20):
    """draw(0), or for a graded seed the first draw(k) on which no known wrong variant gives the right loss
    by chance (a random batch of 64 did, about once in a hundred seeds), so a mistake fails on every seed."""
    for k in range(tries):
        p, t = draw(k)
        if seed == 0 or first_match(chapter.mnist_loss(p, t), [(key, partial(v, p, t)) for key, v in VARIANTS]) is None:
            break
    return p, t


def _where(inp, hidden):
    p, t = inp["predictions"], inp["targets"]
    if hidden:
        return f"a hidden batch of shape {tuple(p.shape)}"
    if p.numel() <= 8:
        return f"predictions={fmt(p, 8)}, targets={fmt(t, 8)}"
    return f"a random batch of shape {tuple(p.shape)}"


def expected_loss(inp):
    return chapter.mnist_loss(inp["predictions"].clone(), inp["targets"].clone()).detach()


# --- judges ---------------------------------------------------------------------------------------------


def _result(obs):
    out = as_output_tensor(field(obs, "out"))
    if out.dim() != 0:
        raise Garbled(f"your function returned a tensor of shape {tuple(out.shape)}; the loss must be a "
                      "single number (a 0-dim tensor)")
    if not is_float(out):
        raise Garbled(f"your function returned a {str(out.dtype).replace('torch.', '')} tensor; the loss "
                      "must be a float tensor")
    if not finite(out):
        raise Garbled(f"your function returned {fmt(out)}: a loss must be a finite number")
    return out


def _shape_tag(inp, obs):
    """The misconception behind a result of the wrong shape, if we know it."""
    out = field(obs, "out")
    if type(out) in (float, int):
        return "not_differentiable"
    if type(out) is torch.Tensor and out.dim() == 0 and is_float(out) and not finite(out):
        return "unstable_sigmoid" if bool(inp["predictions"].abs().max() > 80) else None
    if type(out) is not torch.Tensor or out.dim() == 0:
        return None
    n = inp["predictions"].numel()
    if out.numel() == n * n and n > 1:
        return "broadcast"
    if out.numel() == n or (out.dim() >= 1 and out.shape[0] == 1):
        return "not_reduced"
    return None


@judge
def judge_type(inp, obs):
    try:
        out = _result(obs)
    except Garbled as e:
        return fail(str(e), _shape_tag(inp, obs), MISCONCEPTIONS)
    return ok(f"returns a 0-dim {str(out.dtype).replace('torch.', '')} tensor")


@judge
def judge_value(inp, obs, title, hidden=False):
    where = _where(inp, hidden)
    try:
        out = _result(obs)
    except Garbled as e:
        out = field(obs, "out")
        if type(out) is torch.Tensor and out.dim() == 0 and is_float(out) and not finite(out):
            text = "your loss is not a finite number (nan or inf)"
        else:
            text = f"your function returned {kind(out)}, not a finite 0-dim float tensor" if hidden else e
        return fail(f"{title}: for {where}: {text}", _shape_tag(inp, obs), MISCONCEPTIONS)
    expected = expected_loss(inp)
    if close(out, expected):
        return ok()
    p, t = inp["predictions"], inp["targets"]
    key = first_match(out, [(k, partial(v, p, t)) for k, v in VARIANTS])
    return fail(f"{title}: for {where}: {got_vs_expected(out, expected, hidden)}", key, MISCONCEPTIONS)


def _expected_grad(fn, p, t):
    p = p.clone().requires_grad_()
    fn(p, t).backward()
    return p.grad


@judge
def judge_gradient(inp, obs):
    where = _where(inp, False)
    error = field(obs, "backward_error")
    if error == "not connected":
        out = field(obs, "out")
        if type(out) is torch.Tensor:
            return fail(f"gradient: for {where}: your loss does not require grad, so `.backward()` cannot reach "
                        "predictions", "not_differentiable", MISCONCEPTIONS)
        return fail(f"gradient: for {where}: your function returned a {untrusted(field(obs, 'out_type'), 60)}, "
                    "which has no `.backward()`", "not_differentiable", MISCONCEPTIONS)
    if error is not None:
        tag = "not_reduced" if "scalar" in str(error) else None
        return fail(f"gradient: calling `.backward()` on your loss failed: {untrusted(error, 160)}", tag,
                    MISCONCEPTIONS)
    grad = field(obs, "grad")
    if grad is None:
        return fail(f"gradient: for {where}: after `.backward()`, predictions.grad is still None: the loss is "
                    "not computed from predictions", "not_differentiable", MISCONCEPTIONS)
    p, t = inp["predictions"], inp["targets"]
    expected = _expected_grad(chapter.mnist_loss, p, t)
    if close(grad, expected):
        return ok()
    key = first_match(grad, [(k, partial(_expected_grad, v, p, t)) for k, v in VARIANTS])
    return fail(f"gradient: for {where}: predictions.grad should be {fmt(expected)}, got {fmt(grad)}",
                key, MISCONCEPTIONS)


@judge
def judge_unchanged(inp, obs):
    as_output_tensor(field(obs, "out"), "this is credited once your function returns a tensor; it returned")
    return inputs_unchanged(inp, obs, ("predictions", "targets"), MISCONCEPTIONS)


def make_checks(hidden_extra=()):
    values = partial(judge_value, title="value")
    return [
        Check(EXERCISE, "returns_scalar", "returns a 0-dim float tensor", 1.0, probes.probe_mnist_loss,
              partial(input_fixed, shape="1d"), judge_type),
        Check(EXERCISE, "values_1d", "value on (n,) inputs", 2.5, probes.probe_mnist_loss,
              partial(input_fixed, shape="1d"), values),
        Check(EXERCISE, "values_2d", "value on (n, 1) inputs", 1.5, probes.probe_mnist_loss,
              partial(input_fixed, shape="2d"), values),
        Check(EXERCISE, "int_targets", "integer targets", 1.0, probes.probe_mnist_loss,
              input_int_targets, values),
        Check(EXERCISE, "random", "value on a random batch", 1.5, probes.probe_mnist_loss,
              input_random, values),
        Check(EXERCISE, "gradient", "differentiable: the right predictions.grad", 1.5, probes.probe_mnist_loss,
              partial(input_fixed, shape="1d", backward=True), judge_gradient),
        Check(EXERCISE, "inputs_unchanged", "leaves predictions and targets unchanged", 1.0,
              probes.probe_mnist_loss, partial(input_fixed, shape="2d"), judge_unchanged),
    ]


CHECKS = make_checks()


def not_started(inp, obs) -> bool:
    return isinstance(obs, dict) and "out" in obs and obs["out"] is None
