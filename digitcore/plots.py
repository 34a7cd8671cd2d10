"""Pictures for the lessons: digits as heat maps, PNG grids and shaded tables; training curves; data notices.

Convention everywhere: a high pixel value is drawn dark (ink on paper), like the book's pictures.
Every function accepts a torch tensor, a numpy array or nested lists; uint8 images are read as 0..255,
float images as 0..1 (the `.float()/255` version), unless `vmin`/`vmax` say otherwise.
"""

import base64
import html
import inspect
import io
import linecache
import math
import re
import textwrap

import altair as alt
import marimo as mo
import numpy as np
import pandas as pd
from PIL import Image

from digitcore import answers


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


def _alt_texts(n: int, what: str, labels) -> list[str]:
    """What each of `n` pictures shows, for its alt text: `what`, and its caption when there is one."""
    return [what if labels is None else f"{what}, {labels[i]}" for i in range(n)]


def _picture_grid(pngs: list[str], alts: list[str], side: int, ncols: int, labels=None) -> mo.Html:
    """Base64 PNGs of `side` x `side` pixels in a grid, `ncols` per row, each with its alt text and optional caption."""
    cells = []
    for i, (png, alt_text) in enumerate(zip(pngs, alts)):
        caption = "" if labels is None else f"<div style='font-size:11px;text-align:center'>{html.escape(str(labels[i]))}</div>"
        cells.append(f"<div><img src='data:image/png;base64,{png}' alt='{html.escape(alt_text, quote=True)}' "
                     f"style='image-rendering:pixelated;border:1px solid #ddd;display:block' width='{side}' "
                     f"height='{side}'/>{caption}</div>")
    style = f"display:grid;grid-template-columns:repeat({max(1, min(ncols, len(cells)))},{side + 2}px);gap:4px"
    return mo.Html(f"<div style='{style}'>{''.join(cells)}</div>")


def digit_images(imgs, ncols=10, scale=3, *, labels=None, vmin=None, vmax=None, what="a handwritten digit") -> mo.Html:
    """A grid of small digit pictures (inline PNGs), `ncols` per row, each `scale` times 28 pixels wide.

    `imgs`: one image (28,28), a stack (N,28,28) or a list of images. `labels`: optional captions. `what` says what
    each picture shows ("a 3 from the training set"): it is the pictures' alt text, with each one's caption after it.
    """
    if isinstance(imgs, (list, tuple)):
        arrays = [_array(i) for i in imgs]
    else:
        a = _array(imgs)
        arrays = [a] if a.ndim == 2 else list(a)
    if not arrays:
        return mo.Html("<em>(no images)</em>")
    lo, hi = _range(np.stack(arrays), vmin, vmax)
    pngs = [_png(a, scale, lo, hi) for a in arrays]
    return _picture_grid(pngs, _alt_texts(len(pngs), what, labels), arrays[0].shape[1] * scale, ncols, labels)


# One colour convention for signed maps (weights, votes, differences), in every lesson: blue for positive (towards
# a 3 in the 3-vs-7 models), red for negative (towards a 7), white for 0. Legends say it in words too.
POSITIVE_RGB, NEGATIVE_RGB = np.array([33, 102, 172]), np.array([178, 24, 43])
SIGNED_LEGEND = "blue: positive, red: negative, white: zero"


def signed_png(a, scale: int = 2, vmax: float | None = None) -> str:
    """A 28x28 signed map as a base64 PNG in the course's colours (blue positive, red negative, white 0), scaled to
    `vmax` (default: its own largest |value|) and enlarged `scale` times without smoothing."""
    a = np.nan_to_num(_array(a).astype(np.float64).reshape(28, 28))
    t = np.clip(a / (vmax or float(np.abs(a).max()) or 1.0), -1.0, 1.0)[..., None]
    white = np.array([255, 255, 255])
    rgb = np.where(t >= 0, white + t * (POSITIVE_RGB - white), white - t * (NEGATIVE_RGB - white)).round().astype(np.uint8)
    im = Image.fromarray(rgb, "RGB").resize((28 * scale, 28 * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def weight_images(ws, ncols=10, scale=2, *, labels=None, what="weights") -> mo.Html:
    """Signed 28x28 weight pictures (inline PNGs) in the course's colours (SIGNED_LEGEND), each picture scaled to its
    own largest |weight|. `ws`: (N, 784) or (N, 28, 28). `labels`: optional captions; `what` starts each alt text."""
    a = _array(ws).astype(np.float64).reshape(-1, 28, 28)
    alts = [f"{t} ({SIGNED_LEGEND})" for t in _alt_texts(len(a), what, labels)]
    return _picture_grid([signed_png(w, scale) for w in a], alts, 28 * scale, ncols, labels)


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
    return alt.hconcat(loss, acc).properties(description=_curves_description(loss_rows, metric_rows, metric))


def _curves_description(loss_rows: list[dict], metric_rows: list[dict], metric: str) -> str:
    """training_curves in one sentence: how many epochs, and where the valid loss and the metric went."""
    valid = [r["loss"] for r in loss_rows if r["set"] == "valid"]
    said = [f"valid loss from {valid[0]:.4f} to {valid[-1]:.4f}"] if valid else []
    if metric_rows:
        said.append(f"{metric.replace('_', ' ')} from {metric_rows[0][metric]:.4f} to {metric_rows[-1][metric]:.4f}")
    epochs = len({r["epoch"] for r in loss_rows + metric_rows})
    return f"Loss (train and valid) and {metric.replace('_', ' ')} over {epochs} epochs: {', '.join(said)}."


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
    the right option (or its index); a text box where `options` is None and `right` a function answer -> bool.
    Each answer is kept in the student's browser (digitcore/answers.py) under the question's own text, with no
    lesson in the key: two lessons asking the very same question would share its answer, which is harmless (the
    same right answer), and a saved pick that is not one of a question's options is ignored."""
    return mo.ui.array([answers.kept_text(answers.QUIZ, q, f"{i + 1}. {q}", hint="") if options is None
                        else answers.kept_choice(answers.QUIZ, q, f"{i + 1}. {q}", options)
                        for i, (q, options, *_) in enumerate(items)])


def quiz_view(answers_, items) -> mo.Html:
    """Where the answers live, then each question of `quiz(items)` followed by immediate feedback on the answer."""
    parts = [mo.md(answers.WHERE_QUIZ_ANSWERS_LIVE)]  # the answers: the array's value; its children are copies
    for question, answer, (_, options, right, why, *hint) in zip(answers_, answers_.value, items):
        right = options[right] if isinstance(right, int) else right
        parts += [question, answer_feedback(answer, right, why, hint[0] if hint else why)]
    return mo.vstack(parts)


def _source(obj) -> str:
    """obj's source. A class defined in a notebook cell run by IPython (a lesson exported to Jupyter) has no file
    that inspect can find, but its methods' code knows its cell: the class block is read from there."""
    try:
        return inspect.getsource(obj).rstrip()
    except (OSError, TypeError):
        if not inspect.isclass(obj):
            raise
    for member in vars(obj).values():
        code = getattr(member, "__code__", None)
        lines = linecache.getlines(code.co_filename) if code else []
        for i in range(min(code.co_firstlineno, len(lines)) - 1 if code else -1, -1, -1):
            if re.match(rf"\s*class {obj.__name__}\b", lines[i]):
                return "".join(inspect.getblock(lines[i:])).rstrip()
    raise OSError(f"the source of class {obj.__name__} is not available")


def code(*parts, title: str | None = None) -> mo.Html:
    """Code shown on the page, for app mode, which hides the cells' own code: strings as written (dedented),
    functions and classes by their real source, so what the page shows is what runs. `title` puts the
    block in a disclosure that opens on a click."""
    texts = [textwrap.dedent(p).strip("\n") if isinstance(p, str) else _source(p) for p in parts]
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


# ---------------------------------------------------------------------------------------------------------------
# Charts with a text alternative: every chart a lesson shows goes through `described_chart`, so a screen reader
# hears what the chart is and what its data say, and nobody has to read a canvas.

class VegaLite:
    """A Vega-Lite chart written as a plain dict and shown by marimo as a chart (its `_mime_`). The lab draws
    three charts on every learning-rate move: building them through altair cost 0.2 to 0.6 s each on a busy
    2-core machine (its schema objects, copied and hashed), most of the move; a dict costs next to nothing."""

    def __init__(self, spec: dict):
        self.spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", **spec}

    def to_dict(self, **_) -> dict:
        return self.spec

    def _mime_(self) -> tuple[str, str]:
        import json

        from marimo._plugins.ui._impl.altair_chart import get_chart_mimetype

        return get_chart_mimetype(), json.dumps(self.spec, default=str)


_VIEW_KEYS = ("layer", "hconcat", "vconcat", "concat")


def _records(df: pd.DataFrame) -> list[dict]:
    """A frame's rows as JSON-safe dicts: NaN and infinities become None (null), as Vega expects."""
    return [{k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in row.items()}
            for row in df.to_dict("records")]


def _inline_rows(chart, spec: dict) -> None:
    """Put each frame of an altair chart (its own and its sub-charts') into the matching part of its spec as inline
    values: the rows it draws, whatever data transformer marimo has enabled (a URL, a CSV)."""
    if isinstance(getattr(chart, "data", None), pd.DataFrame):
        spec["data"] = {"values": _records(chart.data)}
    for key in _VIEW_KEYS:
        subs = getattr(chart, key, alt.Undefined)
        for sub, sub_spec in zip([] if subs is alt.Undefined else subs, spec.get(key, [])):
            _inline_rows(sub, sub_spec)
    if isinstance(spec.get("spec"), dict):  # a faceted chart
        _inline_rows(chart.spec, spec["spec"])


def chart_spec(chart) -> dict:
    """The Vega-Lite spec of an altair chart or a VegaLite dict chart with the rows each part draws inline, for
    putting the chart into words. (The chart itself is drawn by marimo, with its own compact data.)"""
    if isinstance(chart, VegaLite):
        return chart.spec
    spec = chart.to_dict(validate=False)
    _inline_rows(chart, spec)
    return spec


def _without_menu(chart, description: str):
    """The chart as drawn: vega-embed's "..." menu off (its disclosure has no accessible name), and the
    description in the spec, where Vega reads it."""
    menu_off = {"embedOptions": {"actions": False}}
    if isinstance(chart, VegaLite):
        return VegaLite({**chart.spec, "usermeta": menu_off, "description": description})
    return chart.properties(usermeta=menu_off, description=description)


def _views(spec: dict, datasets: dict, rows=None):
    """Every single view (a mark with an encoding) of a spec, with the rows it draws (inherited from its parent
    when it has none of its own)."""
    data = spec.get("data")
    if isinstance(data, dict):
        rows = data["values"] if "values" in data else datasets.get(data.get("name"), rows)
    for key in _VIEW_KEYS:
        for sub in spec.get(key, []):
            yield from _views(sub, datasets, rows)
    if isinstance(spec.get("spec"), dict):  # a faceted chart: its one view, drawn once per facet
        yield from _views(spec["spec"], datasets, rows)
    if "mark" in spec and "encoding" in spec:
        yield spec, rows or []


def _title(spec: dict) -> str:
    title = spec.get("title", "")
    return title.get("text", "") if isinstance(title, dict) else str(title)


def _field(enc: dict, channel: str) -> str | None:
    return enc.get(channel, {}).get("field") if isinstance(enc.get(channel), dict) else None


def _num(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _spread(pts: list[dict], field: str) -> str:
    values = [r[field] for r in pts if isinstance(r[field], (int, float))]
    return f"{field} from {_num(min(values))} to {_num(max(values))}" if values else f"{field}: no numbers"


def _series_summary(rows: list[dict], x: str, y: str, scatter: bool = False, by_category: bool = False) -> str:
    """One series in words: where it starts, where it ends, and its lowest and highest values; for a scatter
    (points in no order), how many points and the range of each coordinate; for bars (`by_category`), every bar."""
    pts = [r for r in rows if isinstance(r.get(y), (int, float)) and r.get(x) is not None]
    if not pts:
        return "no values"
    ys = [r[y] for r in pts]
    if by_category:
        return ", ".join(f"{r[x]}: {_num(r[y])}" for r in pts[:24]) + (", ..." if len(pts) > 24 else "")
    if scatter and len(pts) > 6:
        return f"{len(pts)} points, {_spread(pts, x)}, {_spread(pts, y)}"
    if len(pts) <= 6:
        return ", ".join(f"{_num(r[y])} at {x} {_num(r[x])}" for r in pts)
    return (f"{y} {_num(ys[0])} at {x} {_num(pts[0][x])}, {_num(ys[-1])} at {x} {_num(pts[-1][x])}; lowest "
            f"{_num(min(ys))}, highest {_num(max(ys))}; {len(pts)} points")


def _grid_words(rows: list[dict], x: str, y: str, text: str, most: int = 16) -> str:
    """A grid of labels (a text mark on two discrete axes) read row by row, in the order the rows come."""
    lines = {}
    for r in rows:
        lines.setdefault(r.get(y), []).append((r.get(x), r.get(text)))
    said = [f"{y} {_num(k)}: " + ", ".join(_num(v) for _, v in cells)
            for k, cells in list(lines.items())[:most]]
    return "; ".join(said) + ("; ..." if len(lines) > most else "")


def _category_counts(rows: list[dict], field: str) -> str:
    counts = {}
    for r in rows:
        counts[r.get(field)] = counts.get(r.get(field), 0) + 1
    return f"{field}: " + ", ".join(f"{_num(k)} {n} cells" for k, n in counts.items())


def _view_summary(view: dict, rows: list[dict], most: int = 10) -> str | None:
    """What one view's data say, in a sentence per series (the first `most`); None for a view with nothing to say
    (a rule, a label)."""
    enc = view["encoding"]
    x, y, color, text = _field(enc, "x"), _field(enc, "y"), _field(enc, "color"), _field(enc, "text")
    mark = view["mark"]["type"] if isinstance(view["mark"], dict) else view["mark"]
    head = _title(view)
    head = f"{head}: " if head else ""
    discrete = all(enc.get(c, {}).get("type") in ("ordinal", "nominal") for c in ("x", "y"))
    if mark == "text" and x and y and text and discrete:  # a table drawn as a chart: say its cells
        return head + _grid_words(rows, x, y, text)
    if mark == "rect" and x and y and color and enc["color"].get("type") != "quantitative":
        return head + _category_counts(rows, color)
    if x and y and color and enc["color"].get("type") == "quantitative":  # a heat map: one value per cell
        values = [r[color] for r in rows if isinstance(r.get(color), (int, float))]
        if not values:
            return None
        n_x, n_y = len({r.get(x) for r in rows}), len({r.get(y) for r in rows})
        return f"{head}{color} over {n_y} rows by {n_x} columns, from {_num(min(values))} to {_num(max(values))}"
    if not (x and y):
        return None
    if enc["y"].get("type") in ("nominal", "ordinal") and enc["x"].get("type") == "quantitative":
        x, y = y, x  # horizontal bars: the categories are on y
    scatter, by_category = mark in ("point", "circle", "square"), mark == "bar"
    if not color:
        return f"{head}{y} against {x}: {_series_summary(rows, x, y, scatter, by_category)}"
    groups = {}
    for r in rows:
        groups.setdefault(r.get(color), []).append(r)
    said = [f"{name}: {_series_summary(g, x, y, scatter, by_category)}" for name, g in list(groups.items())[:most]]
    return head + " | ".join(said) + (f" | and {len(groups) - most} more" if len(groups) > most else "")


def chart_summary(spec: dict) -> list[str]:
    """The data a chart draws (its `chart_spec`), in words: a line per view, from the same rows the chart draws."""
    lines = [_view_summary(view, rows) for view, rows in _views(spec, spec.get("datasets", {}))]
    return [line for line in lines if line]


def _default_description(spec: dict) -> str:
    """'chart: ' and the chart's titles, for a chart whose caller said nothing more."""
    titles = [t for t in dict.fromkeys([_title(spec), *(_title(view) for view, _ in _views(spec, {}))]) if t]
    return "chart: " + "; ".join(titles) if titles else "chart"


def described_chart(chart, description: str | None = None) -> mo.Html:
    """A chart (altair or VegaLite) with its text alternative: a figure named by `description` (what the chart
    shows, for a screen reader; default: the spec's own "description", else its titles) and, under the chart, a
    disclosure with the description and the chart's data in words. Vega-embed's "..." menu is turned off: its
    disclosure has no accessible name (docs/accessibility.md)."""
    spec = chart_spec(chart)
    description = description or spec.get("description") or _default_description(spec)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in chart_summary(spec))
    words = (f"<details style='font-size:12px;color:#555'><summary>the chart in words</summary>"
             f"<p>{html.escape(description)}</p><ul>{items}</ul></details>")
    label = html.escape(description, quote=True)
    drawn = mo.as_html(_without_menu(chart, description)).text
    return mo.Html(f"<figure role='figure' aria-label='{label}' style='margin:0'>{drawn}{words}</figure>")
