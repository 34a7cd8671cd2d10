import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="08 · Bias, parameters and going deeper")

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import os
    import time

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch
    import torch.nn.functional as F
    from torch import nn

    from digitcore import plots
    from digitcore.data import load_sample
    from digitcore.dataloader import DataLoader, DataLoaders
    from digitcore.learner import Callback, Learner
    from digitcore.models import linear_model, resnet18_digits, simple_net_model

    RUNS = {}  # finished training runs, keyed by their settings

    torch.set_num_threads(1)  # tiny models: one thread is as fast (resnet18 below asks for every core)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 08 · Bias, parameters and going deeper

    Three short stops before the chapter ends:

    1. **the bias**: what a model without one cannot do (zero in, zero out);
    2. **activations vs parameters**: the two kinds of numbers inside a network;
    3. **going deeper**: resnet18, the kind of model the book trains next, adapted to 28×28 digits.
    """)
    return


@app.cell
def _():
    data = load_sample()
    plots.data_notice(data)
    return (data,)


@app.function
def digit_loaders(data, batch_size: int = 128, seed: int = 0, limit: int | None = None,
                  labels: bool = False) -> DataLoaders:
    """Train/valid loaders over a DigitSample. `limit`: use only that many training digits (a random subset);
    `labels`: targets as class numbers (0 for 7, 1 for 3) for cross-entropy instead of the (n, 1) floats."""
    x, y = data.train_xy()
    vx, vy = data.valid_xy()
    if limit is not None and limit < len(x):
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:limit]
        x, y = x[keep], y[keep]
    if labels:
        y, vy = y.squeeze(1).long(), vy.squeeze(1).long()
    return DataLoaders(DataLoader.from_tensors(x, y, batch_size=batch_size, shuffle=True, seed=seed),
                       DataLoader.from_tensors(vx, vy, batch_size=512))


@app.function
def train_cached(key: tuple, make_model, data, n_epoch: int, lr: float) -> dict:
    """Train a 3-vs-7 model with the Learner once per setting; returns {"rows", "message", "model"}."""
    key = (data.source, n_epoch, lr, *key)
    if key not in RUNS:
        model = make_model()
        rec = Learner(digit_loaders(data), model, device="cpu").fit(n_epoch, lr)
        RUNS[key] = {"rows": rec.rows, "message": rec.message, "model": model}
    return RUNS[key]


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 1 · Zero in, zero out

    The linear model computes $y = w \cdot x + b$. Drop the bias $b$ and look at a blank page,
    $x = 0$: then $y = w \cdot 0 = 0$ *whatever the weights are*, and $\sigma(0) = 0.5$: the model is
    forced to sit on the fence. More generally, without a bias the output just scales with the input,
    $y(\alpha x) = \alpha\, y(x)$, so a faint digit always gets a timid answer.

    Both models below were trained on the same digits for 10 epochs; only the bias differs. Pick an input,
    dim it, and switch the bias on and off.
    """)
    return


@app.cell
def _():
    bias_on = mo.ui.switch(value=True, label="model with a bias")
    picture = mo.ui.dropdown(["blank page", "a 3", "a 7", "every pixel inked"], value="blank page", label="input")
    brightness = mo.ui.slider(0.0, 1.0, step=0.05, value=1.0, label="brightness α", show_value=True)
    mo.hstack([picture, brightness, bias_on], justify="start", gap=2)
    return bias_on, brightness, picture


@app.cell
def _(data):
    bias_models = {
        True: train_cached(("bias",), lambda: linear_model(seed=0), data, 10, 1.0),
        False: train_cached(("no bias",), linear_without_bias, data, 10, 1.0),
    }
    return (bias_models,)


@app.function
def linear_without_bias(seed: int = 0) -> nn.Module:
    """The linear model minus its bias: 784 weights, nothing added, drawn from the same seed as linear_model."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(28 * 28, 1, bias=False)


@app.function
def input_picture(name: str, data) -> torch.Tensor:
    """One 784-pixel input in [0, 1] for the bias demo."""
    x, _ = data.valid_xy()
    if name == "blank page":
        return torch.zeros(784)
    if name == "every pixel inked":
        return torch.ones(784)
    if name == "a 3":
        return x[0]
    if name == "a 7":
        return x[-1]
    raise ValueError(f"unknown input {name!r}")


@app.cell
def _(bias_models, bias_on, brightness, data, picture):
    _x = input_picture(picture.value, data)
    _alphas = torch.linspace(0, 1, 21)
    _curves = []
    with torch.no_grad():
        for _has_bias, _run in bias_models.items():
            _p = torch.sigmoid(_run["model"](_alphas[:, None] * _x[None, :])).squeeze(1)
            _curves += [{"brightness α": a, "P(3)": p, "model": "with bias" if _has_bias else "no bias"}
                        for a, p in zip(_alphas.tolist(), _p.tolist())]
        _act = bias_models[bias_on.value]["model"](brightness.value * _x[None, :]).item()
    _prob = torch.sigmoid(torch.tensor(_act)).item()
    _df = pd.DataFrame(_curves)
    _lines = alt.Chart(_df).mark_line(strokeWidth=3).encode(
        x=alt.X("brightness α:Q", title="brightness α"), y=alt.Y("P(3):Q", scale=alt.Scale(domain=[0, 1]),
                                                                 title="P(3)"),
        color=alt.Color("model:N", scale=alt.Scale(domain=["with bias", "no bias"], range=["#264653", "#e76f51"])),
        tooltip=["model:N", "brightness α:Q", alt.Tooltip("P(3):Q", format=".3f")])
    _half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(strokeDash=[4, 4], color="#999").encode(
        y=alt.Y("y:Q", title="P(3)"))
    _now = alt.Chart(pd.DataFrame({"a": [brightness.value]})).mark_rule(color="#999").encode(
        x=alt.X("a:Q", title="brightness α"))
    _verdict = "a 3" if _prob > 0.5 else "a 7" if _prob < 0.5 else "no idea (exactly 0.5)"
    mo.hstack([
        mo.vstack([plots.digit_images((brightness.value * _x).view(28, 28), scale=4, vmin=0, vmax=1),
                   mo.md(f"**{'with' if bias_on.value else 'without'} bias**  \nactivation `{_act:+.3f}`  \n"
                         f"P(3) = **{_prob:.3f}** → {_verdict}")]),
        (_lines + _half + _now).properties(width=340, height=220, title="the answer as the input fades to blank"),
    ], justify="start", gap=2, align="center")
    return


@app.cell
def _(bias_models):
    _rows = [{"model": "with bias" if _b else "no bias", "epoch": r["epoch"], "valid accuracy": r["batch_accuracy"]}
             for _b, _run in bias_models.items() for r in _run["rows"]]
    _chart = alt.Chart(pd.DataFrame(_rows)).mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("valid accuracy:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", scale=alt.Scale(domain=["with bias", "no bias"], range=["#264653", "#e76f51"])),
        tooltip=["model:N", "epoch:Q", alt.Tooltip("valid accuracy:Q", format=".4f")],
    ).properties(width=340, height=200, title="training with and without a bias")
    _acc = {("with bias" if _b else "no bias"): _run["rows"][-1]["batch_accuracy"] if _run["rows"] else float("nan")
            for _b, _run in bias_models.items()}
    mo.vstack([_chart, mo.md(
        f"After 10 epochs: **{_acc['with bias']:.4f}** with a bias, **{_acc['no bias']:.4f}** without. "
        "On 3s vs 7s the gap is small: every real digit has plenty of ink, so the weights alone can do "
        "most of the work. The blank page is where the missing bias shows. In a deep net every layer "
        "has this problem, and a layer that can't shift its output can't put its bend (the ReLU's kink) "
        "where it is needed.")])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 2 · Activations and parameters

    A network holds two kinds of numbers, and the book insists on telling them apart:

    - **parameters** (weights and biases) are what training learns. They live in the model
      (`model.parameters()`), stay from batch to batch, and the optimizer changes them using their gradients;
    - **activations** are what the model computes: every layer's output for the batch in hand. They are made
      fresh by each forward pass, kept only until the backward pass has used them, then thrown away.

    Here is `simple_net`, with a batch size you choose: watch which numbers grow with it.
    """)
    return


@app.cell
def _():
    table_bs = mo.ui.slider(steps=[1, 8, 64, 256, 1024], value=64, label="batch size", show_value=True)
    table_bs
    return (table_bs,)


@app.function
def activation_shapes(model: nn.Module, xb: torch.Tensor, modules: dict) -> dict:
    """Run `model` on `xb` once and return {name: output shape} for the named submodules (forward hooks)."""
    shapes, hooks = {}, []
    for name, module in modules.items():
        hooks.append(module.register_forward_hook(lambda m, i, out, name=name: shapes.__setitem__(name, out.shape)))
    try:
        with torch.no_grad():
            model(xb)
    finally:
        for h in hooks:
            h.remove()
    return shapes


@app.function
def params_and_activations(model: nn.Sequential, batch_size: int) -> pd.DataFrame:
    """One row per parameter tensor and per activation of a small Sequential net on a batch of `batch_size`."""
    rows = [{"kind": "parameter", "name": name, "shape": tuple(p.shape), "numbers": p.numel(),
             "lives in": "model.parameters(); kept between batches, updated by the optimizer (grad in .grad)"}
            for name, p in model.named_parameters()]
    xb = torch.rand(batch_size, 784)
    shapes = activation_shapes(model, xb, {f"{i}: {type(m).__name__}": m for i, m in enumerate(model)})
    rows.append({"kind": "activation", "name": "input xb", "shape": tuple(xb.shape), "numbers": xb.numel(),
                 "lives in": "the batch in hand"})
    for name, shape in shapes.items():
        rows.append({"kind": "activation", "name": f"output of {name}", "shape": tuple(shape),
                     "numbers": torch.Size(shape).numel(),
                     "lives in": "made by this forward pass; freed after backward"})
    return pd.DataFrame(rows)


@app.cell
def _(table_bs):
    _df = params_and_activations(simple_net_model(seed=0), table_bs.value)
    _totals = _df.groupby("kind")["numbers"].sum()
    _bars = alt.Chart(_df).mark_bar().encode(
        y=alt.Y("name:N", sort=None, title=None),
        x=alt.X("numbers:Q", scale=alt.Scale(type="symlog"), axis=alt.Axis(format="~s"), title="numbers (log scale)"),
        color=alt.Color("kind:N", scale=alt.Scale(domain=["parameter", "activation"], range=["#264653", "#f4a261"])),
        tooltip=["name:N", alt.Tooltip("numbers:Q", format=",")],
    ).properties(width=420, height=200)
    mo.vstack([
        _df.assign(shape=_df["shape"].astype(str)),
        _bars,
        mo.md(f"**{_totals['parameter']:,}** parameters, whatever the batch size; "
              f"**{_totals['activation']:,}** activation numbers for a batch of {table_bs.value}."),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### Your turn: count the parameters

    Complete `count_parameters(model)`: the total number of trainable numbers (weights *and* biases) in
    a model. `model.parameters()` gives the tensors; `p.numel()` counts one tensor's numbers.
    """)
    return


@app.function
def count_parameters(model: nn.Module) -> int:
    """How many trainable numbers `model` has."""
    raise NotImplementedError("add up p.numel() over model.parameters()")


@app.function
def check_count_parameters(fn) -> tuple[str, str]:
    """Self-check for count_parameters: (callout kind, markdown) — never raises."""
    cases = [("nn.Linear(784, 1)", lambda: nn.Linear(784, 1)),
             ("nn.Linear(784, 1, bias=False)", lambda: nn.Linear(784, 1, bias=False)),
             ("simple_net_model()", lambda: simple_net_model(seed=0))]
    for title, make in cases:
        model = make()
        want = sum(p.numel() for p in model.parameters())
        try:
            got = fn(model)
        except NotImplementedError:
            return "neutral", "**`count_parameters`: not started yet.** Replace the `raise` with your code."
        except Exception as e:
            return "warn", f"**On `{title}` your function raised `{type(e).__name__}`:** {str(e)[:200]}"
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if got is None:
            return "warn", "**Your function returned `None`.** Did you forget the `return`?"
        if not isinstance(got, (int, float)):
            return "warn", f"**Expected a number, got `{type(got).__name__}`.**"
        if got == want:
            continue
        n_tensors = len(list(model.parameters()))
        weights_only = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight"))
        if got == n_tensors:
            hint = "you counted the parameter *tensors*; count the numbers in each with `p.numel()`."
        elif got == weights_only:
            hint = "the biases are parameters too."
        else:
            hint = "add `p.numel()` over every tensor in `model.parameters()`."
        return "warn", f"**On `{title}`: expected {want:,}, got {got:,}.** Hint: {hint}"
    return "success", "**`count_parameters` is right** on all three models. Try it on resnet18 below."


@app.cell
def _():
    counted_kind, _message = check_count_parameters(count_parameters)
    mo.callout(mo.md(_message), kind=counted_kind)
    return (counted_kind,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 3 · Going deeper: resnet18 on digits

    `simple_net` has one hidden layer. The book's next step is a *deep* model: resnet18, 18 layers of
    convolutions (small filters slid over the image) with shortcuts around every pair of them. digitcore
    adapts it to one-channel 28×28 digits (`digitcore.models.resnet18_digits`): the first convolution reads
    1 channel instead of 3, and the last layer gives 2 scores, one for "7" and one for "3".
    """)
    return


@app.cell
def _():
    resnet = resnet18_digits(n_out=2, seed=0)
    return (resnet,)


@app.function
def resnet_stages(model: nn.Module, batch_size: int = 8) -> pd.DataFrame:
    """The stages of resnet18_digits: parameters in each, and the activation shape a batch gives after it."""
    net = model[1]
    names = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    modules = {n: getattr(net, n) for n in names}
    shapes = activation_shapes(model, torch.rand(batch_size, 784), modules)
    return pd.DataFrame([{"stage": n, "type": type(m).__name__,
                          "parameters": sum(p.numel() for p in m.parameters()),
                          "activation shape": str(tuple(shapes[n]))} for n, m in modules.items()])


@app.cell
def _(counted_kind, resnet):
    _t = time.perf_counter()
    _stages = resnet_stages(resnet, batch_size=8)
    _ms = (time.perf_counter() - _t) * 1000
    _total = sum(p.numel() for p in resnet.parameters())
    _mine = (f" Your `count_parameters` says **{count_parameters(resnet):,}**." if counted_kind == "success" else "")
    _bars = alt.Chart(_stages).mark_bar(color="#264653").encode(
        y=alt.Y("stage:N", sort=None, title=None),
        x=alt.X("parameters:Q", scale=alt.Scale(type="symlog"), axis=alt.Axis(format="~s"), title="parameters (log)"),
        tooltip=["stage:N", "type:N", alt.Tooltip("parameters:Q", format=",")],
    ).properties(width=260, height=240, title="parameters per stage")
    mo.vstack([
        mo.md(f"**{_total:,} parameters** — {_total / 23_581:.0f} times `simple_net`'s 23,581.{_mine} "
              f"A forward pass on 8 digits took {_ms:.0f} ms here."),
        mo.hstack([_stages, _bars], justify="start", gap=1),
        mo.md("Read the shapes top to bottom: 8 digits go in as `(8, 1, 28, 28)`; the stride-2 first convolution "
              "and the max pool shrink each picture to 7×7 while the channels grow to 64; `layer1` keeps that size, "
              "and each later stage halves it and doubles the channels, until `avgpool` leaves 512 numbers per "
              "digit and `fc` turns them into 2 scores. Most of the parameters sit in the last, narrowest stages."),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### How well does it do?

    The book trains resnet18 on the full MNIST_SAMPLE for **one epoch** with the one-cycle schedule and reaches
    **0.9971** validation accuracy, against about 0.98 for `simple_net`. To reproduce that here, run

    ```
    digitcore reproduce --deep
    ```

    On a CPU that takes minutes, so this lesson does not train resnet18 by itself. For a taste, the button
    below trains it for one epoch on a small subset of the training digits (SGD with momentum, cross-entropy
    loss on the 2 scores): from several seconds on a GPU to a minute or more on a busy CPU.
    """)
    return


@app.cell
def _():
    deep_n = mo.ui.dropdown({"256 digits": 256, "1,000 digits": 1000, "4,000 digits": 4000}, value="1,000 digits",
                            label="training subset")
    deep_go = mo.ui.run_button(label="train resnet18 for one epoch")
    mo.hstack([deep_n, deep_go], justify="start", gap=2)
    return deep_go, deep_n


@app.function
def class_accuracy(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Accuracy of class scores (n, c) against class numbers (n,)."""
    return (preds.argmax(dim=1) == targets).float().mean()


@app.function
def sgd_momentum(params, lr: float):
    """An optimizer for the Learner: SGD with momentum 0.9 (plain SGD is slow to train a deep net)."""
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


@app.class_definition
class BatchProgress(Callback):
    """Advance a marimo progress bar after every batch."""

    def __init__(self, bar):
        self.bar = bar

    def after_batch(self, learn):
        self.bar.update()


@app.function
def train_resnet_subset(data, n: int, bar=None) -> dict:
    """One epoch of resnet18_digits on `n` training digits (SGD with momentum, cross-entropy): rows, message, s."""
    dls = digit_loaders(data, batch_size=64, limit=n, labels=True)
    start = time.perf_counter()
    cbs = [BatchProgress(bar)] if bar is not None else []
    rec = Learner(dls, resnet18_digits(n_out=2, seed=0), opt_func=sgd_momentum, loss_func=F.cross_entropy,
                  metrics=class_accuracy, cbs=cbs, threads=os.cpu_count()).fit(1, 0.05)  # big enough for every core
    return {"rows": rec.rows, "message": rec.message, "seconds": time.perf_counter() - start}


@app.cell
def _(data, deep_go, deep_n):
    # An optional extra: nothing is trained unless the button is pressed (headless runs never press it).
    if not deep_go.value:
        _out = mo.md("_resnet18 is not trained until you press the button._")
    else:
        _n = min(deep_n.value, len(data.train_threes) + len(data.train_sevens))
        with mo.status.progress_bar(total=-(-_n // 64), title="resnet18: one epoch",
                                    remove_on_exit=True) as _bar:
            _run = train_resnet_subset(data, deep_n.value, _bar)
        if _run["rows"]:
            _out = mo.callout(mo.md(
                f"resnet18 after one epoch on {_n:,} digits: valid accuracy "
                f"**{_run['rows'][-1]['class_accuracy']:.4f}** ({_run['seconds']:.0f} s). The book's 0.9971 used "
                "all 12,396 training digits and the one-cycle schedule."), kind="success")
        else:
            _out = mo.callout(mo.md(_run["message"] or "training stopped early"), kind="warn")
    _out
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Check yourself
    """)
    return


@app.cell
def _():
    quiz = [
        ("A linear model without a bias sees a blank (all-zero) image. What does it predict?",
         ["it depends on the weights", "activation 0, so P(3) = 0.5 whatever the weights",
          "it always says 7"],
         "activation 0, so P(3) = 0.5 whatever the weights", "w · 0 = 0: zero in, zero out."),
        ("Which of these are parameters of simple_net?",
         ["the 30 hidden outputs for a batch", "the (30, 784) weight matrix and the 30 biases",
          "the ReLU's output"],
         "the (30, 784) weight matrix and the 30 biases",
         "Parameters are learned and kept; the others are activations, computed per batch."),
        ("You double the batch size. What happens to the number of parameters and of activations?",
         ["both double", "parameters stay, activations double", "parameters double, activations stay"],
         "parameters stay, activations double", "Activations are made per input; parameters are shared by all."),
        ("Why doesn't this lesson train resnet18 on the full data by default?",
         ["it cannot learn digits", "11 million parameters take minutes per epoch on a CPU",
          "it needs colour images"],
         "11 million parameters take minutes per epoch on a CPU",
         "On a GPU (or with `digitcore reproduce --deep` and some patience) it reaches about 0.997."),
    ]
    answers = plots.quiz(quiz)
    return answers, quiz


@app.cell
def _(answers, quiz):
    plots.quiz_view(answers, quiz)
    return


if __name__ == "__main__":
    app.run()
