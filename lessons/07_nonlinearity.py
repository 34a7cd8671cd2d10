import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="07 · Adding a nonlinearity",
    html_head_file="__marimo__/first_screen/07_nonlinearity.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import time

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch
    import torch.nn.functional as F
    from torch import nn

    from digitcore import chapter, plots, reproduce
    from digitcore.data import load_sample
    from digitcore.dataloader import DataLoaders
    from digitcore.learner import Callback, Learner
    from digitcore.models import linear_model, simple_net_model

    RUNS = {}  # finished training runs, keyed by their settings: a revisited slider setting comes back instantly

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 07 · Adding a nonlinearity

    The linear model gives every pixel one weight and adds them up. It already tells 3s from 7s
    well, but it can only draw one straight boundary through pixel space. To do better we need
    more layers — and, as this lesson shows, *something between them*.

    In this lesson:

    1. two linear layers in a row are secretly one linear layer;
    2. the ReLU, the simplest *activation function*, which breaks the spell; `F.relu`, `nn.ReLU` and
       `nn.Sequential`;
    3. the forward and the backward pass, and the chain rule that links them;
    4. a race: the linear model against `simple_net`, on the digits, and what its 30 hidden units learn;
    5. why a ReLU net can draw any curve, with a slider for the number of ReLUs.
    """)
    return


@app.cell
def _():
    data = load_sample()
    plots.data_notice(data)
    return (data,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 1 · Two linear layers are one linear layer

    A linear layer computes $W x + b$. Feed its output into a second one:

    $$
    W_2\,(W_1 x + b_1) + b_2 \;=\; \underbrace{(W_2 W_1)}_{W}\,x \;+\; \underbrace{(W_2 b_1 + b_2)}_{b}
    $$

    The right-hand side is again just *one* weight matrix and *one* bias. However many linear layers
    you stack, the result is a single linear layer in disguise: no extra power, only extra parameters.

    Don't take the algebra on trust: below, a random 784 → `hidden` → 1 stack and its collapsed
    single layer look at the same digits.
    """)
    return


@app.function
def collapse(first: nn.Linear, second: nn.Linear) -> nn.Linear:
    """The one linear layer that computes exactly what `second(first(x))` does: W = W2 W1, b = W2 b1 + b2."""
    one = nn.Linear(first.in_features, second.out_features)
    with torch.no_grad():
        one.weight.copy_(second.weight @ first.weight)
        one.bias.copy_(second.weight @ first.bias + second.bias)
    return one


@app.cell
def _():
    hidden = mo.ui.slider(1, 200, value=30, label="hidden width", show_value=True)
    hidden
    return (hidden,)


@app.cell
def _(data, hidden):
    torch.manual_seed(0)
    _x, _ = data.valid_xy()
    _xb = torch.cat([_x[:3], _x[-3:]])  # three 3s and three 7s
    layer1, layer2 = nn.Linear(784, hidden.value), nn.Linear(hidden.value, 1)
    one_layer = collapse(layer1, layer2)
    with torch.no_grad():
        _two = layer2(layer1(_xb)).squeeze(1)
        _one = one_layer(_xb).squeeze(1)
    _table = pd.DataFrame({
        "digit": ["3", "3", "3", "7", "7", "7"],
        "two layers: W2(W1x+b1)+b2": _two.double().numpy().round(6),
        "one layer: Wx+b": _one.double().numpy().round(6),
    })
    mo.vstack([
        plots.digit_images(_xb.view(-1, 28, 28), ncols=6, scale=2, labels=["3", "3", "3", "7", "7", "7"],
                           what="a validation digit"),
        _table,
        mo.md(f"Largest difference: **{(_two - _one).abs().max().item():.1e}** (float rounding). "
              f"The stack has {sum(p.numel() for m in (layer1, layer2) for p in m.parameters()):,} parameters; "
              f"the single layer that does the same job has {sum(p.numel() for p in one_layer.parameters()):,}."),
        plots.code(collapse, title="the code: collapse"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 2 · ReLU, the activation function

    The fix is to put a *nonlinear* function between the layers, applied to every number on its own, so that
    the two matrices can no longer be multiplied into one. A function in that place is called an
    **activation function** (or simply a *nonlinearity*). The one used everywhere is the
    **rectified linear unit**, ReLU: keep positive numbers, replace negative ones by zero,

    $$\operatorname{relu}(x) = \max(0, x).$$

    One bend at zero is all it has, yet it is enough: the next sections show what a few of them can do.
    """)
    return


@app.cell
def _():
    _x = torch.linspace(-3, 3, 61)
    _df = pd.DataFrame({"x": _x.numpy(), "relu(x)": _x.relu().numpy()})
    _chart = (
        alt.Chart(_df).mark_line(color="#e76f51", strokeWidth=3)
        .encode(x="x:Q", y="relu(x):Q", tooltip=["x:Q", "relu(x):Q"])
        .properties(width=300, height=200, title="relu(x) = max(0, x)")
    )
    _demo = torch.tensor([-2.5, -1.0, 0.0, 0.5, 3.0])
    mo.hstack([plots.described_chart(_chart, "relu(x) for x from −3 to 3: flat at 0 for negative x, then the line "
                                             "y = x"), plots.code(f"x = torch.tensor({_demo.tolist()})\n"
                                  f"F.relu(x)      # {F.relu(_demo).tolist()}\n"
                                  f"nn.ReLU()(x)   # {nn.ReLU()(_demo).tolist()}")],
              justify="start", align="center", gap=2)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### `F.relu` or `nn.ReLU`? A function and a module

    PyTorch offers ReLU twice, and they compute the same numbers (above):

    - `F.relu(x)` (with `import torch.nn.functional as F`; also `torch.relu(x)` and `x.relu()`) is a plain
      **function**: call it on a tensor, get a tensor;
    - `nn.ReLU()` is a **module**: an object you create once, whose `forward` calls `F.relu`. Being a module,
      it can be a *layer* of a model.

    That matters for **`nn.Sequential`**, which builds a model from a list of modules and runs them one after
    another, each on the previous one's output. The chapter's `simple_net` is three of them:
    `nn.Linear(784, 30)`, `nn.ReLU()`, `nn.Linear(30, 1)`. Neither ReLU has anything to learn: only the two
    linear layers hold parameters. Here is this course's `simple_net_model`, and the same forward pass
    written out by hand with `F.relu`:
    """)
    return


@app.cell
def _(data):
    _net = simple_net_model(seed=0)
    _xb = data.valid_xy()[0][:4]
    with torch.no_grad():
        _by_layers = _net(_xb)
        _by_hand = _net[2](F.relu(_net[0](_xb)))
    mo.vstack([
        plots.code(simple_net_model),
        plots.code("\n".join([
            "net = simple_net_model(seed=0)",
            "net",
            "# " + repr(_net).replace("\n", "\n# "),
            "[(name, tuple(p.shape)) for name, p in net.named_parameters()]   # nn.ReLU has none",
            f"# {[(n, tuple(p.shape)) for n, p in _net.named_parameters()]}",
            "net(xb).squeeze(1)                      # 4 validation digits through the Sequential",
            f"# {[round(v, 4) for v in _by_layers.squeeze(1).tolist()]}",
            "net[2](F.relu(net[0](xb))).squeeze(1)   # the same, layer by layer, with the function",
            f"# {[round(v, 4) for v in _by_hand.squeeze(1).tolist()]}",
        ])),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 3 · Forward and backward: the chain rule

    A network is functions applied one after another: `simple_net(x)` is
    $\text{layer}_2(\operatorname{relu}(\text{layer}_1(x)))$, and the loss is one more function on top. Computing
    it from the input up, layer by layer, keeping every intermediate result (the *activations*), is the
    **forward pass**.

    Getting the gradients is the **backward pass**. The **chain rule** says that the derivative of functions
    applied one after another is the product of their own derivatives, each taken where the forward pass went
    through: $\frac{d}{dx} f(g(x)) = f'(g(x)) \cdot g'(x)$. So PyTorch walks the chain backwards from the loss,
    multiplying by one local derivative per step: that is what `loss.backward()` does, and why the forward pass
    has to keep its activations until then.

    Follow it on a single number going through one unit of `simple_net`, $a = w x + b$, $r = \operatorname{relu}(a)$,
    $y = v r$, loss $= (y - 1)^2$, with $w = 1.5$, $b = -0.5$, $v = 2$. Move $x$:
    """)
    return


@app.function
def chain_rule_steps(x: float, w: float = 1.5, b: float = -0.5, v: float = 2.0, target: float = 1.0):
    """One unit's forward pass and its backward pass by hand: (table of steps, d loss/d w by hand, by autograd)."""
    a = w * x + b
    r = max(a, 0.0)
    y = v * r
    loss = (y - target) ** 2
    d_y = 2 * (y - target)  # d loss / d y
    d_r = d_y * v  # times d y / d r
    d_a = d_r * (1.0 if a > 0 else 0.0)  # times relu'(a): 1 or 0
    d_w = d_a * x  # times d a / d w
    rows = [("a = w·x + b", a, "d a/d w = x", x), ("r = relu(a)", r, "d r/d a = 1 if a > 0 else 0", float(a > 0)),
            ("y = v·r", y, "d y/d r = v", v), ("loss = (y − 1)²", loss, "d loss/d y = 2(y − 1)", d_y)]
    table = pd.DataFrame(rows, columns=["forward: step", "value", "backward: local derivative", "its value"])
    wt = torch.tensor(w, requires_grad=True)
    out = ((v * torch.relu(wt * x + b)) - target) ** 2
    out.backward()
    return table, d_w, wt.grad.item() + 0.0  # + 0.0: no "-0.000" on the page


@app.cell
def _():
    chain_x = mo.ui.slider(-2.0, 2.0, step=0.1, value=1.0, label="input x", show_value=True)
    chain_x
    return (chain_x,)


@app.cell
def _(chain_x):
    _table, _by_hand, _autograd = chain_rule_steps(chain_x.value)
    _local = _table["its value"].tolist()
    mo.vstack([
        mo.Html(_table.to_html(index=False, border=0, float_format=lambda v: f"{v:.3f}")),
        mo.md(f"Chain rule, read from the bottom up: d loss/d w = {_local[3]:.3f} × {_local[2]:.3f} × "
              f"{_local[1]:.0f} × {_local[0]:.3f} = **{_by_hand:.3f}**; `loss.backward()` gives "
              f"`w.grad` = **{_autograd:.3f}**."
              + ("  \nHere $a \\le 0$: the ReLU passes no gradient back, so $w$ would not change on this input. "
                 "A unit for which that holds on *every* input is **dead**: it never learns again."
                 if chain_x.value * 1.5 - 0.5 <= 0 else "")),
        plots.code(chain_rule_steps, title="the code: chain_rule_steps"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 4 · The race: linear model vs `simple_net`

    `simple_net` is the chapter's neural network: 784 → 30, ReLU, 30 → 1. We train it against the
    plain linear model on the same digits, with the same learning rate and batches (shuffled, 128 at a time).
    A third runner is the same two layers *without* the ReLU. By section 1 it *is* a linear model: whatever
    its weights, they collapse into one 784-weight layer, so it can compute nothing the linear model
    cannot. But it is not *trained* like one: gradient descent moves $W_1$ and $W_2$ separately, and the
    collapsed $W = W_2 W_1$ then moves by $W_2\,\Delta W_1 + \Delta W_2\,W_1$ (plus a tiny product of the two
    steps): a step whose size and direction depend on the current $W_1$ and $W_2$, not the linear model's
    plain $-\text{lr} \times \text{gradient}$. So at a given learning rate and number of epochs it may well finish ahead of the linear
    model (it does at the defaults); what it cannot do is reach anything a well-trained linear model can't.
    The cell under the race checks that on the trained stack itself.

    On the full MNIST_SAMPLE we measured, for example: at 10 epochs and learning rate 0.3, linear 0.9784,
    the stack 0.9843, `simple_net` 0.9843; at learning rate 3, linear 0.9848 and the stack 0.9853: the linear
    model catches up. The ReLU's advantage shows with longer training: at 40 epochs and learning rate 3 or
    10, `simple_net` reaches 0.9902 and 0.9931 while both linear runners stay near 0.985.

    The book trains `simple_net` for 40 epochs at learning rate 0.1, in unshuffled batches of 256, and
    prints **0.9828**; `digitcore reproduce` replays exactly that and gets 0.9823, and so does this lesson,
    below the race ("The book's path, walked"). Set the sliders to 40 and 0.1 to see the race's version
    (shuffled batches of 128: 0.9853 on MNIST_SAMPLE).

    Move a slider and training starts on release; the curves grow epoch by epoch. A setting you have
    already run comes back instantly.
    """)
    return


@app.cell
def _():
    epochs = mo.ui.slider(1, 40, value=10, label="epochs", show_value=True, debounce=True)
    lr = mo.ui.slider(steps=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0], value=0.3,
                      label="learning rate", show_value=True, debounce=True)
    mo.hstack([epochs, lr], justify="start", gap=2)
    return epochs, lr


@app.function
def two_linear_model(seed: int = 0) -> nn.Module:
    """simple_net without its ReLU: 784 -> 30 -> 1, two linear layers in a row."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(28 * 28, 30), nn.Linear(30, 1))


@app.function
def digit_loaders(data, batch_size: int = 128, seed: int = 0) -> DataLoaders:
    """Fresh train/valid loaders over a DigitSample (the train set shuffled with `seed`)."""
    return DataLoaders.from_sample(data, batch_size, shuffle=True, seed=seed)


@app.class_definition
class EveryEpoch(Callback):
    """Calls `fn(learn)` after each epoch: how a lesson redraws its chart while training goes on."""

    def __init__(self, fn):
        self.fn = fn

    def after_epoch(self, learn):
        self.fn(learn)


@app.function
def hidden_weights(model) -> torch.Tensor:
    """simple_net's first-layer weights, one row of 784 per hidden unit (nn.Sequential or your FunctionNet)."""
    return (model.w1.T if hasattr(model, "w1") else model[0].weight).detach()


@app.function
def hidden_activations(model, x: torch.Tensor) -> torch.Tensor:
    """simple_net's hidden layer after the ReLU, one row per digit, one column per unit."""
    with torch.no_grad():
        if hasattr(model, "w1"):
            return (x @ model.w1 + model.b1).relu()
        return model[0](x).relu()


@app.function
def stall_diagnosis(model, data) -> dict:
    """Why a model is stuck, measured on the validation digits: the share of outputs where the sigmoid is flat
    (slope under 1e-4, |activation| > 9.2), the share of those on the '3' side, and for a net with a ReLU the
    share of hidden units that are dead (0 for every digit). 'verdict' names the one found, in words."""
    vx, _ = data.valid_xy()
    with torch.no_grad():
        z = model(vx).reshape(-1)
    flat = z.abs() > 9.2
    saturated = flat.float().mean().item()
    threes = (z[flat] > 0).float().mean().item() if flat.any() else 0.0
    has_relu = hasattr(model, "w1") or (isinstance(model, nn.Sequential) and any(isinstance(m, nn.ReLU) for m in model))
    dead = (hidden_activations(model, vx) == 0).all(dim=0).float().mean().item() if has_relu else None
    dead_text = ("" if dead is None else f" {dead:.0%} of its hidden units are dead (output 0 for every digit).")
    if saturated >= 0.99:
        side = "3" if threes >= 0.5 else "7"
        verdict = (f"Measured: {saturated:.0%} of its outputs sit where the sigmoid is flat, nearly all on the "
                   f"\"{side}\" side, so the gradient reaching the weights is all but zero: it is **saturated**."
                   f"{dead_text}" + (" Dead units are not the main cause: the others still fire, yet learn nothing "
                                     "through the flat sigmoid." if dead is not None and dead < 0.9 else "")
                   + " The learning rate is too high for this model; try a smaller one.")
    elif dead is not None and dead >= 0.9:
        verdict = (f"Measured: {dead:.0%} of its hidden units are **dead** (output 0 for every digit), so almost no "
                   f"gradient gets through the ReLUs; only {saturated:.0%} of the outputs are saturated. Try a smaller "
                   "learning rate.")
    else:
        verdict = (f"Measured: only {saturated:.0%} of its outputs are saturated" +
                   ("" if dead is None else f" and {dead:.0%} of its hidden units dead") +
                   ": neither explains it. The steps are too small to get anywhere in this many epochs; try more "
                   "epochs or a larger learning rate.")
    return {"saturated": saturated, "threes": threes, "dead": dead, "verdict": verdict}


@app.function
def race_chart(runs: dict) -> mo.Html:
    """Validation accuracy and loss per epoch, one line per model, from {model name: Recorder rows}; with its text
    alternative."""
    rows = [{"model": name, "epoch": r["epoch"], "accuracy": r["batch_accuracy"], "valid loss": r["valid_loss"]}
            for name, rs in runs.items() for r in rs]
    df = pd.DataFrame(rows, columns=["model", "epoch", "accuracy", "valid loss"])
    base = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("model:N", title=None, scale=alt.Scale(
            domain=["linear", "two linear, no ReLU", "simple_net", "simple_net (yours)"],
            range=["#264653", "#a8a8a8", "#e76f51", "#f4a261"])),
        tooltip=["model:N", "epoch:Q", alt.Tooltip("accuracy:Q", format=".4f"),
                 alt.Tooltip("valid loss:Q", format=".4f")],
    ).properties(width=300, height=220)
    acc = base.encode(y=alt.Y("accuracy:Q", scale=alt.Scale(zero=False))).properties(title="valid accuracy")
    loss = base.encode(y=alt.Y("valid loss:Q", scale=alt.Scale(zero=False))).properties(title="valid loss")
    return plots.described_chart(alt.hconcat(acc, loss), "valid accuracy and valid loss by epoch, one line per "
                                                         f"model: {', '.join(runs) or 'no model yet'}")


@app.function
def train_run(name: str, make_model, data, n_epoch: int, lr: float, on_epoch=None, key_extra=()) -> dict:
    """Train one model with the Learner (cached by its settings); returns rows, message and the model."""
    key = (name, data.source, n_epoch, lr, *key_extra)
    if key in RUNS:
        return RUNS[key]
    model = make_model()
    cbs = [EveryEpoch(on_epoch)] if on_epoch else []
    try:
        rec = Learner(digit_loaders(data), model, cbs=cbs, device="cpu").fit(n_epoch, lr)
        run = {"rows": rec.rows, "message": rec.message, "model": model}
    except Exception as e:  # a student's forward pass may still break mid-training: say so, never a traceback
        return {"rows": [], "message": f"training stopped: {type(e).__name__}: {e}", "model": model}
    RUNS[key] = run
    return run


@app.cell
def _(data, epochs, lr, use_mine):
    _mine = use_mine.value
    _runners = {
        "linear": lambda: linear_model(seed=0),
        "two linear, no ReLU": lambda: two_linear_model(seed=0),
        "simple_net (yours)" if _mine else "simple_net": (
            (lambda: FunctionNet(simple_net, seed=0)) if _mine else (lambda: simple_net_model(seed=0))),
    }
    race = {}
    _rows = {}
    _drawn = [time.perf_counter()]
    with mo.status.progress_bar(total=len(_runners) * epochs.value, title="training", remove_on_exit=True) as _bar:
        mo.output.append(race_chart(_rows))
        for _name, _make in _runners.items():
            _rows[_name] = []

            def _step(learn, _name=_name):
                _rows[_name] = list(learn.recorder.rows)
                _bar.update()
                if time.perf_counter() - _drawn[0] > 0.5:  # redraw at most twice a second: drawing costs too
                    mo.output.replace_at_index(race_chart(_rows), 1)
                    _drawn[0] = time.perf_counter()

            race[_name] = train_run(_name, _make, data, epochs.value, lr.value, _step,
                                    key_extra=("mine", simple_net.__code__) if _name.endswith("(yours)") else ())
            _rows[_name] = race[_name]["rows"]
    _notes = [mo.callout(mo.md(f"**{n}**: {r['message']}"), kind="danger") for n, r in race.items() if r["message"]]
    _notes += [mo.callout(mo.md(f"**{n}** is still near chance ({r['rows'][-1]['batch_accuracy']:.2f}). "
                                f"{stall_diagnosis(r['model'], data)['verdict']}"), kind="warn")
               for n, r in race.items() if r["rows"] and r["rows"][-1]["batch_accuracy"] < 0.6]
    _final = " · ".join(f"**{n}** {r['rows'][-1]['batch_accuracy']:.4f}" for n, r in race.items() if r["rows"])
    mo.vstack([race_chart(_rows), mo.md(f"Final valid accuracy: {_final}"), *_notes,
               plots.code(digit_loaders, train_run, title="the code: how each runner is trained")])
    return (race,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### What did the two stacked linear layers learn?

    Collapse the trained stack into its single equivalent layer: a plain `nn.Linear(784, 1)`, 785 numbers.
    It scores exactly what the stack scored, so a linear model reached that accuracy: the stack only found it
    by another path. Its 784 weights can be drawn as a 28×28 picture, next to the linear model's. Blue pixels
    push towards "3", red ones towards "7". Both pictures tell the same story: one template, one weight per pixel.
    """)
    return


@app.cell
def _(data, race):
    _pics = []
    for _name in ("linear", "two linear, no ReLU"):
        _model = race[_name]["model"]
        _layer = _model if isinstance(_model, nn.Linear) else collapse(_model[0], _model[1])
        _w = _layer.weight.detach().view(28, 28)
        _m = _w.abs().max().item() or 1.0
        _pics.append(plots.described_chart(
            plots.digit_heatmap(_w, title=f"{_name}: W", scheme="redblue", vmin=-_m, vmax=_m, size=180),
            f"the 784 weights of {_name} as a 28 by 28 picture: blue pixels push towards 3, red towards 7"))
    _stack = race["two linear, no ReLU"]
    _one = collapse(_stack["model"][0], _stack["model"][1])
    _vx, _vy = data.valid_xy()
    with torch.no_grad():
        _acc_one = chapter.batch_accuracy(_one(_vx), _vy).item()
    _acc_stack = _stack["rows"][-1]["batch_accuracy"] if _stack["rows"] else float("nan")
    mo.vstack([
        mo.hstack(_pics, justify="start"),
        mo.md(f"The stack scored **{_acc_stack:.4f}**; collapsed into one `nn.Linear(784, 1)` it scores "
              f"**{_acc_one:.4f}** on the same {len(_vy):,} validation digits."),
        plots.code(collapse, two_linear_model, title="the code: collapse and the stack"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### What did `simple_net`'s 30 hidden units learn?

    Each hidden unit of `simple_net` has its own 784 weights: its own template, drawn below like the linear
    model's (blue pushes the unit up, red down). The ReLU lets each one answer a different question about the
    picture, and the last layer weighs their answers. A unit whose weighted sum is negative for *every*
    validation digit outputs 0 whatever the digit, passes no gradient back (section 3), and never learns
    again: it is **dead**, marked ✝. Try a learning rate of 10 or 30 and count them.
    """)
    return


@app.cell
def _(data, race):
    _name = next(n for n in race if n.startswith("simple_net"))
    _model = race[_name]["model"]
    _w1 = hidden_weights(_model)
    _h = hidden_activations(_model, data.valid_xy()[0])
    _dead = (_h == 0).all(dim=0)
    _labels = [f"{i}{' ✝' if d else ''}" for i, d in enumerate(_dead.tolist())]
    mo.vstack([
        plots.weight_images(_w1, ncols=10, scale=2, labels=_labels, what="the weights of hidden unit"),
        mo.md(f"**{int(_dead.sum())} of {len(_dead)}** hidden units are dead after this run "
              f"({_name}, {len(race[_name]['rows'])} epochs)."),
        plots.code(hidden_activations, stall_diagnosis, title="the code: dead units and saturation, measured"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### The book's path, walked: `simple_net` as the chapter trains it

    The chapter writes its net twice. First by hand: four tensors from `init_params`
    (`w1` of shape 784×30, `b1` of 30, `w2` of 30×1, `b2` of 1, every number drawn from N(0, 1)) and a
    function in which the ReLU is `res.max(tensor(0.0))`. Then with PyTorch's modules,
    `nn.Sequential(nn.Linear(28*28, 30), nn.ReLU(), nn.Linear(30, 1))`, handed to a `Learner` with `SGD`,
    `mnist_loss` and `batch_accuracy` and trained with `fit(40, 0.1)`, in batches of 256 taken in the data's
    order. The book then plots the accuracy its recorder kept after every epoch (`learn.recorder.values`, third
    column) and ends at **0.9828**; it prints no result for the hand-written version.

    Both are trained below, as the chapter sets them up: the Learner's run as the book does it, and the
    hand-written net with the chapter's own `train_epoch` and `validate_epoch`, the loop lesson 05 built, at the
    same learning rate, for the same 40 epochs, over the same batches. Each takes a few seconds, once per lesson
    server: every later tab reads the same result. The code under each run is the source of the functions that
    ran.
    """)
    return


@app.function
def book_path_chart(runs: dict) -> mo.Html:
    """Valid accuracy after every epoch, one line per run ({run name: accuracies}), with the book's final 0.9828 as
    a dashed grey line; with its text alternative."""
    df = pd.DataFrame([{"run": name, "epoch": i + 1, "valid accuracy": a}
                       for name, accs in runs.items() for i, a in enumerate(accs)])
    lines = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=20)).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("valid accuracy:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("run:N", title=None, scale=alt.Scale(range=["#e76f51", "#264653"])),
        tooltip=["run:N", "epoch:Q", alt.Tooltip("valid accuracy:Q", format=".4f")])
    book = alt.Chart(pd.DataFrame({"the book": [reproduce.BOOK["simple_net"]]})).mark_rule(
        strokeDash=[4, 3], color="#767676").encode(y="the book:Q")
    return plots.described_chart(
        (lines + book).properties(width=460, height=240, title="simple_net, 40 epochs at lr 0.1, the book's batches"),
        f"valid accuracy after each of the 40 epochs, one line per run: {', '.join(runs)}; the book's final "
        f"{reproduce.BOOK['simple_net']} as a dashed grey line")


@app.function
def start_saturation(data, seed: int = 0) -> dict:
    """Before training, the share of validation outputs where the sigmoid is flat (|activation| > 9.2), for the
    Learner's start (nn.Linear's) and the hand-written one (init_params' N(0, 1))."""
    vx = data.valid_xy()[0]
    with torch.no_grad():
        outputs = {"learner": simple_net_model(seed=seed)(vx), "by hand": chapter.simple_net(vx, *reproduce.hand_params(seed))}
    return {which: (z.abs() > 9.2).float().mean().item() for which, z in outputs.items()}


@app.cell
def _(data):
    _names = {"learner": "nn.Sequential + Learner", "by hand": "by hand: init_params, res.max(tensor(0.0))"}
    with mo.status.spinner(title="the book's two runs", subtitle="simple_net, 40 epochs each; once per server"):
        _runs = {which: reproduce.book_path_run(data, which) for which in _names}
    _learner, _hand = _runs["learner"], _runs["by hand"]
    _saturated = start_saturation(data)

    def _ahead(epoch):
        return "ahead" if _hand["accuracies"][epoch] > _learner["accuracies"][epoch] else "behind"

    _book = reproduce.BOOK["simple_net"]
    mo.vstack([
        book_path_chart({_names[w]: r["accuracies"] for w, r in _runs.items()}),
        mo.md(f"| run | the book | here | seconds |\n|---|---|---|---|\n"
              f"| {_names['learner']} | {_book:.4f} | **{_learner['accuracy']:.4f}** | {_learner['seconds']:.1f} |\n"
              f"| {_names['by hand']} | not printed | **{_hand['accuracy']:.4f}** | {_hand['seconds']:.1f} |"),
        mo.md(f"Same layers, data, batch order, learning rate and number of epochs: what differs is the start. "
              f"`nn.Linear` starts its weights small (uniform within ±1/√784 and ±1/√30), `init_params` draws every "
              f"one from N(0, 1). Before any training, **{_saturated['by hand']:.0%}** of the hand-written net's "
              f"outputs on the validation digits sit where the sigmoid is flat (|activation| > 9.2), against "
              f"**{_saturated['learner']:.0%}** for `nn.Linear`'s start, and there `mnist_loss` passes back almost "
              f"no gradient. The hand-written net is {_ahead(0)} after the first epoch "
              f"(**{_hand['accuracies'][0]:.4f}** against **{_learner['accuracies'][0]:.4f}**) and {_ahead(-1)} "
              f"after the 40th (**{_hand['accuracy']:.4f}** against **{_learner['accuracy']:.4f}**)."),
        plots.code(reproduce.BOOK_PATH_RUNS["learner"], reproduce.train_book_model, reproduce.book_dls,
                   simple_net_model, title=f"the code that ran: {_names['learner']}"),
        plots.code(reproduce.BOOK_PATH_RUNS["by hand"], reproduce.hand_params, chapter.init_params, chapter.simple_net,
                   chapter.train_epoch, chapter.calc_grad, chapter.validate_epoch,
                   title=f"the code that ran: {_names['by hand']}"),
        plots.code(book_path_chart, start_saturation, title="the code: the chart, and the flat sigmoid at the start"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 5 · Any curve from a few bends

    Why is one ReLU between two linear layers enough in principle? Look at one input number $x$. A
    hidden unit computes $a_i\,\operatorname{relu}(x - t_i)$: flat until $t_i$, then a straight ramp.
    Add up $k$ of them (plus a constant) and you get a line that may change its slope at $k$ places:

    $$\hat y(x) = c + \sum_{i=1}^{k} a_i \operatorname{relu}(x - t_i).$$

    With enough kinks such a broken line follows any continuous curve as closely as you like. This is the idea
    behind the **universal approximation theorem**, which proves the same for networks with many inputs: one
    hidden layer, wide enough, can get as close as you like to any continuous function on a bounded range
    of inputs.

    Here the kinks $t_i$ start evenly spaced and the heights $a_i, c$
    are solved by least squares; switch on gradient descent to let training move the kinks too, together
    with the heights and slopes. It uses **Adam**, an optimizer that sizes each parameter's step from that parameter's
    recent gradients, not the plain SGD of lesson 05. What carries over to a real network is the idea: the
    kinks are parameters like any other, and training moves them by following the gradient of the loss.
    """)
    return


@app.function
def target_curve(name: str, x: torch.Tensor) -> torch.Tensor:
    """The curves to imitate, on x in [-3, 3]."""
    if name == "sine":
        return torch.sin(2 * x)
    if name == "bumps":
        return torch.sin(3 * x) * torch.exp(-0.25 * x**2) + 0.3 * x
    if name == "parabola":
        return x**2 / 3 - 1
    if name == "step":
        return (x > 0.5).float()
    raise ValueError(f"unknown curve {name!r}")


@app.function
def relu_features(x: torch.Tensor, w: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Hidden activations relu(w_i * (x - t_i)) for every point (rows) and unit (columns)."""
    return torch.relu(w[None, :] * (x[:, None] - t[None, :]))


@app.function
def fit_relus(x: torch.Tensor, y: torch.Tensor, k: int, gd_steps: int = 0, lr: float = 0.01) -> dict:
    """Fit y ~ c + sum_i a_i relu(w_i (x - t_i)) with k units: least squares for a and c (kinks evenly
    spaced, w = 1), then optionally `gd_steps` of Adam on everything. Returns the parameters and the MSE."""
    lo, hi = x.min().item(), x.max().item()
    t = torch.linspace(lo, hi, k + 1)[:-1]  # the first kink at the left end gives the overall slope
    w = torch.ones(k)
    design = torch.cat([torch.ones(len(x), 1), relu_features(x, w, t)], dim=1)
    sol = torch.linalg.lstsq(design.double(), y.double()[:, None]).solution.float().squeeze(1)
    c, a = sol[0].clone(), sol[1:].clone()
    if gd_steps:
        params = [p.clone().requires_grad_() for p in (a, c, w, t)]
        opt = torch.optim.Adam(params, lr=lr)
        for _ in range(gd_steps):
            pa, pc, pw, pt = params
            loss = ((pc + relu_features(x, pw, pt) @ pa - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        a, c, w, t = (p.detach() for p in params)
    pred = c + relu_features(x, w, t) @ a
    return {"a": a, "c": c, "w": w, "t": t, "pred": pred, "mse": ((pred - y) ** 2).mean().item()}


@app.cell
def _():
    curve = mo.ui.dropdown(["sine", "bumps", "parabola", "step"], value="bumps", label="curve")
    k_relus = mo.ui.slider(1, 30, value=8, label="k (number of ReLUs)", show_value=True, debounce=True)
    move_kinks = mo.ui.switch(value=False, label="gradient descent moves the kinks (300 steps)")
    mo.hstack([curve, k_relus, move_kinks], justify="start", gap=2)
    return curve, k_relus, move_kinks


@app.cell
def _(curve, k_relus, move_kinks):
    _x = torch.linspace(-3, 3, 121)
    _y = target_curve(curve.value, _x)
    torch.manual_seed(0)
    _fit = fit_relus(_x, _y, k_relus.value, gd_steps=300 if move_kinks.value else 0)
    _pieces = relu_features(_x, _fit["w"], _fit["t"]) * _fit["a"][None, :]
    _main = pd.DataFrame({"x": _x.numpy(), "target": _y.numpy(), "sum of ReLUs": _fit["pred"].numpy()}).melt(
        "x", var_name="curve", value_name="y")
    _kinks = pd.DataFrame({"kink": _fit["t"].numpy()})
    _kinks = _kinks[(_kinks.kink > -3) & (_kinks.kink < 3)]
    _top = (
        alt.Chart(_main).mark_line().encode(
            x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title=None),
            color=alt.Color("curve:N", title=None, scale=alt.Scale(range=["#e76f51", "#264653"])),
            strokeDash=alt.StrokeDash("curve:N", legend=None, scale=alt.Scale(range=[[1, 0], [5, 3]])),
        )
        + alt.Chart(_kinks).mark_rule(color="#bbb").encode(x=alt.X("kink:Q", title="x"))
    ).properties(width=420, height=220, title=f"{k_relus.value} ReLUs: mean squared error {_fit['mse']:.4f}")
    _pdf = pd.DataFrame({"x": _x.repeat_interleave(k_relus.value).numpy(),
                         "unit": [i + 1 for _ in range(len(_x)) for i in range(k_relus.value)],
                         "a_i relu(w_i (x - t_i))": _pieces.reshape(-1).numpy()})
    _bottom = alt.Chart(_pdf).mark_line(opacity=0.7).encode(
        x="x:Q", y="a_i relu(w_i (x - t_i)):Q", color=alt.Color("unit:N", legend=None), detail="unit:N",
        tooltip=["unit:N"],
    ).properties(width=420, height=160, title="the pieces being added up (plus a constant)")
    mo.vstack([plots.described_chart(_top, f"the target curve ({curve.value}) and the sum of {k_relus.value} ReLUs "
                                           f"fitted to it, x from −3 to 3; grey rules mark the kinks"),
               plots.described_chart(_bottom, f"the {k_relus.value} ReLU pieces that are added up"),
               plots.code(relu_features, fit_relus, title="the code: relu_features, fit_relus")])
    return


@app.cell
def _(curve, k_relus):
    _x = torch.linspace(-3, 3, 121)
    _y = target_curve(curve.value, _x)
    # a true log scale (each tick 10 times the one below); errors under 1e-8 are drawn at 1e-8
    _df = pd.DataFrame([{"k": k, "mse": max(fit_relus(_x, _y, k)["mse"], 1e-8)} for k in range(1, 31)])
    _line = alt.Chart(_df).mark_line(point=True).encode(
        x=alt.X("k:Q", title="number of ReLUs k"),
        y=alt.Y("mse:Q", scale=alt.Scale(type="log"), axis=alt.Axis(format=".0e"),
                title="mean squared error (log scale)"),
        tooltip=["k:Q", alt.Tooltip("mse:Q", format=".5f")])
    _now = alt.Chart(_df[_df.k == k_relus.value]).mark_point(size=150, color="#e76f51", filled=True).encode(
        x="k:Q", y="mse:Q")
    mo.vstack([
        plots.described_chart(
            (_line + _now).properties(width=420, height=180, title="more ReLUs, smaller error (kinks evenly spaced)"),
            f"the fit's mean squared error (log scale) against the number of ReLUs, 1 to 30; {k_relus.value} is marked"),
        mo.md("The theorem promises that *some* set of weights gets close; it says nothing about how many units "
              "you need or whether SGD will find them. In practice we go deeper instead of wider: lesson 08 "
              "measures why (\u201c4 \u00b7 Why deeper: the same parameters, two shapes\u201d)."),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Your turn: write `simple_net`

    In `marimo edit`, replace the `raise` below with the forward pass of the chapter's net: a linear
    layer `xb @ w1 + b1`, a ReLU, then `@ w2 + b2`. Shapes: `xb` is `(n, 784)`, `w1` `(784, 30)`, `b1`
    `(30,)`, `w2` `(30, 1)`, `b2` `(1,)`. The box under it checks your function as you type.
    """)
    return


@app.function
def simple_net(xb, w1, b1, w2, b2):
    """Your forward pass: linear, ReLU, linear. Returns (n, 1) activations."""
    raise NotImplementedError("write simple_net: xb @ w1 + b1, then a ReLU, then @ w2 + b2")


@app.function
def check_simple_net(fn) -> tuple[str, str]:
    """Compare a student's simple_net with the chapter's on random inputs: (callout kind, markdown message)."""
    g = torch.Generator().manual_seed(7)
    xb = torch.randn(5, 784, generator=g)
    w1, b1 = torch.randn(784, 30, generator=g) * 0.05, torch.randn(30, generator=g)
    w2, b2 = torch.randn(30, 1, generator=g), torch.randn(1, generator=g)
    inputs = [xb, w1, b1, w2, b2]
    copies = [t.clone() for t in inputs]
    try:
        got = fn(*inputs)
    except NotImplementedError:
        return "neutral", "**`simple_net`: not started yet.** Replace `raise NotImplementedError` with your code."
    except Exception as e:
        return "warn", (f"**Your function raised `{type(e).__name__}`:** {str(e)[:200]}\n\n"
                        "Hint: `xb @ w1` needs the 784 of `xb`'s columns to meet the 784 rows of `w1`.")
    if got is None:
        return "warn", "**Your function returned `None`.** Did you forget the `return`?"
    if not isinstance(got, torch.Tensor):
        return "warn", f"**Expected a tensor, got `{type(got).__name__}`.**"
    if any(not torch.equal(a, b) for a, b in zip(inputs, copies)):
        return "warn", "**Your function changed one of its inputs.** Compute new tensors instead of editing in place."
    want = chapter.simple_net(*copies)
    if tuple(got.shape) != tuple(want.shape):
        return "warn", f"**Wrong shape:** expected `{tuple(want.shape)}` for 5 digits, got `{tuple(got.shape)}`."
    if torch.allclose(got, want, atol=1e-4):
        return "success", ("**`simple_net` works.** Same numbers as the chapter's. "
                           "Flip the switch below to race with your own function.")
    if torch.allclose(got, (xb @ w1 + b1) @ w2 + b2, atol=1e-4):
        return "warn", "**Close, but no ReLU:** this is two linear layers, i.e. one. Add `.relu()` between them."
    if torch.allclose(got, ((xb @ w1 + b1) @ w2 + b2).relu(), atol=1e-4):
        return "warn", "**The ReLU is in the wrong place:** it goes between the layers, not after the last one."
    diff = (got - want).abs().max().item()
    return "warn", f"**The numbers differ** from the chapter's by up to {diff:.3g}. Check each bias and the order."


@app.class_definition
class FunctionNet(nn.Module):
    """simple_net's parameters in a module whose forward pass is a function you pass in (starts from the same
    weights as simple_net_model(seed), so the race is fair)."""

    def __init__(self, fn, seed: int = 0):
        super().__init__()
        ref = simple_net_model(seed=seed)
        self.fn = fn
        self.w1 = nn.Parameter(ref[0].weight.detach().T.clone())
        self.b1 = nn.Parameter(ref[0].bias.detach().clone())
        self.w2 = nn.Parameter(ref[2].weight.detach().T.clone())
        self.b2 = nn.Parameter(ref[2].bias.detach().clone())

    def forward(self, xb):
        return self.fn(xb, self.w1, self.b1, self.w2, self.b2)


@app.cell
def _():
    exercise_kind, exercise_message = check_simple_net(simple_net)
    mo.callout(mo.md(exercise_message), kind=exercise_kind)
    return (exercise_kind,)


@app.cell
def _(exercise_kind):
    use_mine = mo.ui.switch(value=False, label="race with my simple_net", disabled=exercise_kind != "success")
    use_mine if exercise_kind == "success" else mo.md("_(Once your function passes, a switch here lets the race use "
                                                        "it instead of the reference.)_")
    return (use_mine,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Check yourself
    """)
    return


@app.cell
def _():
    quiz = [
        ("You stack `nn.Linear(784, 50)` and `nn.Linear(50, 10)` with nothing between them. Compared with a "
         "single `nn.Linear(784, 10)`, what can it compute?",
         ["strictly more functions", "the same kind of function: it is one linear layer", "nothing useful"],
         "the same kind of function: it is one linear layer",
         "W2(W1x+b1)+b2 = (W2W1)x + (W2b1+b2): multiply out the matrices and one layer remains."),
        ("What is `torch.tensor([-2., 0., 3.]).relu()`?",
         ["tensor([2., 0., 3.])", "tensor([0., 0., 3.])", "tensor([-2., 0., 0.])"],
         "tensor([0., 0., 3.])", "ReLU keeps positives and turns negatives into 0."),
        ("A net with one hidden layer of k ReLUs, one input and one output, draws which kind of curve?",
         ["a straight line", "a broken line with at most k kinks", "a smooth curve"],
         "a broken line with at most k kinks", "Each unit adds one bend where its input crosses zero."),
        ("What does the universal approximation theorem NOT tell you?",
         ["that a big enough ReLU net can get close to any continuous function",
          "how many units you need and how to find their weights",
          "that one hidden layer can be enough in principle"],
         "how many units you need and how to find their weights",
         "It is an existence result; training (SGD) and depth are what make it work in practice."),
    ]
    answers = plots.quiz(quiz)
    return answers, quiz


@app.cell
def _(answers, quiz):
    plots.quiz_view(answers, quiz)
    return


if __name__ == "__main__":
    app.run()
