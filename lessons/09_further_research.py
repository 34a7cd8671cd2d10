import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="09 · Further research: all ten digits, your own Learner",
    html_head_file="__marimo__/first_screen/09_further_research.html",
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

    from digitcore import plots
    from digitcore.data import load_mnist
    from digitcore.dataloader import DataLoader, DataLoaders
    from digitcore.learner import SGD, Callback, CancelFitException, Learner

    RUNS = {}  # finished training runs, keyed by their settings: a revisited setting comes back instantly
    LAST = {}  # the run shown before this one, drawn as a ghost so that two runs compare on the same axes
    BUDGET_S = 15.0  # seconds per run: training stops between epochs when the next one would not fit
    TEN_DIGIT_WORDS = "loss (train and valid) and valid accuracy by epoch, this run's and the previous run's (grey dashes)"

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 09 · Further research: all ten digits, your own Learner

    The chapter ends with two projects for the reader:

    1. **Classify all ten digits**, not just 3s and 7s. One output is no longer enough, and `mnist_loss`
       has to make room for its big brother, cross-entropy.
    2. **Write your own `Learner`**: the training loop, with hooks (callbacks) so that other code can watch
       and steer it.

    Both are below, small enough to run in seconds.
    """)
    return


@app.cell
def _():
    mnist = load_mnist()
    plots.data_notice(mnist)
    return (mnist,)


@app.function
def first_of_each_digit(labels: torch.Tensor, k: int = 4) -> list[int]:
    """Indices of the first `k` images of each digit, one row of ten (0 to 9) after another."""
    return [int((labels == d).nonzero()[i]) for i in range(k) for d in range(10)]


@app.cell
def _(mnist):
    _picks = first_of_each_digit(mnist.train_labels)
    mo.vstack([mo.md("Four of each digit from the training set:"),
               plots.digit_images(mnist.train_images[_picks], ncols=10, scale=2,
                                  labels=[str(int(mnist.train_labels[i])) for i in _picks],
                                  what="a training digit, labelled"),
               plots.code(first_of_each_digit, title="the code: which digits are shown")])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Ten scores instead of one

    For 3 vs 7 the model gave one number, and the sigmoid turned it into "how sure am I it's a 3".
    With ten classes the model gives **ten scores** $z_0, \dots, z_9$ (the *logits*), one per digit.
    **Softmax** turns them into ten probabilities that are positive and add up to 1:

    $$p_j = \frac{e^{z_j}}{\sum_{k=0}^{9} e^{z_k}}$$

    The loss looks only at the probability of the right digit $y$ and takes its negative log:

    $$\text{cross-entropy} = -\log p_y .$$

    Like `mnist_loss`, it is small when the model puts its confidence on the right answer. Unlike it, the
    log keeps pushing hard when the model is confidently wrong ($p_y \to 0$ makes $-\log p_y \to \infty$),
    where `1 - sigmoid` would flatten out. With two classes, softmax is exactly the sigmoid of the
    difference of the two scores. PyTorch does both steps at once: `F.cross_entropy(logits, targets)`.
    """)
    return


@app.function
def two_losses() -> pd.DataFrame:
    """Cross-entropy (-log p) and 1 - p against the probability p given to the right digit."""
    p = torch.linspace(0.01, 1, 100)
    return pd.DataFrame({"probability of the right digit": p.numpy(), "cross-entropy -log p": -p.log().numpy(),
                         "1 - p (like mnist_loss)": (1 - p).numpy()}).melt(
        "probability of the right digit", var_name="loss", value_name="value")


@app.function
def cross_entropy_by_hand() -> dict:
    """Softmax and cross-entropy by hand for one input with three classes, and PyTorch's in one step."""
    logits = torch.tensor([[2.0, -1.0, 0.5]])  # one input, three classes, to keep it short
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)  # softmax by hand
    return {"softmax by hand": probs[0].tolist(),
            "logits.softmax(dim=1)": logits.softmax(dim=1)[0].tolist(),
            "-log p of the right class, 2": -probs[0, 2].log().item(),
            "F.cross_entropy(logits, tensor([2]))": F.cross_entropy(logits, torch.tensor([2])).item()}


@app.cell
def _():
    _df = two_losses()
    _worked = cross_entropy_by_hand()
    mo.vstack([
        plots.described_chart(alt.Chart(_df).mark_line(strokeWidth=3).encode(
            x="probability of the right digit:Q", y=alt.Y("value:Q", title="loss"),
            color=alt.Color("loss:N", scale=alt.Scale(range=["#e76f51", "#264653"]),
                            legend=alt.Legend(orient="bottom")),
        ).properties(width=380, height=200, title="confident mistakes cost far more under cross-entropy"),
            "two losses against the probability given to the right digit: cross-entropy (−log p) grows without "
            "bound as p nears 0, while 1 − p never passes 1"),
        plots.code(cross_entropy_by_hand),
        mo.md("It returns:\n\n" + "\n".join(
            f"- `{name}`: " + (", ".join(f"{v:.4f}" for v in value) if isinstance(value, list) else f"{value:.4f}")
            for name, value in _worked.items())),
        plots.code(two_losses, title="the code: the chart's two losses"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Train a ten-digit classifier

    The training set is cut to a random subset so that each run takes seconds; the validation set is
    always all of it. Sliders start training on release, and settings you have already tried come back instantly.
    """)
    return


@app.cell
def _(mnist):
    arch = mo.ui.dropdown(["linear (784 → 10)", "small net (784 → 64 → 10)"], value="linear (784 → 10)",
                          label="model")
    _have = len(mnist.train_images)
    _sizes = {f"{n:,}": n for n in (1000, 6000, 20000) if n < _have} | {f"all {_have:,}": _have}
    n_train = mo.ui.dropdown(_sizes, value="6,000" if "6,000" in _sizes else next(iter(_sizes)),
                             label="training digits")
    epochs10 = mo.ui.slider(1, 20, value=5, label="epochs", show_value=True, debounce=True)
    lr10 = mo.ui.slider(steps=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], value=0.3, label="learning rate",
                        show_value=True, debounce=True)
    mo.vstack([mo.hstack([arch, n_train], justify="start", gap=2), mo.hstack([epochs10, lr10], justify="start", gap=2)])
    return arch, epochs10, lr10, n_train


@app.function
def ten_digit_model(arch: str, seed: int = 0) -> nn.Module:
    """A fresh 10-class model: linear, or one hidden layer of 64 ReLUs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if arch.startswith("linear"):
            return nn.Linear(784, 10)
        return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


@app.function
def ten_digit_loaders(mnist, n_train: int, batch_size: int = 128, seed: int = 0) -> DataLoaders:
    """Loaders over a random subset of `n_train` training images (flattened to 784 floats in [0, 1], labels
    0-9) and the whole validation set."""
    n = min(n_train, len(mnist.train_images))
    keep = torch.randperm(len(mnist.train_images), generator=torch.Generator().manual_seed(seed))[:n]
    x = mnist.train_images[keep].view(n, -1).float() / 255
    vx = mnist.valid_images.view(len(mnist.valid_images), -1).float() / 255
    return DataLoaders(
        DataLoader.from_tensors(x, mnist.train_labels[keep], batch_size=batch_size, shuffle=True, seed=seed),
        DataLoader.from_tensors(vx, mnist.valid_labels, batch_size=2048))


@app.function
def accuracy(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of digits whose highest score is the right one."""
    return (preds.argmax(dim=1) == targets).float().mean()


@app.class_definition
class EveryEpoch(Callback):
    """Calls `fn(learn)` after each epoch (to redraw a chart while training goes on)."""

    def __init__(self, fn):
        self.fn = fn

    def after_epoch(self, learn):
        self.fn(learn)


@app.class_definition
class ValidateEveryEpoch(Callback):
    """For learners without a recorder (like yours): after each epoch, measure valid loss and accuracy and add a
    row shaped like the Recorder's, then call `fn(rows)`."""

    def __init__(self, fn=None):
        self.fn, self.rows = fn, []

    def after_epoch(self, learn):
        with torch.no_grad():
            xs, ys = zip(*learn.dls.valid)
            preds, targets = learn.model(torch.cat(xs)), torch.cat(ys)
            losses = getattr(learn, "losses", None) or [float("nan")]
            self.rows.append({"epoch": len(self.rows) + 1, "train_loss": float(losses[-1]),
                              "valid_loss": F.cross_entropy(preds, targets).item(),
                              "accuracy": accuracy(preds, targets).item()})
        if self.fn:
            self.fn(self.rows)


@app.class_definition
class TimeBudget(Callback):
    """Stops training between epochs when one more epoch would end past `seconds` (the lab's time budget)."""

    order = 100  # after the callbacks that record and draw the epoch

    def __init__(self, seconds: float):
        self.seconds, self.start, self.stopped_after = seconds, time.perf_counter(), None
        self.epochs = 0

    def after_epoch(self, learn):
        self.epochs += 1
        used = time.perf_counter() - self.start
        if used + used / self.epochs > self.seconds:
            self.stopped_after = self.epochs
            raise CancelFitException()


@app.function
def ten_digit_chart(rows: list, ghost: list, n_epoch: int, ghost_label: str = "") -> alt.Chart:
    """Loss (train and valid) and valid accuracy per epoch, with the previous run drawn as a grey ghost. The
    x axis always spans the epochs asked for; the y axes span both runs, so two runs compare at a glance."""
    def frame(rs, run):
        return pd.DataFrame([{"epoch": r["epoch"], "value": r[k], "what": w, "run": run}
                             for r in rs for k, w in (("train_loss", "train loss"), ("valid_loss", "valid loss"),
                                                      ("accuracy", "accuracy"))
                             if isinstance(r.get(k), float) and r[k] == r[k] and abs(r[k]) != float("inf")],
                            columns=["epoch", "value", "what", "run"])
    df = pd.concat([frame(ghost, "previous run"), frame(rows, "this run")], ignore_index=True)
    top = max(n_epoch, max((r["epoch"] for r in ghost), default=1), 2)
    x = alt.X("epoch:Q", scale=alt.Scale(domain=[1, top]), axis=alt.Axis(tickMinStep=1, format="d"), title="epoch")

    def panel(whats, title, fmt):
        part = df[df.what.isin(whats)]
        lo, hi = (part.value.min(), part.value.max()) if len(part) else (0.0, 1.0)
        pad = max((hi - lo) * 0.1, 0.005)
        y = alt.Y("value:Q", title=None, scale=alt.Scale(domain=[lo - pad, hi + pad], nice=False),
                  axis=alt.Axis(format=fmt, tickCount=5))
        colors = alt.Color("what:N", title=None, legend=alt.Legend(orient="bottom"), scale=alt.Scale(
            domain=["train loss", "valid loss"], range=["#264653", "#e76f51"]))
        now = alt.Chart(part[part.run == "this run"]).mark_line(point=True, color="#2a9d8f").encode(
            x=x, y=y, tooltip=["what:N", "epoch:Q", alt.Tooltip("value:Q", format=".4f")])
        if len(whats) > 1:  # the loss panel: one colour per set, its legend under this panel only
            now = now.encode(color=colors)
        old = alt.Chart(part[part.run == "previous run"]).mark_line(strokeDash=[4, 3], color="#bbbbbb").encode(
            x=x, y=y, detail="what:N", tooltip=["what:N", "epoch:Q", alt.Tooltip("value:Q", format=".4f")])
        return (old + now).properties(width=280, height=200, title=title)

    ghost_note = f" (grey dashes: {ghost_label})" if ghost and ghost_label else ""
    return alt.hconcat(panel(["train loss", "valid loss"], "loss" + ghost_note, ".3f"),
                       panel(["accuracy"], "valid accuracy", ".3f")).resolve_scale(color="independent")


@app.function
def train_ten(mnist, arch: str, n_train: int, n_epoch: int, lr: float, on_epoch=None, learner_cls=None) -> dict:
    """Train a ten-digit model (cached by its settings). `learner_cls`: a Learner-like class to use instead of
    digitcore's (yours). Returns {"rows", "message", "model", "seconds"}."""
    mine = None if learner_cls is None else getattr(getattr(learner_cls, "fit", None), "__code__", learner_cls)
    key = (mnist.source, arch, n_train, n_epoch, lr, mine)  # an edited MyLearner.fit is a new setting
    if key in RUNS:
        return RUNS[key]
    model, dls = ten_digit_model(arch), ten_digit_loaders(mnist, n_train)
    start = time.perf_counter()
    try:
        budget = TimeBudget(BUDGET_S)
        if learner_cls is None:
            cbs = [EveryEpoch(lambda learn: on_epoch(learn.recorder.rows))] if on_epoch else []
            rec = Learner(dls, model, loss_func=F.cross_entropy, metrics=accuracy, cbs=cbs + [budget], device="cpu")
            rec = rec.fit(n_epoch, lr)
            rows, message = rec.rows, rec.message
        else:
            watcher = ValidateEveryEpoch(on_epoch)
            try:
                learner_cls(dls, model, F.cross_entropy, SGD, cbs=[watcher, budget]).fit(n_epoch, lr)
            except CancelFitException:  # the time budget, raised from a callback inside your fit
                pass
            rows = watcher.rows
            bad = next((r["epoch"] for r in rows if not all(v == v and abs(v) != float("inf")
                                                             for v in r.values())), None)
            message = f"diverged at epoch {bad}: try a smaller learning rate" if bad else ""
            rows = [r for r in rows if bad is None or r["epoch"] < bad]
    except Exception as e:  # a student's learner may break: say so in words
        return {"rows": [], "message": f"training stopped: {type(e).__name__}: {e}", "model": model, "seconds": 0.0}
    run = {"rows": rows, "message": message, "model": model, "seconds": time.perf_counter() - start,
           "stopped_after": budget.stopped_after if budget.stopped_after and budget.stopped_after < n_epoch else None}
    RUNS[key] = run
    return run


@app.cell
def _(arch, epochs10, lr10, mnist, n_train, use_my_learner):
    _drawn = [time.perf_counter()]
    _mine = use_my_learner.value
    _ghost = LAST.get("rows", [])
    _ghost_label = LAST.get("label", "")
    _start = time.perf_counter()

    def _draw(rows):
        _used = time.perf_counter() - _start
        _left = min(_used / len(rows) * (epochs10.value - len(rows)), max(BUDGET_S - _used, 0.0))
        _bar.update(subtitle=f"{_used:.0f} s so far; about {_left:.0f} s left (a run stops at {BUDGET_S:.0f} s)")
        if time.perf_counter() - _drawn[0] > 0.5:  # redraw at most twice a second
            mo.output.replace_at_index(plots.described_chart(ten_digit_chart(rows, _ghost, epochs10.value, _ghost_label),
                                                             TEN_DIGIT_WORDS), 1)
            _drawn[0] = time.perf_counter()

    with mo.status.progress_bar(total=epochs10.value, title="training", show_eta=False, show_rate=False,
                                subtitle=f"a run stops at {BUDGET_S:.0f} s", remove_on_exit=True) as _bar:
        mo.output.append(plots.described_chart(ten_digit_chart([], _ghost, epochs10.value, _ghost_label),
                                               TEN_DIGIT_WORDS))
        ten = train_ten(mnist, arch.value, n_train.value, epochs10.value, lr10.value, _draw,
                        learner_cls=MyLearner if _mine else None)
    _who = "your MyLearner" if _mine else "digitcore's Learner"
    _label = f"{arch.value.split(' ')[0]}, {n_train.value:,} digits, lr {lr10.value:g}"
    if ten["rows"]:
        LAST.update(rows=ten["rows"], label=_label)
    _stopped = (mo.callout(mo.md(f"Stopped after {ten['stopped_after']} of {epochs10.value} epochs: one more would "
                                 f"have passed the {BUDGET_S:.0f} s budget. Fewer training digits go faster."),
                           kind="info") if ten["rows"] and ten.get("stopped_after") else None)
    _summary = (mo.callout(mo.md(ten["message"] or "no epoch finished"), kind="danger") if not ten["rows"] else
                mo.callout(mo.md(ten["message"]), kind="danger") if ten["message"] else
                mo.callout(mo.md(f"Accuracy {ten['rows'][-1]['accuracy']:.2f} is chance level (one in ten): the model "
                                 "learned nothing. The learning rate is too high for it; try a smaller one."),
                           kind="warn") if ten["rows"][-1]["accuracy"] < 0.2 else
                mo.md(f"Valid accuracy after {len(ten['rows'])} epochs: **{ten['rows'][-1]['accuracy']:.4f}** "
                      f"on {len(mnist.valid_images):,} digits (trained by {_who}, {ten['seconds']:.1f} s)."))
    mo.vstack([plots.described_chart(ten_digit_chart(ten["rows"], _ghost, epochs10.value, _ghost_label),
                                     TEN_DIGIT_WORDS), _summary,
               *([_stopped] if _stopped else []),
               plots.code(ten_digit_loaders, ten_digit_model, train_ten, accuracy, TimeBudget, EveryEpoch,
                          ValidateEveryEpoch, ten_digit_chart, title="the code: how the lab trains, and its chart")])
    return (ten,)


@app.function
def predictions(model: nn.Module, mnist) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted digit, softmax probabilities) for every validation image."""
    with torch.no_grad():
        logits = model(mnist.valid_images.view(len(mnist.valid_images), -1).float() / 255)
    return logits.argmax(dim=1), logits.softmax(dim=1)


@app.function
def confusion_frame(targets: torch.Tensor, preds: torch.Tensor) -> pd.DataFrame:
    """100 rows: how many digits of each true class got each predicted class."""
    counts = torch.zeros(10, 10, dtype=torch.long)
    counts.index_put_((targets, preds), torch.ones_like(targets), accumulate=True)
    return pd.DataFrame([{"true digit": t, "predicted": p, "count": int(counts[t, p])}
                         for t in range(10) for p in range(10)])


@app.function
def accuracy_per_digit(cm: pd.DataFrame) -> pd.DataFrame:
    """From confusion_frame's rows: the share of each true digit that was predicted right."""
    right = cm[cm["true digit"] == cm["predicted"]].set_index("true digit")["count"]
    return (right / cm.groupby("true digit")["count"].sum()).rename("accuracy").reset_index()


@app.cell
def _(mnist, ten):
    mo.stop(not ten["rows"], mo.md("_No trained model to look at (see the message above)._"))
    val_preds, val_probs = predictions(ten["model"], mnist)
    _cm = confusion_frame(mnist.valid_labels, val_preds)
    _base = alt.Chart(_cm).encode(x=alt.X("predicted:O"), y=alt.Y("true digit:O"))
    _heat = _base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(type="symlog", scheme="blues")),
                                     tooltip=["true digit:O", "predicted:O", "count:Q"])
    _text = _base.mark_text(fontSize=10).encode(
        text="count:Q", color=alt.condition(alt.datum.count > _cm["count"].max() / 3, alt.value("white"),
                                            alt.value("black")))
    _per = accuracy_per_digit(_cm)
    _bars = alt.Chart(_per).mark_bar(color="#2a9d8f").encode(
        x=alt.X("true digit:O"), y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1])),
        tooltip=["true digit:O", alt.Tooltip("accuracy:Q", format=".3f")],
    ).properties(width=260, height=260, title="accuracy per digit")
    mo.vstack([
        mo.md("Rows are the true digits, columns what the model said; the diagonal is where it was right."),
        mo.hstack([plots.described_chart((_heat + _text).properties(width=300, height=300, title="confusion matrix"),
                                         "confusion matrix: how many validation digits of each true digit (rows) "
                                         "the model called each digit (columns)"),
                   plots.described_chart(_bars, "bars: the share of each digit the model got right")],
                  justify="start", gap=2),
        plots.code(predictions, confusion_frame, accuracy_per_digit,
                   title="the code: predictions, the confusion matrix, the accuracy per digit"),
    ])
    return val_preds, val_probs


@app.function
def most_confident_mistakes(preds: torch.Tensor, probs: torch.Tensor, labels: torch.Tensor,
                            k: int = 20) -> tuple[torch.Tensor, int]:
    """The indices of the k wrong predictions with the highest probability (most confident first), and how many
    predictions are wrong in all."""
    wrong = (preds != labels).nonzero().squeeze(1)
    return wrong[probs[wrong].max(dim=1).values.argsort(descending=True)][:k], len(wrong)


@app.cell
def _(mnist, val_preds, val_probs):
    _wrong, _n_wrong = most_confident_mistakes(val_preds, val_probs, mnist.valid_labels)
    mo.vstack([
        mo.md(f"The model's 20 most confident mistakes, out of {_n_wrong:,} "
              "(true → predicted). Some are honest mistakes, some would fool a person too:"),
        plots.digit_images(mnist.valid_images[_wrong], ncols=10, scale=2,
                           labels=[f"{int(mnist.valid_labels[i])} → {int(val_preds[i])}" for i in _wrong],
                           what="a mistake, true digit → predicted"),
        plots.code(most_confident_mistakes, title="the code: the most confident mistakes"),
    ]) if len(_wrong) else mo.md("No mistakes at all on the validation set!")
    return


@app.cell
def _(mnist):
    which = mo.ui.slider(0, min(199, len(mnist.valid_images) - 1), value=0, label="validation digit #",
                         show_value=True)
    which
    return (which,)


@app.function
def one_digits_answer(probs: torch.Tensor, labels: torch.Tensor, i: int) -> tuple[int, pd.DataFrame, float]:
    """Validation digit i: its true digit, the probability the model gives each of the ten, and the cross-entropy
    -log p of the true one."""
    truth, p = int(labels[i]), probs[i]
    df = pd.DataFrame({"digit": list(range(10)), "probability": p.numpy(),
                       "right answer": ["yes" if d == truth else "no" for d in range(10)]})
    return truth, df, -torch.log(p[truth].clamp_min(1e-12)).item()


@app.cell
def _(mnist, val_probs, which):
    _i = which.value
    _truth, _df, _ce = one_digits_answer(val_probs, mnist.valid_labels, _i)
    _chart = alt.Chart(_df).mark_bar().encode(
        x="digit:O", y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("right answer:N", scale=alt.Scale(domain=["yes", "no"], range=["#2a9d8f", "#bbbbbb"])),
        tooltip=["digit:O", alt.Tooltip("probability:Q", format=".4f")],
    ).properties(width=300, height=180, title="softmax of the ten scores")
    mo.hstack([
        plots.digit_images(mnist.valid_images[_i], scale=4, what=f"validation digit number {_i}, a {_truth}"),
        plots.described_chart(_chart, f"bars: the probability the model gives each of the ten digits for this "
                                      f"{_truth}; the right answer's bar is coloured and labelled yes"),
        mo.md(f"True digit **{_truth}**  \np = {_df['probability'][_truth]:.4f}  \ncross-entropy = −log p = "
              f"**{_ce:.4f}**"),
        plots.code(one_digits_answer, title="the code"),
    ], justify="start", gap=2, align="center")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Your own Learner

    digitcore's `Learner` is about two hundred lines, but its heart is a loop you already know. Complete
    `MyLearner.fit` below (in `marimo edit`). It must:

    1. make the optimizer: `self.opt = self.opt_func(list(self.model.parameters()), lr)`;
    2. call the hook `"before_fit"`, then for each epoch (`self.epoch = 0, 1, ...`) call `"before_epoch"`;
    3. for every batch `xb, yb` of `self.dls.train`: loss = `self.loss_func(self.model(xb), yb)`, backward,
       `self.opt.step()`, `self.opt.zero_grad()`, keep the loss in `self.loss`, call `"after_batch"`;
    4. at the end of each epoch append the mean of that epoch's batch losses (a float) to `self.losses`,
       then call `"after_epoch"`; after the last epoch call `"after_fit"`.

    `self.callback(name)` calls hook `name` on every callback, handing it your learner. The box below the
    class trains it next to digitcore's `Learner` on a tiny problem and compares the two.
    """)
    return


@app.class_definition
class MyLearner:
    """Your own Learner: data, model, loss and optimizer, and a `fit` that trains them with callbacks."""

    def __init__(self, dls, model, loss_func, opt_func=SGD, cbs=()):
        self.dls, self.model, self.loss_func, self.opt_func = dls, model, loss_func, opt_func
        self.cbs = list(cbs)
        self.losses = []  # the mean training loss of each epoch

    def callback(self, name):
        """Call hook `name` (e.g. "after_batch") on every callback that has it, passing this learner."""
        for cb in self.cbs:
            if hasattr(cb, name):
                getattr(cb, name)(self)

    def fit(self, n_epoch, lr):
        raise NotImplementedError("write the training loop: see the steps above")


@app.class_definition
class HookLog(Callback):
    """Writes down every hook a learner calls, in order."""

    def __init__(self):
        self.events = []

    def before_fit(self, learn):
        self.events.append("before_fit")

    def before_epoch(self, learn):
        self.events.append("before_epoch")

    def after_batch(self, learn):
        self.events.append("after_batch")

    def after_epoch(self, learn):
        self.events.append("after_epoch")

    def after_fit(self, learn):
        self.events.append("after_fit")


@app.function
def tiny_problem(seed: int = 0):
    """A 4-input regression with 64 rows in 4 unshuffled batches, and a seeded nn.Linear(4, 1) to fit it."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(64, 1, generator=g)
    dls = DataLoaders(DataLoader.from_tensors(x, y, batch_size=16), DataLoader.from_tensors(x, y, batch_size=64))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Linear(4, 1)
    return dls, model


@app.function
def check_my_learner(cls, n_epoch: int = 3, lr: float = 0.05) -> tuple[str, str]:
    """Train `cls` and digitcore's Learner side by side on tiny_problem(): (callout kind, markdown). Never raises."""
    dls, ref_model = tiny_problem()
    ref = Learner(dls, ref_model, opt_func=SGD, loss_func=F.mse_loss, metrics=None, device="cpu").fit(n_epoch, lr)
    dls, model = tiny_problem()
    start = [p.detach().clone() for p in model.parameters()]
    log = HookLog()
    try:
        learn = cls(dls, model, F.mse_loss, SGD, cbs=[log])
        learn.fit(n_epoch, lr)
    except NotImplementedError:
        return "neutral", "**`MyLearner.fit`: not started yet.** Replace the `raise` with your training loop."
    except Exception as e:
        return "warn", f"**`fit` raised `{type(e).__name__}`:** {str(e)[:300]}"
    got = [p.detach() for p in model.parameters()]
    want = [p.detach() for p in ref_model.parameters()]
    if all(torch.equal(a, b) for a, b in zip(got, start)):
        return "warn", "**The weights did not move.** Call `loss.backward()` and then `self.opt.step()` each batch."
    if not all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, want)):
        _, one_model = tiny_problem()
        Learner(dls, one_model, opt_func=SGD, loss_func=F.mse_loss, metrics=None, device="cpu").fit(1, lr)
        if all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, one_model.parameters())):
            return "warn", "**Only one epoch was trained.** Loop `for self.epoch in range(n_epoch)` around the batches."
        return "warn", ("**The weights end up different from digitcore's Learner.** Did you call "
                        "`self.opt.zero_grad()` after every step (otherwise gradients pile up), and use `lr`?")
    n_batches = len(dls.train)
    expected = ["before_fit"] + (["before_epoch"] + ["after_batch"] * n_batches + ["after_epoch"]) * n_epoch
    expected.append("after_fit")
    if log.events != expected:
        missing = [h for h in ("before_fit", "before_epoch", "after_batch", "after_epoch", "after_fit")
                   if log.events.count(h) != expected.count(h)]
        return "warn", (f"**The training is right, but the hooks are not:** "
                        f"{', '.join(f'`{h}`' for h in missing) or 'their order'} "
                        f"(expected {expected.count('after_batch')} × after_batch, {n_epoch} × before/after_epoch, "
                        f"once before_fit and after_fit). Got: {', '.join(log.events[:8])}"
                        f"{' …' if len(log.events) > 8 else ''}")
    losses = getattr(learn, "losses", None)
    if not isinstance(losses, list) or len(losses) != n_epoch:
        return "warn", f"**`self.losses` should hold {n_epoch} numbers, one per epoch**; got `{losses!r}`"[:300]
    try:
        close = all(abs(float(a) - r["train_loss"]) < 1e-4 for a, r in zip(losses, ref.rows))
    except Exception:
        close = False
    if not close:
        return "warn", ("**`self.losses` differs from digitcore's train loss.** Append the *mean* of the epoch's "
                        "batch losses (as a float: `loss.item()`).")
    return "success", ("**MyLearner matches digitcore's Learner**: same weights, same losses, every hook in order. "
                       "Switch below to train the ten-digit model with it.")


@app.cell
def _():
    learner_kind, _message = check_my_learner(MyLearner)
    mo.callout(mo.md(_message), kind=learner_kind)
    return (learner_kind,)


@app.cell
def _(learner_kind):
    use_my_learner = mo.ui.switch(value=False, label="train the ten-digit model with MyLearner",
                                  disabled=learner_kind != "success")
    use_my_learner if learner_kind == "success" else mo.md(
        "_(When `MyLearner` passes, a switch here lets the classifier above train with it.)_")
    return (use_my_learner,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Check yourself
    """)
    return


@app.cell
def _():
    quiz = [
        ("A ten-digit classifier's last layer has how many outputs?",
         ["1", "10", "784"], "10", "One score (logit) per digit; softmax turns them into probabilities."),
        ("The model gives the right digit a probability of 0.01. Which loss punishes that hardest?",
         ["1 - p, like mnist_loss", "cross-entropy, -log p", "both the same"], "cross-entropy, -log p",
         "-log 0.01 ≈ 4.6, while 1 - 0.01 = 0.99 can never exceed 1."),
        ("After softmax, the ten probabilities ...",
         ["add up to 1", "are each 0 or 1", "add up to 10"], "add up to 1",
         "Each e^z is positive, and we divide by their sum."),
        ("In your Learner, what goes wrong if you forget `zero_grad()`?",
         ["nothing", "gradients from earlier batches pile up, so the steps are wrong",
          "the model stops being differentiable"],
         "gradients from earlier batches pile up, so the steps are wrong",
         "PyTorch adds into .grad; the optimizer must clear it after each step."),
        ("What is a callback for?",
         ["to speed up the matrix multiplications",
          "to let other code run at fixed points of training (record, draw, stop) without editing the loop",
          "to compute the loss"],
         "to let other code run at fixed points of training (record, draw, stop) without editing the loop",
         "The progress bars and live charts in these lessons are callbacks."),
    ]
    answers = plots.quiz(quiz)
    return answers, quiz


@app.cell
def _(answers, quiz):
    plots.quiz_view(answers, quiz)
    return


if __name__ == "__main__":
    app.run()
