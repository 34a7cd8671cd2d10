"""Seeing the weights: a sweep member's 784 weights as a 28x28 picture at any snapshot, and for its most
confident mistakes which pixels voted 3 or 7 (weight times pixel), in the course's colours (plots.SIGNED_LEGEND).

    lesson_kit.weights_view(data, sw, lr, at)   # snapshot `at` of the lr member of sweep `sw`
"""

from __future__ import annotations

import html

import marimo as mo

from .. import plots, replay


def signed_img(a, scale: int, alt: str, vmax: float | None = None) -> str:
    """A 28x28 signed map as an <img> in the course's colours (plots.SIGNED_LEGEND), with its alt text."""
    return (f"<img src='data:image/png;base64,{plots.signed_png(a, scale, vmax)}' alt='{html.escape(alt, quote=True)}' "
            f"width='{28 * scale}' height='{28 * scale}' style='image-rendering:pixelated;border:1px solid #ddd'/>")


def _mistake_cell(m: dict, vmax: float, legend: str) -> str:
    """One confident mistake: the digit, its pixels' votes (weight times pixel), its label and activation."""
    digit = plots.digit_images(m["image"].view(28, 28), scale=3, what=f"a {m['label']} the model got wrong").text
    votes = signed_img(m["votes"], 3, f"the votes of this {m['label']}'s pixels: {legend}", vmax)
    return (f"<div style='text-align:center'>{digit}{votes}<br/>"
            f"<small>a {m['label']}, activation {m['activation']:+.2f}</small></div>")


def weights_view(data, sw, lr: float, at: int, k: int = 4) -> mo.Html:
    """Snapshot `at` of one member: its 784 weights as a 28x28 picture and, for its most confident mistakes,
    each pixel's vote (weight times pixel: blue pushed towards "3", red towards "7", as plots.SIGNED_LEGEND)."""
    w = sw.weights(lr)[at]
    step = sw.steps[at]
    epoch = sum(1 for e in sw.epoch_ends if e < step) + (1 if step else 0)
    valid_x, valid_y = data.valid_xy()
    acc = replay.accuracy_at(valid_x, valid_y, w[None], sw.settings["loss"])[0]
    head = mo.md(f"**after {step:,} of {sw.updates:,} updates** (epoch {epoch}): validation accuracy **{acc:.4f}**; "
                 f"weights from {float(w[:784].min()):.3g} to {float(w[:784].max()):.3g}, bias {float(w[784]):.3g}")
    legend = "blue pixels push towards 3, red towards 7, white not at all"
    picture = mo.Html("<div style='text-align:center'>"
                      f"{signed_img(w[:784], 6, f'the 784 weights after {step:,} updates: {legend}')}<br/>"
                      f"<small>the 784 weights: {legend}</small></div>")
    mistakes = replay.confident_mistakes(data, w, k, sw.settings["loss"])
    if mistakes:
        vmax = max(float(m["votes"].abs().max()) for m in mistakes) or 1.0
        cells = "".join(_mistake_cell(m, vmax, legend) for m in mistakes)
        votes = mo.Html("<div><b>its most confident mistakes</b>, and which pixels voted 3 (blue) or 7 (red): "
                        f"weight times pixel<div style='display:flex;gap:10px;margin-top:4px'>{cells}</div></div>")
    else:
        votes = mo.md("*no validation digit is wrong at this point*")
    return mo.vstack([head, mo.hstack([picture, votes], justify="start", gap=2, align="start")])
