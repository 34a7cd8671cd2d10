import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="03 · Broadcasting and matrix multiplication",
    html_head_file="__marimo__/first_screen/03_broadcasting.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import re
    import time

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch

    from digitcore import chapter, plots
    from digitcore.data import load_sample

    RULE_COLORS = {
        "kept as is": "#8ecae6",
        "stretched (size 1)": "#ffd166",
        "missing: added as 1, stretched": "#f4a261",
        "mismatch: error": "#e63946",
        "result": "#b7e4c7",
    }

    # the self-check of the pair_up exercise: (arguments, expected result)
    PAIR_UP_CASES = [(([1, 2, 3, 4], "abcd"), [(1, "a"), (2, "b"), (3, "c"), (4, "d")]), (([], ""), []), (([7], [8]), [(7, 8)])]

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def parse_shape(text: str) -> tuple:
    """Text to a shape: "(3, 1)", "3,1", "3 1" -> (3, 1); "()" or "" -> () (a scalar).

    Raises ValueError with a readable message.
    """
    body = text.strip().strip("()[]").strip()
    if not body:
        return ()
    parts = [p for p in re.split(r"[,\s]+", body) if p]
    if not all(p.isdigit() for p in parts):
        raise ValueError(f"'{text}' is not a shape: write whole numbers separated by commas, like (3, 1)")
    shape = tuple(int(p) for p in parts)
    if len(shape) > 6:
        raise ValueError(f"{len(shape)} axes is more than this lesson draws (at most 6)")
    if any(s > 100_000 for s in shape):
        raise ValueError("keep each size at most 100,000")
    return shape


@app.function
def broadcast(a: tuple, b: tuple):
    """The shape of `x - y` for x of shape a and y of shape b, or torch's own error: (shape or None, message).

    Uses zero-stride views of one number, so no memory is spent however big the shapes are.
    """
    try:
        return tuple(torch.broadcast_shapes(a, b)), ""
    except RuntimeError:
        pass
    try:  # the shapes clash: let a real subtraction say why, in torch's words (it fails before allocating)
        torch.zeros(()).expand(a) - torch.zeros(()).expand(b)
    except RuntimeError as e:
        return None, str(e).split("\n")[0]
    return None, "these shapes do not broadcast"


@app.function
def align_shapes(a: tuple, b: tuple) -> list:
    """One dict per axis, lined up from the right: sizes in a and b (None if missing), result, rule."""
    n = max(len(a), len(b))
    rows = []
    for k in range(n):
        axis = k - n  # -n .. -1
        sa = a[axis] if -axis <= len(a) else None
        sb = b[axis] if -axis <= len(b) else None
        if sa is not None and sb is not None and sa != sb and 1 not in (sa, sb):
            rule, out = "mismatch: error", None
        elif sa is None or sb is None:
            rule, out = "missing: added as 1, stretched", sa if sb is None else sb
        elif sa == sb:
            rule, out = "equal", sa
        else:
            rule, out = "stretched (size 1)", max(sa, sb)
        rows.append({"axis": axis, "a": sa, "b": sb, "result": out, "rule": rule})
    return rows


@app.function
def alignment_cells(rows: list) -> list:
    """The cells of the alignment picture: for each axis and each of a, b, result: its size, what happens."""
    cells = []
    for r in rows:
        for who in ("a", "b", "result"):
            size = r[who]
            if r["rule"] == "mismatch: error":
                kind = "mismatch: error"
            elif who == "result":
                kind = "result"
            elif size is None:
                kind = "missing: added as 1, stretched"
            elif size == 1 and r["result"] != 1:
                kind = "stretched (size 1)"
            else:
                kind = "kept as is"
            cells.append(
                {"axis": r["axis"], "tensor": who, "size": "–" if size is None else str(size), "rule": kind}
            )
    return cells


@app.function
def silent_bug(n: int, seed: int = 0) -> dict:
    """Predictions shaped (n, 1) like a model's output, targets shaped (n,): the wrong and the right mse."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, 2, (n,), generator=g).float()
    preds = (targets + 0.2 * torch.randn(n, generator=g)).view(n, 1)
    table = (preds - targets) ** 2  # (n, 1) - (n,) -> (n, n): every prediction against every target
    return {
        "preds": preds,
        "targets": targets,
        "table": table,
        "wrong": table.mean().item(),
        "right": ((preds.view(-1) - targets) ** 2).mean().item(),
    }


@app.function
def number_grid(values, stretched, title: str) -> mo.Html:
    """A small 2-D tensor as a table of its numbers; stretched copies drawn in a paler colour (and said in words)."""
    v = values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)
    s = stretched.reshape(v.shape)
    rows = [
        {"row": i, "col": j, "value": f"{v[i, j].item():g}", "kind": "copy" if s[i, j] else "stored"}
        for i in range(v.shape[0])
        for j in range(v.shape[1])
    ]
    base = alt.Chart(pd.DataFrame(rows)).encode(x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None))
    boxes = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "kind:N", scale=alt.Scale(domain=["stored", "copy"], range=["#457b9d", "#d8e2ec"]), legend=None
        )
    )
    text = base.mark_text(fontSize=13).encode(
        text="value:N", color=alt.condition(alt.datum.kind == "copy", alt.value("#555"), alt.value("white"))
    )
    copies = int(s.sum())
    return plots.described_chart(
        (boxes + text).properties(width=34 * v.shape[1], height=30 * v.shape[0], title=title),
        f"{title}: {v.numel() - copies} stored values and {copies} copies made by broadcasting (drawn paler)",
    )


@app.function
def pair_up(a, b):
    """EXERCISE (the book's questionnaire, Q26): pair the items of a and b in order, as a list of tuples:
    pair_up([1, 2, 3, 4], "abcd") == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]."""
    raise NotImplementedError("one line, with zip")


@app.function
def build_training_set(stacked_threes, stacked_sevens):
    """The chapter's steps from two stacks of images (n, 28, 28), floats in 0..1, to a training set.

    Returns the tensors of every step, so each shape can be shown: images, train_x, labels, train_y, dset.
    """
    images = torch.cat([stacked_threes, stacked_sevens])  # (n3 + n7, 28, 28): the 3s, then the 7s
    train_x = images.view(-1, 28 * 28)  # one row of 784 pixels per image
    labels = torch.tensor([1] * len(stacked_threes) + [0] * len(stacked_sevens))  # 1 for a 3, 0 for a 7
    train_y = labels.unsqueeze(1)  # (n,) -> (n, 1): a column, the shape the model's output will have
    dset = list(zip(train_x, train_y))  # a Dataset: dset[i] is one (x, y) pair, len(dset) the count
    return {"images": images, "train_x": train_x, "labels": labels, "train_y": train_y, "dset": dset}


@app.function
def stretch_without_copy():
    """One random image stretched to 1010 images with `expand`: the stretched tensor and the one it reads."""
    one_image = torch.rand(28, 28)
    stretched = one_image.expand(1010, 28, 28)
    return one_image, stretched


@app.function
def first_predictions(train_x, seed: int = 0) -> dict:
    """Random weights and bias (as training starts), the first image's prediction by hand, and every image's
    prediction with linear1: (weights, bias, by_hand, preds)."""
    g = torch.Generator().manual_seed(seed)
    weights = chapter.init_params((28 * 28, 1), generator=g)
    bias = chapter.init_params(1, generator=g)
    by_hand = (train_x[0] * weights.T).sum() + bias
    preds = chapter.linear1(train_x, weights, bias)
    return weights, bias, by_hand, preds


@app.function
def loop_vs_matmul(train_x, weights, bias, n: int = 200, reps: int = 5) -> dict:
    """Seconds per image: linear_by_loop on the first n images, and train_x @ weights + bias on all of them
    (reps times); and whether the two agree on those n images."""
    start = time.perf_counter()
    loop = linear_by_loop(train_x[:n], weights, bias)
    per_image_loop = (time.perf_counter() - start) / n
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(reps):
            fast = train_x @ weights + bias
    per_image_matmul = (time.perf_counter() - start) / (reps * len(train_x))
    same = torch.allclose(torch.tensor(loop), fast[:n].view(-1), atol=1e-3)
    return {"n": n, "loop": per_image_loop, "matmul": per_image_matmul, "same": same}


@app.function
def linear_by_loop(xb, weights, bias) -> list:
    """linear1 with Python loops: for each image, the sum of pixel times weight, plus the bias (slow on purpose)."""
    w = weights.view(-1).tolist()
    return [sum(p * q for p, q in zip(row.tolist(), w)) + bias.item() for row in xb]


@app.function
def matmul_cells(a, b, i: int, j: int) -> pd.DataFrame:
    """Every number of a, b and a @ b as rows for a picture; row i of a, column j of b and cell (i, j) of the
    result are marked 'used'."""
    out = a @ b
    rows = []
    for name, m in (("a", a), ("b", b), ("a @ b", out)):
        for r in range(m.shape[0]):
            for c in range(m.shape[1]):
                used = (name == "a" and r == i) or (name == "b" and c == j) or (name == "a @ b" and (r, c) == (i, j))
                rows.append({"matrix": name, "row": r, "col": c, "value": f"{m[r, c].item():g}", "used": used})
    return pd.DataFrame(rows)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 03 · Broadcasting and matrix multiplication

    In the last lesson, `mnist_distance(valid_threes, mean3)` subtracted one `(28, 28)` image from a stack of
    shape `(n, 28, 28)` and got `n` distances, without a loop. PyTorch treated the single image as if it were
    copied `n` times. That is **broadcasting**: arithmetic between tensors of different shapes. It is what
    makes tensor code short and fast, and, used carelessly, it gives wrong answers without any error.

    Then we turn the digits into a training set, watching the shape at every step, and meet the other
    operation that combines tensors, the one deep learning spends most of its time in: **matrix
    multiplication**, `@`.
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
    ## The rules

    1. Write the two shapes one above the other, **lined up on the right** (the last axes together).
    2. Where one shape is shorter, treat the missing axes on its left as size 1.
    3. Along each axis the sizes must be **equal**, or one of them must be **1**. A size 1 is stretched to the
       other size; anything else is an error.

    The result has the bigger size on every axis. Stretching copies nothing in memory: the stretched axis gets
    a *stride* of 0, so every step along it reads the same numbers again.
    """)
    return


@app.cell
def _():
    presets = {
        "stack of images − one image": ("(1010, 28, 28)", "(28, 28)"),
        "matrix + row": ("(3, 4)", "(4,)"),
        "column + row": ("(3, 1)", "(1, 4)"),
        "column − vector (the silent bug)": ("(4, 1)", "(4,)"),
        "number × matrix": ("()", "(2, 3)"),
        "matrix + wrong row": ("(2, 3)", "(2,)"),
        "matrix + column": ("(3, 4)", "(3, 1)"),
    }
    preset = mo.ui.dropdown(options=list(presets), value="matrix + row", label="start from")
    preset
    return preset, presets


@app.cell
def _(preset, presets):
    shape_a = mo.ui.text(value=presets[preset.value][0], label="shape of a")
    shape_b = mo.ui.text(value=presets[preset.value][1], label="shape of b")
    mo.hstack([shape_a, shape_b, mo.md("edit either shape, then press Enter")], justify="start")
    return shape_a, shape_b


@app.cell
def _(shape_a, shape_b):
    try:
        a_shape, b_shape, parse_error = parse_shape(shape_a.value), parse_shape(shape_b.value), ""
    except ValueError as e:
        a_shape, b_shape, parse_error = None, None, str(e)
    result_shape, torch_error = broadcast(a_shape, b_shape) if not parse_error else (None, "")
    plots.code(
        f"""
        a, b = torch.zeros({a_shape}), torch.zeros({b_shape})
        (a + b).shape       # or, without making the tensors: torch.broadcast_shapes(a.shape, b.shape)
        # {"RuntimeError (below)" if result_shape is None else f"torch.Size({list(result_shape)})"}
        """
    ) if not parse_error else None
    return a_shape, b_shape, parse_error, result_shape, torch_error


@app.cell(hide_code=True)
def _(a_shape, b_shape, parse_error, result_shape, torch_error):
    if parse_error:
        _out = mo.callout(mo.md(parse_error), kind="warn")
    else:
        _rows = align_shapes(a_shape, b_shape)
        _cells = alignment_cells(_rows) or [
            {"axis": -1, "tensor": w, "size": "()", "rule": "kept as is"} for w in ("a", "b", "result")
        ]
        _base = alt.Chart(pd.DataFrame(_cells)).encode(
            x=alt.X("axis:O", title="axis (counted from the right)"),
            y=alt.Y("tensor:N", sort=["a", "b", "result"], title=None),
        )
        _chart = (
            _base.mark_rect(stroke="white", strokeWidth=3).encode(
                color=alt.Color(
                    "rule:N",
                    scale=alt.Scale(domain=list(RULE_COLORS), range=list(RULE_COLORS.values())),
                    title="what happens",
                ),
                tooltip=["tensor:N", "axis:O", "size:N", "rule:N"],
            )
            + _base.mark_text(fontSize=15).encode(text="size:N")
        ).properties(width=70 * max(1, len(_rows)), height=110)
        _verdict = (
            mo.callout(
                mo.md(f"`a + b` (and `a - b`, `a * b`, ...) has shape **`{result_shape}`**"), kind="success"
            )
            if result_shape is not None
            else mo.callout(mo.md(f"torch raises `RuntimeError: {torch_error}`"), kind="danger")
        )
        _out = mo.vstack([plots.described_chart(_chart, f"how a {a_shape} and b {b_shape} line up, axis by axis from "
                                                        "the right, and what happens to each axis"), _verdict,
                          plots.code(align_shapes, broadcast,
                                     title="the code of this picture and verdict: align_shapes, broadcast")])
    _out
    return


@app.cell(hide_code=True)
def _(a_shape, b_shape, result_shape):
    _small = (
        result_shape is not None
        and len(result_shape) <= 2
        and all(0 < s <= 6 for s in result_shape)
        and all(s > 0 for s in a_shape + b_shape)
    )
    if _small:
        _a = torch.arange(1, 1 + torch.Size(a_shape).numel()).view(a_shape)
        _b = torch.arange(1, 1 + torch.Size(b_shape).numel()).view(b_shape) * 10

        def _stretched(shape):
            """True for the cells of the result that are copies of an element of a tensor of `shape`."""
            idx = torch.zeros(result_shape, dtype=torch.bool)
            pad = (1,) * (len(result_shape) - len(shape)) + tuple(shape)
            for _axis, (_s, _r) in enumerate(zip(pad, result_shape)):
                if _s == 1 and _r > 1:
                    _sel = [slice(None)] * len(result_shape)
                    _sel[_axis] = slice(1, None)
                    idx[tuple(_sel)] = True
            return idx

        _none = torch.zeros(result_shape, dtype=torch.bool)
        _out = mo.vstack(
            [
                mo.md("With small numbers in them (pale cells are stretched copies, not stored anywhere):"),
                mo.hstack(
                    [
                        number_grid(_a.expand(result_shape), _stretched(a_shape), f"a {a_shape}, stretched"),
                        mo.md("## +"),
                        number_grid(_b.expand(result_shape), _stretched(b_shape), f"b {b_shape}, stretched"),
                        mo.md("## ="),
                        number_grid(_a + _b, _none, f"a + b {result_shape}"),
                    ],
                    justify="start",
                    align="center",
                ),
                plots.code(
                    f"""
                    a = torch.arange(1, 1 + {torch.Size(a_shape).numel()}).view({a_shape})
                    b = torch.arange(1, 1 + {torch.Size(b_shape).numel()}).view({b_shape}) * 10
                    a + b
                    """
                ),
            ]
        )
    else:
        _out = mo.md(
            "*(Pick shapes with at most 2 axes of size at most 6 to see the numbers drawn out.)*"
            if result_shape is not None
            else ""
        )
    _out
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Broadcasting really does not copy. The mean image stretched to 1010 images has stride 0 along the new
    axis: stepping to the next image moves 0 places in memory.
    """)
    return


@app.cell
def _():
    one_image, stretched = stretch_without_copy()
    mo.vstack([
        plots.code(stretch_without_copy),
        mo.md(
            f"`stretched.shape` = `{tuple(stretched.shape)}`, `stretched.stride()` = `{stretched.stride()}`, "
            f"same memory as `one_image` (`stretched.data_ptr() == one_image.data_ptr()`): "
            f"**{stretched.data_ptr() == one_image.data_ptr()}**"
        ),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## The silent bug: `(n, 1)` minus `(n,)`

    A model usually returns its predictions as a column, shape `(n, 1)`, while the targets are often a plain
    vector, shape `(n,)`. Subtract them and the rules say: `(n, 1)` and `(1, n)` stretch to **`(n, n)`**.
    Every prediction is compared with every target, not just its own. No error, no warning: the mean of that
    table is one number, like a real loss, only wrong.
    """)
    return


@app.cell
def _():
    batch = mo.ui.slider(2, 10, value=5, label="n (batch size)", show_value=True)
    batch
    return (batch,)


@app.cell
def _(batch):
    bug = silent_bug(batch.value)
    mo.vstack(
        [
            mo.md(
                f"preds `{tuple(bug['preds'].shape)}` − targets `{tuple(bug['targets'].shape)}` "
                f"→ `{tuple(bug['table'].shape)}`"
            ),
            plots.code(silent_bug, title="the code: silent_bug"),
        ]
    )
    return (bug,)


@app.cell(hide_code=True)
def _(batch, bug):
    _n = batch.value
    _rows = [
        {
            "prediction i": i,
            "target j": j,
            "squared error": round(bug["table"][i, j].item(), 3),
            "pair": "own",
        }
        if i == j
        else {
            "prediction i": i,
            "target j": j,
            "squared error": round(bug["table"][i, j].item(), 3),
            "pair": "other",
        }
        for i in range(_n)
        for j in range(_n)
    ]
    _base = alt.Chart(pd.DataFrame(_rows)).encode(x="target j:O", y="prediction i:O")
    _heat = _base.mark_rect().encode(
        color=alt.Color("squared error:Q", scale=alt.Scale(scheme="oranges", domain=[0, 1.5])),
        tooltip=["prediction i:O", "target j:O", "squared error:Q"],
    )
    _ring = (
        alt.Chart(pd.DataFrame([r for r in _rows if r["pair"] == "own"]))
        .mark_rect(fill=None, stroke="black", strokeWidth=2)
        .encode(x="target j:O", y="prediction i:O")
    )
    _text = _base.mark_text(fontSize=10).encode(text="squared error:Q")
    mo.vstack(
        [
            plots.described_chart((_heat + _ring + _text).properties(
                width=28 * _n + 40, height=28 * _n + 40, title="(preds − targets)²"
            ), f"the {_n} by {_n} table of squared errors the bug computes, every prediction against every "
               "target; the outlined diagonal pairs each prediction with its own target"),
            mo.md(
                f"""
    Only the **{_n} outlined cells** on the diagonal pair a prediction with its own target.

    | code | shape before the mean | loss | |
    |---|---|---|---|
    | `((preds - targets)**2).mean()` | `{tuple(bug["table"].shape)}` | **{bug["wrong"]:.4f}** | wrong |
    | `((preds.view(-1) - targets)**2).mean()` | `({_n},)` | **{bug["right"]:.4f}** | right |

    The wrong one is {bug["wrong"] / bug["right"]:.0f}× too big here, and training on it would push every
    prediction towards the average target instead of its own.
    """
            ),
        ],
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    **Fixes:** make the shapes agree before subtracting: `preds.view(-1)` or `preds.squeeze(1)` to get `(n,)`,
    or `targets.view(-1, 1)` / `targets.unsqueeze(1)` to get `(n, 1)`. A cheap habit is to check
    `preds.shape == targets.shape` in your loss. PyTorch's own `F.mse_loss` does warn about this case
    (*"Using a target size that is different to the input size"*), but plain tensor arithmetic never does.
    """)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## From folders to a training set: the shape at every step

    A model learns from pairs: an input `x` (an image) and its target `y` (is it a 3?). The chapter builds them
    from the two stacks of images of lesson 01 in four steps:

    1. `torch.cat` joins the stacks along axis 0: all the 3s, then all the 7s, in one tensor of images;
    2. `.view(-1, 28*28)` turns each 28 × 28 image into one row of 784 pixels (lesson 01);
    3. the labels: 1 for each 3, 0 for each 7 (`[1] * n` repeats a list), and **`.unsqueeze(1)`** adds an axis
       of size 1 at position 1, turning `(n,)` into a column `(n, 1)`;
    4. `zip` pairs each row of `train_x` with its label.

    Step 3 is where the silent bug above is avoided: the model's predictions will come out as a column `(n, 1)`
    (you will see why below), so the targets are made a column too. Left as `(n,)`, every loss would compare
    every prediction with every target.
    """)
    return


@app.cell
def _(data):
    built = build_training_set(data.train_threes.float() / 255, data.train_sevens.float() / 255)
    plots.code(build_training_set)
    return (built,)


@app.cell(hide_code=True)
def _(built, data):
    _n3, _n7 = len(data.train_threes), len(data.train_sevens)
    _x0, _y0 = built["dset"][0]
    mo.md(
        f"""
    | step | code | shape |
    |---|---|---|
    | the stacks | `stacked_threes`, `stacked_sevens` | `({_n3}, 28, 28)`, `({_n7}, 28, 28)` |
    | 1 | `torch.cat([stacked_threes, stacked_sevens])` | `{tuple(built["images"].shape)}` |
    | 2 | `.view(-1, 28*28)` → `train_x` | `{tuple(built["train_x"].shape)}` |
    | 3 | `torch.tensor([1]*{_n3} + [0]*{_n7})` | `{tuple(built["labels"].shape)}` |
    | 3 | `.unsqueeze(1)` → `train_y` | `{tuple(built["train_y"].shape)}` |
    | 4 | `dset = list(zip(train_x, train_y))` | `len(dset)` = {len(built["dset"]):,} |
    | | `x, y = dset[0]` | `x.shape` = `{tuple(_x0.shape)}`, `y` = `{_y0!r}` |

    The book prints `(torch.Size([12396, 784]), torch.Size([12396, 1]))` for `train_x.shape, train_y.shape`
    and `(torch.Size([784]), tensor([1]))` for `x.shape, y`.
    """
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### `zip`, and why a list of pairs is a Dataset

    `zip(a, b)` walks two sequences side by side and gives their items in pairs: `list(zip([1, 2, 3, 4],
    "abcd"))` is `[(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')]`. Zipping `train_x` with `train_y` gives one
    `(image, label)` tuple per digit. That list is already a **Dataset** in PyTorch's sense: something with a
    length, `len(dset)`, that returns one `(x, y)` pair when indexed, `dset[i]`. Nothing more is needed to
    feed it to a `DataLoader` (lesson 05). Pick a pair:
    """)
    return


@app.cell
def _(built):
    pair_index = mo.ui.slider(0, len(built["dset"]) - 1, value=0, label="i", show_value=True, debounce=True)
    pair_index
    return (pair_index,)


@app.cell(hide_code=True)
def _(built, pair_index):
    _x, _y = built["dset"][pair_index.value]
    mo.hstack(
        [
            plots.code(
                f"""
                x, y = dset[{pair_index.value}]
                x.shape, y           # ({tuple(_x.shape)}, {_y!r}): {"a 3" if _y.item() == 1 else "a 7"}
                x.view(28, 28)       # the row of 784 pixels as an image again:
                """
            ),
            plots.digit_images(_x.view(28, 28), scale=3, what=f"dset[{pair_index.value}] as a picture: "
                                                             f"{'a 3' if _y.item() == 1 else 'a 7'}"),
        ],
        justify="start",
        align="center",
        gap=2,
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### Exercise: `pair_up(a, b)`

    Return the items of `a` and `b` paired in order, as a list of tuples: `pair_up([1, 2, 3, 4], "abcd")`
    is `[(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')]`. Write it in the function cell `pair_up` near the top (open
    the lesson with `marimo edit`).
    """)
    return


@app.cell
def _():
    plots.self_check(
        "pair_up",
        pair_up,
        PAIR_UP_CASES,
        hint="zip gives the pairs one at a time; list(...) collects them.",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Matrix multiplication: `@`

    A linear model gives each of the 784 pixels a weight, multiplies, adds up, and adds a bias: one number
    per image. For a whole batch at once that is a **matrix multiplication**. For `a` of shape `(m, k)` and `b`
    of shape `(k, n)`, `a @ b` has shape `(m, n)`, and its entry `(i, j)` is **row `i` of `a` times column `j`
    of `b`**: multiply them element by element and add up. The inner sizes, `k`, must be equal. Pick an
    entry of the result:
    """)
    return


@app.cell
def _():
    mm_a = torch.tensor([[1, 2, 0, -1], [3, 1, 2, 0], [0, -2, 1, 4]])
    mm_b = torch.tensor([[2, 1], [0, 3], [1, -1], [2, 0]])
    mm_i = mo.ui.slider(0, 2, value=0, label="row i of a", show_value=True)
    mm_j = mo.ui.slider(0, 1, value=0, label="column j of b", show_value=True)
    mo.hstack([mm_i, mm_j], justify="start")
    return mm_a, mm_b, mm_i, mm_j


@app.cell(hide_code=True)
def _(mm_a, mm_b, mm_i, mm_j):
    _i, _j = mm_i.value, mm_j.value
    _cells = matmul_cells(mm_a, mm_b, _i, _j)

    def _grid(name):
        _part = _cells[_cells["matrix"] == name]
        _base = alt.Chart(_part).encode(x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None))
        _ncol, _nrow = _part["col"].max() + 1, _part["row"].max() + 1
        _used = ", ".join(str(v) for v in _part[_part["used"]]["value"])
        return plots.described_chart((
            _base.mark_rect(stroke="white", strokeWidth=2).encode(
                color=alt.Color("used:N", scale=alt.Scale(domain=[False, True], range=["#d8e2ec", "#f4a261"]),
                                legend=None)
            )
            + _base.mark_text(fontSize=14).encode(text="value:N")
        ).properties(width=36 * _ncol, height=32 * _nrow, title=f"{name} {tuple(int(v) for v in (_nrow, _ncol))}"),
            f"matrix {name}; the highlighted cells used for (a @ b)[{_i}, {_j}]: {_used}")

    _row, _col = mm_a[_i].tolist(), mm_b[:, _j].tolist()
    _terms = " + ".join(f"{p}×{q}" for p, q in zip(_row, _col))
    mo.vstack(
        [
            mo.hstack([_grid("a"), mo.md("## @"), _grid("b"), mo.md("## ="), _grid("a @ b")],
                      justify="start", align="center"),
            mo.md(f"`(a @ b)[{_i}, {_j}]` = {_terms} = **{(mm_a @ mm_b)[_i, _j].item()}**"),
            plots.code(
                f"""
                a = torch.tensor({mm_a.tolist()})
                b = torch.tensor({mm_b.tolist()})
                (a @ b)[{_i}, {_j}]                   # {(mm_a @ mm_b)[_i, _j].item()}
                (a[{_i}] * b[:, {_j}]).sum()          # the same: row times column, added up
                """
            ),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### The linear model is one `@`

    With `train_x` of shape `(n, 784)` and `weights` of shape `(784, 1)`, `train_x @ weights` has shape
    `(n, 1)`: one column, one prediction per image. That is where the `(n, 1)` of the silent bug comes from.
    Adding `bias` (shape `(1,)`) broadcasts it to every row. For the first image alone, the same number comes
    from multiplying its pixels by the weights (`weights.T` has shape `(1, 784)`, which broadcasts against
    the `(784,)` row) and adding up. Random weights, as training starts:
    """)
    return


@app.cell
def _(built):
    train_x = built["train_x"]
    weights, bias, by_hand, preds = first_predictions(train_x)
    plots.code(
        chapter.init_params,
        chapter.linear1,
        first_predictions,
        f"""
        weights, bias, by_hand, preds = first_predictions(train_x)
        weights.shape, bias.shape             # {tuple(weights.shape)}, {tuple(bias.shape)}
        by_hand                               # {by_hand.detach()!r}
        preds.shape                           # {tuple(preds.shape)}
        preds[0]                              # {preds[0].detach()!r}
        torch.allclose(by_hand, preds[0])     # {torch.allclose(by_hand, preds[0])}
        """,
    )
    return bias, train_x, weights


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The book's `linear1(xb)` reads `weights` and `bias` as globals; ours takes them as arguments. Its random
    weights gave `tensor([20.2336])` for the first image; ours are other random numbers, so the number differs,
    but the two ways always agree.

    Why not just loop? The same predictions with Python loops, timed against one `@` on this machine:
    """)
    return


@app.cell(hide_code=True)
def _(bias, train_x, weights):
    _timed = loop_vs_matmul(train_x, weights, bias)
    _n, _t_loop, _t_mm, _same = _timed["n"], _timed["loop"], _timed["matmul"], _timed["same"]
    mo.vstack(
        [
            plots.code(linear_by_loop, loop_vs_matmul, "loop_vs_matmul(train_x, weights, bias)"),
            mo.md(
                f"""
    | | time per image | |
    |---|---|---|
    | Python loops (`linear_by_loop`, first {_n} images) | {_t_loop * 1e6:,.1f} µs | |
    | one `train_x @ weights + bias` (all {len(train_x):,} images) | {_t_mm * 1e6:,.3f} µs | **{_t_loop / _t_mm:,.0f}× faster** |

    Same answers ({"equal to 0.001" if _same else "NOT equal: something is wrong"}). `@` runs in compiled code
    that uses the CPU's vector instructions (or a GPU); the loop runs one Python multiplication at a time.
    Measured just now, on a machine that may be busy: the ratio varies from run to run.
    """
            ),
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
        ("What is the shape of a + b for shapes (5, 1) and (3,)? (or type error)", None,
         lambda s: s.replace(" ", "").strip("()[]") == "5,3", "(5, 1) and (1, 3) stretch to (5, 3).",
         "Line them up on the right: (5, 1) over (3,); the 1 stretches, the missing axis becomes 1."),
        ("What is the shape of a + b for (2, 3) and (2,)?", ["(2, 3)", "(2, 2, 3)", "an error"], "an error",
         "Lined up on the right, 3 meets 2: neither is 1.", "Compare the last axes first: 3 and 2."),
        ("valid_threes - mean3, shapes (1010, 28, 28) and (28, 28), has which shape?",
         ["(1010,)", "(28, 28)", "(1010, 28, 28)", "an error"], "(1010, 28, 28)",
         "The image is stretched over the 1010 images.", "The (28, 28) lines up with the last two axes."),
        ("predictions of shape (n, 1) minus targets of shape (n,) give which shape?",
         ["(n,)", "(n, 1)", "(n, n)", "an error"], "(n, n)", "Every prediction meets every target: the silent bug.",
         "(n, 1) against (1, n): both 1s stretch."),
        ("train_x has shape (12396, 784) and weights (784, 1): what is the shape of train_x @ weights?",
         ["(12396, 1)", "(784, 784)", "(12396, 784)", "an error"], "(12396, 1)",
         "(m, k) @ (k, n) is (m, n): one prediction per image, as a column.", "The inner sizes meet; the outer stay."),
        ("Why `train_y = labels.unsqueeze(1)`?",
         ["to make the targets a column (n, 1), like the model's predictions", "to make the labels floats",
          "to shuffle them"], "to make the targets a column (n, 1), like the model's predictions",
         "Same shapes, so the loss compares each prediction with its own target.", "Think of the silent bug."),
        ("Does broadcasting copy the smaller tensor in memory?",
         ["no: the stretched axis has stride 0", "yes: it is copied n times"], "no: the stretched axis has stride 0",
         "No memory is spent on the copies.", "Look at .stride()."),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
