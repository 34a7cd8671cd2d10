"""batch_accuracy(xb, yb): the fraction of raw activations on the right side (sigmoid > 0.5 means "a 3")."""

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
)

EXERCISE = "batch_accuracy"

MISCONCEPTIONS = {
    "no_sigmoid": (
        "did you compare the raw activations with 0.5 without applying sigmoid?",
        ("`xb` holds raw activations. Either apply `xb.sigmoid()` before comparing with 0.5, or compare the "
        "raw activations with 0 (the same thing).")),
    "flipped": (
        "is the comparison the wrong way round?",
        "A prediction counts as a 3 (target 1) when `sigmoid(x) > 0.5`."),
    "broadcast": (
        "did you reshape only one of xb and yb?",
        ("Comparing an `(n,)` tensor with an `(n, 1)` one broadcasts to an `(n, n)` grid. Keep the shapes as "
        "they are (they match), or reshape both the same way.")),
    "sum_not_mean": (
        "did you count the correct predictions instead of averaging them?",
        "Accuracy is a fraction: `.float().mean()` of the correct/incorrect booleans."),
    "not_float": (
        "is the result a float tensor?",
        "Booleans have no mean: convert with `.float()` and then call `.mean()`."),
    "returns_python_number": (
        "did you call `.item()` or `float()` on the result?",
        "Return the 0-dim tensor itself: the training code stacks these per-batch results."),
    "not_reduced": (
        "did you forget to average over the batch?",
        "Return one number: `.float().mean()` of the correct/incorrect booleans."),
    "mutates_input": (
        "did you change xb or yb in place (e.g. `xb.sigmoid_()`)?",
        "Use out-of-place operations so the caller's tensors stay as they were."),
}


def _correct(x, y):
    return (x.sigmoid() > 0.5) == y


VARIANTS = [
    ("no_sigmoid", lambda x, y: ((x > 0.5) == y).float().mean()),
    ("flipped", lambda x, y: ((x.sigmoid() < 0.5) == y).float().mean()),
    ("broadcast", lambda x, y: _correct(x.reshape(-1), y.reshape(-1, 1)).float().mean()),
    ("broadcast", lambda x, y: _correct(x.reshape(-1, 1), y.reshape(-1)).float().mean()),
    ("sum_not_mean", lambda x, y: _correct(x, y).float().sum()),
]

# --- inputs ---------------------------------------------------------------------------------------------

FIXED_X = [2.0, -1.0, 0.3, -0.2, 4.0, -3.0, 0.1]
FIXED_Y = [1, 0, 0, 0, 1, 1, 1]
THRESHOLD_X = [0.1, 0.2, 0.4, -0.1, 0.6, -0.7, 0.05, -0.3]  # near 0: sigmoid decides, not "x > 0.5"
THRESHOLD_Y = [1, 1, 1, 0, 1, 0, 1, 0]


def input_fixed(seed, xs=FIXED_X, ys=FIXED_Y, shape="2d", dtype="float"):
    """xs and ys for seed 0 (the lessons); for any other seed new values of the same kind, and a new accuracy:
    targets flip at random, but not those of activations in (0, 0.5], where comparing raw activations with 0.5
    decides otherwise (they make the threshold check), and no usual mistake scores the same (_telling_apart)."""
    x, y = reshuffled(xs, ys, seed, offset=6500, keep=(0.0, 0.5))
    y = y if seed == 0 else _telling_apart(x, y)
    y = y.long() if dtype == "int" else y
    if shape == "2d":
        x, y = x.view(-1, 1), y.view(-1, 1)
    return {"xb": x, "yb": y}


def input_random(seed, n=64, offset=6000):
    g = torch.Generator().manual_seed(offset + seed)
    x, y = torch.randn(n, 1, generator=g) * 2, torch.randint(0, 2, (n, 1), generator=g).float()
    return {"xb": x, "yb": y if seed == 0 else _telling(x, y)}


def _telling(x, y):
    """Targets that tell the usual mistakes from the right answer on any seed (seed 0 happens to): every
    activation in (0, 0.5] is a 3, so comparing raw activations with 0.5 loses each of them, and neither the
    flipped comparison nor a one-sided reshape scores the same (_telling_apart)."""
    band = (x > 0) & (x <= 0.5)
    y = torch.where(band, torch.ones_like(y), y)
    if not band.any():
        x[0] = 0.25
        y[0] = 1.0
    return _telling_apart(x, y)


def _telling_apart(x, y):
    """y, changed if need be so that neither the flipped comparison nor a reshape of one side happens to give
    the right accuracy: the targets of activations outside (0, 0.5] flip one by one until neither does."""
    outside = torch.nonzero(((x <= 0) | (x > 0.5)).reshape(-1)).reshape(-1).tolist()
    for i in [None, *outside]:
        if i is not None:
            y = y.clone()
            y.view(-1)[i] = 1 - y.view(-1)[i]
        want = _correct(x, y).float().mean()
        if not any(close(mimic(x, y), want, atol=1e-6) for key, mimic in VARIANTS if key in ("flipped", "broadcast")):
            break
    return y


def _where(inp, hidden):
    x, y = inp["xb"], inp["yb"]
    if hidden:
        return f"a hidden batch of shape {tuple(x.shape)}"
    if x.numel() <= 8:
        return f"xb={fmt(x, 8)}, yb={fmt(y, 8)}"
    return f"a random batch of shape {tuple(x.shape)}"


def expected(inp):
    return chapter.batch_accuracy(inp["xb"].clone(), inp["yb"].clone())


# --- judges ---------------------------------------------------------------------------------------------


def _result(obs):
    out = as_output_tensor(field(obs, "out"))
    if out.dim() != 0:
        raise Garbled(f"your function returned a tensor of shape {tuple(out.shape)}; the accuracy is one number "
                      "(a 0-dim tensor)")
    if not is_float(out):
        raise Garbled(f"your function returned a {str(out.dtype).replace('torch.', '')} tensor; the accuracy "
                      "is a float")
    if not finite(out):
        raise Garbled(f"your function returned {fmt(out)}: an accuracy is a number between 0 and 1")
    return out


def _garbled_tag(inp, obs):
    out = field(obs, "out")
    if type(out) in (float, int):
        return "returns_python_number"
    if type(out) is not torch.Tensor:
        return None
    if out.dim() != 0:
        return "broadcast" if out.numel() == inp["xb"].numel() ** 2 > 1 else "not_reduced"
    if not is_float(out):
        return "sum_not_mean" if out.dtype != torch.bool and out.item() > 1 else "not_float"
    return None


@judge
def judge_type(inp, obs):
    try:
        out = _result(obs)
    except Garbled as e:
        return fail(str(e), _garbled_tag(inp, obs), MISCONCEPTIONS)
    return ok(f"returns a 0-dim {str(out.dtype).replace('torch.', '')} tensor")


@judge
def judge_value(inp, obs, title, hidden=False):
    where = _where(inp, hidden)
    try:
        out = _result(obs)
    except Garbled as e:
        text = f"your function returned {kind(field(obs, 'out'))}, not a finite 0-dim float tensor" if hidden else e
        return fail(f"{title}: for {where}: {text}", _garbled_tag(inp, obs), MISCONCEPTIONS)
    want = expected(inp)
    if close(out, want, atol=1e-6):
        return ok()
    x, y = inp["xb"], inp["yb"]
    key = first_match(out, [(k, partial(v, x, y)) for k, v in VARIANTS], atol=1e-6)
    return fail(f"{title}: for {where}: {got_vs_expected(out, want, hidden)}", key, MISCONCEPTIONS)


@judge
def judge_unchanged(inp, obs):
    as_output_tensor(field(obs, "out"), "this is credited once your function returns a tensor; it returned")
    return inputs_unchanged(inp, obs, ("xb", "yb"), MISCONCEPTIONS)


def make_checks():
    p = probes.probe_batch_accuracy
    value = partial(judge_value, title="value")
    return [
        Check(EXERCISE, "returns_scalar", "returns a 0-dim float tensor", 1.0, p, input_fixed, judge_type),
        Check(EXERCISE, "values_2d", "accuracy on (n, 1) activations and targets", 2.5, p, input_fixed, value),
        Check(EXERCISE, "values_1d", "accuracy on (n,) activations and targets", 1.5, p,
              partial(input_fixed, shape="1d"), value),
        Check(EXERCISE, "threshold", "activations near 0: sigmoid(x) > 0.5 means x > 0", 1.5, p,
              partial(input_fixed, xs=THRESHOLD_X, ys=THRESHOLD_Y), value),
        Check(EXERCISE, "random", "a random batch of 64", 1.5, p, input_random, value),
        Check(EXERCISE, "int_targets", "integer targets", 1.0, p, partial(input_fixed, dtype="int"), value),
        Check(EXERCISE, "inputs_unchanged", "leaves xb and yb unchanged", 1.0, p, input_fixed, judge_unchanged),
    ]


CHECKS = make_checks()


def not_started(inp, obs) -> bool:
    return isinstance(obs, dict) and "out" in obs and obs["out"] is None
