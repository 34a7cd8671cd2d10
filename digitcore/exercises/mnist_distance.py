"""mnist_distance(a, b): mean absolute difference over the last two dims, broadcasting a stack against one image."""

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
)

EXERCISE = "mnist_distance"

MISCONCEPTIONS = {
    "no_abs": (
        "did you take the absolute value of the differences?",
        "Without `.abs()`, pixels darker in one image cancel pixels darker in the other: use `(a - b).abs()`."),
    "squared": (
        "did you square the differences (mean squared error / RMSE)?",
        "That is the L2 distance. This exercise asks for the L1 one: the mean of `(a - b).abs()`."),
    "sum_not_mean": (
        "did you use `.sum()` instead of `.mean()`?",
        "Average over the pixels: `.mean((-1, -2))`."),
    "wrong_dims": (
        "did you average over the right dimensions?",
        ("Average over the last two dimensions only, `.mean((-1, -2))`, so a stack of n images gives n "
        "distances (one per image) and two single images give one number.")),
    "not_float": (
        "is the result a float tensor?",
        "Pixels stored as integers (uint8) need `.float()` first; the distance is a float."),
    "mutates_input": (
        "did you change a or b in place?",
        "Use out-of-place operations (`a - b`, `.abs()`), not `a -= b` or `.abs_()`."),
}

VARIANTS = [
    ("no_abs", lambda a, b: (a - b).mean((-1, -2))),
    ("squared", lambda a, b: ((a - b) ** 2).mean((-1, -2))),
    ("squared", lambda a, b: ((a - b) ** 2).mean((-1, -2)).sqrt()),
    ("sum_not_mean", lambda a, b: (a - b).abs().sum((-1, -2))),
]

# --- inputs ---------------------------------------------------------------------------------------------


def make_input(seed, a_shape=(28, 28), b_shape=(28, 28), offset=5000):
    """Image-like tensors: values in [0, 1], mostly dark, with a bright patch in a random place."""
    g = torch.Generator().manual_seed(offset + seed)

    def images(shape):
        x = torch.rand(shape, generator=g) * 0.2
        h, w = shape[-2], shape[-1]
        r = int(torch.randint(0, h // 2 + 1, (1,), generator=g))
        c = int(torch.randint(0, w // 2 + 1, (1,), generator=g))
        patch = x[..., r:r + h // 2, c:c + w // 2]
        patch += 0.8 * torch.rand(patch.shape, generator=g)
        return x

    return {"a": images(a_shape), "b": images(b_shape)}


def _where(inp, hidden):
    a, b = inp["a"], inp["b"]
    if hidden:
        return f"hidden inputs of shapes {tuple(a.shape)} and {tuple(b.shape)}"
    return f"a of shape {tuple(a.shape)} and b of shape {tuple(b.shape)}"


def expected(inp):
    return chapter.mnist_distance(inp["a"].clone(), inp["b"].clone())


# --- judges ---------------------------------------------------------------------------------------------


def _result(inp, obs):
    out = as_output_tensor(field(obs, "out"))
    want = expected(inp)
    if tuple(out.shape) != tuple(want.shape):
        what = "a single number (0-dim)" if want.dim() == 0 else f"shape {tuple(want.shape)}, one per image"
        raise Garbled(f"for {_where(inp, False)}, your function returned shape {tuple(out.shape)}; expected {what}")
    if not is_float(out):
        raise Garbled(f"your function returned a {str(out.dtype).replace('torch.', '')} tensor; the distance is "
                      "a float")
    if not finite(out):
        raise Garbled(f"your function returned {fmt(out)}: distances must be finite numbers")
    return out, want


def _garbled_tag(inp, obs):
    out = field(obs, "out")
    if type(out) is not torch.Tensor:
        return None
    if not is_float(out):
        return "not_float"
    return "wrong_dims" if tuple(out.shape) != tuple(expected(inp).shape) else None


@judge
def judge_type(inp, obs):
    try:
        out, _ = _result(inp, obs)
    except Garbled as e:
        return fail(str(e), _garbled_tag(inp, obs), MISCONCEPTIONS)
    return ok(f"returns a float tensor of shape {tuple(out.shape)}")


@judge
def judge_value(inp, obs, title, hidden=False):
    try:
        out, want = _result(inp, obs)
    except Garbled as e:
        text = f"for {_where(inp, True)}, your function returned {kind(field(obs, 'out'))}" if hidden else e
        return fail(f"{title}: {text}", _garbled_tag(inp, obs), MISCONCEPTIONS)
    if close(out, want):
        return ok()
    a, b = inp["a"], inp["b"]
    key = first_match(out, [(k, partial(v, a, b)) for k, v in VARIANTS])
    return fail(f"{title}: for {_where(inp, hidden)}: {got_vs_expected(out, want, hidden)}", key, MISCONCEPTIONS)


@judge
def judge_unchanged(inp, obs):
    as_output_tensor(field(obs, "out"), "this is credited once your function returns a tensor; it returned")
    return inputs_unchanged(inp, obs, ("a", "b"), MISCONCEPTIONS)


def make_checks():
    p = probes.probe_mnist_distance
    value = partial(judge_value, title="value")
    stack = partial(make_input, a_shape=(5, 28, 28))
    return [
        Check(EXERCISE, "returns_tensor", "two images give a 0-dim float tensor", 1.0, p, make_input, judge_type),
        Check(EXERCISE, "values_pair", "distance between two images", 2.0, p, make_input, value),
        Check(EXERCISE, "broadcast_stack", "a stack of images against one image: one distance each", 2.5, p,
              stack, partial(judge_value, title="a stack against one image")),
        Check(EXERCISE, "random", "a random stack of 32 images", 1.5, p,
              partial(make_input, a_shape=(32, 28, 28), offset=5100), value),
        Check(EXERCISE, "other_sizes", "images of another size (5 x 7): the last two dims", 1.0, p,
              partial(make_input, a_shape=(4, 5, 7), b_shape=(5, 7)), partial(judge_value, title="5 x 7 images")),
        Check(EXERCISE, "reversed_args", "one image against a stack (arguments swapped)", 1.0, p,
              partial(make_input, b_shape=(5, 28, 28)), partial(judge_value, title="one image against a stack")),
        Check(EXERCISE, "inputs_unchanged", "leaves a and b unchanged", 1.0, p, stack, judge_unchanged),
    ]


CHECKS = make_checks()


def not_started(inp, obs) -> bool:
    return isinstance(obs, dict) and "out" in obs and obs["out"] is None
