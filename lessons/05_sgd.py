import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="05 · Stochastic gradient descent on 3s and 7s")

with app.setup:
    import inspect
    import string

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch

    from digitcore import chapter, live, plots
    from digitcore.data import DataError, load_sample
    from digitcore.dataloader import DataLoader, DataLoaders
    from digitcore.exercises import check
    from digitcore.learner import Learner
    from digitcore.models import linear_model

    LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000]
    BATCH_SIZES = [1, 8, 32, 64, 128, 256, 512, 1024, 2048]

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def mnist_loss(predictions, targets):
    """EXERCISE. How far each prediction is from its target, averaged over the batch.

    predictions: raw activations (any real numbers), shape (n,) or (n, 1).
    targets: 1 for a three, 0 for a seven, same shape as predictions.
    Squash the activations into (0, 1) with a sigmoid; then the distance is 1 - prediction where the
    target is 1, and the prediction itself where the target is 0. Return their mean (a 0-d tensor).
    """
    raise NotImplementedError("write mnist_loss")


@app.function
def train_epoch(model, lr, params, dl, loss_func=mnist_loss):
    """EXERCISE. One epoch of SGD: for each batch (xb, yb) of dl, in order,

    compute loss_func(model(xb), yb), back-propagate, then for every p in params step it by -lr * p.grad
    (outside the autograd graph) and clear its gradient before the next batch. Return None.
    """
    raise NotImplementedError("write train_epoch")


@app.function
def nudge_curves(acts, pixel_values, targets, deltas):
    """Accuracy and mnist_loss of a batch when one weight changes by each of `deltas`.

    acts: (n,) activations before the change; pixel_values: (n,) the input that weight multiplies;
    targets: (n,) 1 for a three, 0 for a seven. Returns a DataFrame with columns delta, accuracy, loss.
    """
    moved = acts[None, :] + deltas[:, None] * pixel_values[None, :]  # (len(deltas), n)
    preds = moved.sigmoid()
    accuracy = ((moved > 0).float() == targets[None, :]).float().mean(1)
    loss = torch.where(targets[None, :] == 1, 1 - preds, preds).mean(1)
    return pd.DataFrame({"delta": deltas.tolist(), "accuracy": accuracy.tolist(), "loss": loss.tolist()})


@app.function
def source_block(*objs):
    """The source code of digitcore functions or classes, shown as a Python block."""
    code = "\n\n".join(inspect.getsource(o).rstrip() for o in objs)
    return mo.md(f"```python\n{code}\n```")


@app.function
def student_ready(*results) -> bool:
    """True when every exercise result passed."""
    return all(r is not None and r.passed for r in results)


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

    At the end, the **training lab** retrains the model live while you move the learning rate and batch size.
    """)
    return


@app.cell
def _():
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
    """)
    return


@app.cell
def _(train_x, train_y, valid_x, valid_y):
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
def _(nudge, nudge_acts, nudge_pixel, nudge_x, nudge_y):
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
        alt.hconcat(_acc, _loss),
        mo.md(f"At this setting: accuracy **{_row.accuracy:.4f}**, loss **{_row.loss:.4f}**. "
              "Move the slider by one step: the loss changes at once; accuracy usually does not."),
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
    flat it gets beyond about ±5: there its slope is almost 0. This will matter in the training lab.
    """)
    return


@app.cell
def _():
    sig_at = mo.ui.slider(-8.0, 8.0, step=0.1, value=1.0, show_value=True, label="activation a")
    sig_at
    return (sig_at,)


@app.cell
def _(sig_at):
    _a = torch.linspace(-8, 8, 161)
    _curve = pd.DataFrame({"a": _a.tolist(), "sigmoid": chapter.sigmoid(_a).tolist()})
    _s = float(chapter.sigmoid(torch.tensor(sig_at.value)))
    _point = pd.DataFrame({"a": [sig_at.value], "sigmoid": [_s]})
    _chart = (alt.Chart(_curve).mark_line().encode(x="a:Q", y=alt.Y("sigmoid:Q", title="σ(a)"))
              + alt.Chart(_point).mark_point(size=120, filled=True, color="#e76f51").encode(x="a:Q", y="sigmoid:Q"))
    mo.hstack([
        _chart.properties(width=340, height=200),
        mo.md(f"$\\sigma({sig_at.value:.1f}) = {_s:.4f}$  \nits slope there: "
              f"$\\sigma(a)(1-\\sigma(a)) = {_s * (1 - _s):.4f}$"),
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


@app.cell
def _():
    toy_targets = torch.tensor([1, 0, 1])
    toy_preds = torch.tensor([0.9, 0.4, 0.2])
    _dist = torch.where(toy_targets == 1, 1 - toy_preds, toy_preds)
    pd.DataFrame({"target": toy_targets.tolist(), "prediction": toy_preds.tolist(),
                  "distance from the right answer": [round(v, 2) for v in _dist.tolist()]})
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The first digit is a confident, correct 3 (distance 0.1); the third is a 3 the model doubts (0.8).
    Averaging these distances gives one number for the batch; making it smaller means the predictions move
    towards the targets, and unlike accuracy it changes with every tiny change of a weight.

    ### Exercise: write `mnist_loss(predictions, targets)`

    In `marimo edit`, complete the function `mnist_loss` near the top of this notebook. It gets **raw
    activations** (any real numbers, shape `(n,)` or `(n, 1)`) and targets of 0s and 1s of the same shape,
    and returns the mean distance as a 0-d tensor. Two things to remember: squash first, and do not change
    the inputs. The box below runs the same checks as the grader every time your function changes.
    """)
    return


@app.cell
def _():
    loss_result = check("mnist_loss", mnist_loss)
    live.exercise_feedback(loss_result)
    return (loss_result,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 4 · Mini-batches and the `DataLoader`

    Computing the loss over all 12,396 training images before every step is accurate but slow: one update
    per pass over the data. Using a single image per step gives many updates, but each is based on one noisy
    example and makes poor use of the hardware. The usual middle way is a **mini-batch**: a few dozen or a
    few hundred images per step. How many is the **batch size**, a choice you will test in the training
    lab (and measure in lesson 06).

    A `DataLoader` cuts a collection into batches, and with `shuffle=True` it draws a new random order on
    every pass, so the batches differ from one epoch to the next. The book's two toy examples: the numbers
    0 to 14 in batches of 5,
    """)
    return


@app.cell
def _():
    numbers_dl = DataLoader(range(15), batch_size=5, shuffle=True)
    list(numbers_dl)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    and the letters paired with their positions, in batches of 6. A batch of pairs comes back as a pair of
    batches: a tensor of the positions and a tuple of the letters (the last batch is smaller: 26 is not a
    multiple of 6).
    """)
    return


@app.cell
def _():
    letters_dl = DataLoader(list(enumerate(string.ascii_lowercase)), batch_size=6, shuffle=True)
    list(letters_dl)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Our digits work the same way: the data set is a list of `(image, label)` pairs, and a batch is a pair
    `(xb, yb)` of a stack of images and a stack of labels.
    """)
    return


@app.cell
def _(train_x, train_y, valid_x, valid_y):
    dset = list(zip(train_x, train_y))
    valid_dset = list(zip(valid_x, valid_y))
    dl = DataLoader(dset, batch_size=256, shuffle=True, seed=0)
    valid_dl = DataLoader(valid_dset, batch_size=256)
    xb, yb = next(iter(dl))
    mo.md(f"`len(dset)` = {len(dset):,} pairs; `len(dl)` = {len(dl)} batches per epoch; "
          f"first batch: `xb.shape` = {tuple(xb.shape)}, `yb.shape` = {tuple(yb.shape)}")
    return dl, valid_dl


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 5 · One epoch of SGD: `train_epoch`

    Here is everything a training step does, for one batch `(xb, yb)`:

    1. **predict**: `preds = model(xb)`;
    2. **measure**: `loss = loss_func(preds, yb)`;
    3. **gradient**: `loss.backward()` fills `p.grad` for every parameter `p`;
    4. **step**: `p -= lr * p.grad` for every parameter, *outside* the autograd graph (the update is not part
       of the model's computation; `p.data` or `torch.no_grad()` keeps it out);
    5. **clear**: PyTorch *adds* new gradients to `.grad`, so reset it (`p.grad.zero_()` or
       `p.grad = None`) before the next batch, or the old gradient leaks into the next step.

    An **epoch** is one pass of this over every batch of the `DataLoader`.

    ### Exercise: write `train_epoch(model, lr, params, dl, loss_func=mnist_loss)`

    Complete `train_epoch` near the top of this notebook: for every batch of `dl` in order, do steps 1 to 5
    with `loss_func`, for every tensor in `params`. It returns nothing; its work is the change in `params`.
    """)
    return


@app.cell
def _():
    epoch_result = check("train_epoch", train_epoch)
    live.exercise_feedback(epoch_result)
    return (epoch_result,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 6 · Measuring: `validate_epoch`

    Training minimises the loss, but we judge the model by **accuracy** on images it never trained on: the
    validation set. `batch_accuracy` counts the activations on the right side of 0, and `validate_epoch`
    averages it over the validation batches (without tracking gradients: nothing is learned here):
    """)
    return


@app.cell
def _():
    source_block(chapter.batch_accuracy, chapter.validate_epoch)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Now a model by hand, as the book builds it: 784 weights and a bias from `init_params`, the model
    `linear1(xb) = xb @ weights + bias`, and its accuracy before any training (about a coin toss):
    """)
    return


@app.cell
def _(valid_dl):
    _gen = torch.Generator().manual_seed(42)
    hand_weights = chapter.init_params((28 * 28, 1), generator=_gen)
    hand_bias = chapter.init_params(1, generator=_gen)

    def hand_model(xb):
        return chapter.linear1(xb, hand_weights, hand_bias)

    mo.md(f"validation accuracy before training: **{chapter.validate_epoch(hand_model, valid_dl)}**")
    return hand_bias, hand_model, hand_weights


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 7 · An optimizer, then a `Learner`

    The update and the clearing (steps 4 and 5) are the same for every model, so they move into an
    **optimizer** object: `step()` moves every parameter by $-\text{lr} \times \text{grad}$, and
    `zero_grad()` forgets the gradients. The book calls its first one `BasicOptim`:
    """)
    return


@app.cell
def _():
    source_block(chapter.BasicOptim)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    With it the epoch loop shrinks to predict, measure, backward, `opt.step()`, `opt.zero_grad()`. Here it
    trains the hand-made model above for five epochs at learning rate 1 (`calc_grad` is steps 1 to 3):
    """)
    return


@app.cell
def _(dl, hand_bias, hand_model, hand_weights, valid_dl):
    _opt = chapter.BasicOptim([hand_weights, hand_bias], lr=1.0)
    _accs = []
    for _epoch in range(5):
        for _xb, _yb in dl:
            chapter.calc_grad(_xb, _yb, hand_model)
            _opt.step()
            _opt.zero_grad()
        _accs.append(chapter.validate_epoch(hand_model, valid_dl))
    mo.md("validation accuracy after each epoch: " + ", ".join(f"**{a:.4f}**" for a in _accs))
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    A **`Learner`** bundles the rest: the data (a `DataLoaders`, the training and validation loaders side by
    side), the model, the optimizer, the loss and the metric. `fit(n_epoch, lr)` runs the loop and records
    one row per epoch. digitcore's `Learner` uses PyTorch's own `nn.Linear(784, 1)` as the model (the same
    784 weights and a bias, initialised a little differently) and trains on whole stacked tensors, so it
    is fast enough to run behind a slider:

    ```python
    dls = DataLoaders(dl, valid_dl)
    learn = Learner(dls, linear_model(), opt_func=BasicOptim, loss_func=mnist_loss, metrics=batch_accuracy)
    learn.fit(5, lr=1.0)
    ```
    """)
    return


@app.cell
def _(train_x, train_y, valid_x, valid_y):
    _dls = DataLoaders(DataLoader.from_tensors(train_x, train_y, batch_size=256, shuffle=True, seed=0),
                       DataLoader.from_tensors(valid_x, valid_y, batch_size=1024))
    _learn = Learner(_dls, linear_model(seed=0), opt_func=chapter.BasicOptim, loss_func=chapter.mnist_loss,
                     metrics=chapter.batch_accuracy)
    _learn.fit(5, lr=1.0)
    plots.recorder_table(_learn.recorder.rows)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## 8 · The training lab

    Each setting below trains a fresh linear model on the real training set and charts its loss and
    accuracy epoch by epoch. Sliders start a run when you let go; a setting you have already tried comes
    back instantly. Things to try:

    - **learning rate** 0.001: the model barely moves. 1 to 10: good. Then go up to 100,000 and read what
      the box under the chart says: with `mnist_loss` the loss cannot explode (the sigmoid keeps it between
      0 and 1), so a huge step does not make the numbers infinite; it throws the weights so far that every
      activation lands on a flat part of the sigmoid, where the gradient is almost 0 and learning stalls.
    - **loss**: switch to *squared error, no sigmoid* (the loss most people try first) and the same
      learning rates tell another story: nothing bounds the error, so a step that overshoots makes the next
      one bigger, and at learning rate 1 the run **diverges**. Find the largest learning rate that still
      trains with it (hint: it is far below 1).
    - **batch size** 1: one update per image, 12,396 per epoch: slow and noisy (watch the progress bar).
      2,048: only 7 updates per epoch, so each epoch teaches less. Lesson 06 measures these trade-offs.
    - **epochs**: more passes over the data. A run has a 15-second time budget: it stops between epochs
      when one more would not fit, or cuts an epoch short (batch size 1 on a slow machine) and says so.
    """)
    return


@app.cell
def _():
    lr_slider = mo.ui.slider(steps=LRS, value=1, debounce=True, show_value=True, label="learning rate")
    bs_slider = mo.ui.slider(steps=BATCH_SIZES, value=256, debounce=True, show_value=True, label="batch size")
    epochs_slider = mo.ui.slider(1, 30, value=5, debounce=True, show_value=True, label="epochs")
    loss_choice = mo.ui.dropdown({"mnist_loss (with sigmoid)": "mnist_loss", "squared error, no sigmoid": "squared"},
                                 value="mnist_loss (with sigmoid)", label="loss")
    mo.hstack([lr_slider, bs_slider, epochs_slider, loss_choice], justify="start", gap=2)
    return bs_slider, epochs_slider, loss_choice, lr_slider


@app.cell
def _(epoch_result, loss_result):
    mine_ok = student_ready(loss_result, epoch_result)
    use_mine = mo.ui.switch(value=False, disabled=not mine_ok,
                            label="train with my own mnist_loss and train_epoch")
    mo.hstack([use_mine, mo.md("" if mine_ok else
                               "*(unlocks when both of your exercises above pass their checks)*")],
              justify="start")
    return mine_ok, use_mine


@app.cell
def _(bs_slider, data, epochs_slider, loss_choice, lr_slider, mine_ok, use_mine):
    _student = (train_epoch, mnist_loss) if (mine_ok and use_mine.value) else None
    lab_run = live.train_live(data, lr_slider.value, bs_slider.value, epochs_slider.value, student=_student,
                              loss=loss_choice.value)
    live.run_view(lab_run)
    return (lab_run,)


@app.cell(hide_code=True)
def _(lab_run):
    mo.md(f"""
    Trained with **{"your" if lab_run.settings["impl"] == "yours" else "digitcore's reference"}**
    implementation: learning rate {lab_run.settings["lr"]:g}, batch size {lab_run.settings["bs"]},
    {lab_run.settings["epochs"]} epochs asked, seed {lab_run.settings["seed"]}.
    For comparison, the pixel-similarity baseline of lesson 02 scores about 0.95 on the full data; the
    book's linear model reaches about 0.97 to 0.98.
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
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
