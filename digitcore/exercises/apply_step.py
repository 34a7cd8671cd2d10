"""apply_step(params, time, speed, lr): inputs, judges and the misconceptions we can recognise."""

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
    flag,
    fmt,
    inputs_unchanged,
    is_float,
    judge,
    ok,
    same,
)

EXERCISE = "apply_step"

MISCONCEPTIONS = {
    "wrong_sign": (
        "did you add the gradient instead of subtracting it?",
        "Gradient descent steps against the gradient: `params -= lr * params.grad`."),
    "lr_ignored": (
        "is the learning rate argument `lr` used as given?",
        "Multiply the gradient by the `lr` passed in, not by a fixed number such as 1e-5 or 1."),
    "sum_not_mean": (
        "is your loss the mean of the squared errors?",
        "mse is `((preds - speed)**2).mean()`; a sum makes the gradient n times larger."),
    "grad_not_cleared": (
        "did you clear the gradient after the step?",
        ("PyTorch adds each new gradient to `.grad`. After updating, set `params.grad = None` "
        "(or call `params.grad.zero_()`), or the next call also uses this call's gradient.")),
    "rebinding": (
        "did you write `params = params - lr * params.grad`?",
        ("That builds a new tensor and leaves the caller's `params` as it was. Update in place: "
        "`params.data -= lr * params.grad`, or `params -= lr * params.grad` inside `with torch.no_grad():`.")),
    "cleared_before_backward": (
        "do you clear the gradient before `backward()` rather than after the step?",
        ("That trains correctly: it is what `opt.zero_grad(); loss.backward(); opt.step()` does, so no gradient "
        "leaks into the next call. This exercise, like the book, clears after the step instead, so that "
        "apply_step leaves nothing behind in `params.grad`: move the clearing below the update.")),
    "cleared_too_early": (
        "did you clear the gradient before using it?",
        "Update with `params.grad` first, then clear it."),
    "preds_after_step": (
        "did you return predictions computed after the step?",
        "Return the `preds` computed before updating params: they are what the loss measured."),
    "returns_loss": (
        "did you return the loss instead of the predictions?",
        "apply_step returns `preds`, the predictions made before the step."),
    "not_leaf": (
        "did you detach params or switch off its gradient?",
        "After the step params must still be a leaf with `requires_grad=True`, so the next step gets a gradient."),
    "mutates_input": (
        "did you change time or speed in place?",
        "Only params should change; compute with out-of-place operations on time and speed."),
}


# --- inputs ---------------------------------------------------------------------------------------------


def make_input(seed, lrs=(1e-5,), fresh=False, n=20, offset=3000):
    """The book's roller-coaster data: speed is a noisy quadratic in time; random starting params."""
    g = torch.Generator().manual_seed(offset + seed)
    time = torch.arange(0, n).float()
    speed = torch.randn(n, generator=g) * 3 + 0.75 * (time - 9.5) ** 2 + 1
    params = torch.randn(3, generator=g)
    return {"params": params, "time": time, "speed": speed, "lrs": [float(lr) for lr in lrs], "fresh": fresh}


# --- the reference and the known wrong variants, step by step ---------------------------------------------


def _simulate(inp, step=None):
    """[(preds, params_after, grad_after)] for each lr, like probe_apply_step sees them."""
    step = step or chapter.apply_step
    params = inp["params"].clone().requires_grad_()
    out = []
    for lr in inp["lrs"]:
        if inp.get("fresh"):
            params = inp["params"].clone().requires_grad_()
        preds = step(params, inp["time"].clone(), inp["speed"].clone(), lr)
        out.append((preds.detach().clone(), params.detach().clone(), params.grad))
    return out


def _variant_step(params, time, speed, lr, *, sign=1.0, lr_used=None, reduce="mean", clear=True, update=True,
                  after=False, returns_loss=False):
    preds = chapter.f(time, params)
    loss = (preds - speed) ** 2
    loss = loss.sum() if reduce == "sum" else loss.mean()
    loss.backward()
    if update:
        with torch.no_grad():
            params -= sign * (lr if lr_used is None else lr_used) * params.grad
    if clear:
        params.grad = None
    if returns_loss:
        return loss
    return chapter.f(time, params) if after else preds


VARIANTS = [
    ("wrong_sign", {"sign": -1.0}),
    ("lr_ignored", {"lr_used": 1e-5}),
    ("lr_ignored", {"lr_used": 1.0}),
    ("sum_not_mean", {"reduce": "sum"}),
    ("grad_not_cleared", {"clear": False}),
    ("rebinding", {"update": False, "clear": False}),
    ("cleared_too_early", {"update": False}),
    ("preds_after_step", {"after": True}),
    ("returns_loss", {"returns_loss": True}),
]


def _variant_runs(inp):
    for key, kwargs in VARIANTS:
        yield key, partial(_simulate, inp, partial(_variant_step, **kwargs))


def _diagnose(inp, got, pick):
    """The first variant whose simulated run gives `got` when reduced with pick(run)."""

    def candidate(run):
        return lambda: pick(run())

    return first_match(got, [(key, candidate(run)) for key, run in _variant_runs(inp)])


def _steps(obs, n):
    steps = field(obs, "steps")
    if not isinstance(steps, list) or len(steps) != n or not all(isinstance(s, dict) for s in steps):
        raise Garbled("the check got a garbled record of your function's calls")
    return steps


def _lrs(inp):
    return ", ".join(f"{lr:g}" for lr in inp["lrs"])


def _preds(step, n):
    out = as_output_tensor(field(step, "out"))
    if out.dim() == 0:
        raise Garbled(f"your function returned a single number ({fmt(out)}), not the {n} predictions")
    if tuple(out.shape) != (n,):
        raise Garbled(f"your function returned a tensor of shape {tuple(out.shape)}; expected the predictions, "
                      f"shape ({n},) like time")
    if not is_float(out):
        raise Garbled(f"your function returned a {str(out.dtype).replace('torch.', '')} tensor, not floats")
    if not finite(out):
        raise Garbled(f"your function returned predictions that are not finite: {fmt(out)}")
    return out


def _params(step):
    p = field(step, "params")
    if type(p) is not torch.Tensor or tuple(p.shape) != (3,):
        raise Garbled(f"after the call, params is {fmt(p)}; it should still be a tensor of 3 numbers")
    return p


def _returns_loss_tag(obs):
    try:
        out = field(field(obs, "steps")[0], "out")
    except (Garbled, IndexError, TypeError, KeyError):
        return None
    return "returns_loss" if type(out) is torch.Tensor and out.dim() == 0 else None


# --- judges ---------------------------------------------------------------------------------------------


@judge
def judge_returns(inp, obs):
    n = inp["time"].numel()
    try:
        out = _preds(_steps(obs, len(inp["lrs"]))[0], n)
    except Garbled as e:
        return fail(str(e), _returns_loss_tag(obs), MISCONCEPTIONS)
    return ok(f"returns a float tensor of shape {tuple(out.shape)}")


@judge
def judge_preds(inp, obs):
    n = inp["time"].numel()
    try:
        out = _preds(_steps(obs, len(inp["lrs"]))[0], n)
    except Garbled as e:
        return fail(f"returned predictions: {e}", _returns_loss_tag(obs), MISCONCEPTIONS)
    expected = _simulate(inp)[0][0]
    if close(out, expected):
        return ok()
    key = _diagnose(inp, out, lambda run: run[0][0])
    return fail(f"returned predictions: with params={fmt(inp['params'])} and time={fmt(inp['time'], 4)}, "
                f"expected the predictions before the step {fmt(expected, 4)}, got {fmt(out, 4)}",
                key, MISCONCEPTIONS)


def _judge_params(inp, obs, title):
    """Params after every call match the reference run."""
    steps = _steps(obs, len(inp["lrs"]))
    expected = _simulate(inp)
    for i, (step, (_, want, _)) in enumerate(zip(steps, expected)):
        got = _params(step)
        if close(got, want):
            continue
        call = f"call {i + 1} of {len(steps)} " if len(steps) > 1 else ""
        start = inp["params"] if i == 0 or inp.get("fresh") else _params(steps[i - 1])
        key = _diagnose(inp, torch.stack([_params(s) for s in steps]),
                        lambda run: torch.stack([r[1] for r in run]))
        if key is None and same(got, start):
            key = "rebinding" if field(step, "grad") is not None else "cleared_too_early"
        return fail(f"{title}: {call}with lr={inp['lrs'][i]:g} should move params from {fmt(start)} to {fmt(want)}, "
                    f"got {fmt(got)}", key, MISCONCEPTIONS)
    return ok()


judge_update = judge(partial(_judge_params, title="update"))
judge_several_lrs = judge(partial(_judge_params, title="several learning rates"))
judge_repeated = judge(partial(_judge_params, title="repeated calls"))


@judge
def judge_in_place(inp, obs):
    step = _steps(obs, len(inp["lrs"]))[0]
    if not flag(step, "is_leaf") or not flag(step, "requires_grad"):
        return fail("in place: after the call params is no longer a leaf tensor that requires grad",
                    "not_leaf", MISCONCEPTIONS)
    got = _params(step)
    if same(got, inp["params"]):
        tag = "rebinding" if field(step, "grad") is not None else "cleared_too_early"
        return fail(f"in place: the caller's params are unchanged after the call (still {fmt(got)})",
                    tag, MISCONCEPTIONS)
    return ok()


def _fresh_grad(inp, params):
    """The gradient one call computes from `params` alone (nothing left over in .grad)."""
    p = params.clone().requires_grad_()
    ((chapter.f(inp["time"], p) - inp["speed"]) ** 2).mean().backward()
    return p.grad


@judge
def judge_grad_cleared(inp, obs):
    """Two calls in a row on the same params. A gradient left in .grad after a call either leaks into the next
    call, or was cleared before the next backward: then the next call's .grad is exactly its own gradient
    (correct training, but the contract clears after the step). Credited only for a function that updates
    params: a function that does nothing leaves .grad empty too."""
    steps = _steps(obs, len(inp["lrs"]))
    if same(_params(steps[0]), inp["params"]):
        return fail("gradient cleared: this is credited once your function updates params with a gradient; "
                    f"after the call params is unchanged ({fmt(inp['params'])})")
    for i, step in enumerate(steps):
        grad = field(step, "grad")
        if grad is None:
            continue
        if type(grad) is not torch.Tensor:
            raise Garbled(f"after the call, params.grad is {fmt(grad)}")
        if finite_zero(grad):
            continue
        after = f"after call {i + 1} of {len(steps)}" if len(steps) > 1 else "after the call"
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        if nxt is not None and close(field(nxt, "grad"), _fresh_grad(inp, _params(step))):
            return fail(f"gradient cleared: {after} params.grad still holds that call's gradient {fmt(grad)}, "
                        "though the next call starts from a clean gradient: your steps are right, but the "
                        "gradient should be cleared after the step, not before `backward()`",
                        "cleared_before_backward", MISCONCEPTIONS)
        return fail(f"gradient cleared: {after} params.grad is {fmt(grad)}; it should be None or zeros",
                    "grad_not_cleared", MISCONCEPTIONS)
    return ok()


def finite_zero(t) -> bool:
    return bool((t == 0).all())


@judge
def judge_unchanged(inp, obs):
    as_output_tensor(field(_steps(obs, len(inp["lrs"]))[0], "out"),
                     "this is credited once your function returns the predictions; it returned")
    return inputs_unchanged(inp, obs, ("time", "speed"), MISCONCEPTIONS, digits=4)


def make_checks():
    p = probes.probe_apply_step
    return [
        Check(EXERCISE, "returns_preds", "returns the predictions: a float tensor shaped like time", 1.0, p,
              make_input, judge_returns),
        Check(EXERCISE, "preds_before_step", "returns the predictions made before the step", 1.5, p,
              make_input, judge_preds),
        Check(EXERCISE, "update", "updates params by -lr * grad", 2.0, p, make_input, judge_update),
        Check(EXERCISE, "in_place", "updates the caller's params in place; still a leaf that requires grad",
              1.5, p, make_input, judge_in_place),
        Check(EXERCISE, "grad_cleared", "clears params.grad afterwards", 1.0, p,
              partial(make_input, lrs=(1e-5, 1e-5)), judge_grad_cleared),
        Check(EXERCISE, "several_lrs", "several learning rates", 1.0, p,
              partial(make_input, lrs=(4e-5, 2e-6), fresh=True), judge_several_lrs),
        Check(EXERCISE, "repeated_calls", "three calls in a row", 1.0, p,
              partial(make_input, lrs=(1e-5, 1e-5, 2e-6)), judge_repeated),
        Check(EXERCISE, "inputs_unchanged", "leaves time and speed unchanged", 1.0, p, make_input,
              judge_unchanged),
    ]


CHECKS = make_checks()


def not_started(inp, obs) -> bool:
    """Nothing happened: no result, no gradient, params untouched."""
    try:
        step = obs["steps"][0]
        return step["out"] is None and step["grad"] is None and same(step["params"], inp["params"])
    except Exception:  # noqa: BLE001
        return False
