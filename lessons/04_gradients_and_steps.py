import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="04 · Gradients and the seven steps",
    html_head_file="__marimo__/first_screen/04_gradients_and_steps.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import math

    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd
    import torch

    from digitcore import chapter, plots
    from digitcore.answers import kept_text
    from digitcore.exercises import check
    from digitcore.lesson_kit import exercise_feedback

    LEARNING_RATES = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 3e-5, 4e-5, 5e-5, 1e-4, 1e-3, 1e-2]
    BLOW_UP = 1000.0
    # what the book prints for its own (unseeded) speed data: loss at the start, the first gradient, and the loss
    # before each of the ten apply_step calls (the first is after the step taken by hand)
    BOOK_SPEED = {
        "start loss": 25823.8086,
        "grad": (-53195.8594, -3419.7146, -253.8908),
        "ten steps": (5435.5366, 1577.4496, 847.3781, 709.2227, 683.0757, 678.1245, 677.1840, 677.0025, 676.9644,
                      676.9537),
    }

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
def train_speed(step, time, speed, lr: float, n_steps: int, init_seed: int = 0, start=None) -> dict:
    """Run `step` (an apply_step) n_steps times from `start` (a, b, c) or random params; stop early if the loss
    blows up.

    Returns params[k] and loss[k] after k steps (k = 0 is the start), diverged_at (step number or None),
    and a message.
    """
    if start is None:
        params = torch.randn(3, generator=torch.Generator().manual_seed(init_seed)).requires_grad_()
    else:
        params = torch.tensor([float(v) for v in start]).requires_grad_()
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
def steps_by_hand(time, speed, lr: float = 1e-5, seed: int = 0) -> dict:
    """Steps 1 to 5 of the loop once, as the chapter writes them: the start, the loss, the gradient, the loss
    after one step."""
    params = torch.randn(3, generator=torch.Generator().manual_seed(seed)).requires_grad_()  # 1 init
    start = params.detach().clone()
    preds = chapter.f(time, params)  # 2 predict
    loss = chapter.mse(preds, speed)  # 3 loss
    loss.backward()  # 4 gradient
    grad = params.grad.clone()
    with torch.no_grad():
        params -= lr * params.grad  # 5 step (the book writes params.data -= lr * params.grad.data)
    params.grad = None  # forget it: the next backward() would add to it
    loss_after = chapter.mse(chapter.f(time, params), speed)
    return {"start": start, "loss": loss.item(), "grad": grad, "loss after": loss_after.item()}


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
def loss_and_grad(params, time, speed) -> tuple:
    """The mse of f(time, params) against speed, and its gradient with respect to params (a, b, c)."""
    p = torch.tensor([float(v) for v in params]).requires_grad_()
    loss = chapter.mse(chapter.f(time, p), speed)
    loss.backward()
    return loss.item(), p.grad.tolist()


@app.function
def curvature(time) -> dict:
    """The mse's curvature in (a, b, c): the eigenvalues of its Hessian 2/N * D^T D, with D = [t**2, t, 1].

    The steepest direction (largest eigenvalue) limits the learning rate: a step diverges when lr > 2 / largest.
    The flattest direction (smallest) shrinks its error by a factor (1 - lr * smallest) per step.
    """
    d = torch.stack([time**2, time, torch.ones_like(time)], dim=1).double()
    eig = torch.linalg.eigvalsh(2 * d.T @ d / len(time))
    return {"largest": eig[-1].item(), "smallest": eig[0].item(), "lr_limit": 2 / eig[-1].item()}


@app.function
def loss_surface(time, speed, a_range, b_range, c: float, n: int = 60) -> pd.DataFrame:
    """The mse over an n x n grid of (a, b) with c held fixed: one row per cell, with its edges (a0, a1, b0, b1),
    its centre's mse and log10 mse (drawn in bands, like contour lines)."""
    da, db = (a_range[1] - a_range[0]) / n, (b_range[1] - b_range[0]) / n
    a = a_range[0] + da * (torch.arange(n) + 0.5)
    b = b_range[0] + db * (torch.arange(n) + 0.5)
    preds = a[:, None, None] * time**2 + b[None, :, None] * time + c  # (n, n, 20)
    mse = ((preds - speed) ** 2).mean(-1)
    aa, bb = (m.flatten().numpy() for m in torch.meshgrid(a, b, indexing="ij"))
    return pd.DataFrame(
        {"a0": aa - da / 2, "a1": aa + da / 2, "b0": bb - db / 2, "b1": bb + db / 2,
         "mse": mse.flatten().numpy(), "log10 mse": mse.flatten().log10().numpy()}
    )


@app.function
def best_ab(time, speed, c: float) -> list:
    """The least-squares a, b with c held fixed: the lowest point of the (a, b) map at that c."""
    design = torch.stack([time**2, time], dim=1)
    return torch.linalg.lstsq(design, (speed - c).view(-1, 1)).solution.view(-1).tolist()


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
    formula: mark the input with `requires_grad_()`, compute, call `.backward()`, and read `.grad`. (A PyTorch
    method whose name ends in `_` changes its tensor in place instead of returning a new one.) Move the
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
    plots.code(
        f"""
        xt = torch.tensor({float(x_at.value)}).requires_grad_()   # the trailing _ : changes xt in place
        yt = xt ** 2          # {yt.detach()!r}; the book prints tensor(9., grad_fn=<PowBackward0>) at 3.0
        yt.backward()         # fills xt.grad
        xt.grad               # {xt.grad!r}; the book: tensor(6.)
        """
    )
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
            plots.described_chart(
                (_curve + _tangent + _point).properties(width=380, height=260, title="y = x² and its tangent"),
                f"the curve y = x² from x = −4.5 to 4.5, with its tangent at x = {_x0:g} (slope {_slope:g})"),
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
    vector_text = kept_text("04_gradients_and_steps", "x", "x =", value="3, 4, 10")
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
    plots.code(
        f"""
        xv = torch.tensor({_values}).requires_grad_()
        total = (xv ** 2).sum()     # {total.detach()!r}
        total.backward()
        xv.grad                     # {xv.grad!r}
        """
    )
    return vector_error, xv


@app.cell(hide_code=True)
def _(vector_error, xv):
    _rows = "\n".join(
        f"| {x:g} | {g:g} | {2 * x:g} |" for x, g in zip(xv.detach().tolist(), xv.grad.tolist())
    )
    _table = mo.md(f"| x | x.grad | 2x |\n|---:|---:|---:|\n{_rows}\n\nWith `[3, 4, 10]` the book prints "
                   "`tensor([ 6.,  8., 20.])`.")
    mo.vstack(([mo.callout(vector_error, kind="warn")] if vector_error else []) + [_table])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## An end-to-end example: a roller coaster's speed

    We measure a roller coaster's speed once a second for 20 seconds as it goes over a hump: fast, slow at the
    top, fast again. A quadratic should describe it, $f(t) = a t^2 + b t + c$. Which $a, b, c$? How wrong a
    guess is, we measure with the mean squared error $\text{mse} = \frac{1}{20}\sum_t (f(t) -
    \text{speed}_t)^2$. The data is made the book's way (a noisy quadratic), with a fixed seed so that the
    numbers stay the same for everyone:
    """)
    return


@app.cell
def _():
    time, speed = make_speed_data()
    speed_df = pd.DataFrame({"time": time.numpy(), "speed": speed.numpy()})
    mo.vstack(
        [
            plots.described_chart(
                alt.Chart(speed_df)
                .mark_point(filled=True, color="#264653")
                .encode(x="time:Q", y="speed:Q")
                .properties(width=340, height=200, title="measured speed"),
                "20 noisy measurements of the roller coaster's speed against time: high, dipping, then rising",
            ),
            plots.code(make_speed_data, chapter.f, chapter.mse),
        ]
    )
    return speed, speed_df, time


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## You are the optimiser

    Before letting the computer do it, fit the curve yourself. Move $a$, $b$ and $c$ until the line follows
    the dots, and watch the loss: that number, and its gradient, is all an optimiser ever sees. Beside it, the **gradient** at
    your $a, b, c$, computed by autograd: its sign says which way each parameter should move to lower the loss
    (against the gradient), its size how steeply the loss changes.
    """)
    return


@app.cell
def _():
    my_a = mo.ui.slider(-1.0, 2.0, step=0.01, value=0.2, label="a (times t²)", show_value=True)
    my_b = mo.ui.slider(-30.0, 10.0, step=0.1, value=0.0, label="b (times t)", show_value=True)
    my_c = mo.ui.slider(-50.0, 150.0, step=1.0, value=10.0, label="c", show_value=True)
    mo.vstack([my_a, my_b, my_c])
    return my_a, my_b, my_c


@app.cell(hide_code=True)
def _(my_a, my_b, my_c, speed, speed_df, time):
    my_params = (my_a.value, my_b.value, my_c.value)
    _loss, _grad = loss_and_grad(my_params, time, speed)
    _best = best_quadratic(time, speed).tolist()
    _best_loss = chapter.mse(chapter.f(time, torch.tensor(_best)), speed).item()
    _y = alt.Y("speed:Q", scale=alt.Scale(domain=[-150, 350]))
    _chart = (
        alt.Chart(speed_df).mark_point(filled=True, color="#264653").encode(x="time:Q", y=_y)
        + alt.Chart(curve_frame(my_params, "yours"))
        .mark_line(color="#e76f51", strokeWidth=3)
        .encode(x="time:Q", y=_y)
    ).properties(width=340, height=220, title="your curve")
    _moves = ", ".join(f"{n} {'down' if g > 0 else 'up' if g < 0 else '(stay)'}" for n, g in zip("abc", _grad))
    _table = mo.md(
        f"""
    | | a | b | c | loss (mse) |
    |---|---:|---:|---:|---:|
    | yours | {my_params[0]:.2f} | {my_params[1]:.1f} | {my_params[2]:.0f} | **{_loss:,.1f}** |
    | gradient at yours | {_grad[0]:,.1f} | {_grad[1]:,.1f} | {_grad[2]:,.1f} | |
    | the best quadratic | {_best[0]:.2f} | {_best[1]:.1f} | {_best[2]:.0f} | {_best_loss:,.1f} |

    To lower the loss, move **{_moves}**. The gradient for $a$ is far bigger than for $c$: $a$ multiplies
    $t^2$, which reaches 361.
    """
    )
    mo.vstack(
        [
            mo.hstack([plots.described_chart(_chart, "the measured speeds as dots, and your quadratic's curve "
                                                     f"(a {my_params[0]:.2f}, b {my_params[1]:.1f}, c "
                                                     f"{my_params[2]:.0f}) through them"), _table],
                      justify="start", align="center", gap=2),
            plots.code(
                f"""
                params = torch.tensor([{my_params[0]:.2f}, {my_params[1]:.1f}, {my_params[2]:.1f}]).requires_grad_()
                loss = mse(f(time, params), speed)   # {_loss:,.1f}
                loss.backward()
                params.grad                          # tensor([{_grad[0]:.1f}, {_grad[1]:.1f}, {_grad[2]:.1f}])
                """
            ),
            plots.code(loss_and_grad, best_quadratic, curve_frame,
                       title="the code of the table and chart: loss_and_grad, best_quadratic, curve_frame"),
        ]
    )
    return (my_params,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Stepping downhill

    You just read the gradient and moved against it. Done by the computer, that is one line: change each
    parameter a little against its gradient,

    $$w \leftarrow w - \eta \, \frac{\partial L}{\partial w}$$

    $\eta$ (eta) is the **learning rate**. Too small and training crawls; too big and each step jumps past the
    bottom, further each time, until the numbers overflow. The book says it is often between 0.001 and 0.1,
    but the right value depends on the scale of the loss and of the inputs, because they set the size of the
    gradients. Here the inputs go up to $t^2 = 361$ and the loss is in the thousands, so the gradients are
    in the tens of thousands and the learning rate must be tiny: $10^{-5}$. In lesson 05 the pixels lie
    between 0 and 1 and so does the loss, and a learning rate of 1 works.

    Repeating this step, each time on the whole data set, is **gradient descent**. Lesson 05 takes each step on
    a **mini-batch**, a few hundred of the data's images, instead: that is **stochastic gradient descent**
    (SGD). Usually the mini-batches are drawn at random, the data shuffled every epoch; lesson 05 keeps the
    book's loader, which is not shuffled, and its lab lets you switch shuffling on. Either way, the loop has
    seven steps:
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
    ### The steps by hand

    Steps 1 to 5 once, as the chapter does them: random parameters (drawn from a normal distribution, as
    the book does), their predictions (the red line), the loss, the gradient, one step with
    $\eta = 10^{-5}$, and the loss again. The book's data come from its own unseeded random numbers, so its
    printed values differ from ours, though they are of the same order:
    """)
    return


@app.cell
def _(speed, speed_df, time):
    _done = steps_by_hand(time, speed, lr=1e-5)
    _start = _done["start"]
    _y = alt.Y("speed:Q", scale=alt.Scale(domain=[-150, 350]))
    _ours_grad = ", ".join(f"{v:,.1f}" for v in _done["grad"].tolist())
    _start_txt = ", ".join(f"{v:.4f}" for v in _start.tolist())
    _book_grad = ", ".join(f"{v:,.1f}" for v in BOOK_SPEED["grad"])
    mo.vstack(
        [
            plots.code(
                steps_by_hand,
                f"""
                done = steps_by_hand(time, speed, lr=1e-5)
                done["start"]     # tensor([{_start_txt}]): a, b, c
                """,
            ),
            mo.md(
                f"""
    | | ours | the book |
    |---|---:|---:|
    | loss at the start | {_done["loss"]:,.4f} | {BOOK_SPEED["start loss"]:,.4f} |
    | gradient (a, b, c) | {_ours_grad} | {_book_grad} |
    | loss after one step | {_done["loss after"]:,.4f} | {BOOK_SPEED["ten steps"][0]:,.4f} |
    """
            ),
            plots.described_chart((
                alt.Chart(speed_df).mark_point(filled=True, color="#264653").encode(x="time:Q", y=_y)
                + alt.Chart(curve_frame(_start, "start")).mark_line(color="#e76f51").encode(x="time:Q", y=_y)
            ).properties(width=340, height=180, title="step 2: the random start's predictions"),
                "the measured speeds as dots, and the predictions of the random starting parameters as a line"),
        ]
    )
    return


@app.cell(hide_code=True)
def _(speed, time):
    _ten = train_speed(chapter.apply_step, time, speed, 1e-5, 10)["losses"][1:]  # init_seed 0: steps_by_hand's start
    _rows = "\n".join(
        f"| {i + 1} | {o:,.2f} | {b:,.2f} |" for i, (o, b) in enumerate(zip(_ten, BOOK_SPEED["ten steps"]))
    )
    mo.vstack(
        [
            mo.md(
                """
    Step 6 repeats steps 2 to 5 with one function, `apply_step`. The book's is `apply_step(params,
    prn=True)`: it reads `time`, `speed` and `lr` as global variables and prints the loss. This course's
    is `apply_step(params, time, speed, lr)`: everything it uses comes in as an argument, and it returns the
    predictions (so a test can check it, and so can you). Ten steps from the same start, the loss before each:
    """
            ),
            mo.md("| step | ours | the book |\n|---:|---:|---:|\n" + _rows),
            plots.code(chapter.apply_step, 'train_speed(apply_step, time, speed, 1e-5, 10)["losses"][1:]   # "ours"',
                       train_speed, title="the code of the column \"ours\": apply_step, train_speed"),
            mo.md(
                "Both fall fast, then level off well above the best quadratic's loss: the last section shows "
                "why. Step 7, stop, comes when the loss stops improving or time runs out."
            ),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Exercise: `apply_step(params, time, speed, lr)`

    Write one step of the loop (steps 2 to 5) in the function cell `apply_step` near the top of the notebook
    (open the lesson with `marimo edit`):

    1. `preds = f(time, params)`
    2. `loss = mse(preds, speed)`
    3. `loss.backward()`
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

    Choose a learning rate and a number of steps; the parameters start from the same random guess each time,
    or from your own $a, b, c$ above.
    Try **1e-6** (too small: it crawls), **1e-5** (the book's choice), **3e-5** (it wobbles, then settles)
    and **4e-5 or more** (it diverges).
    """)
    return


@app.cell
def _():
    lr_slider = mo.ui.slider(
        steps=LEARNING_RATES, value=1e-5, label="learning rate", show_value=True, debounce=True
    )
    steps_slider = mo.ui.slider(1, 200, value=20, label="steps", show_value=True, debounce=True)
    start_from = mo.ui.radio(
        options=["a random guess (as the book)", "my a, b, c"],
        value="a random guess (as the book)",
        label="start from",
        inline=True,
    )
    mo.vstack([mo.hstack([lr_slider, steps_slider], justify="start"), start_from])
    return lr_slider, start_from, steps_slider


@app.cell
def _(lr_slider, my_params, speed, start_from, step_result, steps_slider, time, use_mine):
    step_fn = apply_step if (use_mine.value and step_result.passed) else chapter.apply_step
    _start = my_params if start_from.value == "my a, b, c" else None
    run = train_speed(step_fn, time, speed, lr_slider.value, steps_slider.value, start=_start)
    mo.vstack(
        [
            mo.md(
                f"Trained with **{'your' if step_fn is apply_step else 'the reference'}** `apply_step`: "
                f"{len(run['losses']) - 1} step(s) done."
            ),
            plots.code(train_speed, title="the code: train_speed (steps 1, 6 and 7 around apply_step)"),
        ]
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
    _parts = [plots.described_chart(_loss_chart, f"the loss (mse, log scale) after each of "
                                                 f"{len(run['losses']) - 1} steps")]
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
            plots.described_chart((_dots + _faint + _ideal + _now).properties(
                width=400, height=260, title=f"the fitted curve after step {_k}"
            ), f"the measured speeds as dots; the curve after step {_k} (thick), earlier steps (pale) and the best "
               "quadratic (dashed)"),
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
                    plots.code(curve_frame, best_quadratic, title="the code: curve_frame, best_quadratic"),
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
    mo.vstack([mo.md("The same run at four moments:"),
               plots.described_chart(_small, "the fitted curve at steps " + ", ".join(str(k) for k in _picks)
                                     + ", side by side")])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Why it levels off: a long, narrow valley

    After the first few steps the curve stops changing much, although it is not yet the best quadratic. The
    map below shows why. It is the loss over $a$ (up) and $b$ (across), with $c$ held at the run's final
    value; each colour band is a range of loss, like the contour lines of a hiking map, and the line is the
    path the run above took (its $c$ moved too, by the amount given under the map).

    The valley is long and narrow: the loss climbs steeply when $a$ moves, because $a$ multiplies $t^2$ (up to
    361), and barely changes along the valley floor, where changes in $a$ and $b$ compensate each other. The
    gradient points mostly across the valley, so the descent drops to the floor in a few steps, then creeps
    along it. A learning rate big enough to move quickly along the floor overshoots across it: this is an
    **ill-conditioned** problem, one reason real networks normalise their inputs.
    """)
    return


@app.cell(hide_code=True)
def _(lr_slider, my_params, run, speed, time):
    _path = pd.DataFrame(
        [{"step": k, "a": float(p[0]), "b": float(p[1]), "c": float(p[2])} for k, p in enumerate(run["params"])]
    )
    _c = float(_path["c"].iloc[-1])
    _best = best_ab(time, speed, _c)
    _a_pts = list(_path["a"]) + [_best[0], my_params[0]]
    _b_pts = list(_path["b"]) + [_best[1], my_params[1]]

    def _span(v):
        lo, hi = min(v), max(v)
        pad = 0.15 * (hi - lo) + 0.05 * (abs(hi) + abs(lo)) + 0.1
        return lo - pad, hi + pad

    _a_range, _b_range = _span(_a_pts), _span(_b_pts)
    _grid = loss_surface(time, speed, _a_range, _b_range, _c)
    _grid["loss band"] = (_grid["log10 mse"] * 4).round() / 4
    _x = alt.X("b:Q", scale=alt.Scale(domain=list(_b_range), nice=False), title="b")
    _y = alt.Y("a:Q", scale=alt.Scale(domain=list(_a_range), nice=False), title="a", axis=alt.Axis(tickCount=8))
    _bands = (
        alt.Chart(_grid)
        .mark_rect(strokeWidth=0)
        .encode(
            x=alt.X("b0:Q", scale=alt.Scale(domain=list(_b_range), nice=False), title="b"),
            x2="b1:Q",
            y=alt.Y("a0:Q", scale=alt.Scale(domain=list(_a_range), nice=False), title="a",
                    axis=alt.Axis(tickCount=8)),
            y2="a1:Q",
            color=alt.Color("loss band:Q", scale=alt.Scale(scheme="viridis", reverse=True), title="log10 mse"),
            tooltip=[alt.Tooltip("mse:Q", format=",.0f")],
        )
    )
    _line = (
        alt.Chart(_path)
        .mark_line(color="#e76f51", strokeWidth=2, point=alt.OverlayMarkDef(color="#e76f51", size=18))
        .encode(x=_x, y=_y, order="step:Q", tooltip=["step:Q", alt.Tooltip("a:Q", format=".3f"),
                                                      alt.Tooltip("b:Q", format=".3f")])
    )
    _marks = pd.DataFrame(
        [
            {"a": _best[0], "b": _best[1], "what": "lowest point of this map"},
            {"a": my_params[0], "b": my_params[1], "what": "your a, b (sliders)"},
            {"a": float(_path["a"].iloc[0]), "b": float(_path["b"].iloc[0]), "what": "the run's start"},
        ]
    )
    _points = (
        alt.Chart(_marks)
        .mark_point(size=160, filled=True, stroke="white")
        .encode(
            x=_x,
            y=_y,
            shape=alt.Shape("what:N", title=None),
            color=alt.Color("what:N", scale=alt.Scale(range=["#000000", "#e76f51", "#ffffff"]), legend=None),
        )
    )
    _curv = curvature(time)
    mo.vstack(
        [
            plots.described_chart(
                (_bands + _line + _points)
                .resolve_scale(color="independent")
                .properties(width=460, height=340, title=f"mse over a and b, c fixed at {_c:.2f}"),
                f"a map of the loss over a (up) and b (across), c fixed at {_c:.2f}: a long narrow valley, the "
                f"run's path of {len(_path)} points down it, its start, your a and b, and the map's lowest point"),
            mo.md(
                f"""
    The run (learning rate {lr_slider.value:g}, {len(run["params"]) - 1} steps) moved $c$ from
    {float(_path["c"].iloc[0]):.2f} to {_c:.2f}, so the map is close to what each step saw. The best quadratic
    overall has $c$ = {best_quadratic(time, speed)[2].item():.1f}: $c$ has the smallest gradient of the three,
    so it is the slowest to get there.

    How narrow is the valley? The curvature of the loss, steepest direction against flattest (the eigenvalues
    of its Hessian), is **{_curv["largest"]:,.0f}** against **{_curv["smallest"]:.4f}**, a ratio of
    {_curv["largest"] / _curv["smallest"]:,.0f}. Gradient descent diverges once the learning rate passes
    2 ÷ the steepest curvature = **{_curv["lr_limit"]:.2e}**: that is why 3e-5 wobbles and 4e-5 blows up. At
    1e-5 the flattest direction shrinks its error by only {1e-5 * _curv["smallest"]:.1e} of itself per step:
    about {math.log(2) / (1e-5 * _curv["smallest"]):,.0f} steps to halve it.
    """
            ),
            plots.code(curvature, loss_surface, best_ab, title="the code: curvature, loss_surface and best_ab"),
        ]
    )
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
        ("What is the gradient of x**2 at x = 3?", None, lambda s: s.strip() in ("6", "6.0", "6."),
         "2x at x = 3 is 6.", "The slope of x² is 2x."),
        ("What does loss.backward() do?",
         ["it computes the gradients and stores them in .grad", "it undoes the last step",
          "it runs the model backwards to get the inputs"],
         "it computes the gradients and stores them in .grad",
         "It fills .grad of the leaf tensors that require grad: the ones you created, such as params."),
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
        ("Is the loop in this lesson, each step on all 20 points, stochastic gradient descent?",
         ["no: it is gradient descent; SGD steps on mini-batches", "yes: every loop like this is SGD"],
         "no: it is gradient descent; SGD steps on mini-batches",
         "Stochastic: each step sees only a mini-batch, so its gradient is a noisy estimate of the full one (lesson 05).",
         "What does 'stochastic' add?"),
        ("What sets the right learning rate?",
         ["the scale of the loss and of the inputs, which set the size of the gradients", "always 0.01",
          "the number of parameters only"],
         "the scale of the loss and of the inputs, which set the size of the gradients",
         "Often 0.001 to 0.1, but 1e-5 here and 1 in lesson 05.", "Compare this lesson's lr with lesson 05's."),
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
