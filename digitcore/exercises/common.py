"""What every exercise module shares: Check and Verdict, reading observations safely, comparing, diagnosing.

Judges run on the trusted side with observations that came back from the student's process. Anything may
arrive there: wrong types, {"__unplain__": "Foo"}, missing keys, NaN. The helpers here turn all of that into
a `Garbled` exception with a kind, specific message, and `judge` turns it into a failed Verdict.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from digitcore.grading.report import untrusted


@dataclass(frozen=True)
class Check:
    exercise: str  # "mnist_loss"
    name: str  # "values_1d", unique within the exercise
    title: str  # "values on (n,) inputs"
    points: float
    probe: Callable  # probe(student_obj, input) -> observation; a function in digitcore.exercises.probes
    make_input: Callable  # seed -> input (tensors and python values)
    judge: Callable  # (input, observation) -> Verdict
    hidden: bool = False


@dataclass
class Verdict:
    passed: bool
    message: str  # which property, on what input, expected vs got (never expected values for hidden checks)
    misconception: str | None = None  # the likely misunderstanding, as a question: "did you apply sigmoid?"
    hint: str | None = None  # what to look at next
    tag: str | None = None  # the misconception's short key, e.g. "no_sigmoid" (tests and reports use it)


# A misconception: (question shown to the student, hint).
Misconceptions = dict[str, tuple[str, str]]


class Garbled(Exception):
    """The observation is not what a working function gives; the message says what came back instead."""


def ok(message: str = "passed") -> Verdict:
    return Verdict(True, message)


def fail(message: str, tag: str | None = None, table: Misconceptions | None = None) -> Verdict:
    if tag is None or table is None or tag not in table:
        return Verdict(False, message)
    question, hint = table[tag]
    return Verdict(False, message, misconception=question, hint=hint, tag=tag)


def judge(fn: Callable) -> Callable:
    """Make a judge total: a garbled observation or any surprise becomes a failed Verdict, never an exception."""

    @functools.wraps(fn)
    def wrapper(inp, obs, *args, **kwargs) -> Verdict:
        try:
            verdict = fn(inp, obs, *args, **kwargs)
            if not isinstance(verdict, Verdict):
                raise TypeError("judge returned no Verdict")
            return verdict
        except Garbled as e:
            return Verdict(False, str(e))
        except Exception as e:  # noqa: BLE001 - a judge must never raise
            return Verdict(False, f"your function's result could not be checked ({type(e).__name__}): "
                                  "it is probably not the kind of value this exercise asks for")

    return wrapper


# --- inputs ---------------------------------------------------------------------------------------------------


def reshuffled(values, labels, seed: int, offset: int, keep: tuple[float, float] | None = None) -> tuple[Tensor, Tensor]:
    """A small example batch (float values, 0/1 labels) that is new for every seed but seed 0.

    Seed 0, the lessons' self-checks, gets `values` and `labels` as written. Any other seed (grading draws a
    fresh one per run) gets them in a random order, each value scaled by a random factor in [0.9, 1.1], so
    no sign changes and no value crosses 0.5 or -0.5 (the written ones keep clear of those by more than 10%);
    with `keep=(lo, hi)`, the label of every value outside (lo, hi] is flipped at random: the answer changes
    from seed to seed while the values in (lo, hi], where a usual mistake decides otherwise, keep theirs (and
    both labels stay present)."""
    x, y = torch.tensor(values, dtype=torch.float32), torch.tensor(labels, dtype=torch.float32)
    if seed == 0:
        return x, y
    g = torch.Generator().manual_seed(offset + seed)
    order = torch.randperm(len(x), generator=g)
    x, y = x[order] * (0.9 + 0.2 * torch.rand(len(x), generator=g)), y[order]
    if keep is not None:
        flip = (torch.rand(len(x), generator=g) < 0.5) & ((x <= keep[0]) | (x > keep[1]))
        flipped = torch.where(flip, 1 - y, y)
        y = flipped if 0 < flipped.sum() < len(y) else y   # both labels stay: with one, a one-sided reshape is right
    return x, y


# --- reading observations ---------------------------------------------------------------------------------


def describe(x) -> str:
    """A short, safe description of an observed value (never calls student code: it is plain data here)."""
    if x is None:
        return "None"
    if isinstance(x, dict) and "__unplain__" in x:
        return f"a {untrusted(x['__unplain__'], 40)} object"
    if type(x) is torch.Tensor:
        return f"a {str(x.dtype).replace('torch.', '')} tensor of shape {tuple(x.shape)}"
    if type(x) is bool:
        return f"the Python bool {x}"
    if type(x) in (int, float):
        return f"the Python {type(x).__name__} {x:.4g}" if type(x) is float else f"the Python int {x}"
    if type(x) is str:
        return "a string"
    return f"a {type(x).__name__}"


def field(obs, key: str):
    if not isinstance(obs, dict) or key not in obs:
        raise Garbled(f"the check got no usable observation back (missing '{key}'): "
                      "the call may have been interrupted or changed the checker's own objects")
    return obs[key]


def tensor_field(obs, key: str, what: str) -> Tensor:
    x = field(obs, key)
    if type(x) is not torch.Tensor:
        raise Garbled(f"{what} is {describe(x)}, not a torch tensor")
    return x


def flag(obs, key: str) -> bool:
    x = field(obs, key)
    if type(x) is not bool:
        raise Garbled(f"the check got a garbled observation for '{key}' ({describe(x)})")
    return x


def as_output_tensor(x, what: str = "your function returned") -> Tensor:
    """The student's returned value as a tensor, or Garbled with a message that says what came back instead."""
    if x is None:
        raise Garbled(f"{what} None: did you forget the `return` statement?")
    if type(x) in (float, int, bool):
        raise Garbled(f"{what} {describe(x)}, not a tensor: keep the result as a torch tensor "
                      "(don't call .item() or float() on it)")
    if type(x) is not torch.Tensor:
        raise Garbled(f"{what} {describe(x)}, not a torch tensor")
    return x


def is_float(t: Tensor) -> bool:
    return t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def finite(t: Tensor) -> bool:
    return bool(torch.isfinite(t.double()).all()) if t.numel() else True


def close(got, expected: Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """True when `got` is a finite tensor of the expected shape whose values match within float32 rounding."""
    if type(got) is not torch.Tensor or tuple(got.shape) != tuple(expected.shape):
        return False
    if got.dtype == torch.bool or got.is_complex() or not finite(got):
        return False
    return bool(torch.allclose(got.double(), expected.double(), rtol=rtol, atol=atol))


def same(got, original: Tensor) -> bool:
    """Exactly unchanged: same shape, dtype and values."""
    return (type(got) is torch.Tensor and got.dtype == original.dtype and tuple(got.shape) == tuple(original.shape)
            and bool(torch.equal(got, original)))


def first_match(got, candidates, rtol=1e-4, atol=1e-5) -> str | None:
    """The key of the first known wrong variant whose output `got` matches, or None.

    candidates: (key, make) pairs in order, make() -> the variant's output on the same input."""
    for key, make in candidates:
        try:
            expected = make()
        except Exception:  # noqa: BLE001, S112 - a variant that cannot run on this input matches nothing
            continue
        if expected is not None and close(got, expected, rtol, atol):
            return key
    return None


# --- formatting ---------------------------------------------------------------------------------------------


def inputs_unchanged(inp, obs, names, table: Misconceptions, digits: int = 6) -> Verdict:
    """The judge of every "inputs unchanged" check: each input named in `names` must come back as it went in
    (the probe returns it as `<name>_after`)."""
    for name in names:
        after = field(obs, f"{name}_after")
        if not same(after, inp[name]):
            return fail(f"inputs unchanged: your function changed {name} from {fmt(inp[name], digits)} to "
                        f"{fmt(after, digits)}", "mutates_input", table)
    return ok()


def fmt(t, n: int = 6) -> str:
    """tensor([0.9, -2.0, 0.1]) style, short, with the shape when it is not 1-D."""
    if type(t) is not torch.Tensor:
        return describe(t)
    if t.dim() == 0:
        return _num(t.item())
    flat = t.detach().reshape(-1)
    vals = ", ".join(_num(v) for v in flat[:n].tolist())
    more = ", ..." if flat.numel() > n else ""
    shape = "" if t.dim() == 1 else f" (shape {tuple(t.shape)})"
    return f"tensor([{vals}{more}]){shape}"


def _num(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    return f"{v:.4g}"


def kind(x) -> str:
    """Like describe, but never shows a value (for hidden checks)."""
    if type(x) in (bool, int, float):
        return f"a Python {type(x).__name__}"
    return describe(x)


def got_vs_expected(got: Tensor, expected: Tensor, hidden: bool) -> str:
    if hidden:
        return "your result is not the expected one"
    return f"expected {fmt(expected)}, got {fmt(got)}"


def shape_text(shape) -> str:
    return str(tuple(shape))


# --- errors raised by student code: the likely misconception behind common PyTorch messages ----------------

ERROR_HINTS = [
    ("leaf Variable that requires grad is being used in an in-place operation", "in_place_in_graph",
     "did you update a parameter in place while autograd was recording?",
     "Do the update inside `with torch.no_grad():`, or on `p.data`; autograd must not record the step itself."),
    ("grad can be implicitly created only for scalar outputs", "not_reduced",
     "is the loss a single number?",
     "`.backward()` needs a 0-dim loss: average the per-item losses with `.mean()`."),
    ("does not require grad and does not have a grad_fn", "not_differentiable",
     "did a tensor lose its connection to autograd?",
     "`.detach()`, `.item()`, `.numpy()` or `torch.tensor(...)` cut the graph; compute with the tensors you got."),
    ("backward through the graph a second time", "backward_twice",
     "did you call `.backward()` twice on the same graph?",
     "Compute the predictions and the loss afresh before every `.backward()`."),
    ("'NoneType' object has no attribute", "grad_is_none",
     "did you use `.grad` before calling `.backward()` (or after setting it to None)?",
     "`.grad` is None until `loss.backward()` fills it; clear it after the update, not before."),
    ("is invalid for input of size", "hardcoded_shape",
     "did you hard-code a size (such as 784 or 28)?",
     "Let the tensors' own shapes decide: e.g. average over the last two dims with `.mean((-1, -2))`."),
    ("must match the size of tensor", "shape_mismatch",
     "do the shapes of your tensors line up?",
     "Print `.shape` of each tensor: `(n,)` and `(n, 1)` behave differently when combined."),
]


def explain_error(message: str, own=(), table: Misconceptions | None = None) -> tuple[str, str, str] | None:
    """(tag, question, hint) for a PyTorch error message raised in student code, or None. `own` holds an
    exercise's (needle, tag) pairs, looked up in its misconception `table` first: the same error can mean
    different things in different exercises (an in-place op on a leaf is a misplaced update in apply_step,
    a modified input in mnist_loss)."""
    for needle, tag in own:
        if needle in message and table and tag in table:
            return (tag, *table[tag])
    for needle, tag, question, hint in ERROR_HINTS:
        if needle in message:
            return tag, question, hint
    return None
