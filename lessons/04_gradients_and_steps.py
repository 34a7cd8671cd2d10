import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="04 · Gradients and steps")

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import math

    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd
    import torch

    from digitcore import chapter, plots
    from digitcore.exercises import check
    from digitcore.live import exercise_feedback

    LEARNING_RATES = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 3e-5, 4e-5, 5e-5, 1e-4, 1e-3, 1e-2]
    BLOW_UP = 1000.0

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def square_and_slope(x: float) -> tuple:
    """y = x**2 and its gradient dy/dx at x, computed by autograd: (y, slope)."""
    xt = torch.tensor(float(x)).requires_grad_()
    yt = xt**2
    yt.backward()
    return yt.item(), xt.grad.item()


@app.function
def make_speed_data(seed: int = 42) -> tuple:
    """The roller coaster: time 0..19 and a noisy quadratic speed (the book's recipe, with a fixed seed)."""
    g = torch.Generator().manual_seed(seed)
    time = torch.arange(0, 20).float()
    speed = torch.randn(20, generator=g) * 3 + 0.75 * (time - 9.5) ** 2 + 1
    return time, speed


@app.function
def train_speed(step, time, speed, lr: float, n_steps: int, init_seed: int = 0) -> dict:
    """Run `step` (an apply_step) n_steps times from random params; stop early if the loss blows up.

    Returns params[k] and loss[k] after k steps (k = 0 is the start), diverged_at (step number or None),
    and a message.
    """
    params = torch.randn(3, generator=torch.Generator().manual_seed(init_seed)).requires_grad_()
    history = [params.detach().clone()]
    losses = [chapter.mse(chapter.f(time, params), speed).item()]
    diverged_at, message = None, ""
    for k in range(1, n_steps + 1):
        try:
            step(params, time, speed, lr)
        except Exception as e:  # a student's function that breaks at run time: say so, don't crash the lesson
            message = f"stopped at step {k}: the step function raised {type(e).__name__}: {e}"
            break
        with torch.no_grad():
            loss = chapter.mse(chapter.f(time, params), speed).item()
        if not math.isfinite(loss) or loss > BLOW_UP * losses[0]:
            diverged_at = k
            what = (
                "became NaN/inf" if not math.isfinite(loss) else f"grew past {BLOW_UP:g}× its starting value"
            )
            message = (
                f"diverged at step {k}: the loss {what}. The learning rate {lr:g} is too large: each step "
                "overshoots the minimum by more than the last."
            )
            break
        history.append(params.detach().clone())
        losses.append(loss)
    return {"params": history, "losses": losses, "diverged_at": diverged_at, "message": message}


@app.function
def best_quadratic(time, speed):
    """The least-squares a, b, c: the best any quadratic can do, for comparison with what SGD reaches."""
    design = torch.stack([time**2, time, torch.ones_like(time)], dim=1)
    return torch.linalg.lstsq(design, speed.view(-1, 1)).solution.view(-1)


@app.function
def curve_frame(params, label, lo: float = -150.0, hi: float = 350.0) -> pd.DataFrame:
    """f(t) on a grid of t in [0, 19] for plotting; points outside [lo, hi] are left out, not clamped."""
    a, b, c = (float(v) for v in params)
    t = np.linspace(0, 19, 60)
    df = pd.DataFrame({"time": t, "speed": a * t**2 + b * t + c, "curve": label})
    return df[(df["speed"] >= lo) & (df["speed"] <= hi)]


@app.function
def apply_step(params, time, speed, lr):
    """EXERCISE: one step of gradient descent on the speed model.

    Predict with f(time, params), measure mse(preds, speed), back-propagate, move params by -lr * params.grad
    (in place, without recording the update for autograd), clear params.grad, and return the predictions.
    """
    raise NotImplementedError("write apply_step: predict, loss, backward, step, clear grad, return preds")


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 04 · Gradients and the seven steps

    Pixel similarity has nothing to tune. Learning means having **parameters** and a way to change them so
    that a measured loss goes down. The gradient tells us which way is down, and how steep. In this lesson you
    let PyTorch compute gradients, then use them to fit a curve, one step at a time.
    """)
    return


@app.cell(hide_code=True)
def _():
    plots.data_notice(None, what="Only a made-up roller coaster's speed, 20 noisy points (fixed seed).")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## A gradient is a slope

    For $y = x^2$ the slope at any point is $\frac{dy}{dx} = 2x$. PyTorch finds it without being told the
    formula: mark the input with `requires_grad_()`, compute, call `.backward()`, and read `.grad`. Move the
    point and watch the tangent line: its slope is the gradient.
    """)
    return


@app.cell
def _():
    x_at = mo.ui.slider(-4, 4, step=0.25, value=3, label="x", show_value=True)
    x_at
    return (x_at,)


@app.cell
def _(x_at):
    xt = torch.tensor(float(x_at.value)).requires_grad_()
    yt = xt**2
    yt.backward()
    xt.grad
    return


@app.cell(hide_code=True)
def _(x_at):
    _x0 = float(x_at.value)
    _y0, _slope = square_and_slope(_x0)
    _xs = np.linspace(-4.5, 4.5, 91)
    _curve = (
        alt.Chart(pd.DataFrame({"x": _xs, "y": _xs**2})).mark_line(color="#264653").encode(x="x:Q", y="y:Q")
    )
    _tx = np.array([_x0 - 1.5, _x0 + 1.5])
    _tangent = (
        alt.Chart(pd.DataFrame({"x": _tx, "y": _y0 + _slope * (_tx - _x0)}))
        .mark_line(color="#e76f51", strokeWidth=3)
        .encode(x="x:Q", y="y:Q")
    )
    _point = alt.Chart(pd.DataFrame({"x": [_x0], "y": [_y0]})).mark_point(
        size=120, filled=True, color="#e76f51"
    )
    _point = _point.encode(x="x:Q", y="y:Q")
    mo.hstack(
        [
            (_curve + _tangent + _point).properties(width=380, height=260, title="y = x² and its tangent"),
            mo.md(
                f"At $x = {_x0:g}$: $y = {_y0:g}$ and autograd's `.grad` is **{_slope:g}**, "
                f"which is $2x = {2 * _x0:g}$.<br>"
                + (
                    "The slope is positive: to make $y$ smaller, move $x$ **left**, against it."
                    if _slope > 0
                    else "The slope is negative: to make $y$ smaller, move $x$ **right**, against it."
                    if _slope < 0
                    else "The slope is zero: this is the bottom."
                )
            ),
        ],
        justify="start",
        align="center",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### Many inputs at once

    A loss depends on many parameters, so we want one slope per parameter. Give autograd a vector and a
    function that ends in a single number (here the sum of squares): `.grad` then has the same shape as the
    input, one partial derivative per element, $\frac{\partial}{\partial x_i}\sum_j x_j^2 = 2x_i$. Edit the
    vector:
    """)
    return


@app.cell
def _():
    vector_text = mo.ui.text(value="3, 4, 10", label="x =")
    vector_text
    return (vector_text,)


@app.cell
def _(vector_text):
    try:
        _values = [float(v) for v in vector_text.value.replace(",", " ").split()] or [0.0]
        vector_error = ""
    except ValueError:
        _values, vector_error = [0.0], f"'{vector_text.value}' is not a list of numbers; using [0]"
    xv = torch.tensor(_values).requires_grad_()
    total = (xv**2).sum()
    total.backward()
    xv.grad
    return vector_error, xv


@app.cell(hide_code=True)
def _(vector_error, xv):
    _table = pd.DataFrame(
        {"x": xv.detach().numpy(), "x.grad": xv.grad.numpy(), "2x": 2 * xv.detach().numpy()}
    ).style.format("{:g}")
    mo.vstack(([mo.callout(vector_error, kind="warn")] if vector_error else []) + [_table])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Stepping downhill

    Knowing the slope, we change each parameter a little against it:

    $$w \leftarrow w - \eta \, \frac{\partial L}{\partial w}$$

    $\eta$ (eta) is the **learning rate**, a small number such as $10^{-5}$. Too small and training crawls;
    too big and each step jumps past the bottom, further each time, until the numbers overflow.
    Repeating this is **stochastic gradient descent** (SGD); the whole loop has seven steps:
    """)
    return


@app.cell(hide_code=True)
def _():
    mo.mermaid(
        """
    graph LR
      A[1 init params] --> B[2 predict]
      B --> C[3 loss]
      C --> D[4 gradient]
      D --> E[5 step]
      E --> F{6 repeat?}
      F -- yes --> B
      F -- no --> G[7 stop]
    """
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## An end-to-end example: a roller coaster's speed

    We measure a roller coaster's speed once a second for 20 seconds as it goes over a hump: fast, slow at the
    top, fast again. A quadratic should describe it, $f(t) = a t^2 + b t + c$. Which $a, b, c$? We let SGD
    find them, measuring how wrong a guess is with the mean squared error
    $\text{mse} = \frac{1}{20}\sum_t (f(t) - \text{speed}_t)^2$.
    """)
    return


@app.cell
def _():
    time, speed = make_speed_data()
    speed_df = pd.DataFrame({"time": time.numpy(), "speed": speed.numpy()})
    alt.Chart(speed_df).mark_point(filled=True, color="#264653").encode(x="time:Q", y="speed:Q").properties(
        width=380, height=200, title="measured speed"
    )
    return speed, speed_df, time


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Steps 1 to 3 by hand, with the chapter's `f` and `mse`: a random guess for $a, b, c$, its predictions, and
    how wrong they are.
    """)
    return


@app.cell
def _(speed, time):
    f, mse = (
        chapter.f,
        chapter.mse,
    )  # f(t, params) = a*t**2 + b*t + c;  mse(preds, targets) = mean squared error
    guess = torch.randn(3, generator=torch.Generator().manual_seed(0))  # step 1: init
    guess_preds = f(time, guess)  # step 2: predict
    guess_loss = mse(guess_preds, speed)  # step 3: loss
    mo.md(f"guess: `{guess}`, its loss: **{guess_loss.item():,.1f}**")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Exercise: `apply_step(params, time, speed, lr)`

    Write one step of the loop (steps 2 to 5) in the function cell `apply_step` near the top of the notebook
    (open the lesson with `marimo edit`):

    1. `preds = f(time, params)` &nbsp; 2. `loss = mse(preds, speed)` &nbsp; 3. `loss.backward()`
    4. change `params` in place by `-lr * params.grad`, in a way autograd does not record
       (`with torch.no_grad():` or `params.data`)
    5. clear the gradient (`params.grad = None`), because PyTorch *adds* new gradients to old ones
    6. `return preds`

    Inside the function, write the quadratic and the squared error out yourself (it may only use torch).
    The box below re-runs the checks whenever you change the function. Every check, and how to grade a file of
    your own, is described in `docs/exercises.md` in the course folder.
    """)
    return


@app.cell
def _():
    step_result = check("apply_step", apply_step)
    exercise_feedback(step_result)
    return (step_result,)


@app.cell
def _(step_result):
    use_mine = mo.ui.switch(
        value=False,
        label="train with my apply_step"
        if step_result.passed
        else "train with my apply_step (once it passes)",
        disabled=not step_result.passed,
    )
    use_mine
    return (use_mine,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Train it

    Choose a learning rate and a number of steps; the parameters start from the same random guess each time.
    Try **1e-6** (too small: it crawls), **1e-5** (the book's choice), **3e-5** (it wobbles but gets there)
    and **4e-5 or more** (it diverges).
    """)
    return


@app.cell
def _():
    lr_slider = mo.ui.slider(
        steps=LEARNING_RATES, value=1e-5, label="learning rate", show_value=True, debounce=True
    )
    steps_slider = mo.ui.slider(1, 200, value=20, label="steps", show_value=True, debounce=True)
    mo.hstack([lr_slider, steps_slider], justify="start")
    return lr_slider, steps_slider


@app.cell
def _(lr_slider, speed, step_result, steps_slider, time, use_mine):
    step_fn = apply_step if (use_mine.value and step_result.passed) else chapter.apply_step
    run = train_speed(step_fn, time, speed, lr_slider.value, steps_slider.value)
    mo.md(
        f"Trained with **{'your' if step_fn is apply_step else 'the reference'}** `apply_step`: "
        f"{len(run['losses']) - 1} step(s) done."
    )
    return (run,)


@app.cell(hide_code=True)
def _(run):
    _loss_df = pd.DataFrame({"step": range(len(run["losses"])), "loss": run["losses"]})
    _loss_chart = (
        alt.Chart(_loss_df)
        .mark_line(point=len(_loss_df) <= 40)
        .encode(
            x=alt.X("step:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="mse (log scale)"),
            tooltip=["step:Q", alt.Tooltip("loss:Q", format=",.1f")],
        )
        .properties(width=340, height=200, title="loss after each step")
    )
    _parts = [_loss_chart]
    if run["message"]:
        _parts.insert(
            0,
            mo.callout(
                mo.md(f"**{run['message']}** The chart stops at the last finite step."), kind="danger"
            ),
        )
    else:
        _first, _last = run["losses"][0], run["losses"][-1]
        _parts.append(
            mo.md(
                f"The loss went from **{_first:,.0f}** to **{_last:,.1f}** in {len(run['losses']) - 1} steps."
            )
        )
    mo.vstack(_parts)
    return


@app.cell
def _(run):
    scrub = mo.ui.slider(
        0,
        len(run["params"]) - 1,
        value=len(run["params"]) - 1,
        label="show the curve after step",
        show_value=True,
    )
    scrub
    return (scrub,)


@app.cell(hide_code=True)
def _(run, scrub, speed, speed_df, time):
    _k = scrub.value
    _ks = sorted(set(np.linspace(0, _k, num=min(_k + 1, 12)).round().astype(int).tolist()))
    _history = pd.concat([curve_frame(run["params"][k], f"step {k}") for k in _ks])
    _best = best_quadratic(time, speed)
    _best_loss = chapter.mse(chapter.f(time, _best), speed).item()
    _y = alt.Y("speed:Q", scale=alt.Scale(domain=[-150, 350]))
    _dots = alt.Chart(speed_df).mark_point(filled=True, color="#264653").encode(x="time:Q", y=_y)
    _faint = (
        alt.Chart(_history)
        .mark_line(opacity=0.25, color="#e76f51")
        .encode(x="time:Q", y=_y, detail="curve:N")
    )
    _now = (
        alt.Chart(curve_frame(run["params"][_k], f"step {_k}"))
        .mark_line(color="#e76f51", strokeWidth=3)
        .encode(x="time:Q", y=_y)
    )
    _ideal = (
        alt.Chart(curve_frame(_best, "best"))
        .mark_line(color="#264653", strokeDash=[5, 4])
        .encode(x="time:Q", y=_y)
    )
    _a, _b, _c = (float(v) for v in run["params"][_k])
    _ba, _bb, _bc = (float(v) for v in _best)
    mo.hstack(
        [
            (_dots + _faint + _ideal + _now).properties(
                width=400, height=260, title=f"the fitted curve after step {_k}"
            ),
            mo.vstack(
                [
                    mo.md(
                        f"""
    | | a | b | c | loss |
    |---|---|---|---|---|
    | after step {_k} (thick) | {_a:.3f} | {_b:.3f} | {_c:.3f} | **{run["losses"][_k]:,.1f}** |
    | best quadratic (dashed) | {_ba:.3f} | {_bb:.3f} | {_bc:.3f} | {_best_loss:,.1f} |
    """
                    ),
                    mo.md(
                        "Pale lines: earlier steps. The dashed line is the least-squares fit, for comparison."
                    ),
                ]
            ),
        ],
        justify="start",
        align="center",
    )
    return


@app.cell(hide_code=True)
def _(run):
    _n = len(run["params"]) - 1
    _picks = sorted({0, _n // 3, 2 * _n // 3, _n})
    _rows = pd.concat([curve_frame(run["params"][k], f"step {k}") for k in _picks])
    _small = (
        alt.Chart(_rows)
        .mark_line(color="#e76f51")
        .encode(x="time:Q", y=alt.Y("speed:Q", scale=alt.Scale(domain=[-150, 350])))
        .properties(width=150, height=110)
        .facet(column=alt.Column("curve:N", sort=[f"step {k}" for k in _picks], title=None))
    )
    mo.vstack([mo.md("The same run at four moments:"), _small])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Notice that after the first few steps the curve stops changing much, although it is not yet the best
    quadratic. The $t^2$ term is hundreds of times bigger than the others, so its gradient dominates: $a$
    settles fast while $b$ and $c$ creep. A learning rate big enough to move $b$ and $c$ quickly would make
    $a$ overshoot and diverge. Unequal scales like this are one reason real networks normalise their inputs.

    ## Check yourself
    """)
    return


@app.cell
def _():
    quiz_items = [
        ("What is the gradient of x**2 at x = 3?", None, lambda s: s.strip() in ("6", "6.0", "6."),
         "2x at x = 3 is 6.", "The slope of x² is 2x."),
        ("What does loss.backward() do?",
         ["it computes the gradients and stores them in .grad", "it undoes the last step",
          "it runs the model backwards to get the inputs"],
         "it computes the gradients and stores them in .grad", "It fills .grad of every tensor that requires grad."),
        ("Why clear params.grad after each step?",
         ["PyTorch adds each new gradient to the old one", "to save memory",
          "otherwise the step uses the wrong learning rate"],
         "PyTorch adds each new gradient to the old one",
         "Gradients accumulate, so a forgotten one leaks into the next step."),
        ("What happens with a learning rate that is too large?",
         ["the loss shrinks very slowly", "the loss grows step after step until it is inf or NaN",
          "training finishes faster"],
         "the loss grows step after step until it is inf or NaN", "Each step overshoots further: that is divergence.",
         "Try 1e-4 on the slider."),
        ("Why update params inside torch.no_grad() (or via .data)?",
         ["so autograd does not record the update itself", "to make the step faster", "it is optional style"],
         "so autograd does not record the update itself", "The step is not part of the model; params must stay a leaf."),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
