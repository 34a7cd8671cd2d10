"""Pictures for the lessons: digits as heat maps, PNG grids and shaded tables; training curves; data notices.

Convention everywhere: a high pixel value is drawn dark (ink on paper), like the book's pictures.
Every function accepts a torch tensor, a numpy array or nested lists; uint8 images are read as 0..255,
float images as 0..1 (the `.float()/255` version), unless `vmin`/`vmax` say otherwise.
"""

import base64
import inspect
import io
import math
import textwrap

import altair as alt
import marimo as mo
import numpy as np
import pandas as pd
from PIL import Image


def _array(img) -> np.ndarray:
    """Any image-like (tensor, array, list) as a numpy array, detached and on the CPU."""
    if hasattr(img, "detach"):
        img = img.detach().cpu().numpy()
    return np.asarray(img)


def _range(a: np.ndarray, vmin=None, vmax=None) -> tuple[float, float]:
    """The value range an image is drawn in: 0..255 for integers, 0..1 for floats, widened to fit."""
    if vmin is not None and vmax is not None:
        return float(vmin), float(vmax)
    finite = a[np.isfinite(a)] if a.size else a
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    top = 255.0 if np.issubdtype(a.dtype, np.integer) or hi > 1.0 else 1.0
    return (min(0.0, lo) if vmin is None else float(vmin), max(top, hi) if vmax is None else float(vmax))


def digit_heatmap(
    img, title=None, *, vmin=None, vmax=None, size=196, scheme="greys", width=None, height=None
) -> alt.Chart:
    """A 28x28 image as an Altair heat map (784 rectangles), with the pixel value as a tooltip.

    For signed images (differences), pass scheme="redblue" and a symmetric vmin/vmax. `size` is the longer
    side in pixels; `width`/`height` override it (a 1 x 784 strip needs a height of its own).
    """
    a = _array(img).astype(np.float64)
    if a.ndim != 2:
        raise ValueError(f"digit_heatmap wants one 2-D image, got shape {tuple(a.shape)}")
    lo, hi = _range(_array(img), vmin, vmax)
    n_rows, n_cols = a.shape
    rows, cols = np.indices(a.shape)
    df = pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(), "value": np.round(a.ravel(), 3)})
    chart = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("col:O", axis=None),
            y=alt.Y("row:O", axis=None),
            color=alt.Color("value:Q", scale=_color_scale(scheme, lo, hi), legend=None),
            tooltip=["row:O", "col:O", "value:Q"],
        )
        .properties(
            width=width or size * n_cols / max(n_rows, n_cols),
            height=height or size * n_rows / max(n_rows, n_cols),
        )
    )
    return chart.properties(title=title) if title else chart


def _color_scale(scheme: str, lo: float, hi: float) -> alt.Scale:
    """Greys: pure white (no ink) to pure black (full ink), like the PNGs; other schemes as Vega has them."""
    if scheme == "greys":
        return alt.Scale(domain=[lo, hi], range=["#ffffff", "#000000"])
    return alt.Scale(scheme=scheme, domain=[lo, hi])


def _png(a: np.ndarray, scale: int, lo: float, hi: float) -> str:
    """One image as a base64 PNG, ink dark on white, enlarged `scale` times without smoothing."""
    x = np.nan_to_num(a.astype(np.float64), nan=lo)
    x = np.clip((x - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
    pixels = (255 - np.round(x * 255)).astype(np.uint8)
    im = Image.fromarray(pixels)
    if scale != 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def digit_images(imgs, ncols=10, scale=3, *, labels=None, vmin=None, vmax=None) -> mo.Html:
    """A grid of small digit pictures (inline PNGs), `ncols` per row, each `scale` times 28 pixels wide.

    `imgs`: one image (28,28), a stack (N,28,28) or a list of images. `labels`: optional captions.
    """
    if isinstance(imgs, (list, tuple)):
        arrays = [_array(i) for i in imgs]
    else:
        a = _array(imgs)
        arrays = [a] if a.ndim == 2 else list(a)
    if not arrays:
        return mo.Html("<em>(no images)</em>")
    lo, hi = _range(np.stack(arrays), vmin, vmax)
    cells = []
    for i, a in enumerate(arrays):
        caption = "" if labels is None else f"<div style='font-size:11px;text-align:center'>{labels[i]}</div>"
        cells.append(
            f"<div><img src='data:image/png;base64,{_png(a, scale, lo, hi)}' "
            f"style='image-rendering:pixelated;border:1px solid #ddd;display:block' "
            f"width='{a.shape[1] * scale}' height='{a.shape[0] * scale}'/>{caption}</div>"
        )
    width = arrays[0].shape[1] * scale
    style = (
        f"display:grid;grid-template-columns:repeat({max(1, min(ncols, len(cells)))},{width + 2}px);gap:4px"
    )
    return mo.Html(f"<div style='{style}'>{''.join(cells)}</div>")


def weight_images(ws, ncols=10, scale=2, *, labels=None) -> mo.Html:
    """Signed 28x28 weight pictures (inline PNGs): blue for positive weights, red for negative, white for 0,
    each picture scaled to its own largest |weight|. `ws`: (N, 784) or (N, 28, 28). `labels`: optional captions."""
    a = _array(ws).astype(np.float64).reshape(-1, 28, 28)
    cells = []
    for i, w in enumerate(a):
        t = np.clip(w / (np.abs(w).max() or 1.0), -1.0, 1.0)[..., None]
        blue, red, white = np.array([33, 102, 172]), np.array([178, 24, 43]), np.array([255, 255, 255])
        rgb = np.where(t >= 0, white + t * (blue - white), white - t * (red - white)).round().astype(np.uint8)
        im = Image.fromarray(rgb, "RGB").resize((28 * scale, 28 * scale), Image.NEAREST)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        caption = "" if labels is None else f"<div style='font-size:11px;text-align:center'>{labels[i]}</div>"
        cells.append(f"<div><img src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode('ascii')}' "
                     f"style='image-rendering:pixelated;border:1px solid #ddd;display:block' width='{28 * scale}' "
                     f"height='{28 * scale}'/>{caption}</div>")
    style = f"display:grid;grid-template-columns:repeat({max(1, min(ncols, len(cells)))},{28 * scale + 2}px);gap:4px"
    return mo.Html(f"<div style='{style}'>{''.join(cells)}</div>")


def pixel_table(img, rows=slice(4, 16), cols=slice(4, 22), *, vmin=None, vmax=None):
    """A part of an image as a pandas table of its numbers, each cell shaded like the pixel it is.

    Row and column labels are the pixel coordinates in the full image.
    """
    a = _array(img)
    lo, hi = _range(a, vmin, vmax)
    r = range(a.shape[0])[rows]
    c = range(a.shape[1])[cols]
    part = a[rows, cols]
    if np.issubdtype(a.dtype, np.floating):
        part = np.round(part.astype(np.float64), 2)
    df = pd.DataFrame(part, index=list(r), columns=list(c))

    def shade(frame: pd.DataFrame) -> pd.DataFrame:
        x = np.clip((frame.to_numpy(dtype=np.float64) - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
        grey = (255 - np.round(x * 255)).astype(int)
        css = [
            [f"background-color: rgb({g},{g},{g}); color: {'white' if g < 128 else 'black'}" for g in row]
            for row in grey
        ]
        return pd.DataFrame(css, index=frame.index, columns=frame.columns)

    return (
        df.style.apply(shade, axis=None)
        .format(precision=2)
        .set_table_styles(
            [{"selector": "td, th", "props": "font-size: 9px; padding: 1px 3px; text-align: center"}]
        )
    )


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def training_curves(rows, metric="batch_accuracy") -> alt.Chart:
    """Loss curves (train and valid) and the metric, epoch by epoch, from `Recorder.rows`.

    Non-finite values (a run that diverged) are left out rather than drawn.
    """
    loss_rows, metric_rows = [], []
    for row in rows or []:
        epoch = row.get("epoch")
        for key, label in (("train_loss", "train"), ("valid_loss", "valid")):
            if _finite(row.get(key)):
                loss_rows.append({"epoch": epoch, "loss": row[key], "set": label})
        if _finite(row.get(metric)):
            metric_rows.append({"epoch": epoch, metric: row[metric]})
    if not loss_rows and not metric_rows:
        return (
            alt.Chart(pd.DataFrame({"text": ["no finished epochs yet"]}))
            .mark_text(size=14)
            .encode(text="text:N")
            .properties(width=300, height=60)
        )
    x = alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title="epoch")
    loss = (
        alt.Chart(pd.DataFrame(loss_rows, columns=["epoch", "loss", "set"]))
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("loss:Q", scale=alt.Scale(zero=False)),
            color=alt.Color("set:N", title=None),
            tooltip=["epoch:Q", "set:N", alt.Tooltip("loss:Q", format=".4f")],
        )
        .properties(width=280, height=200, title="loss")
    )
    acc = (
        alt.Chart(pd.DataFrame(metric_rows, columns=["epoch", metric]))
        .mark_line(point=True, color="#2a9d8f")
        .encode(
            x=x,
            y=alt.Y(f"{metric}:Q", scale=alt.Scale(zero=False)),
            tooltip=["epoch:Q", alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
        .properties(width=280, height=200, title=metric.replace("_", " "))
    )
    return alt.hconcat(loss, acc)


def recorder_table(rows) -> mo.Html:
    """`Recorder.rows` as a plain table, one line per epoch as fastai prints it (numbers to 4 places, seconds
    to 2). A static table: marimo's interactive data explorer is slower to draw and has nothing to explore here."""
    df = pd.DataFrame(rows)
    formats = {c: (lambda v: f"{v:.2f}") if c == "seconds" else (lambda v: f"{v:.4f}")
               for c in df.columns if df[c].dtype.kind == "f"}
    return mo.Html(df.to_html(index=False, formatters=formats, border=0))


def _counts(data) -> str:
    """A short count of what a loaded data set holds (DigitSample or FullMnist)."""
    if hasattr(data, "train_threes"):
        n = [len(data.train_threes), len(data.train_sevens), len(data.valid_threes), len(data.valid_sevens)]
        return f"train: {n[0]:,} threes, {n[1]:,} sevens; valid: {n[2]:,} threes, {n[3]:,} sevens"
    if hasattr(data, "train_images"):
        return f"train: {len(data.train_images):,} images; valid: {len(data.valid_images):,} images"
    return ""


def data_notice(data, what: str = "") -> mo.Html:
    """A callout: which data a lesson uses, and how to get the full data when it is the offline sample.

    `data=None` is for lessons that use no MNIST data; `what` then says what they use instead.
    """
    if data is None:
        return mo.callout(mo.md(f"**Data:** no MNIST images in this lesson. {what}"), kind="neutral")
    source = getattr(data, "source", "unknown data")
    counts = _counts(data)
    if getattr(data, "offline", False):
        text = (
            f"**Data: a sample of all ten digits shipped with digitcore** ({counts}).  \nSource: {source}.  \n"
            "Numbers here are close to, not equal to, those on all of MNIST's 70,000 images. To use all of "
            "them, run `digitcore data download` once (it goes into your user cache), or point "
            "`DIGITCORE_DATA` at a folder holding MNIST's IDX files, then restart the lesson."
        )
        return mo.callout(mo.md(text), kind="warn")
    return mo.callout(mo.md(f"**Data:** {source}  \n{counts}."), kind="info")


def line_chart(df: pd.DataFrame, x: str, y: str, color=None, title=None, width=320, height=200) -> alt.Chart:
    """A plain line chart of a small frame (a helper for the lessons' many little curves)."""
    enc = {
        "x": alt.X(f"{x}:Q"),
        "y": alt.Y(f"{y}:Q", scale=alt.Scale(zero=False)),
        "tooltip": [alt.Tooltip(f"{x}:Q"), alt.Tooltip(f"{y}:Q", format=".4g")],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N")
    chart = alt.Chart(df).mark_line().encode(**enc).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def answer_feedback(answer, correct, why: str = "", hint: str = "") -> mo.Html:
    """Immediate feedback for a self-check question.

    `correct`: the right value, or a function answer -> bool (for free text).
    Nothing chosen yet -> a quiet prompt.
    """
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return mo.md("<span style='color:#888'>(pick or type an answer)</span>")
    right = correct(answer) if callable(correct) else answer == correct
    if right:
        return mo.callout(mo.md(f"**Right.** {why}"), kind="success")
    return mo.callout(
        mo.md(f"**Not quite.** {hint or 'Have another look at the section above.'}"), kind="warn"
    )


def quiz(items) -> mo.ui.array:
    """Self-check questions. items: [(question, options, right, why[, hint]), ...]: radio buttons where `right` is
    the right option (or its index); a text box where `options` is None and `right` a function answer -> bool."""
    return mo.ui.array([mo.ui.text(label=f"**{i + 1}.** {q}") if options is None
                        else mo.ui.radio(options, label=f"**{i + 1}.** {q}")
                        for i, (q, options, *_) in enumerate(items)])


def quiz_view(answers, items) -> mo.Html:
    """Each question of `quiz(items)` followed by immediate feedback on the answer picked."""
    parts = []  # the answers come from the array's value: its children are copies that do not track the page
    for radio, answer, (_, options, right, why, *hint) in zip(answers, answers.value, items):
        right = options[right] if isinstance(right, int) else right
        parts += [radio, answer_feedback(answer, right, why, hint[0] if hint else why)]
    return mo.vstack(parts)


def code(*parts, title: str | None = None) -> mo.Html:
    """Code shown on the page, for app mode, which hides the cells' own code: strings as written (dedented),
    functions and classes by their real source, so what the page shows is what runs. `title` puts the
    block in a disclosure that opens on a click."""
    texts = [textwrap.dedent(p).strip("\n") if isinstance(p, str) else inspect.getsource(p).rstrip() for p in parts]
    block = mo.md("```python\n" + "\n\n".join(texts) + "\n```")
    return mo.accordion({title: block}) if title else block


def _same(got, want) -> bool:
    """Equal values: tensors by dtype kind, shape and value; anything else with ==."""
    if hasattr(want, "shape") and hasattr(want, "dtype"):
        import torch

        return (isinstance(got, torch.Tensor) and got.shape == want.shape
                and got.is_floating_point() == want.is_floating_point() and bool(torch.equal(got, want)))
    return type(got) is type(want) and got == want


def self_check(name: str, fn, cases, hint: str = "") -> mo.Html:
    """A callout for a small exercise inside a lesson (one the grader does not own): `fn(*args)` for each
    `(args, expected)` in `cases`, compared by value (tensors: shape, int or float, values). A stub that
    raises NotImplementedError is 'not started', an exception or a wrong value says which case and why."""
    for args, want in cases:
        call = f"{name}({', '.join(repr(a) for a in args)})"
        try:
            got = fn(*args)
        except NotImplementedError:
            return mo.callout(mo.md(f"**`{name}`: not started yet.** Replace `raise NotImplementedError` with "
                                    "your code; this box checks it again every time the function changes."),
                              kind="neutral")
        except Exception as e:  # noqa: BLE001  the student's code: say what went wrong, never a traceback
            return mo.callout(mo.md(f"**`{call}` raised `{type(e).__name__}: {e}`.** {hint}"), kind="warn")
        if not _same(got, want):
            return mo.callout(mo.md(f"**`{call}` returned `{got!r}`; expected `{want!r}`.** {hint}"), kind="warn")
    return mo.callout(mo.md(f"**`{name}` passes all {len(cases)} checks.** Well done."), kind="success")
