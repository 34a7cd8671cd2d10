import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="02 · Pixel similarity: a baseline with no learning at all",
    html_head_file="__marimo__/first_screen/02_pixel_similarity.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd
    import torch
    import torch.nn.functional as F

    from digitcore import chapter, plots
    from digitcore.data import load_sample
    from digitcore.exercises import check
    from digitcore.lesson_kit import exercise_feedback

    BOOK = {"threes": 0.9168, "sevens": 0.9854, "mean": 0.9511}
    BOOK_A3 = {"L1 to mean 3": 0.1114, "L2 to mean 3": 0.2021, "L1 to mean 7": 0.1586, "L2 to mean 7": 0.3021}

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def l2_distance(a, b):
    """Root mean squared difference over the last two dims (rows, columns)."""
    return ((a - b) ** 2).mean((-1, -2)).sqrt()


@app.function
def distances_to_ideals(a, mean3, mean7) -> tuple:
    """One image's L1 (mean absolute difference) and L2 (RMSE) distances to the two ideals: two dicts."""
    l1 = {"to mean 3": (a - mean3).abs().mean().item(), "to mean 7": (a - mean7).abs().mean().item()}
    l2 = {"to mean 3": ((a - mean3) ** 2).mean().sqrt().item(), "to mean 7": ((a - mean7) ** 2).mean().sqrt().item()}
    return l1, l2


@app.function
def penalty_curves() -> pd.DataFrame:
    """The penalty for one pixel's difference d, from -1 to 1, under L1 (|d|) and L2 (d squared)."""
    d = np.linspace(-1, 1, 81)
    return pd.concat([pd.DataFrame({"difference": d, "penalty": np.abs(d), "distance": "L1: |d|"}),
                      pd.DataFrame({"difference": d, "penalty": d**2, "distance": "L2: d²"})])


@app.function
def relative_costs() -> pd.DataFrame:
    """What a difference d of 0.1, 0.2, 0.4 and 0.8 costs under L1 and L2, as a multiple of the cost of 0.1."""
    return pd.DataFrame([
        {"difference": f"{d:g}", "distance": name, "relative cost": round(cost(d) / cost(0.1), 2)}
        for d in (0.1, 0.2, 0.4, 0.8)
        for name, cost in (("L1: |d|", abs), ("L2: d²", lambda v: v * v))
    ])


@app.function
def distance_table(dist, valid3, valid7, mean3, mean7) -> pd.DataFrame:
    """Every validation digit's distance to each ideal under `dist`, what the baseline calls it, and whether
    that is right: one row per digit, the 3s first."""
    table = pd.DataFrame({
        "to mean 3": torch.cat([dist(valid3, mean3), dist(valid7, mean3)]).numpy(),
        "to mean 7": torch.cat([dist(valid3, mean7), dist(valid7, mean7)]).numpy(),
        "digit": ["3"] * len(valid3) + ["7"] * len(valid7),
        "index": list(range(len(valid3))) + list(range(len(valid7))),
    })
    table["called"] = np.where(table["to mean 3"] < table["to mean 7"], "3", "7")
    table["right"] = table["called"] == table["digit"]
    return table


@app.function
def is_3(x, mean3, mean7, dist):
    """True where x is closer to the ideal 3 than to the ideal 7 under `dist`: one bool per image."""
    return dist(x, mean3) < dist(x, mean7)


@app.function
def baseline_accuracy(dist, valid3, valid7, mean3, mean7) -> dict:
    """Accuracy of is_3 under `dist`: on the valid 3s, on the valid 7s (right where is_3 is False), and the mean."""
    threes = is_3(valid3, mean3, mean7, dist).float().mean().item()
    sevens = (1 - is_3(valid7, mean3, mean7, dist).float()).mean().item()
    return {"threes": threes, "sevens": sevens, "mean": (threes + sevens) / 2}


@app.function
def wrong_mix(scatter, per_digit: int = 12):
    """The baseline's mistakes to show: up to `per_digit` 3s and as many 7s, the most clearly wrong first
    (largest gap between the two distances), interleaved 3, 7, 3, 7."""
    wrong = scatter[~scatter["right"]].assign(gap=lambda d: (d["to mean 3"] - d["to mean 7"]).abs())
    picks = [wrong[wrong["digit"] == d].sort_values("gap", ascending=False).head(per_digit) for d in ("3", "7")]
    rows = [r for pair in zip(*(p.itertuples() for p in picks)) for r in pair]
    longer = max(picks, key=len)
    rows += list(longer.itertuples())[min(len(p) for p in picks):]
    return rows


@app.function
def mnist_distance(a, b):
    """EXERCISE: the L1 distance between images: the mean of |a - b| over the last two dims (rows, columns).

    a, b: float tensors of shape (..., 28, 28). One image against one image gives a single number (shape ());
    a stack of n images against one image gives n distances (shape (n,)).
    """
    raise NotImplementedError("write mnist_distance: the mean absolute difference over the last two dims")


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 02 · Pixel similarity: a baseline with no learning at all

    Before training anything, try the simplest idea that could work: average all the 3s into one "ideal" 3,
    all the 7s into an ideal 7, and call a new digit a 3 when it looks more like the ideal 3. "Looks like"
    needs a number: a **distance** between two images. A baseline like this tells us what a trained model must
    beat.
    """)
    return


@app.cell
def _():
    data = load_sample()
    plots.data_notice(data)
    return (data,)


@app.cell
def _(data):
    stacked_threes = data.train_threes.float() / 255
    stacked_sevens = data.train_sevens.float() / 255
    mean3 = stacked_threes.mean(0)  # average over axis 0, the images: one (28, 28) image
    mean7 = stacked_sevens.mean(0)
    plots.code(
        f"""
        stacked_threes = train_threes.float() / 255      # {tuple(stacked_threes.shape)}
        stacked_sevens = train_sevens.float() / 255      # {tuple(stacked_sevens.shape)}
        mean3 = stacked_threes.mean(0)    # the mean over axis 0, the images: shape {tuple(mean3.shape)}
        mean7 = stacked_sevens.mean(0)    # shape {tuple(mean7.shape)}
        """
    )
    return mean3, mean7, stacked_threes


@app.cell(hide_code=True)
def _(mean3, mean7):
    mo.vstack(
        [
            mo.md(
                "## The ideal 3 and the ideal 7\n\nEach is the pixel-by-pixel mean of every training image "
                "of its digit. Where most writers put ink the mean is dark; where few do it is a faint "
                "blur. The third map is their difference: blue where 3s have more ink, red where 7s do."
            ),
            mo.hstack(
                [
                    plots.described_chart(plots.digit_heatmap(mean3, title="mean of the 3s", size=180),
                                          "the ideal 3: the mean of every training 3, dark where most 3s have ink"),
                    plots.described_chart(plots.digit_heatmap(mean7, title="mean of the 7s", size=180),
                                          "the ideal 7: the mean of every training 7, dark where most 7s have ink"),
                    plots.described_chart(plots.digit_heatmap(
                        mean3 - mean7, title="3s minus 7s", size=180, scheme="redblue", vmin=-0.6, vmax=0.6
                    ), "the ideal 3 minus the ideal 7: blue where 3s have more ink, red where 7s do, white where equal"),
                ],
                justify="start",
            ),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Two ways to measure a distance

    Compare a digit $x$ with an ideal $m$ pixel by pixel and average. Two common choices:

    $$\text{L1}(x, m) = \frac{1}{784}\sum_{i=1}^{784} \lvert x_i - m_i \rvert
    \qquad\qquad
    \text{L2}(x, m) = \sqrt{\frac{1}{784}\sum_{i=1}^{784} (x_i - m_i)^2}$$

    L1 is the **mean absolute difference** (the *L1 norm* of the difference, divided by the number of pixels);
    L2 is the **root mean squared error** (RMSE): square each difference, take the mean, then the square
    root. Taking the absolute value or the square matters: without it, pixels where $x$ is darker would
    cancel pixels where it is lighter.

    Pixel values lie between 0 and 1, so a difference $d$ lies between −1 and 1, and there $d^2 \le \lvert d
    \rvert$: squaring makes **every** pixel difference smaller (left chart). What squaring changes is how the
    differences weigh **against each other**. A pixel off by 0.8 costs 8 times as much as one off by 0.1 under
    L1, but 64 times as much under L2 (right chart): under L2 a few badly wrong pixels outweigh many slightly
    wrong ones.
    """)
    return


@app.cell(hide_code=True)
def _():
    _curves = plots.line_chart(
        penalty_curves(), "difference", "penalty", color="distance", title="penalty per pixel: d² ≤ |d| on [−1, 1]",
        height=180
    )
    _rel = relative_costs()
    _bars = (
        alt.Chart(_rel)
        .mark_bar()
        .encode(
            x=alt.X("difference:N", title="pixel difference d"),
            xOffset="distance:N",
            y=alt.Y("relative cost:Q", title="times the cost of d = 0.1"),
            color=alt.Color("distance:N"),
            tooltip=["difference:N", "distance:N", "relative cost:Q"],
        )
    )
    _labels = _bars.mark_text(dy=-6, fontSize=10).encode(text="relative cost:Q", color=alt.value("black"))
    mo.hstack(
        [plots.described_chart(_curves, "the penalty for one pixel's difference d under L1 (|d|) and L2 (d²), "
                                        "d from −1 to 1: d² is never above |d| there"),
         plots.described_chart((_bars + _labels).properties(width=300, height=180,
                                                            title="relative weight: cost of d ÷ cost of 0.1"),
                               "bars: what a difference d of 0.1, 0.2, 0.4 and 0.8 costs, as a multiple of the cost "
                               "of 0.1, under L1 and under L2"),
         plots.code(penalty_curves, relative_costs, title="the code of these numbers: penalty_curves, relative_costs")],
        justify="start",
        gap=2,
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### One validation digit against both ideals

    Pick a digit from the validation set (images the ideals were not made from). The grey maps show
    $\lvert x - m \rvert$ for each ideal: the darker, the bigger the mismatch. The verdict goes to the smaller
    distance.
    """)
    return


@app.cell
def _():
    digit_set = mo.ui.dropdown(options=["valid 3s", "valid 7s"], value="valid 3s", label="from")
    digit_set
    return (digit_set,)


@app.cell
def _(data, digit_set):
    pool = data.valid_threes if digit_set.value == "valid 3s" else data.valid_sevens
    digit_index = mo.ui.slider(0, len(pool) - 1, value=0, label="index", show_value=True)
    digit_index
    return digit_index, pool


@app.cell
def _(digit_index, digit_set, mean3, mean7, pool):
    a = pool[digit_index.value].float() / 255
    l1, l2 = distances_to_ideals(a, mean3, mean7)
    mo.vstack(
        [
            pd.DataFrame({"L1 (mean abs)": l1, "L2 (RMSE)": l2}).style.format("{:.4f}"),
            plots.code(
                f"""
                a = valid_{"threes" if digit_set.value == "valid 3s" else "sevens"}[{digit_index.value}].float() / 255
                l1, l2 = distances_to_ideals(a, mean3, mean7)
                """,
                distances_to_ideals,
            ),
        ]
    )
    return a, l1, l2


@app.cell(hide_code=True)
def _(a, digit_set, l1, l2, mean3, mean7):
    _truth = "3" if digit_set.value == "valid 3s" else "7"
    _says = {k: ("3" if d["to mean 3"] < d["to mean 7"] else "7") for k, d in (("L1", l1), ("L2", l2))}
    _lines = [f"- **{k}** says **{v}**: {'right' if v == _truth else '**wrong**'}" for k, v in _says.items()]
    mo.hstack(
        [
            plots.digit_images(a, scale=5, what=f"the validation {_truth} picked"),
            plots.described_chart(plots.digit_heatmap((a - mean3).abs(), title="|x − mean 3|", size=160, vmin=0, vmax=1),
                                  f"how far each pixel of this {_truth} is from the ideal 3: dark where far"),
            plots.described_chart(plots.digit_heatmap((a - mean7).abs(), title="|x − mean 7|", size=160, vmin=0, vmax=1),
                                  f"how far each pixel of this {_truth} is from the ideal 7: dark where far"),
            mo.vstack([mo.md(f"This is a **{_truth}**."), mo.md("\n".join(_lines))]),
        ],
        justify="start",
        align="center",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    PyTorch has both distances built in as loss functions: `F.l1_loss` is the mean absolute difference, and
    `F.mse_loss` is the mean squared error, whose **square root** is the RMSE. They give the same numbers:
    """)
    return


@app.cell
def _(a, mean3):
    plots.code(
        f"""
        F.l1_loss(a, mean3), F.mse_loss(a, mean3).sqrt()
        # ({F.l1_loss(a, mean3).item():.4f}, {F.mse_loss(a, mean3).sqrt().item():.4f})
        """
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The book works through one digit, `a_3 = stacked_threes[1]`, the second training 3. The same digit here,
    with the book's printed numbers beside ours:
    """)
    return


@app.cell(hide_code=True)
def _(mean3, mean7, stacked_threes):
    _l1, _l2 = distances_to_ideals(stacked_threes[1], mean3, mean7)
    _ours = {f"{name} {where}": d[where] for where in ("to mean 3", "to mean 7") for name, d in (("L1", _l1), ("L2", _l2))}
    mo.vstack(
        [
            pd.DataFrame({"this data": _ours, "the book": BOOK_A3}).T.style.format("{:.4f}"),
            plots.code("a_3 = stacked_threes[1]\ndistances_to_ideals(a_3, mean3, mean7)   # the row 'this data'"),
            mo.md(
                "Both distances say `a_3` is closer to the ideal 3. "
                "On MNIST_SAMPLE ours match the book's to the last digit."
            ),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Exercise: `mnist_distance(a, b)`

    Write the L1 distance as a function, in the cell below (open the lesson with `marimo edit` to type in it).
    It must also work on a **whole stack** at once: `mnist_distance(valid_threes, mean3)` with shapes
    `(n, 28, 28)` and `(28, 28)` should return `n` distances, one per image. Two hints: PyTorch lines up
    `(n, 28, 28)` and `(28, 28)` by itself (that is *broadcasting*, the next lesson), and `.mean()` accepts a
    tuple of axes; the last two axes are `-1` and `-2`.

    The box under the function checks your code each time you change it. Every check, and how to grade a file
    of your own, is described in `docs/exercises.md` in the course folder.
    """)
    return


@app.cell
def _():
    distance_result = check("mnist_distance", mnist_distance)
    exercise_feedback(distance_result)
    return (distance_result,)


@app.cell
def _(distance_result):
    use_mine = mo.ui.switch(
        value=False,
        label="use my mnist_distance below"
        if distance_result.passed
        else "use my mnist_distance (once it passes)",
        disabled=not distance_result.passed,
    )
    use_mine
    return (use_mine,)


@app.cell
def _(distance_result, use_mine):
    mine = use_mine.value and distance_result.passed
    distance = mnist_distance if mine else chapter.mnist_distance
    mo.md(f"The rest of the lesson uses **{'your' if mine else 'the reference'}** `mnist_distance`.")
    return (distance,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Every validation digit at once

    Each dot is one validation digit, placed by its distance to the ideal 3 (across) and to the ideal 7 (up).
    Dots above the diagonal are closer to the 3, so the baseline calls them 3s. Crosses are the digits it gets
    wrong. The big dot is the digit you picked above.
    """)
    return


@app.cell
def _(data, distance, mean3, mean7):
    valid3 = data.valid_threes.float() / 255
    valid7 = data.valid_sevens.float() / 255
    scatter = distance_table(distance, valid3, valid7, mean3, mean7)
    mo.vstack([
        plots.code(
            f"""
            valid_3_dist = mnist_distance(valid_threes.float() / 255, mean3)   # shape {tuple(distance(valid3, mean3).shape)}
            """
        ),
        plots.code(distance_table, "scatter = distance_table(mnist_distance, valid3, valid7, mean3, mean7)",
                   title="the code of the chart's points: distance_table"),
    ])
    return scatter, valid3, valid7


@app.cell(hide_code=True)
def _(digit_index, digit_set, scatter):
    _picked = scatter[(scatter["digit"] == digit_set.value[6]) & (scatter["index"] == digit_index.value)]
    _lo = float(scatter[["to mean 3", "to mean 7"]].min().min())
    _hi = float(scatter[["to mean 3", "to mean 7"]].max().max())
    _x = alt.X("to mean 3:Q", scale=alt.Scale(domain=[_lo, _hi]), title="distance to the ideal 3")
    _y = alt.Y("to mean 7:Q", scale=alt.Scale(domain=[_lo, _hi]), title="distance to the ideal 7")
    _dots = (
        alt.Chart(scatter)
        .mark_point(filled=True, opacity=0.6)
        .encode(
            x=_x,
            y=_y,
            size=alt.Size("right:N", scale=alt.Scale(domain=[True, False], range=[18, 90]), legend=None),
            color=alt.Color("digit:N", scale=alt.Scale(domain=["3", "7"], range=["#e76f51", "#2a9d8f"])),
            shape=alt.Shape("right:N", scale=alt.Scale(domain=[True, False], range=["circle", "cross"])),
            tooltip=[
                "digit:N",
                "index:Q",
                "called:N",
                alt.Tooltip("to mean 3:Q", format=".4f"),
                alt.Tooltip("to mean 7:Q", format=".4f"),
            ],
        )
    )
    _line = (
        alt.Chart(pd.DataFrame({"to mean 3": [_lo, _hi], "to mean 7": [_lo, _hi]}))
        .mark_line(color="black", strokeDash=[4, 4])
        .encode(x=_x, y=_y)
    )
    _you = alt.Chart(_picked).mark_point(size=220, color="black", strokeWidth=2).encode(x=_x, y=_y)
    _n_wrong = int((~scatter["right"]).sum())
    plots.described_chart(
        (_dots + _line + _you).properties(width=420, height=420),
        f"every validation digit as a point: its distance to the ideal 3 across, to the ideal 7 up; 3s and 7s in "
        f"two colours; {_n_wrong} of {len(scatter)} are on the wrong side of the dashed diagonal and drawn as crosses; "
        f"the digit you picked is the big black ring",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## A classifier: `is_3`

    The whole baseline is one comparison. `is_3(x)` is `True` where a digit is closer to the ideal 3 than to
    the ideal 7. Thanks to broadcasting it takes one image or a whole stack and gives one answer per image.
    In the book it reads `mean3` and `mean7` as globals (`is_3(x)`); here they, and the distance, are passed
    in, so that the same function serves L1 and L2:
    """)
    return


@app.cell(hide_code=True)
def _():
    plots.code(is_3)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Its accuracy on the valid 3s is the share of `True`: `.float()` turns `True` into 1.0 and `False` into
    0.0, and the mean of those is the share. On the valid 7s, `is_3` is right where it says `False`, so we take
    **`1 - is_3(...).float()`**, which turns each 0.0 (a correct "not a 3") into 1.0 and each 1.0 into 0.0.
    Six valid 7s it gets right and two it gets wrong, step by step:
    """)
    return


@app.cell(hide_code=True)
def _(distance, mean3, mean7, scatter, valid7):
    _wrong7 = scatter[(scatter["digit"] == "7") & ~scatter["right"]]["index"].tolist()[:2]
    _picks = [i for i in range(8) if i not in _wrong7][: 8 - len(_wrong7)] + _wrong7
    _x = valid7[_picks]
    _says = is_3(_x, mean3, mean7, distance)
    mo.vstack(
        [
            plots.digit_images(_x, ncols=8, scale=2, labels=[f"7 #{i}" for i in _picks], what="a validation 7"),
            mo.Html(
                pd.DataFrame(
                    {
                        "is_3(x)": [str(bool(v)) for v in _says],
                        "is_3(x).float()": [f"{v:.1f}" for v in _says.float().tolist()],
                        "1 - is_3(x).float()": [f"{v:.1f}" for v in (1 - _says.float()).tolist()],
                    },
                    index=[f"7 #{i}" for i in _picks],
                ).T.to_html(border=0)
            ),
            plots.code(
                f"""
                x = valid7[{_picks}]
                says = is_3(x, mean3, mean7, mnist_distance)
                says, says.float(), 1 - says.float()      # the table's three rows
                """
            ),
        ]
    )
    return


@app.cell
def _(distance, mean3, mean7, valid3, valid7):
    accuracy_l1 = baseline_accuracy(distance, valid3, valid7, mean3, mean7)
    accuracy_l2 = baseline_accuracy(l2_distance, valid3, valid7, mean3, mean7)
    return accuracy_l1, accuracy_l2


@app.cell(hide_code=True)
def _(accuracy_l1, accuracy_l2):
    _table = pd.DataFrame(
        {"L1 (this data)": accuracy_l1, "L2 (this data)": accuracy_l2, "book, L1 (full MNIST_SAMPLE)": BOOK}
    ).T.rename(columns={"threes": "valid 3s", "sevens": "valid 7s", "mean": "mean"})
    _note = ("On the real MNIST_SAMPLE the L1 row reproduces the book's numbers, which it prints as "
             "`(tensor(0.9168), tensor(0.9854), tensor(0.9511))`.")
    mo.vstack(
        [
            mo.md("### Validation accuracy of the baseline"),
            _table.style.format("{:.4f}"),
            plots.code(
                baseline_accuracy,
                """
                baseline_accuracy(mnist_distance, valid3, valid7, mean3, mean7)   # the row "L1"
                baseline_accuracy(l2_distance, valid3, valid7, mean3, mean7)      # the row "L2"
                """,
                l2_distance,
            ),
            mo.md(f"{_note} Around 95% with no training at all: any model we train later has to beat this."),
        ]
    )
    return


@app.cell(hide_code=True)
def _(scatter, valid3, valid7):
    _rows = wrong_mix(scatter)
    _wrong = scatter[~scatter["right"]]
    _n3, _n7 = int((_wrong["digit"] == "3").sum()), int((_wrong["digit"] == "7").sum())
    _imgs = [(valid3 if r.digit == "3" else valid7)[r.index] for r in _rows]
    _shown3 = sum(r.digit == "3" for r in _rows)
    mo.vstack(
        [
            mo.md(
                f"### What it gets wrong: {_n3 + _n7} digits ({_n3} 3s, {_n7} 7s)\n\n"
                f"Shown: {len(_rows)} of them, {_shown3} 3s and {len(_rows) - _shown3} 7s, the most clearly "
                "wrong first (the biggest gap between the two distances). Each caption is the true digit and "
                "its index. Slanted, thick or unusual strokes fall far from the average shape."
            ),
            plots.digit_images(_imgs, ncols=12, scale=2, labels=[f"{r.digit} #{r.index}" for r in _rows],
                               what="a digit the baseline gets wrong, true digit and index")
            if _imgs
            else mo.md("None!"),
            plots.code(wrong_mix, "wrong_mix(scatter)", title="the code that picks these digits: wrong_mix"),
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
        ("What is the ideal 3?",
         ["the pixel-by-pixel average of all training 3s", "the clearest 3 in the data set", "a 3 drawn by hand"],
         "the pixel-by-pixel average of all training 3s", "It is `stacked_threes.mean(0)`."),
        ("Which distance gives a few large mismatches more weight, compared with many small ones?",
         ["L1 (mean absolute difference)", "L2 (root mean squared error)", "both equally"],
         "L2 (root mean squared error)", "Under L2 a pixel off by 0.8 costs 64 times one off by 0.1; under L1, 8 times.",
         "Look at the relative-weight chart."),
        ("What is the RMSE of a digit against an ideal?",
         ["the square root of the mean of the squared differences", "the square of the mean absolute difference",
          "the mean of the square roots of the differences"],
         "the square root of the mean of the squared differences", "Root of the mean of the squared errors.",
         "Read the name backwards: error, squared, mean, root."),
        ("On the valid 7s, why is the accuracy `(1 - is_3(valid7).float()).mean()`?",
         ["is_3 is right on a 7 where it says False, and 1 - 0.0 = 1.0", "to undo the broadcasting",
          "because 7s are stored inverted"],
         "is_3 is right on a 7 where it says False, and 1 - 0.0 = 1.0",
         "1 - flips each answer, so the mean counts the 7s called 'not a 3'.", "When is is_3 right on a 7?"),
        ("mnist_distance(valid_threes, mean3), shapes (1010, 28, 28) and (28, 28), has which shape?",
         ["()", "(1010,)", "(28, 28)", "(1010, 28, 28)"], "(1010,)", "One distance per image.",
         "The mean runs over the last two axes only."),
        ("Why take the absolute value (or the square) of the differences?",
         ["to stop positive and negative differences cancelling", "to make the numbers smaller", "for speed"],
         "to stop positive and negative differences cancelling",
         "Otherwise too much ink here and too little there could add up to zero."),
        ("Does this baseline learn, in the sense of chapter 4?",
         ["no: nothing in it is adjusted to reduce errors", "yes: the means are its learned weights"],
         "no: nothing in it is adjusted to reduce errors",
         "Learning needs weights that change to improve a measured performance; that comes next.",
         "Is anything tuned by looking at its mistakes?"),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
