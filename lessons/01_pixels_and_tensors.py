import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="01 · Pixels and tensors")

with app.setup:
    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd
    import torch

    from digitcore import plots
    from digitcore.data import load_sample

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def tensor_facts(t) -> dict:
    """Rank, shape, dtype and number of values of a tensor, as plain Python values."""
    return {
        "rank": t.ndim,
        "shape": tuple(t.shape),
        "dtype": str(t.dtype).replace("torch.", ""),
        "numel": t.numel(),
    }


@app.function
def to_unit_float(imgs):
    """uint8 pixels 0..255 -> float32 in 0..1 (the `.float()/255` step)."""
    return imgs.float() / 255


@app.function
def try_view(t, shape):
    """`t.view(*shape)`, or the error message torch gives: returns (tensor or None, message)."""
    try:
        out = t.view(*shape)
    except RuntimeError as e:
        return None, str(e).split("\n")[0]
    return out, ""


@app.function
def value_histogram(img, bins: int = 16) -> pd.DataFrame:
    """How many pixels fall in each value band: a small frame for a bar chart."""
    a = img.detach().flatten().float().numpy()
    top = 255.0 if not img.is_floating_point() else 1.0
    counts, edges = np.histogram(a, bins=bins, range=(0.0, top))
    return pd.DataFrame({"from": edges[:-1], "to": edges[1:], "pixels": counts})


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 01 · Pixels and tensors

    A computer does not see a "3". It sees a grid of 28 × 28 numbers, one per pixel, each saying how much ink
    is there. Everything in this course (comparing digits, training a model) is arithmetic on such grids.

    In this lesson you will look at one handwritten 3 as a picture, then as its numbers; learn the two words
    that describe any tensor, **rank** and **shape**; stack thousands of digits into one tensor; and flatten
    images into rows with `view`.
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
    ## One digit, two ways

    Pick a training 3 with the slider. On the left, the picture; on the right, the same pixels as a heat map:
    hover a square to read its value.
    """)
    return


@app.cell
def _(data):
    pick = mo.ui.slider(0, len(data.train_threes) - 1, value=1, label="which training 3", show_value=True)
    pick
    return (pick,)


@app.cell
def _(data, pick):
    three = data.train_threes[pick.value]
    mo.hstack(
        [plots.digit_images(three, scale=7), plots.digit_heatmap(three, title=f"train 3 #{pick.value}")],
        justify="start",
        gap=2,
    )
    return (three,)


@app.cell
def _(three):
    mo.md(f"`three.shape` is `{tuple(three.shape)}`, `three.dtype` is `{three.dtype}`")
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The image is a tensor of shape `(28, 28)` with dtype `uint8`: unsigned 8-bit integers, whole numbers
    from 0 (no ink) to 255 (full ink). Here is a window of it as a table, shaded like the pixels they are.
    Move the window with the two range sliders.
    """)
    return


@app.cell
def _():
    rows = mo.ui.range_slider(0, 28, value=[4, 16], label="rows", show_value=True)
    cols = mo.ui.range_slider(0, 28, value=[4, 22], label="columns", show_value=True)
    mo.hstack([rows, cols], justify="start")
    return cols, rows


@app.cell
def _(cols, rows, three):
    plots.pixel_table(three, rows=slice(*rows.value), cols=slice(*cols.value))
    return


@app.cell(hide_code=True)
def _(three):
    _hist = value_histogram(three)
    _chart = (
        alt.Chart(_hist)
        .mark_bar()
        .encode(
            x=alt.X("from:Q", bin="binned", title="pixel value"),
            x2="to:Q",
            y=alt.Y("pixels:Q", scale=alt.Scale(type="symlog"), title="pixels (log scale)"),
            tooltip=["from:Q", "to:Q", "pixels:Q"],
        )
        .properties(width=360, height=160, title="most pixels are blank paper")
    )
    mo.hstack(
        [
            _chart,
            mo.md(
                f"Of the {three.numel()} pixels, **{int((three == 0).sum())}** are exactly 0 and "
                f"**{int((three > 200).sum())}** are above 200: a digit is a few strokes of ink on a lot "
                "of empty paper."
            ),
        ],
        justify="start",
        align="center",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Rank and shape

    - The **shape** of a tensor lists its size along each axis.
    - The **rank** is how many axes it has: the length of the shape, `t.ndim == len(t.shape)`.

    A single number has rank 0 and shape `()`. A row of numbers has rank 1. An image has rank 2. A stack of
    images, one behind the other, has rank 3. Pick one:
    """)
    return


@app.cell
def _(data):
    examples = {
        "a scalar: one pixel": data.train_threes[1][14, 14],
        "a vector: one row of pixels": data.train_threes[1][14],
        "an image: one digit": data.train_threes[1],
        "the stacked set: every training 3": data.train_threes,
    }
    which = mo.ui.dropdown(options=list(examples), value="an image: one digit", label="tensor")
    which
    return examples, which


@app.cell
def _(examples, which):
    chosen = examples[which.value]
    facts = tensor_facts(chosen)
    return chosen, facts


@app.cell(hide_code=True)
def _(chosen, facts):
    if facts["rank"] == 0:
        _pic = mo.md(f"## `{int(chosen)}`")
    elif facts["rank"] == 1:
        _pic = plots.digit_heatmap(chosen.view(1, -1), width=420, height=30)
    elif facts["rank"] == 2:
        _pic = plots.digit_images(chosen, scale=5)
    else:
        _pic = mo.vstack(
            [plots.digit_images(chosen[:30], ncols=15, scale=2), mo.md(f"…and {len(chosen) - 30:,} more")]
        )
    mo.hstack(
        [
            _pic,
            mo.md(
                f"""
    | | |
    |---|---|
    | rank (`t.ndim`) | **{facts["rank"]}** |
    | shape (`t.shape`) | **`{facts["shape"]}`** |
    | dtype | `{facts["dtype"]}` |
    | values (`t.numel()`) | {facts["numel"]:,} |
    """
            ),
        ],
        justify="start",
        gap=2,
        align="center",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Stacking images into one tensor

    Working on one image at a time in a Python loop is slow. Instead we put all the images of a class into a
    single rank-3 tensor with `torch.stack`: the first axis counts images, the other two are rows and columns.
    The same arithmetic then runs on every image at once, in fast compiled code (or on a GPU).

    Pixel values also change type here: `.float()` turns the integers into floating-point numbers, and
    dividing by 255 puts them between 0 and 1, the range models like best.
    """)
    return


@app.cell
def _(data):
    three_list = [img for img in data.train_threes]  # a plain Python list of (28, 28) tensors
    stacked_threes = to_unit_float(torch.stack(three_list))
    mo.md(
        f"`stacked_threes.shape` is `{tuple(stacked_threes.shape)}`, dtype `{stacked_threes.dtype}`, "
        f"values from {stacked_threes.min().item():g} to {stacked_threes.max().item():g}"
    )
    return (stacked_threes,)


@app.cell(hide_code=True)
def _(stacked_threes):
    mo.vstack(
        [
            mo.md(
                f"The first 40 of the {len(stacked_threes):,} images along axis 0 (`stacked_threes[:40]`):"
            ),
            plots.digit_images(stacked_threes[:40], ncols=15, scale=2),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## `view`: the same numbers, a different shape

    `view` changes how the numbers are arranged without copying them: reading the tensor row by row, it
    refills the new shape in the same order. So `view(-1, 28*28)` turns each 28 × 28 image into one row of 784
    numbers, and the stack into a table with one row per image: the form a linear model wants. The `-1` means
    "whatever size makes the count come out right"; the total number of values must stay the same, or torch
    refuses.

    Choose a target shape:
    """)
    return


@app.cell
def _():
    shapes = {
        "(-1, 28*28): one row per image": (-1, 28 * 28),
        "(-1,): everything in one long row": (-1,),
        "(-1, 14, 56): wider images": (-1, 14, 56),
        "(-1, 28, 28): back to images": (-1, 28, 28),
        "(-1, 500): rows of 500 (does it divide?)": (-1, 500),
    }
    view_to = mo.ui.dropdown(options=list(shapes), value="(-1, 28*28): one row per image", label="view as")
    view_to
    return shapes, view_to


@app.cell
def _(shapes, stacked_threes, view_to):
    viewed, view_error = try_view(stacked_threes, shapes[view_to.value])
    mo.md(
        f"`{tuple(stacked_threes.shape)}` → `{tuple(viewed.shape)}`"
        if viewed is not None
        else f"`{tuple(stacked_threes.shape)}` → error"
    )
    return view_error, viewed


@app.cell(hide_code=True)
def _(view_error, viewed):
    if viewed is None:
        _out = mo.callout(
            mo.md(f"torch refuses: `{view_error}`  \nThe total number of values is not a multiple of 500."),
            kind="danger",
        )
    elif viewed.ndim == 3:
        _out = mo.vstack(
            [
                mo.md(f"The first images of shape `{tuple(viewed.shape[1:])}`:"),
                plots.digit_images(viewed[:8], scale=3),
            ]
        )
    else:
        _row = viewed[0] if viewed.ndim == 2 else viewed[:784]
        _out = mo.vstack(
            [
                mo.md(
                    "The first image's 784 values in one row: the strokes become a barcode. "
                    "Row 0 comes first, then row 1, and so on."
                ),
                plots.digit_heatmap(_row.reshape(1, -1), width=900, height=40),
            ]
        )
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
    quiz_items = [
        ("What is the rank of a tensor of shape (6131, 28, 28)?", ["1", "2", "3", "28"], "3",
         "Three axes: images, rows, columns.", "Count the numbers in the shape."),
        ("In a uint8 MNIST image, what does a pixel value of 255 mean?",
         ["no ink (blank paper)", "full ink", "half ink", "an error"], "full ink",
         "0 is blank paper, 255 the darkest stroke.", "Look at the pixel table."),
        ("`stacked.view(-1, 28*28)` on a stack of shape (6131, 28, 28) gives which shape?",
         ["(6131, 784)", "(784, 6131)", "(6131, 28, 28)", "(4806704,)"], "(6131, 784)",
         "Each image becomes one row of 784 values.", "-1 keeps the number of images; 28*28 = 784 values per row."),
        ("How many numbers does one MNIST image hold?", None, lambda s: s.strip().replace(",", "") == "784",
         "28 × 28 = 784.", "Rows times columns."),
        ("Why `.float()/255`?",
         ["to make the values fit between 0 and 1", "to make the image smaller", "because uint8 cannot be stacked"],
         "to make the values fit between 0 and 1", "Same picture, values from 0 to 1.",
         "The shape does not change; what happens to the values?"),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
