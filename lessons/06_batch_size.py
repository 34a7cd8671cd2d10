import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="06 · Batch size, measured",
    html_head_file="__marimo__/first_screen/06_batch_size.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import math
    import time

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch

    from digitcore import chapter, plots
    from digitcore.data import DataError, load_sample
    from digitcore.models import linear_model

    SIZES = [1, 4, 16, 64, 256, 1024, None]  # None: the full training set in one batch
    MAX_UPDATES = 1500  # a one-epoch run stops here: bs=1 and bs=4 on the full data are then partial epochs
    FIXED_UPDATES = 100  # the "same number of steps" comparison
    NOISE_BATCHES = 256  # minibatch gradients drawn per small batch size to measure their noise (64 for big ones)
    MEASURED = {}  # finished measurements, keyed by their settings: a revisited setting comes back instantly

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def size_label(bs, n):
    """How a batch size is written on the charts: the number, or "full (n)"."""
    return f"full ({n:,})" if bs is None or bs >= n else f"{bs:,}"


@app.function
def sgd_updates(model, x, y, bs, lr, max_updates, seed=0):
    """Shuffle once, then up to `max_updates` SGD steps of batch size `bs` (at most one epoch).

    Returns (updates done, seconds taken).
    """
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    params = list(model.parameters())
    done, start = 0, time.perf_counter()
    for i in range(0, len(x), bs):
        if done >= max_updates:
            break
        xb, yb = (x, y) if bs >= len(x) else (x[order[i:i + bs]], y[order[i:i + bs]])
        loss = chapter.mnist_loss(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        done += 1
    return done, time.perf_counter() - start


@app.function
def accuracy(model, x, y):
    """Validation accuracy of a model (share of activations on the right side of 0)."""
    with torch.no_grad():
        return float(chapter.batch_accuracy(model(x), y))


@app.function
def flat_grad(model, x, y):
    """The gradient of mnist_loss on (x, y) with respect to all parameters, as one flat vector."""
    model.zero_grad()
    chapter.mnist_loss(model(x), y).backward()
    grad = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.zero_grad()
    return grad


@app.function
def gradient_noise(model, x, y, bs, n_batches, seed=0):
    """How far minibatch gradients stray from the full-batch gradient, at the same weights, relative to it:

    sqrt(mean |g_batch - g_full|^2) / |g_full| over `n_batches` random batches of size `bs` (0 for the full set).
    """
    if bs is None or bs >= len(x):
        return 0.0
    full = flat_grad(model, x, y)
    gen = torch.Generator().manual_seed(seed)
    errors = []
    for _ in range(n_batches):
        idx = torch.randperm(len(x), generator=gen)[:bs]
        errors.append(float((flat_grad(model, x[idx], y[idx]) - full).pow(2).sum()))
    return math.sqrt(sum(errors) / len(errors)) / float(full.norm())


@app.function
def measure(data, lr=1.0, seed=0):
    """For every batch size in SIZES: updates per epoch, seconds per epoch, gradient noise, and validation
    accuracy after one epoch and after FIXED_UPDATES updates. One row per batch size."""
    x, y = data.train_xy()
    vx, vy = data.valid_xy()
    n = len(x)
    # the weights at which every batch size's gradient noise is measured: one epoch at batch size 256
    probe = linear_model(seed=seed)
    sgd_updates(probe, x, y, 256, 1.0, MAX_UPDATES, seed=seed)
    rows = []
    for bs in [b for b in SIZES if b is None or b < n]:
        size = n if bs is None else bs
        per_epoch = math.ceil(n / size)
        model = linear_model(seed=seed)
        done, seconds = sgd_updates(model, x, y, size, lr, MAX_UPDATES, seed=seed)
        after_epoch = accuracy(model, vx, vy)
        fixed = linear_model(seed=seed)
        fixed_done = 0
        for rep in range(math.ceil(FIXED_UPDATES / per_epoch)):  # several epochs when one has too few batches
            fixed_done += sgd_updates(fixed, x, y, size, lr, FIXED_UPDATES - fixed_done, seed=seed + rep)[0]
        rows.append({
            "batch size": size_label(bs, n), "bs": size, "updates per epoch": per_epoch,
            "seconds per epoch": seconds * per_epoch / done,
            "timed": "whole epoch" if done == per_epoch else f"first {done:,} updates, scaled up",
            "gradient noise": gradient_noise(probe, x, y, bs, NOISE_BATCHES if size <= 16 else 64, seed=seed),
            "accuracy after 1 epoch": after_epoch,
            "epoch": "whole" if done == per_epoch else f"partial: {done:,} of {per_epoch:,} updates",
            f"accuracy after {FIXED_UPDATES} updates": accuracy(fixed, vx, vy),
        })
    return pd.DataFrame(rows)


@app.function
def bs_axis(results):
    """The shared x axis: batch size on a log scale, ticks at the measured sizes."""
    return alt.X("bs:Q", scale=alt.Scale(type="log"), title="batch size (log scale)",
                 axis=alt.Axis(values=[int(b) for b in results["bs"]], format=","))


@app.function
def partial_note(results):
    """A chart subtitle naming the batch sizes whose "one epoch" was cut short, or ""."""
    cut = results[results["epoch"] != "whole"]
    if not len(cut):
        return ""
    return f"after 1 epoch: batch size {', '.join(cut['batch size'])} stopped at {MAX_UPDATES:,} updates (partial)"


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 06 · Batch size, measured

    In lesson 05 a slider chose the batch size. Here we measure what that choice trades off, on this
    machine, for batch sizes from 1 (pure *stochastic* gradient descent: one image per step) to the whole
    training set (plain gradient descent: one step per epoch):

    1. **updates per epoch**: smaller batches mean more steps for one pass over the data;
    2. **seconds per epoch**: each step has a fixed cost (Python, launching the computation), so many tiny
       steps are slow, while one big batch uses the hardware well;
    3. **gradient noise**: a small batch estimates the full gradient from few examples, so its direction
       wobbles;
    4. **accuracy**: what all this buys, after one epoch and after the same number of updates.
    """)
    return


@app.cell
def _():
    try:
        data = load_sample()
    except DataError as e:
        mo.stop(True, mo.callout(mo.md(f"**The data could not be loaded.** {e}"), kind="danger"))
    plots.data_notice(data)
    return (data,)


@app.cell
def _():
    lr_pick = mo.ui.slider(steps=[0.1, 0.3, 1, 3, 10], value=1, debounce=True, show_value=True,
                           label="learning rate for the accuracy runs")
    lr_pick
    return (lr_pick,)


@app.cell
def _(data, lr_pick):
    _key = (data.source, float(lr_pick.value))
    if _key not in MEASURED:
        with mo.status.spinner(title="measuring", subtitle="seven batch sizes, a few seconds each"):
            MEASURED[_key] = measure(data, lr=float(lr_pick.value))
    results = MEASURED[_key]
    mo.vstack([
        results.drop(columns=["bs"]).style.format(precision=4).hide(axis="index"),
        plots.code(measure, sgd_updates, accuracy, title="the code that measured this table: measure, sgd_updates, accuracy"),
    ])
    return (results,)


@app.cell(hide_code=True)
def _(data, results):
    _partial = results[results["timed"] != "whole epoch"]
    mo.md(
        f"How these were measured: each batch size trains a fresh linear model with `mnist_loss` and plain SGD. "
        f"A run stops after {MAX_UPDATES:,} updates, so "
        + (", ".join(_partial["batch size"]) + " did not finish the epoch: their seconds per epoch are "
           "scaled up from the updates they made, and their 'accuracy after 1 epoch' is after a partial epoch "
           "(the table says which). " if len(_partial) else "every run here is a whole epoch. ")
        + f"Training set: {len(data.train_xy()[0]):,} images. Timings are this machine's, now: run it again "
        "and they will move a little."
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 1 · Steps and time

    With $N$ training images and batch size $b$, one epoch makes $\lceil N / b \rceil$ updates. Time per
    epoch is roughly (number of updates) × (fixed cost per update) + (work per image) × $N$: the first
    term dominates for small batches, which is why batch size 1 is so slow even though each step is tiny.
    """)
    return


@app.function
def steps_and_time_chart(results):
    """Updates per epoch and seconds per epoch against the batch size, side by side, on log scales."""
    base = alt.Chart(results).encode(x=bs_axis(results), tooltip=["batch size", "updates per epoch",
                                                           alt.Tooltip("seconds per epoch:Q", format=".3f"),
                                                           "timed"])
    updates = base.mark_line(point=True).encode(
        y=alt.Y("updates per epoch:Q", scale=alt.Scale(type="log"), title="updates per epoch (log)"))
    seconds = base.mark_line(point=True, color="#e76f51").encode(
        y=alt.Y("seconds per epoch:Q", scale=alt.Scale(type="log"), title="seconds per epoch (log)"),
        shape=alt.Shape("timed:N", title="timed over"))
    return plots.described_chart(
        alt.hconcat(updates.properties(width=280, height=220, title="updates per epoch"),
                    seconds.properties(width=280, height=220, title="seconds per epoch")),
        f"updates per epoch and seconds per epoch against the batch size, {len(results)} batch sizes from "
        f"{results['bs'].min():,} to {results['bs'].max():,}, both on log scales")


@app.cell
def _(results):
    mo.vstack([
        steps_and_time_chart(results),
        plots.code(steps_and_time_chart, bs_axis, title="the code: the chart, from measure's table (above)"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 2 · Gradient noise

    At one fixed set of weights (a model trained for one epoch at batch size 256), we compute the gradient
    on the whole training set, $g$, and the gradients $g_B$ of many random batches $B$ of each size, then
    their typical distance from it, relative to its size:
    $\sqrt{\operatorname{mean}_B \lVert g_B - g \rVert^2} \,/\, \lVert g \rVert$ (a standard deviation).
    A batch's gradient is an average of $b$ per-image gradients, so its noise shrinks like $1/\sqrt{b}$ (the
    dashed line): four times the batch, half the noise. The full batch has no noise at all and is left off
    the log scale. Most per-image gradients of a partly trained model are tiny (images it already gets
    right), a few are large: that is why a single image's gradient can be several times larger than the
    full gradient itself.
    """)
    return


@app.function
def noise_chart(results):
    """The measured gradient noise against the batch size (log scales), with 1/sqrt(b) from the smallest batch as a
    dashed line; the full batch (no noise) is left off."""
    noisy = results[results["gradient noise"] > 0].copy()
    first = noisy.iloc[0]
    noisy["1/sqrt(b)"] = first["gradient noise"] * (first["bs"] / noisy["bs"]) ** 0.5
    base = alt.Chart(noisy).encode(x=bs_axis(noisy))
    return plots.described_chart((
        base.mark_line(point=True).encode(
            y=alt.Y("gradient noise:Q", scale=alt.Scale(type="log"), title="noise: rms |g_B - g| / |g| (log)"),
            tooltip=["batch size", alt.Tooltip("gradient noise:Q", format=".3f")])
        + base.mark_line(strokeDash=[4, 4], color="gray").encode(y="1/sqrt(b):Q")
    ).properties(width=420, height=240, title="gradient noise vs batch size"),
        "the gradient noise of a batch against the batch size (log scales), measured, with 1/sqrt(b) as a dashed "
        "line for comparison")


@app.cell
def _(results):
    mo.vstack([
        noise_chart(results),
        plots.code(gradient_noise, flat_grad, noise_chart,
                   title="the code: gradient_noise and flat_grad (called by measure), and the chart"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(rf"""
    ## 3 · What it buys: accuracy

    Two fair-but-different comparisons. **After one epoch** every batch size has seen the same images: the
    small batches made many more (noisier) steps. **After {FIXED_UPDATES} updates** every batch size has
    made the same number of steps: the big batches made better-informed ones, but looked at far more
    images (and took more time) to do it. The learning rate is the same for all (the slider above); in
    practice larger batches usually tolerate, and need, a larger one.
    """)
    return


@app.function
def accuracy_chart(results):
    """Validation accuracy against the batch size, after one epoch and after FIXED_UPDATES updates."""
    long = results.melt(id_vars=["bs", "batch size", "epoch"],
                        value_vars=["accuracy after 1 epoch", f"accuracy after {FIXED_UPDATES} updates"],
                        var_name="measured", value_name="validation accuracy")
    return plots.described_chart(
        alt.Chart(long).mark_line(point=True).encode(
            x=bs_axis(results), y=alt.Y("validation accuracy:Q", scale=alt.Scale(zero=False)),
            color=alt.Color("measured:N", title=None),
            tooltip=["batch size", "measured", alt.Tooltip("validation accuracy:Q", format=".4f"), "epoch"])
        .properties(width=420, height=240, title=alt.Title(
            "validation accuracy vs batch size",
            subtitle=partial_note(results))),
        f"validation accuracy against the batch size, after 1 epoch and after {FIXED_UPDATES} updates")


@app.cell
def _(results):
    mo.vstack([
        accuracy_chart(results),
        plots.code(accuracy_chart, partial_note,
                   title="the code: the chart, from measure's two accuracy columns (measure's code is under the table)"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    **Reading the charts.** Batch size 1 makes the most updates per epoch but is by far the slowest per
    epoch, and its steps are the noisiest. The full batch is quick per epoch but makes only one update, so
    after one epoch it trails every other size. In between, batches of a few dozen to a few hundred
    images get most of the accuracy for a small fraction of the time, which is why they are the usual
    choice (fastai's default is 64). On a GPU the sweet spot moves to larger batches: it processes many
    images at once for about the cost of one.
    """)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Check yourself
    """)
    return


@app.cell
def _():
    quiz_items = [
        ("1,000 images, batch size 64: how many updates in one epoch?", None,
         lambda s: s.strip().replace(",", "") == "16", "1000 / 64 = 15.6, and the last partial batch counts: 16.",
         "Round up."),
        ("Batch size goes from 16 to 64. The gradient noise becomes ...", ["about half", "about a quarter", "the same"],
         "about half", "Noise goes like 1/√b: 4× the batch, ½ the noise.", "Look at the dashed line in section 2."),
        ("Why is an epoch at batch size 1 slow?",
         ["each update has a fixed cost, and it makes N of them", "its gradients are wrong", "it uses more memory"],
         "each update has a fixed cost, and it makes N of them", "Many tiny steps: the per-step overhead dominates.",
         "Compare the two charts in 1."),
        ("Why does the full batch learn little in one epoch?",
         ["it makes only one update per epoch", "its gradient is noisy", "it cannot be computed"],
         "it makes only one update per epoch", "One step, however well-informed, is one step.",
         "Count its updates per epoch."),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
