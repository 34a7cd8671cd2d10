"""The lab's charts, one learning rate of a sweep at a time, on FIXED axes so runs compare at a glance; each
describes itself in words for a screen reader (plots.described_chart shows that description).

    lab_curves(data, sw, lr)    # loss and accuracy, train and valid, from the untrained start to the end
    lr_chart(sw, lr)            # final valid loss and accuracy against the learning rate, diverged runs marked
    update_curve(data, sw, lr)  # valid accuracy after each update, epochs marked
"""

from __future__ import annotations

import torch

from .. import plots, replay

_SET_COLORS = {"domain": ["train", "valid"], "range": ["#e76f51", "#264653"]}


def _epoch_x(epochs: int) -> dict:
    axis = {"tickMinStep": 1, "format": "d"}
    if epochs <= 10:
        axis["values"] = list(range(epochs + 1))
    return {"field": "epoch", "type": "quantitative", "scale": {"domain": [0, epochs]}, "axis": axis,
            "title": "epoch (0 = untrained)"}


def lab_curves(data, sw, lr: float):
    """Loss and accuracy of one member, train and valid, from the untrained start (epoch 0) to the end, on FIXED
    axes (so lr 0.001 and lr 1 look as different as they are), each chart with its own legend."""
    m, s = sw.member(lr), sw.settings
    if not m.rows:
        return plots.training_curves([])
    acc = replay.epoch_accuracies(data, sw, lr)
    loss_rows = [{"epoch": 0, "set": "valid", "loss": m.start["valid_loss"]}]
    for r in m.rows:
        loss_rows += [{"epoch": r["epoch"], "set": "train", "loss": r["train_loss"]},
                      {"epoch": r["epoch"], "set": "valid", "loss": r["valid_loss"]}]
    acc_rows = [{"epoch": e, "set": name, "accuracy": a} for name in ("train", "valid")
                for e, a in zip(acc["epoch"], acc[name])]
    top = 0.55 if s["loss"] == "mnist_loss" else 1.0

    def chart(rows, field, domain, title, name):
        return {"data": {"values": rows}, "mark": {"type": "line", "point": True, "clip": True},
                "width": 210, "height": 190, "title": name,
                "encoding": {"x": _epoch_x(s["epochs"]),
                             "y": {"field": field, "type": "quantitative", "scale": {"domain": domain},
                                   "axis": {"format": ".2f"}, "title": title},
                             "color": {"field": "set", "type": "nominal", "scale": _SET_COLORS,
                                       "legend": {"orient": "top-right", "title": None}},
                             "tooltip": [{"field": "epoch", "type": "quantitative"},
                                         {"field": "set", "type": "nominal"},
                                         {"field": field, "type": "quantitative", "format": ".4f"}]}}

    return plots.VegaLite({"hconcat": [chart(loss_rows, "loss", [0, top], f"{s['loss']} (fixed axis 0 to {top:g})", "loss"),
                                       chart(acc_rows, "accuracy", [0.4, 1.0], "accuracy (fixed axis 0.4 to 1)",
                                             "accuracy")],
                           "resolve": {"legend": {"color": "independent"}},
                           "description": _curves_description(m, acc, lr)})


def _curves_description(m, acc: dict, lr: float) -> str:
    """The lab's curves in one sentence: 'valid accuracy rises from 0.50 to 0.97 over 5 epochs at lr 1'."""
    first, last = acc["valid"][0], acc["valid"][-1]
    trend = "rises" if last > first else "falls" if last < first else "stays"
    loss = f"valid loss from {m.start['valid_loss']:.3f} to {m.rows[-1]['valid_loss']:.3f}"
    return (f"Training curves at lr {lr:g}: valid accuracy {trend} from {first:.2f} to {last:.2f} over "
            f"{len(m.rows)} epochs, {loss}.")


def lr_chart(sw, lr: float):
    """Final validation loss and accuracy against the learning rate (log axis), for every member, on one fixed
    0-to-1 axis: the U-shape of the loss, and where runs stall or diverge (diverged runs: a cross at 0, no line
    through them). The chosen lr is a dashed rule."""
    rows = []
    for m in sw.members:
        state = f"diverged at epoch {m.diverged_at}" if m.diverged_at else "trained"
        for what, value in (("final valid loss", m.loss), ("final accuracy", m.accuracy)):
            rows.append({"lr": m.lr, "what": what, "value": 0.0 if m.diverged_at else min(value, 1.0),
                         "state": state, "diverged": bool(m.diverged_at)})
    x = {"field": "lr", "type": "quantitative", "scale": {"type": "log"},
         "axis": {"format": "~g", "values": [1e-3, 1e-1, 10, 1e3, 1e5]}, "title": "learning rate (log scale)"}
    y = {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]}, "axis": {"format": ".1f"},
         "title": None}
    color = {"field": "what", "type": "nominal",
             "scale": {"domain": ["final valid loss", "final accuracy"], "range": ["#264653", "#2a9d8f"]},
             "legend": {"orient": "bottom", "title": None}}
    line = {"mark": "line", "transform": [{"filter": "!datum.diverged"}],
            "encoding": {"x": x, "y": y, "color": color}}
    points = {"mark": {"type": "point", "filled": True, "size": 45},
              "encoding": {"x": x, "y": y, "color": color,
                           "shape": {"condition": {"test": "datum.diverged", "value": "cross"}, "value": "circle"},
                           "tooltip": [{"field": "lr", "type": "quantitative", "format": "~g"},
                                       {"field": "what", "type": "nominal"},
                                       {"field": "value", "type": "quantitative", "format": ".4f"},
                                       {"field": "state", "type": "nominal"}]}}
    rule = {"data": {"values": [{"lr": float(lr)}]}, "mark": {"type": "rule", "color": "#999", "strokeDash": [4, 3]},
            "encoding": {"x": {"field": "lr", "type": "quantitative"}}}
    best = max(sw.members, key=lambda m: -1.0 if m.diverged_at else m.accuracy)
    diverged = [f"{m.lr:g}" for m in sw.members if m.diverged_at]
    description = (f"Final valid loss and accuracy against the learning rate, {len(sw.members)} rates from "
                   f"{sw.members[0].lr:g} to {sw.members[-1].lr:g}; lr {lr:g} is marked. Best accuracy "
                   f"{best.accuracy:.4f} at lr {best.lr:g}; "
                   + (f"diverged (drawn as crosses at 0): lr {', '.join(diverged)}." if diverged else "none diverged."))
    return plots.VegaLite({"data": {"values": rows}, "layer": [line, points, rule], "width": 200, "height": 170,
                           "title": f"after {sw.settings['epochs']} epochs, by lr", "description": description})


def update_curve(data, sw, lr: float):
    """Validation accuracy after each update (each snapshot) of one member, epochs marked. Unshuffled, as the
    book's loader is, each epoch is all 3s then all 7s, and the accuracy saw-tooths inside the epoch."""
    valid_x, valid_y = data.valid_xy()
    pick = torch.arange(0, len(valid_x), 4)  # every 4th valid image: a quarter of the work, the same shape of curve
    acc = replay.accuracy_at(valid_x[pick], valid_y[pick], sw.weights(lr), sw.settings["loss"])
    order = "shuffled" if sw.settings["shuffle"] else "not shuffled: all 3s, then all 7s"
    x = {"field": "update", "type": "quantitative", "title": "parameter updates (grey lines: end of an epoch)"}
    rules = {"data": {"values": [{"update": e} for e in sw.epoch_ends]}, "mark": {"type": "rule", "color": "#ccc"},
             "encoding": {"x": x}}
    line = {"data": {"values": [{"update": u, "accuracy": a} for u, a in zip(sw.steps, acc)]},
            "mark": {"type": "line", "color": "#2a9d8f"},
            "encoding": {"x": x, "y": {"field": "accuracy", "type": "quantitative", "scale": {"domain": [0.4, 1.0]},
                                       "axis": {"format": ".2f"}, "title": "valid accuracy (1 in 4 images)"},
                         "tooltip": [{"field": "update", "type": "quantitative"},
                                     {"field": "accuracy", "type": "quantitative", "format": ".4f"}]}}
    description = (f"Valid accuracy after each of {sw.updates:,} updates at lr {lr:g} ({order}): from {acc[0]:.2f} "
                   f"to {acc[-1]:.2f}, lowest {min(acc):.2f}, highest {max(acc):.2f}; grey lines mark the "
                   f"{len(sw.epoch_ends)} epoch ends.")
    return plots.VegaLite({"layer": [rules, line], "width": 640, "height": 130,
                           "title": f"accuracy update by update ({order})", "description": description})
