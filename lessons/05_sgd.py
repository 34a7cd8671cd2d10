import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="05 · Stochastic gradient descent on 3s and 7s",
    html_head_file="__marimo__/first_screen/05_sgd.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: loads torch once for every open tab
    import string

    import marimo as mo

    BATCH_SIZES = [1, 8, 32, 64, 128, 256, 512, 1024, 2048]


@app.function
def mnist_loss(predictions, targets):
    """EXERCISE. How far each prediction is from its target, averaged over the batch.

    predictions: raw activations (any real numbers), shape (n,) or (n, 1).
    targets: 1 for a three, 0 for a seven, same shape as predictions.
    Squash the activations into (0, 1) with a sigmoid; then the distance is 1 - prediction where the
    target is 1, and the prediction itself where the target is 0. Return their mean (a 0-d tensor).
    Keep the `import torch` line: torch is not one of this notebook's setup names, and the grader runs this
    function on its own, so it must import what it uses.
    """
    import torch  # noqa: F401

    raise NotImplementedError("write mnist_loss")


@app.function
def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    """EXERCISE. One epoch of SGD: for each batch (xb, yb) of dl, in order,

    compute loss_func(model(xb), yb), back-propagate, then for every p in params step it by -lr * p.grad
    (outside the autograd graph) and clear its gradient before the next batch. Return None.
    Keep the `import torch` line (see mnist_loss).
    """
    import torch  # noqa: F401

    raise NotImplementedError("write train_epoch")


@app.function
def nudge_curves(acts, pixel_values, targets, deltas):
    """Accuracy and mnist_loss of a batch when one weight changes by each of `deltas`.

    acts: (n,) activations before the change; pixel_values: (n,) the input that weight multiplies;
    targets: (n,) 1 for a three, 0 for a seven. Returns a DataFrame with columns delta, accuracy, loss.
    """
    import pandas as pd
    import torch

    moved = acts[None, :] + deltas[:, None] * pixel_values[None, :]  # (len(deltas), n): every delta at once
    preds = moved.sigmoid()
    accuracy = ((moved > 0).float() == targets[None, :]).float().mean(1)
    loss = torch.where(targets[None, :] == 1, 1 - preds, preds).mean(1)
    return pd.DataFrame({"delta": deltas.tolist(), "accuracy": accuracy.tolist(), "loss": loss.tolist()})


@app.function
def student_ready(*results) -> bool:
    """True when every exercise result passed."""
    return all(r is not None and r.passed for r in results)


@app.function
def first_epoch_runs(data, seed: int = 0) -> list[dict]:
    """One epoch at lr 1 (batch size 256) from each start, N(0, 1) and nn.Linear, with the batches in the book's
    order and shuffled: the saturated share at the start and the validation accuracy after the epoch."""
    from digitcore import sweep

    runs = []
    for init in ("N(0,1)", "nn.Linear"):
        for shuffle in (False, True):
            member = sweep.sweep(data, [1.0], 256, 1, seed=seed, init=init, shuffle=shuffle).members[0]
            runs.append({"init": init, "shuffle": shuffle, "batches": "shuffled" if shuffle else "in order (3s, then 7s)",
                         "saturated": member.start["saturated"], "accuracy": member.rows[0]["batch_accuracy"]})
    return runs


@app.function
def first_epoch_story(runs: list[dict], hand_after_one: float) -> str:
    """What the first_epoch_runs table says, in words, with its numbers, and why the hand-made model's own
    first epoch (another seed) shows another number for the same setting."""
    acc = {(r["init"], r["shuffle"]): r["accuracy"] for r in runs}
    saturated = next(r["saturated"] for r in runs if r["init"] == "N(0,1)")
    return (
        f"**In the book's order, `nn.Linear`'s start is the slower one**: {acc['nn.Linear', False]:.4f} after one "
        "epoch (the book's `Learner`, also starting from `nn.Linear`, prints 0.4956) against "
        f"{acc['N(0,1)', False]:.4f} from N(0, 1). Every epoch ends with 25 batches of nothing but 7s, and that "
        f"order costs `nn.Linear`'s start far more: shuffled, it reaches {acc['nn.Linear', True]:.4f}. "
        f"**Shuffled, the starting weights matter**: {acc['nn.Linear', True]:.4f} from `nn.Linear`'s start against "
        f"{acc['N(0,1)', True]:.4f} from N(0, 1), where {saturated:.0%} of the validation activations start beyond "
        f"±10 and hardly move the weights. The hand-made model above reached {hand_after_one:.4f} after its first "
        f"epoch in the book's order, not the table's {acc['N(0,1)', False]:.4f}: it started from seed 42, the "
        "table from seed 0, and one random start's first epoch differs from another's by that much, so compare "
        "rows that share a seed. Try both switches in the lab below."
    )


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 05 · Stochastic gradient descent: teaching a model to tell 3s from 7s

    Lesson 02 told 3s from 7s by comparing each digit with an "ideal" 3 and 7. Nothing was learned: we
    wrote the rule ourselves. Lesson 04 showed how gradients nudge parameters downhill. Now we put the two
    together and let a model with one **weight per pixel** learn its own rule from examples.

    On the way we need three new ideas:

    1. a **loss** that a gradient can work with (accuracy is not one; you will see why with a slider),
    2. **mini-batches**: update after a few dozen images instead of after all of them or after each one,
    3. a **training loop** that you will write yourself, then hand over to an optimizer and a `Learner`.

    At the end, the **training lab** has already trained the model for every learning rate on its slider at
    once: pick any and see its curves, where it sits on the loss-against-learning-rate curve, and its 784
    weights changing as it learns. Under each interactive part, a disclosure shows the code that does it.
    """)
    return


@app.cell
def _():
    import altair as alt
    import pandas as pd
    import torch

    from digitcore import chapter, lesson_kit, plots, replay, sweep, training
    from digitcore.data import DataError, load_sample
    from digitcore.exercises import check
    from digitcore.models import linear_model

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser
    return (DataError, alt, chapter, check, lesson_kit, linear_model, load_sample, pd, plots, replay, sweep, torch,
            training)


@app.cell
def _(DataError, load_sample, plots):
    try:
        data = load_sample()
    except DataError as e:
        mo.stop(True, mo.callout(mo.md(f"**The data could not be loaded.** {e}"), kind="danger"))
    train_x, train_y = data.train_xy()
    valid_x, valid_y = data.valid_xy()
    plots.data_notice(data)
    return data, train_x, train_y, valid_x, valid_y


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 1 · Why accuracy cannot be the loss

    Our model is linear: each image $x$ (784 pixel values) gets one activation

    $$a = x \cdot w + b = \sum_{i=1}^{784} x_i w_i + b,$$

    and we call it a 3 when $a > 0$. Training means: change $w$ and $b$ a little, in the direction that makes
    the model better. The gradient tells us that direction, *if* "better" is a smooth function of the weights.

    Accuracy is not smooth. Below, 24 validation digits (12 threes, 12 sevens) are scored by a reasonable
    starting model (its weights are the "ideal 3 minus ideal 7" picture from lesson 02). Drag the slider to
    change **one** weight, the one for the pixel where 3s and 7s differ most. Accuracy only moves when a
    digit's activation crosses 0, so it is flat almost everywhere, with sudden jumps: its gradient is 0, which
    tells the model nothing. The loss on the right moves a little for every little change.

    Accuracy is what we care about, so it stays as the **metric**, the number people read; the **loss** is
    the number the computer follows downhill. They need not be the same function, and here they cannot be.
    """)
    return


@app.cell
def _(torch, train_x, train_y, valid_x, valid_y):
    # A sensible starting model: the mean 3 minus the mean 7, scaled so activations are a few units wide
    _mean3 = train_x[train_y[:, 0] == 1].mean(0)
    _mean7 = train_x[train_y[:, 0] == 0].mean(0)
    _w = _mean3 - _mean7
    _b = -(_w @ (_mean3 + _mean7) / 2)
    _pick = torch.cat([torch.arange(12), torch.arange(len(valid_x) - 12, len(valid_x))])
    nudge_x, nudge_y = valid_x[_pick], valid_y[_pick, 0]
    _acts = nudge_x @ _w + _b
    _scale = 2.5 / _acts.abs().mean()
    nudge_acts = _acts * _scale
    nudge_pixel = int((_mean3 - _mean7).abs().argmax())
    nudge_weight = float(_w[nudge_pixel] * _scale)
    return nudge_acts, nudge_pixel, nudge_weight, nudge_x, nudge_y


@app.cell
def _(nudge_pixel, nudge_weight):
    nudge = mo.ui.slider(-4.0, 4.0, step=0.05, value=0.0, show_value=True, full_width=True,
                         label=f"change to the weight of pixel (row {nudge_pixel // 28}, col {nudge_pixel % 28}), "
                               f"now {nudge_weight:.2f}")
    nudge
    return (nudge,)


@app.cell
def _(alt, nudge, nudge_acts, nudge_pixel, nudge_x, nudge_y, plots, torch):
    _curves = nudge_curves(nudge_acts, nudge_x[:, nudge_pixel], nudge_y, torch.linspace(-4, 4, 321))
    _here = nudge_curves(nudge_acts, nudge_x[:, nudge_pixel], nudge_y, torch.tensor([float(nudge.value)]))
    _base = alt.Chart(_curves).encode(x=alt.X("delta:Q", title="change to the weight"))
    _rule = alt.Chart(_here).mark_rule(color="#e76f51", strokeWidth=2).encode(x="delta:Q")
    _acc = (_base.mark_line(interpolate="step-after").encode(y=alt.Y("accuracy:Q", scale=alt.Scale(zero=False)))
            + _rule).properties(width=300, height=200, title="accuracy: flat, then a jump")
    _loss = (_base.mark_line(color="#264653").encode(y=alt.Y("loss:Q", scale=alt.Scale(zero=False)))
             + _rule).properties(width=300, height=200, title="mnist_loss: moves smoothly")
    _row = _here.iloc[0]
    mo.vstack([
        plots.described_chart(alt.hconcat(_acc, _loss),
                              f"accuracy and mnist_loss on {len(nudge_y)} validation digits as the weight of pixel {nudge_pixel} "
                              "changes from −4 to 4: accuracy moves in steps, the loss smoothly"),
        mo.md(f"At this setting: accuracy **{_row.accuracy:.4f}**, loss **{_row.loss:.4f}**. "
              "Move the slider by one step: the loss changes at once; accuracy usually does not."),
        plots.code(nudge_curves, title="the code behind these two charts"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 2 · The sigmoid: any number in, a number between 0 and 1 out

    The activation $a$ can be any real number. To compare it with a target of 0 or 1 we first squash it:

    $$\sigma(a) = \frac{1}{1 + e^{-a}}.$$

    Why this stays in $(0, 1)$: $e^{-a}$ is always positive, so the denominator is always more than 1 and
    the fraction is always below 1 and above 0. For a large positive $a$, $e^{-a}$ is tiny and $\sigma(a)$ is
    close to 1; for a large negative $a$, $e^{-a}$ is huge and $\sigma(a)$ is close to 0; and $\sigma(0) = 0.5$.
    It is also smooth and always increasing, so a bigger activation always means "more of a 3". Notice how
    flat it gets beyond about ±5: there its slope is almost 0 (at ±10 it is 0.00005). An activation out there
    is **saturated**: nudging the weights hardly changes the loss, so the gradient hardly teaches anything.
    This will matter twice below: for the book's hand-made model, and in the training lab.
    """)
    return


@app.cell
def _():
    sig_at = mo.ui.slider(-12.0, 12.0, step=0.1, value=1.0, show_value=True, label="activation a")
    sig_at
    return (sig_at,)


@app.cell
def _(alt, chapter, pd, plots, sig_at, torch):
    _a = torch.linspace(-12, 12, 241)
    _curve = pd.DataFrame({"a": _a.tolist(), "sigmoid": chapter.sigmoid(_a).tolist()})
    _s = float(chapter.sigmoid(torch.tensor(sig_at.value)))
    _point = pd.DataFrame({"a": [sig_at.value], "sigmoid": [_s]})
    _chart = (alt.Chart(_curve).mark_line().encode(x="a:Q", y=alt.Y("sigmoid:Q", title="σ(a)"))
              + alt.Chart(_point).mark_point(size=120, filled=True, color="#e76f51").encode(x="a:Q", y="sigmoid:Q"))
    mo.hstack([
        plots.described_chart(_chart.properties(width=340, height=200),
                              f"the sigmoid σ(a) for a from −12 to 12, an S from 0 to 1; the dot marks "
                              f"σ({sig_at.value:.1f}) = {_s:.4f}"),
        mo.vstack([
            mo.md(f"$\\sigma({sig_at.value:.1f}) = {_s:.4f}$  \nits slope there: "
                  f"$\\sigma(a)(1-\\sigma(a)) = {_s * (1 - _s):.5f}$"),
            plots.code(chapter.sigmoid, title="the code"),
        ]),
    ], justify="start", align="center")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 3 · A loss for 3 vs 7: `mnist_loss`

    After the sigmoid, each prediction $p = \sigma(a)$ is between 0 and 1, and the target $y$ is 1 (a three)
    or 0 (a seven). A natural loss is "how far is the prediction from the right answer":
    $1 - p$ when $y = 1$, and $p$ when $y = 0$. PyTorch picks between two tensors element by element with
    `torch.where(condition, if_true, if_false)`. Here it is on three made-up predictions that are
    *already* between 0 and 1 (the book's own example):
    """)
    return


@app.function
def toy_distances(third: float = 0.2):
    """The book's three made-up predictions (already between 0 and 1), and each one's distance from its target."""
    import torch

    targets = torch.tensor([1, 0, 1])
    preds = torch.tensor([0.9, 0.4, third])
    distance = torch.where(targets == 1, 1 - preds, preds)
    return targets, preds, distance


@app.cell
def _(pd, plots):
    _targets, _preds, _dist = toy_distances()
    _after = toy_distances(third=0.8)[2].mean()
    _table = pd.DataFrame({"target": _targets.tolist(), "prediction": [f"{v:.1f}" for v in _preds.tolist()],
                           "distance from the right answer": [f"{v:.1f}" for v in _dist.tolist()]})
    mo.vstack([
        mo.Html(_table.to_html(index=False, border=0)),
        mo.md(f"Their mean: **{float(_dist.mean()):.4f}** (the book prints 0.4333). Make the third prediction "
              f"right, 0.8 instead of 0.2, and it falls to **{float(_after):.4f}** (the book: 0.2333)."),
        plots.code(toy_distances, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The first digit is a confident, correct 3 (distance 0.1). The second, a 7 predicted at 0.4, is right
    but unsure. The third is a **confident mistake**: a 3 predicted at 0.2, that is, the model is fairly sure
    it is a 7 (distance 0.8, the largest). The loss punishes a mistake more the more confident it is.
    Averaging these distances gives one number for the batch; making it smaller means the predictions move
    towards the targets, and unlike accuracy it changes with every tiny change of a weight.

    ### Exercise: write `mnist_loss(predictions, targets)`

    In `marimo edit`, complete the function `mnist_loss` near the top of this notebook. It gets **raw
    activations** (any real numbers, shape `(n,)` or `(n, 1)`) and targets of 0s and 1s of the same shape,
    and returns the mean distance as a 0-d tensor. Two things to remember: squash first, and do not change
    the inputs. The box below runs the same checks as the grader every time your function changes. What each
    check demands, and how to grade a file of your own, is in `docs/exercises.md` in the course folder.
    """)
    return


@app.cell
def _(check, lesson_kit):
    loss_result = check("mnist_loss", mnist_loss)
    lesson_kit.exercise_feedback(loss_result)
    return (loss_result,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 4 · Mini-batches and the `DataLoader`

    Computing the loss over all the training images before every step is accurate but slow: one update
    per pass over the data. Using a single image per step gives many updates, but each is based on one noisy
    example and makes poor use of the hardware. The usual middle way is a **mini-batch**: a few dozen or a
    few hundred images per step. How many is the **batch size**, a choice you will test in the training
    lab (and measure in lesson 06).

    A `DataLoader` cuts a collection into batches, and with `shuffle=True` it draws a new random order on
    every pass, so the batches differ from one epoch to the next. The book's two toy examples, printed as
    Python prints them: the numbers 0 to 14 in batches of 5, and the letters paired with their positions in
    batches of 6. A batch of pairs comes back as a pair of batches: a tensor of the positions and a tuple of
    the letters (the last batch is smaller: 26 is not a multiple of 6).
    """)
    return


@app.function
def toy_batches():
    """The book's two toy loaders, shuffled; seed 1 makes this page show the same batches every time."""
    from digitcore.dataloader import DataLoader

    numbers = list(DataLoader(range(15), batch_size=5, shuffle=True, seed=1))
    letters = list(DataLoader(list(enumerate(string.ascii_lowercase)), batch_size=6, shuffle=True, seed=1))
    return numbers, letters


@app.cell
def _(plots):
    _numbers, _letters = toy_batches()
    mo.vstack([
        mo.md("`numbers`: 0 to 14 in batches of 5"),
        mo.plain_text("[" + ",\n ".join(repr(b) for b in _numbers) + "]"),
        mo.md("`letters`: each letter with its position, in batches of 6"),
        mo.plain_text("[" + ",\n ".join(repr(b) for b in _letters) + "]"),
        plots.code(toy_batches, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Our digits work the same way: the data set is a list of `(image, label)` pairs, and a batch is a pair
    `(xb, yb)` of a stack of images and a stack of labels. The book's loader for them is
    `DataLoader(dset, batch_size=256)`, **not shuffled**, and the training images are stored all the 3s
    first, then all the 7s: so every epoch the model sees 23 batches of nothing but 3s, one mixed batch,
    then 25 of nothing but 7s. We follow the book here; the training lab lets you switch shuffling on and off and see what
    it changes.
    """)
    return


@app.function
def book_loaders(data):
    """The book's loaders for the digits: (image, label) pairs in batches of 256, in the stored order (3s, then 7s)."""
    from digitcore.dataloader import DataLoader

    train_x, train_y = data.train_xy()
    valid_x, valid_y = data.valid_xy()
    dset = list(zip(train_x, train_y))
    dl = DataLoader(dset, batch_size=256)  # as the book: in order, 3s then 7s
    valid_dl = DataLoader(list(zip(valid_x, valid_y)), batch_size=256)
    return dset, dl, valid_dl


@app.cell
def _(data, plots):
    _dset, _dl, valid_dl = book_loaders(data)
    _xb, _yb = next(iter(_dl))
    mo.vstack([
        mo.md(f"`len(dset)` = {len(_dset):,} pairs; `len(dl)` = {len(_dl)} batches per epoch; "
              f"first batch: `xb.shape` = {tuple(_xb.shape)}, `yb.shape` = {tuple(_yb.shape)}, "
              f"its labels: {int(_yb.sum())} threes and {int(len(_yb) - _yb.sum())} sevens"),
        plots.code(book_loaders, title="the code"),
    ])
    return (valid_dl,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 5 · One epoch of SGD: `train_epoch`

    Here is everything a training step does, for one batch `(xb, yb)`:

    1. **predict** (the *forward pass*): `preds = model(xb)`;
    2. **measure**: `loss = loss_func(preds, yb)`;
    3. **gradient** (the *backward pass*): `loss.backward()` fills `p.grad` for every parameter `p`;
    4. **step**: `p -= lr * p.grad` for every parameter, *outside* the autograd graph (the update is not part
       of the model's computation; `p.data` or `torch.no_grad()` keeps it out);
    5. **clear**: PyTorch *adds* new gradients to `.grad`, so reset it (`p.grad.zero_()` or
       `p.grad = None`) before the next batch, or the old gradient leaks into the next step.

    Steps 1 to 3 on a batch of **4** images, with the book's hand-made parameters (`init_params`: 784 weights
    of shape `(784, 1)` and a bias). Each parameter's gradient has the parameter's own shape: one number
    per weight. Now call the book's `calc_grad` (steps 1 to 3) again *without* step 5, and watch what
    happens to the gradient:
    """)
    return


@app.cell
def _():
    grad_calls = mo.ui.slider(1, 4, value=1, show_value=True, label="times calc_grad has run without clearing")
    grad_calls
    return (grad_calls,)


@app.function
def hand_made_model(seed: int = 42):
    """The book's model by hand: 784 weights and a bias, each drawn from N(0, 1) by init_params, and linear1."""
    import torch

    from digitcore import chapter

    gen = torch.Generator().manual_seed(seed)
    weights = chapter.init_params((28 * 28, 1), generator=gen)
    bias = chapter.init_params(1, generator=gen)

    def model(xb):
        return chapter.linear1(xb, weights, bias)

    return model, [weights, bias]


@app.function
def grads_without_clearing(batch, targets, calls: int):
    """calc_grad `calls` times on one batch, never clearing in between: the gradients after each call."""
    from digitcore import chapter

    model, (weights, bias) = hand_made_model()
    rows = []
    for call in range(1, calls + 1):
        chapter.calc_grad(batch, targets, model)
        rows.append({"calls": call, "weights.grad.mean()": f"{float(weights.grad.mean()):.6f}",
                     "bias.grad": f"{float(bias.grad):.6f}"})
    return model(batch), weights, bias, rows


@app.cell
def _(chapter, grad_calls, pd, plots, train_x, train_y):
    _preds, _weights, _bias, _rows = grads_without_clearing(train_x[:4], train_y[:4], grad_calls.value)
    mo.vstack([
        mo.md(f"`batch = train_x[:4]`: shape {tuple(train_x[:4].shape)}; `preds = model(batch)`: shape "
              f"{tuple(_preds.shape)}; `weights.grad.shape`: "
              f"**{tuple(_weights.grad.shape)}**, `bias.grad.shape`: {tuple(_bias.grad.shape)}"),
        mo.Html(pd.DataFrame(_rows).to_html(index=False, border=0)),
        mo.md("Each call **adds** the same gradient again: two calls give twice the first gradient, three give "
              "three times. That is why step 5 clears it. (The book's run prints a mean of -0.0001 for one "
              "call and -0.0002 for two, from its own random weights.)"),
        plots.code(grads_without_clearing, hand_made_model, chapter.calc_grad, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    **The trailing underscore.** In PyTorch a method whose name ends in `_` changes its tensor **in place**:
    `weights.grad.zero_()` fills the existing gradient with zeros, and `t.add_(1)` adds 1 to `t` itself, while
    `t.add(1)` returns a new tensor and leaves `t` alone. Step 5 must change the gradient the parameter
    holds, so it uses the in-place form (or drops the gradient with `p.grad = None`).

    An **epoch** is one pass of steps 1 to 5 over every batch of the `DataLoader`.

    ### Exercise: write `train_epoch(model, lr, params, dl, loss_func=mnist_loss)`

    Complete `train_epoch` near the top of this notebook: for every batch of `dl` in order, do steps 1 to 5
    with `loss_func`, for every tensor in `params`. It returns nothing; its work is the change in `params`.

    *Where this differs from the book:* the book's `train_epoch(model, lr, params)` reads the loader from a
    global `dl` (its unshuffled one) and always uses `mnist_loss`. Ours takes the loader `dl` and the loss as
    arguments, so the same function trains on any loader, shuffled or not, and the grader can give it its own
    batches. The checks are described in `docs/exercises.md`.
    """)
    return


@app.cell
def _(check, lesson_kit):
    epoch_result = check("train_epoch", train_epoch)
    lesson_kit.exercise_feedback(epoch_result)
    return (epoch_result,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 6 · Measuring: `validate_epoch`, and why on the validation set

    Training minimises the loss, but we judge the model by its **metric**, accuracy, and on images it never
    trained on: the **validation set**. A model can learn its training images by heart, their quirks
    included, and score better on them than on any new digit: that is **overfitting**, and only images held
    out of training reveal it. (The training lab below lets you train on a few hundred images and watch the
    training and validation curves part.) `batch_accuracy` counts the activations on the right side of 0,
    and `validate_epoch` averages it over the validation batches, without tracking gradients:
    """)
    return


@app.cell
def _(chapter, plots):
    plots.code(chapter.batch_accuracy, chapter.validate_epoch)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Now a model by hand, as the book builds it: 784 weights and a bias from `init_params`, which draws each
    from the standard normal distribution N(0, 1), and the model `linear1(xb) = xb @ weights + bias`.

    **Two ways to start.** PyTorch's `nn.Linear(784, 1)`, which the `Learner` uses below, starts its weights
    uniformly within $\pm 1/\sqrt{784} = \pm 1/28$: a standard deviation of 0.02, about **50 times smaller**
    than N(0, 1). A digit has about 100 to 200 inked pixels, so with N(0, 1) weights its activation is a sum of
    100-odd random terms of size up to 1: typically around 10 in size, out on the flat part of the sigmoid,
    where the gradient is almost 0. Such an image hardly moves the weights. Whether that makes the hand-made
    model the slower starter depends on the order of the batches: section 7 measures it. The start:
    """)
    return


@app.function
def two_starts(valid_x, valid_dl) -> list[dict]:
    """The hand-made model's N(0, 1) start beside nn.Linear's: the spread of the weights, the size of the validation
    activations, the share beyond ±10 (saturated), and the validation accuracy before any training."""
    import torch

    from digitcore import chapter
    from digitcore.models import linear_model

    hand, (weights, _bias) = hand_made_model()
    linear = linear_model(seed=0)
    rows = []
    for name, model, w in (("`init_params`: N(0, 1)", hand, weights), ("`nn.Linear(784, 1)`", linear, linear.weight)):
        with torch.no_grad():
            acts = model(valid_x)
        rows.append({"start": name, "std": float(w.detach().std()), "mean_abs": float(acts.abs().mean()),
                     "saturated": float((acts.abs() > 10).float().mean()),
                     "accuracy": chapter.validate_epoch(model, valid_dl)})
    return rows


@app.cell
def _(plots, valid_dl, valid_x):
    _hand, _lin = two_starts(valid_x, valid_dl)
    _table = "\n    ".join(f"| {_r['start']} | {_r['std']:.4f} | {_r['mean_abs']:.2f} | {_r['saturated']:.0%} |"
                            for _r in (_hand, _lin))
    mo.vstack([
        mo.md(f"""
    | starting weights | std of the weights | mean \\|activation\\| | activations beyond ±10 (saturated) |
    |---|---|---|---|
    {_table}

    N(0, 1) weights are **{_hand["std"] / _lin["std"]:.0f} times** larger. The hand-made model's validation
    accuracy before any training: **{_hand["accuracy"]:.4f}** (the book prints 0.5219 from its own random
    weights), about a coin toss.
    """),
        plots.code(two_starts, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 7 · Training by hand, then an optimizer, then a `Learner`

    The book trains this hand-made model with its `train_epoch` at learning rate 1 on the unshuffled loader:
    one epoch, then twenty more. Ours does the same with `chapter.train_epoch` (the reference for your
    exercise), its numbers beside the book's:
    """)
    return


@app.function
def train_by_hand(data, epochs: int = 20) -> tuple[float, list[float]]:
    """The book's run of its hand-made model: train_epoch at lr 1 on the unshuffled loader, one epoch, then
    `epochs` more. The validation accuracy after the first, and after each of the others."""
    from digitcore import chapter

    model, params = hand_made_model()
    _dset, dl, valid_dl = book_loaders(data)
    chapter.train_epoch(model, 1.0, params, dl)
    after_one = chapter.validate_epoch(model, valid_dl)
    accs = []
    for _ in range(epochs):
        chapter.train_epoch(model, 1.0, params, dl)
        accs.append(chapter.validate_epoch(model, valid_dl))
    return after_one, accs


@app.cell
def _(chapter, data, lesson_kit, plots):
    hand_after_one, _accs = lesson_kit.once_per_process(train_by_hand, data)
    mo.vstack([
        mo.md(f"after 1 epoch: **{hand_after_one:.4f}** (book 0.6883); after 20 more: **{_accs[-1]:.4f}** "
              "(book 0.9696)"),
        mo.plain_text("the 20 epochs: " + " ".join(f"{a:.4f}" for a in _accs)),
        plots.code(train_by_hand, chapter.train_epoch, title="the code (ours, following the book's steps)"),
    ])
    return (hand_after_one,)


@app.cell
def _(data, hand_after_one, pd, plots):
    first_epoch = first_epoch_runs(data)
    mo.vstack([
        mo.md("Is the saturated start what holds the hand-made model back? One epoch at lr 1 from each start, "
              "with the batches in the book's order and shuffled, tells the two causes apart (every row starts "
              "from seed 0):"),
        mo.Html(pd.DataFrame([{"starting weights": _r["init"], "batches": _r["batches"],
                               "saturated at the start": f"{_r['saturated']:.0%}",
                               "accuracy after 1 epoch at lr 1": f"{_r['accuracy']:.4f}"}
                              for _r in first_epoch]).to_html(index=False, border=0)),
        mo.md(first_epoch_story(first_epoch, hand_after_one)),
        plots.code(first_epoch_runs, title="the code behind the table"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The update and the clearing (steps 4 and 5) are the same for every model, so they move into an
    **optimizer** object: `step()` moves every parameter by $-\text{lr} \times \text{grad}$, and
    `zero_grad()` forgets the gradients. The book walks there in small steps, and so do we: each step below
    runs here, its code beside its numbers. First the model: PyTorch's `nn.Linear(28*28, 1)` holds the same two
    parameters as the hand-made model, and `parameters()` hands them to an optimizer:
    """)
    return


@app.function
def linear_parameters(seed: int = 0) -> list[dict]:
    """nn.Linear(28*28, 1)'s parameters as an optimizer receives them: each one's shape and range at the start."""
    from digitcore.models import linear_model

    return [{"shape": tuple(p.shape), "low": float(p.detach().min()), "high": float(p.detach().max())}
            for p in linear_model(seed=seed).parameters()]


@app.cell
def _(linear_model, plots):
    _weights, _bias = linear_parameters()
    mo.vstack([
        mo.md(f"weights: shape {_weights['shape']} (PyTorch keeps a layer's weights as outputs by inputs: one "
              f"row of 784), from {_weights['low']:.4f} to {_weights['high']:.4f}; bias: shape {_bias['shape']}, "
              f"{_bias['low']:.4f}"),
        plots.code(linear_parameters, linear_model, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Then the optimizer the book writes, `BasicOptim`; with it, `train_epoch` shrinks to three lines per batch,
    and `train_model` runs it epoch after epoch, the validation accuracy after each. Last, fastai's **`SGD`**
    takes `BasicOptim`'s place: it does the same thing (plus options such as momentum and weight decay that are
    off by default), so it must give the same curve. Both runs start from the same seeded `nn.Linear`, at
    learning rate 1 for 20 epochs on the book's unshuffled loader:
    """)
    return


@app.function
def train_epoch_with(model, opt, dl) -> None:
    """The book's train_epoch once an optimizer does steps 4 and 5."""
    from digitcore import chapter

    for xb, yb in dl:
        chapter.calc_grad(xb, yb, model)
        opt.step()
        opt.zero_grad()


@app.function
def train_model(model, epochs: int, opt, dl, valid_dl) -> list[float]:
    """The book's train_model: `epochs` epochs of train_epoch_with, the validation accuracy after each."""
    from digitcore import chapter

    accs = []
    for _ in range(epochs):
        train_epoch_with(model, opt, dl)
        accs.append(chapter.validate_epoch(model, valid_dl))
    return accs


@app.function
def optimiser_chain(data, epochs: int = 20, seed: int = 0) -> dict[str, list[float]]:
    """train_model on nn.Linear(28*28, 1) at lr 1, once with BasicOptim and once with SGD, from the same start."""
    from digitcore import chapter
    from digitcore.learner import SGD
    from digitcore.models import linear_model

    _dset, dl, valid_dl = book_loaders(data)
    curves = {}
    for name, opt_func in (("BasicOptim", chapter.BasicOptim), ("SGD", SGD)):
        model = linear_model(seed=seed)
        curves[name] = train_model(model, epochs, opt_func(model.parameters(), 1.0), dl, valid_dl)
    return curves


@app.cell
def _(chapter, data, lesson_kit, plots):
    _curves = lesson_kit.once_per_process(optimiser_chain, data)
    _gap = max(abs(_a - _b) for _a, _b in zip(_curves["BasicOptim"], _curves["SGD"]))
    _same = ("**`SGD` gives the same curve**, number for number: it is the same update." if _gap == 0 else
             f"`SGD`'s curve differs from `BasicOptim`'s by at most {_gap:.4f}: float rounding of the same update.")
    mo.vstack([
        mo.plain_text("\n".join(f"{_name:>10}: " + " ".join(f"{_a:.4f}" for _a in _accs)
                                for _name, _accs in _curves.items())),
        mo.md(f"From `nn.Linear`'s small start, 20 epochs end at **{_curves['BasicOptim'][-1]:.4f}** (the book's "
              f"run, from its own random start, climbs to about 0.97 too). {_same}"),
        plots.code(optimiser_chain, train_model, train_epoch_with, chapter.BasicOptim, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    A **`Learner`** bundles the rest: the data (a `DataLoaders`, the training and validation loaders side by
    side), the model, the optimizer, the loss and the metric. `fit(n_epoch, lr)` runs the loop and records
    one row per epoch. The book's `Learner` trains PyTorch's `nn.Linear(784, 1)` (small starting weights, see
    section 6) with `SGD` for 10 epochs at learning rate 1 on its unshuffled loader; digitcore's `Learner`
    does the same, on whole stacked tensors, fast enough to sit behind a slider:
    """)
    return


@app.function
def learner_fit(data, seed: int = 0) -> list[dict]:
    """The book's Learner: its loaders, nn.Linear(28*28, 1), SGD, mnist_loss and batch_accuracy; fit(10, lr=1)."""
    from digitcore import chapter
    from digitcore.dataloader import DataLoaders
    from digitcore.learner import SGD, Learner
    from digitcore.models import linear_model

    dls = DataLoaders.from_sample(data, batch_size=256)
    learn = Learner(dls, linear_model(seed=seed), opt_func=SGD, loss_func=chapter.mnist_loss,
                    metrics=chapter.batch_accuracy)
    learn.fit(10, lr=1.0)
    return learn.recorder.rows


@app.cell
def _(data, lesson_kit, plots):
    _rows = lesson_kit.once_per_process(learner_fit, data)
    mo.vstack([
        plots.recorder_table(_rows),
        mo.md(f"Final accuracy **{_rows[-1]['batch_accuracy']:.4f}**; the book's `learn.fit(10, lr=1)` prints "
              "0.9676 (its own random start: across seeds ours lands within a few tenths of a point)."),
        plots.code(learner_fit, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 8 · The training lab: every learning rate at once

    Each setting of the other controls (batch size, epochs, loss, shuffle, starting weights, training images)
    trains a fresh linear model for **all 17 learning rates on the slider at once**, in one batched run:
    their weights sit side by side in one 784 x 17 matrix, and each batch goes through all 17 models in one
    matrix product. Each learning rate's result is the run it would have had alone, to float rounding.
    So the learning-rate slider never waits: pick any, and its curves, its verdict and its place on the
    loss-against-learning-rate chart are already there.
    Things to try:

    - **learning rate** 0.001: the loss barely moves (with the starting settings, from 0.51 to 0.41 in 5
      epochs, where learning rate 1 takes it below 0.05), yet the accuracy climbs from 0.42 to 0.89: it only
      needs each activation on the right side of 0, not close to its target. 1 to 10: good. Then go up to 100,000 and read the box:
      with `mnist_loss` the loss cannot explode (the sigmoid keeps it between 0 and 1); a huge step throws the
      weights so far that every activation lands on a flat part of the sigmoid and learning stalls. The chart
      of final loss against learning rate shows the whole story at once: too small, just right, too big.
    - **loss**: *squared error, no sigmoid* (the loss most people try first): nothing bounds it, a step that
      overshoots makes the next one bigger, and from some learning rate on the runs **diverge** (crosses on
      the chart). Where is the edge?
    - **shuffle** off: the book's order, all 3s then all 7s. At learning rate 0.1 or 1 the update-by-update
      chart saw-tooths: inside each epoch the accuracy jumps, then sags as the model is pulled towards
      whichever digit the recent batches were all made of.
    - **starting weights** N(0, 1), the book's `init_params`, instead of `nn.Linear`'s: shuffled, the slow
      start of section 7's table, and the saturated share in the box says why. Switch shuffle off as well, and
      it is `nn.Linear`'s run that ends its first epoch lower.
    - **training images** 100, batch size 8, 30 epochs: the training accuracy reaches 1.00 and the training
      loss falls towards 0, while the validation accuracy stays near 0.97 and its loss ends many times higher
      than the training loss: the curves part. The model is learning those 100 images by heart; only the validation set shows it.
    - **batch size** 1: one update per image: slow and noisy (watch the progress bar). 2,048: only a few
      updates per epoch. A run has a 15-second time budget and says so when it stops early.
    """)
    return


@app.cell
def _(data, sweep):
    _n = len(data.train_xy()[0])
    lr_slider = mo.ui.slider(steps=sweep.LAB_LRS, value=1, debounce=True, show_value=True, label="learning rate")
    bs_slider = mo.ui.slider(steps=BATCH_SIZES, value=256, debounce=True, show_value=True, label="batch size")
    epochs_slider = mo.ui.slider(1, 30, value=5, debounce=True, show_value=True, label="epochs")
    loss_choice = mo.ui.dropdown({"mnist_loss (with sigmoid)": "mnist_loss", "squared error, no sigmoid": "squared"},
                                 value="mnist_loss (with sigmoid)", label="loss")
    shuffle_switch = mo.ui.switch(value=True, label="shuffle each epoch")
    init_choice = mo.ui.dropdown({"nn.Linear's (std 0.02)": "nn.Linear", "init_params' N(0, 1)": "N(0,1)"},
                                 value="nn.Linear's (std 0.02)", label="starting weights")
    size_slider = mo.ui.slider(steps=[s for s in (100, 300, 1000, 3000) if s < _n] + [_n], value=_n,
                               debounce=True, show_value=True, label="training images")
    mo.vstack([
        mo.hstack([lr_slider, bs_slider, epochs_slider], justify="start", gap=2),
        mo.hstack([loss_choice, shuffle_switch, init_choice, size_slider], justify="start", gap=2),
    ])
    return bs_slider, epochs_slider, init_choice, loss_choice, lr_slider, shuffle_switch, size_slider


@app.cell
def _(epoch_result, loss_result):
    mine_ok = student_ready(loss_result, epoch_result)
    use_mine = mo.ui.switch(value=False, disabled=not mine_ok,
                            label="train with my own mnist_loss and train_epoch")
    mo.hstack([use_mine, mo.md("" if mine_ok else
                               "*(unlocks when both of your exercises above pass their checks; your run trains "
                               "one learning rate at a time, shuffled, from nn.Linear's start)*")],
              justify="start")
    return mine_ok, use_mine


@app.cell
def _(bs_slider, data, epochs_slider, init_choice, lesson_kit, loss_choice, shuffle_switch, size_slider):
    _n = size_slider.value if size_slider.value < len(data.train_xy()[0]) else None
    lab_sweep = lesson_kit.lab_sweep(data, bs_slider.value, epochs_slider.value, loss=loss_choice.value,
                                     shuffle=shuffle_switch.value, init=init_choice.value, n_train=_n)
    return (lab_sweep,)


@app.cell
def _(data, lab_sweep, lesson_kit, lr_slider, mine_ok, plots, training, use_mine):
    if mine_ok and use_mine.value:
        lab_run = lesson_kit.train_live(data, lr_slider.value, lab_sweep.settings["bs"],
                                        lab_sweep.settings["epochs"], student=(train_epoch, mnist_loss))
        _view = lesson_kit.run_view(lab_run)
    else:
        lab_run = training.member_run(lab_sweep, lr_slider.value)
        _curves = lesson_kit.lab_curves(data, lab_sweep, lr_slider.value)
        _view = mo.vstack([lesson_kit.lab_verdict(lab_run),
                           mo.hstack([plots.described_chart(_curves),
                                      plots.described_chart(lesson_kit.lr_chart(lab_sweep, lr_slider.value))],
                                     justify="start", align="start", gap=1),
                           plots.described_chart(lesson_kit.update_curve(data, lab_sweep, lr_slider.value))])
    _view
    return (lab_run,)


@app.cell(hide_code=True)
def _(lab_run, lab_sweep, plots, sweep):
    _s = lab_sweep.settings
    _yours = lab_run.settings["impl"] == "yours"
    mo.vstack([
        mo.md(f"""
        Trained with **{"your" if _yours else "digitcore's reference"}** implementation: learning rate
        {lab_run.settings["lr"]:g}, batch size {_s["bs"]}, {_s["epochs"]} epochs asked, seed {_s["seed"]},
        {_s["n_train"]:,} training images, {"shuffled" if _s["shuffle"] else "not shuffled"}, starting weights
        {_s["init"]}. For comparison, lesson 02's pixel similarity scores 0.9511, and the book's linear model
        0.9676. Axes stay fixed from run to run (loss 0 to 0.55, accuracy 0.4 to 1), so runs compare by eye.
        """),
        plots.code(sweep.side_by_side, sweep.step_every_model, sweep.column_losses,
                   title="the code: all learning rates in one run (from digitcore/sweep.py, as it runs: every batch "
                         "of every epoch is one step_every_model)"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 9 · Watch it learn

    The lab kept the weights of every model as it trained. Here are the 784 weights of the learning rate you
    picked, drawn as a 28 x 28 picture (blue: a pixel whose ink pushes the activation up, towards "3"; red:
    towards "7"), with the model's most confident mistakes at that moment. For each mistake, the second
    picture is **weight times pixel**: which inked pixels voted "3" and which voted "7"; the activation is
    their sum plus the bias. Press **play** (pick a speed), **pause** (off), **one step**, or drag.
    """)
    return


@app.cell(hide_code=True)
def _():
    get_pos, set_pos = mo.state(10_000)  # the snapshot on show, moved by play, one step, back and the slider
    return get_pos, set_pos


@app.cell(hide_code=True)
def _(lab_sweep, lesson_kit, set_pos):
    play, one_step, to_start = lesson_kit.player_buttons(len(lab_sweep.steps), set_pos)
    return one_step, play, to_start


@app.cell(hide_code=True)
def _(lab_sweep, lesson_kit, play, set_pos):
    lesson_kit.follow_play(play, len(lab_sweep.steps), set_pos)
    return


@app.cell
def _(get_pos, lab_sweep, lesson_kit, one_step, play, set_pos, to_start):
    watch_at = lesson_kit.snapshot_slider(len(lab_sweep.steps), get_pos(), set_pos)
    mo.vstack([mo.hstack([play, one_step, to_start], justify="start", gap=1), watch_at])
    return (watch_at,)


@app.cell
def _(data, lab_sweep, lesson_kit, lr_slider, plots, replay, watch_at):
    mo.vstack([
        lesson_kit.weights_view(data, lab_sweep, lr_slider.value, watch_at.value),
        plots.code(replay.confident_mistakes, title="the code"),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Check yourself
    """)
    return


@app.cell
def _(plots):
    quiz_items = [
        ("Why can't we train with accuracy as the loss?",
         ["Its gradient is 0 almost everywhere: it only changes when a prediction crosses the threshold",
          "It is too slow to compute", "It can be larger than 1"], 0,
         "A step that moves no activation across 0 leaves accuracy exactly where it was.",
         "Look at the left chart in section 1 while you drag the slider by one step."),
        ("What does the sigmoid guarantee about its output?",
         ["It is between 0 and 1", "It is always 0 or 1", "It is always positive and can be any size"], 0,
         "1 / (1 + e^(-a)) has a denominator above 1, so the result is strictly between 0 and 1.",
         "What can the denominator 1 + e^(-a) be?"),
        ("A three (target 1) gets the activation 0. What is its mnist_loss?",
         ["0", "0.5", "1"], 1, "sigmoid(0) = 0.5, and its distance from 1 is 1 - 0.5 = 0.5.",
         "First squash: what is sigmoid(0)?"),
        ("12,396 training images, batch size 256: how many parameter updates in one epoch?",
         ["48", "49", "256"], 1, "12,396 / 256 = 48.4; the last, smaller batch counts too: 49.",
         "One update per batch; does the last, partial batch count?"),
        ("calc_grad runs twice on the same batch without clearing. What does weights.grad hold?",
         ["The gradient of the second call only", "Twice the gradient of one call", "Zero"], 1,
         "backward() adds into .grad; clearing (zero_() or = None) is step 5.",
         "Move the slider in section 5 from 1 to 2."),
        ("The book trains on batches in order (all 3s, then all 7s) at lr 1. Which start is further along after "
         "one epoch: N(0, 1) (init_params) or nn.Linear's?",
         ["N(0, 1)'s, although about half of its activations start saturated: in this order nn.Linear's run "
          "ends its first epoch near a coin toss",
          "nn.Linear's: N(0, 1)'s saturated activations make it the slow starter in every setting",
          "Neither: the starting weights never change the first epoch"], 0,
         "In the book's order the batches' order costs more than the saturation (the book's own Learner, from "
         "nn.Linear's start, prints 0.4956 after its first epoch); shuffled, nn.Linear's start is far ahead and "
         "the saturated N(0, 1) start is the slow one.",
         "Read the table in section 7: compare the two rows in order, then the two shuffled."),
        ("With mnist_loss, what does a huge learning rate do to the linear model?",
         ["The loss becomes infinite at once",
          "The weights grow huge, the sigmoid saturates, gradients vanish and training stalls",
          "Nothing: the learning rate does not matter"], 1,
         "mnist_loss stays between 0 and 1; training stalls on the flat parts of the sigmoid instead.",
         "Try learning rate 100,000 in the lab and read the box under the chart."),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(plots, quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
