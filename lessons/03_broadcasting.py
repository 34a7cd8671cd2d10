import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="03 · Broadcasting")

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import re

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch

    from digitcore import plots

    RULE_COLORS = {
        "kept as is": "#8ecae6",
        "stretched (size 1)": "#ffd166",
        "missing: added as 1, stretched": "#f4a261",
        "mismatch: error": "#e63946",
        "result": "#b7e4c7",
    }

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
def number_grid(values, stretched, title: str) -> alt.Chart:
    """A small 2-D tensor as a table of its numbers; stretched copies drawn in a paler colour."""
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
    return (boxes + text).properties(width=34 * v.shape[1], height=30 * v.shape[0], title=title)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 03 · Broadcasting

    In the last lesson, `mnist_distance(valid_threes, mean3)` subtracted one `(28, 28)` image from a stack of
    shape `(n, 28, 28)` and got `n` distances, without a loop. PyTorch treated the single image as if it were
    copied `n` times. That is **broadcasting**: arithmetic between tensors of different shapes. It is what
    makes tensor code short and fast, and, used carelessly, it gives wrong answers without any error.
    """)
    return


@app.cell(hide_code=True)
def _():
    plots.data_notice(None, what="Only small made-up tensors: broadcasting is about shapes, not pixels.")
    return


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
    mo.md(
        f"a: `{a_shape}`, b: `{b_shape}` → `{'error' if result_shape is None else result_shape}`"
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
        _out = mo.vstack([_chart, _verdict])
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
    one_image = torch.rand(28, 28)
    stretched = one_image.expand(1010, 28, 28)
    mo.md(
        f"`stretched.shape` = `{tuple(stretched.shape)}`, `stretched.stride()` = `{stretched.stride()}`, "
        f"same memory as `one_image`: **{stretched.data_ptr() == one_image.data_ptr()}**"
    )
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
    mo.md(
        f"preds `{tuple(bug['preds'].shape)}` − targets `{tuple(bug['targets'].shape)}` "
        f"→ `{tuple(bug['table'].shape)}`"
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
            (_heat + _ring + _text).properties(
                width=28 * _n + 40, height=28 * _n + 40, title="(preds − targets)²"
            ),
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
