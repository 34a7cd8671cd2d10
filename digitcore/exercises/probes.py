"""Probes: they run in the UNTRUSTED worker, next to the student's code, and only observe.

probe(student_function, input) calls the student's function on fresh copies of the input and returns raw data:
what came back, the inputs as they are after the call, gradients, flags. It never judges and never imports
the reference. Everything returned is a plain tensor or a Python value; any other object the student returns
is recorded only by its type name. Probes are deterministic given the input. Nothing here may compute
what a graded exercise asks for (the worker would hand it to the student).
"""

import torch


def _raw(x):
    """A student's value as plain data: exact tensors are detached copies, anything odd is named, not kept."""
    if type(x) is torch.Tensor:
        return x.detach().cpu().clone()
    if x is None or type(x) in (bool, int, float, str):
        return x
    return {"__unplain__": type(x).__name__}


def _grad(t: torch.Tensor):
    return None if t.grad is None else _raw(t.grad)


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:300]


# --- mnist_loss(predictions, targets) -------------------------------------------------------------------


def probe_mnist_loss(fn, inp):
    """Call fn(predictions, targets); with inp["backward"], also back-propagate and record predictions.grad."""
    predictions, targets = inp["predictions"].clone(), inp["targets"].clone()
    backward = bool(inp.get("backward"))
    if backward:
        predictions.requires_grad_()
    out = fn(predictions, targets)
    obs = {"out": _raw(out), "out_type": type(out).__name__,
           "predictions_after": predictions.detach().clone(), "targets_after": targets.clone()}
    if backward:
        obs["backward_error"] = None
        if type(out) is not torch.Tensor or not out.requires_grad:
            obs["backward_error"] = "not connected"
        else:
            try:
                out.backward()
            except Exception as e:  # noqa: BLE001 - recorded, judged on the trusted side
                obs["backward_error"] = _error(e)
        obs["grad"] = _grad(predictions)
    return obs


# --- apply_step(params, time, speed, lr) ----------------------------------------------------------------


def probe_apply_step(fn, inp):
    """Call fn(params, time, speed, lr) once per lr in inp["lrs"] and record every step.

    The calls share one params tensor (repeated steps), or each gets a fresh copy when inp["fresh"]."""
    params = inp["params"].clone().requires_grad_()
    time, speed = inp["time"].clone(), inp["speed"].clone()
    steps = []
    for lr in inp["lrs"]:
        if inp.get("fresh"):
            params = inp["params"].clone().requires_grad_()
        out = fn(params, time, speed, lr)
        steps.append({"out": _raw(out), "params": params.detach().clone(), "grad": _grad(params),
                      "is_leaf": params.is_leaf, "requires_grad": params.requires_grad})
    return {"steps": steps, "time_after": time.clone(), "speed_after": speed.clone()}


# --- train_epoch(model, lr, params, dl, loss_func) ------------------------------------------------------


def _logistic_loss(predictions, targets):
    """Binary cross-entropy on logits. Deliberately NOT the graded mnist_loss: no graded exercise's
    reference may exist in the worker, where a student could wrap it."""
    return torch.nn.functional.softplus(torch.where(targets == 1, -predictions, predictions)).mean()


def _mse_loss(predictions, targets):
    return ((predictions - targets) ** 2).mean()


# the loss_func handed to train_epoch, by the input's "loss" ("mnist": a 3s-vs-7s loss, not mnist_loss itself);
# the trusted side computes the expected parameters with the same functions
TRAIN_LOSSES = {"mnist": _logistic_loss, "mse": _mse_loss}


def _model(kind, params):
    if kind == "linear":
        w, b = params
        return lambda xb: xb @ w + b
    if kind == "simple_net":
        w1, b1, w2, b2 = params
        return lambda xb: (xb @ w1 + b1).relu() @ w2 + b2
    raise ValueError(f"unknown model kind {kind!r}")


def probe_train_epoch(fn, inp):
    """One fresh run of fn(model, lr, params, dl, loss_func) per lr in inp["lrs"]; record params and counts.

    inp: params (list of tensors), model ("linear" | "simple_net"), batches (list of [xb, yb]),
    loader ("list" | "generator"), loss ("mnist" | "mse"), params_as ("list" | "tuple"), lrs (list of floats).
    """
    runs = []
    for lr in inp["lrs"]:
        params = [p.clone().requires_grad_() for p in inp["params"]]
        batches = [(xb.clone(), yb.clone()) for xb, yb in inp["batches"]]
        counts = {"model": 0, "loss": 0, "pulled": 0}
        net = _model(inp["model"], params)

        def model(xb, net=net, counts=counts):
            counts["model"] += 1
            return net(xb)

        base_loss = TRAIN_LOSSES[inp["loss"]]

        def loss_func(predictions, targets, base_loss=base_loss, counts=counts):
            counts["loss"] += 1
            return base_loss(predictions, targets)

        def generate(batches=batches, counts=counts):
            for batch in batches:
                counts["pulled"] += 1
                yield batch

        dl = generate() if inp["loader"] == "generator" else list(batches)
        given = tuple(params) if inp["params_as"] == "tuple" else list(params)
        out = fn(model, lr, given, dl, loss_func)
        runs.append({"out": _raw(out), "out_type": type(out).__name__,
                     "params": [p.detach().clone() for p in params],
                     "grads": [_grad(p) for p in params],
                     "is_leaf": [p.is_leaf for p in params],
                     "requires_grad": [p.requires_grad for p in params],
                     "batches_after": [[xb.clone(), yb.clone()] for xb, yb in batches],
                     "model_calls": counts["model"], "loss_calls": counts["loss"],
                     "pulled": counts["pulled"]})
    return {"runs": runs}


# --- extras: mnist_distance(a, b), batch_accuracy(xb, yb) ------------------------------------------------


def probe_mnist_distance(fn, inp):
    a, b = inp["a"].clone(), inp["b"].clone()
    out = fn(a, b)
    return {"out": _raw(out), "out_type": type(out).__name__, "a_after": a.clone(), "b_after": b.clone()}


def probe_batch_accuracy(fn, inp):
    xb, yb = inp["xb"].clone(), inp["yb"].clone()
    out = fn(xb, yb)
    return {"out": _raw(out), "out_type": type(out).__name__, "xb_after": xb.clone(), "yb_after": yb.clone()}
