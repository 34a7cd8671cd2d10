"""train_epoch(model, lr, params, dl, loss_func): inputs, judges and the misconceptions we can recognise.

The probe builds the model from plain params and always passes loss_func (probes.TRAIN_LOSSES: a logistic loss
or MSE, deliberately not the graded mnist_loss), so a wrong mnist_loss never costs train_epoch marks. The
expected params come from the book's plain loop (digitcore.chapter.train_epoch).
"""

from functools import partial

import torch

from digitcore import chapter

from . import probes
from .common import Check, Garbled, close, describe, fail, field, first_match, fmt, judge, ok, same

EXERCISE = "train_epoch"

MISCONCEPTIONS = {
    "one_batch_only": (
        "does your loop stop after the first batch (a `return` or `break` inside the loop)?",
        "Train on every batch of `dl`: the `return` (if any) goes after the loop."),
    "grad_not_cleared": (
        "did you clear every parameter's gradient after its update?",
        ("PyTorch adds each new gradient to `.grad`; without `p.grad.zero_()` (or `p.grad = None`) after the "
        "update, every batch also pushes with the gradients of the batches before it.")),
    "cleared_before_backward": (
        "do you clear the gradients before `backward()` rather than after each update?",
        ("That trains correctly: it is what `opt.zero_grad(); loss.backward(); opt.step()` does, so no gradient "
        "leaks from one batch into the next. This exercise, like the book, clears after each update instead, "
        "so that train_epoch leaves nothing behind in `.grad`: move the clearing below the update.")),
    "wrong_sign": (
        "did you add the gradient instead of subtracting it?",
        "Each step goes against the gradient: `p.data -= lr * p.grad`."),
    "lr_ignored": (
        "is the learning rate argument `lr` used as given?",
        "Multiply each gradient by the `lr` passed in, not by a fixed number."),
    "rebinding": (
        "did you write `p = p - lr * p.grad` inside the loop?",
        ("That only renames a new tensor; the model keeps using the old one. Update in place: "
        "`p.data -= lr * p.grad` (or `p -= lr * p.grad` inside `with torch.no_grad():`).")),
    "step_after_loop": (
        "do you update the parameters once, after the loop over the batches?",
        ("Stochastic gradient descent steps after every batch: compute the loss, backward, update, clear, "
        "then the next batch.")),
    "some_params_only": (
        "do you update every parameter in `params`?",
        "Loop over all of them (`for p in params:`); the bias needs its step too."),
    "ignores_loss_func": (
        "do you call the `loss_func` argument?",
        ("Compute each batch's loss with `loss_func(model(xb), yb)`, not with a loss function chosen inside "
        "train_epoch: callers may pass their own.")),
    "iterates_twice": (
        "does your code go through `dl` more than once (e.g. `len(list(dl))` before the loop)?",
        "`dl` may be a generator that can be read only once: loop over it exactly once, `for xb, yb in dl:`."),
    "not_leaf": (
        "did you detach the parameters or switch off their gradients?",
        "After the epoch every parameter must still be a leaf with `requires_grad=True`."),
    "returns_value": (
        "does your function return something?",
        "train_epoch changes the parameters in place and returns None."),
    "mutates_input": (
        "did you change the batches (xb or yb) in place?",
        "Only the parameters should change."),
}

# --- inputs ---------------------------------------------------------------------------------------------


def make_input(seed, n_batches=4, bs=5, last=3, model="linear", loader="list", loss="mnist",
               params_as="list", lrs=(0.5,), n_in=6, offset=4000):
    g = torch.Generator().manual_seed(offset + seed)
    if model == "linear":
        params = [torch.randn(n_in, 1, generator=g), torch.randn(1, generator=g)]
    else:
        params = [torch.randn(n_in, 4, generator=g), torch.randn(4, generator=g),
                  torch.randn(4, 1, generator=g), torch.randn(1, generator=g)]
    batches = []
    for i in range(n_batches):
        size = last if (i == n_batches - 1 and n_batches > 1 and last) else bs
        xb = torch.randn(size, n_in, generator=g)
        yb = torch.randint(0, 2, (size, 1), generator=g).float()
        batches.append([xb, yb])
    return {"params": params, "model": model, "batches": batches, "loader": loader, "loss": loss,
            "params_as": params_as, "lrs": [float(lr) for lr in lrs]}


def _setup(inp, loss=None):
    params = [p.clone().requires_grad_() for p in inp["params"]]
    if inp["model"] == "linear":
        def model(xb):
            return chapter.linear1(xb, *params)
    else:
        def model(xb):
            return chapter.simple_net(xb, *params)
    if loss:  # what a student who ignores loss_func uses instead
        loss_func = chapter.mse if loss == "mse" else chapter.mnist_loss
    else:  # the loss_func the probe hands over (deliberately not the graded mnist_loss, see probes.py)
        loss_func = probes.TRAIN_LOSSES[inp["loss"]]
    batches = [(xb.clone(), yb.clone()) for xb, yb in inp["batches"]]
    return params, model, loss_func, batches


def expected_params(inp, lr):
    params, model, loss_func, batches = _setup(inp)
    chapter.train_epoch(model, lr, params, batches, loss_func)
    return [p.detach().clone() for p in params]


def _variant(inp, lr, *, sign=1.0, lr_used=None, clear=True, use="all", after_loop=False, only=None,
             loss=None):
    params, model, loss_func, batches = _setup(inp, loss)
    batches = {"all": batches, "first": batches[:1], "none": []}[use]
    chosen = [params[i] for i in only] if only else params

    def update():
        for p in chosen:
            p.data -= sign * (lr if lr_used is None else lr_used) * p.grad
        if clear:
            for p in params:
                p.grad = None

    for xb, yb in batches:
        loss_func(model(xb), yb).backward()
        if not after_loop:
            update()
    if after_loop and batches:
        update()
    return [p.detach().clone() for p in params]


VARIANTS = [
    ("one_batch_only", {"use": "first"}),
    ("grad_not_cleared", {"clear": False}),
    ("wrong_sign", {"sign": -1.0}),
    ("step_after_loop", {"after_loop": True}),
    ("some_params_only", {"only": [0]}),
    ("some_params_only", {"only": [-1]}),
    ("ignores_loss_func", {"loss": "mnist"}),
    ("lr_ignored", {"lr_used": 1.0}),
    ("rebinding", {"use": "none"}),
]


def _flat(params):
    return torch.cat([p.reshape(-1) for p in params])


def _flat_variant(inp, lr, kwargs):
    return _flat(_variant(inp, lr, **kwargs))


# --- reading the observation ----------------------------------------------------------------------------


def _runs(inp, obs):
    runs = field(obs, "runs")
    if not isinstance(runs, list) or len(runs) != len(inp["lrs"]) or not all(isinstance(r, dict) for r in runs):
        raise Garbled("the check got a garbled record of your function's run")
    return runs


def _params(inp, run):
    got = field(run, "params")
    want = inp["params"]
    if not isinstance(got, list) or len(got) != len(want):
        raise Garbled("after the epoch the parameters could not be read back")
    for i, (g, w) in enumerate(zip(got, want)):
        if type(g) is not torch.Tensor or tuple(g.shape) != tuple(w.shape):
            raise Garbled(f"after the epoch params[{i}] is {describe(g)}; it should keep shape {tuple(w.shape)}")
    return got


def _where(inp, lr):
    n = len(inp["batches"])
    loader = "a generator of" if inp["loader"] == "generator" else "a list of"
    kind = "a small linear model" if inp["model"] == "linear" else "a small two-layer net"
    loss = ("an MSE loss_func" if inp["loss"] == "mse"
            else "a logistic loss_func (cross-entropy on the activations, handed over by the check)")
    return f"one epoch of {kind} over {loader} {n} batch{'es' if n > 1 else ''}, lr={lr:g}, {loss}"


def judge_params(inp, obs, title, hidden=False):
    for lr, run in zip(inp["lrs"], _runs(inp, obs)):
        got = _params(inp, run)
        want = expected_params(inp, lr)
        bad = [i for i, (g, w) in enumerate(zip(got, want)) if not close(g, w)]
        if not bad:
            continue
        i = bad[0]
        key = first_match(_flat(got), [(k, partial(_flat_variant, inp, lr, kw)) for k, kw in VARIANTS])
        if key is None and _calls_without_batches(inp, run):
            key = "iterates_twice"
        if key == "rebinding" and _calls_without_batches(inp, run):
            key = "iterates_twice"
        if hidden:
            message = f"{title}: after one epoch on a hidden model and loader, params[{i}] differs from the book's loop"
        else:
            message = f"{title}: after {_where(inp, lr)}, params[{i}] should be {fmt(want[i])}, got {fmt(got[i])}"
        return fail(message, key, MISCONCEPTIONS)
    return ok()


def _calls_without_batches(inp, run) -> bool:
    """The loader was read to the end but the model never saw a batch: dl was consumed before the loop."""
    return (inp["loader"] == "generator" and field(run, "pulled") == len(inp["batches"])
            and field(run, "model_calls") == 0)


judge_one_batch = judge(partial(judge_params, title="one batch"))
judge_multi_batch = judge(partial(judge_params, title="several batches"))
judge_several_lrs = judge(partial(judge_params, title="several learning rates"))
judge_custom_loss = judge(partial(judge_params, title="custom loss_func"))
judge_generator = judge(partial(judge_params, title="dl is a generator"))
judge_tuple = judge(partial(judge_params, title="params as a tuple"))


@judge
def judge_returns(inp, obs):
    run = _runs(inp, obs)[0]
    out = field(run, "out")
    if out is not None:
        return fail(f"returns None: your function returned {describe(out)}; train_epoch only updates the "
                    "parameters in place", "returns_value", MISCONCEPTIONS)
    leaf, grad = field(run, "is_leaf"), field(run, "requires_grad")
    if not isinstance(leaf, list) or not isinstance(grad, list) or len(leaf) != len(inp["params"]):
        raise Garbled("after the epoch the parameters could not be read back")
    for i, (a, b) in enumerate(zip(leaf, grad)):
        if a is not True or b is not True:
            return fail(f"returns None: after the epoch params[{i}] is no longer a leaf tensor that requires grad",
                        "not_leaf", MISCONCEPTIONS)
    _params(inp, run)
    return ok()


def last_batch_grads(inp, lr):
    """The gradients of the last batch alone, at the params the book's loop has before its last step."""
    params, model, loss_func, batches = _setup(inp)
    chapter.train_epoch(model, lr, params, batches[:-1], loss_func)
    xb, yb = batches[-1]
    loss_func(model(xb), yb).backward()
    return [p.grad for p in params]


@judge
def judge_grads_cleared(inp, obs):
    """Nothing left in .grad after the epoch. Credited only for a function that updates the parameters (one
    that does nothing leaves .grad empty too). Gradients left over that are exactly the last batch's own
    were cleared before `backward()`: correct training, but the contract clears after each update."""
    run = _runs(inp, obs)[0]
    if all(same(g, w) for g, w in zip(_params(inp, run), inp["params"])):
        return fail("gradients cleared: this is credited once your function updates the parameters; after the "
                    "epoch they are unchanged")
    grads = field(run, "grads")
    if not isinstance(grads, list) or len(grads) != len(inp["params"]):
        raise Garbled("after the epoch the gradients could not be read back")
    for i, g in enumerate(grads):
        if g is None:
            continue
        if type(g) is not torch.Tensor:
            raise Garbled(f"after the epoch params[{i}].grad is {describe(g)}")
        if not bool((g == 0).all()):
            own = last_batch_grads(inp, inp["lrs"][0])
            if all(close(h, w) for h, w in zip(grads, own)):
                return fail(f"gradients cleared: after the epoch params[{i}].grad is {fmt(g)}, exactly the last "
                            "batch's own gradient: your updates are right, but each gradient should be cleared "
                            "after its update, not before `backward()`", "cleared_before_backward", MISCONCEPTIONS)
            return fail(f"gradients cleared: after the epoch params[{i}].grad is {fmt(g)}; it should be None or "
                        "zeros", "grad_not_cleared", MISCONCEPTIONS)
    return ok()


@judge
def judge_unchanged(inp, obs):
    run = _runs(inp, obs)[0]
    if field(run, "model_calls") == 0:
        raise Garbled("inputs unchanged: this is credited once your function trains the model on the batches; "
                      "it never called the model")
    after = field(run, "batches_after")
    if not isinstance(after, list) or len(after) != len(inp["batches"]):
        raise Garbled("after the epoch the batches could not be read back")
    for i, (got, (xb, yb)) in enumerate(zip(after, inp["batches"])):
        if not isinstance(got, list) or len(got) != 2:
            raise Garbled("after the epoch the batches could not be read back")
        for name, g, w in (("xb", got[0], xb), ("yb", got[1], yb)):
            if not same(g, w):
                return fail(f"inputs unchanged: batch {i + 1}'s {name} changed from {fmt(w)} to {fmt(g)}",
                            "mutates_input", MISCONCEPTIONS)
    return ok()


def make_checks():
    p = probes.probe_train_epoch
    return [
        Check(EXERCISE, "returns_none", "returns None; params stay leaf tensors that require grad", 1.0, p,
              make_input, judge_returns),
        Check(EXERCISE, "one_batch", "one batch: the same step as the book's loop", 1.5, p,
              partial(make_input, n_batches=1, lrs=(1.0,)), judge_one_batch),
        Check(EXERCISE, "multi_batch", "several batches: the same params as the book's loop", 2.0, p,
              make_input, judge_multi_batch),
        Check(EXERCISE, "grads_cleared", "clears every gradient", 1.0, p, make_input, judge_grads_cleared),
        Check(EXERCISE, "several_lrs", "several learning rates", 1.0, p,
              partial(make_input, lrs=(0.1, 3.0)), judge_several_lrs),
        Check(EXERCISE, "custom_loss", "uses the loss_func it is given", 1.0, p,
              partial(make_input, loss="mse", lrs=(0.1,)), judge_custom_loss),
        Check(EXERCISE, "generator_loader", "dl is a generator, read once", 1.0, p,
              partial(make_input, loader="generator"), judge_generator),
        Check(EXERCISE, "params_tuple", "params given as a tuple", 0.5, p,
              partial(make_input, params_as="tuple"), judge_tuple),
        Check(EXERCISE, "inputs_unchanged", "leaves the batches unchanged", 1.0, p, make_input,
              judge_unchanged),
    ]


CHECKS = make_checks()


def not_started(inp, obs) -> bool:
    """Nothing happened: the model was never called and the parameters are untouched."""
    try:
        run = obs["runs"][0]
        return (run["model_calls"] == 0 and run["out"] is None
                and all(same(g, w) for g, w in zip(run["params"], inp["params"])))
    except Exception:  # noqa: BLE001
        return False
