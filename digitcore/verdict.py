"""How a training run ended, said honestly, without marimo: (callout kind, markdown) for a digitcore.training.Run.

    kind, text = verdict(run)   # "danger" diverged or broke, "warn" stuck/saturated/barely moved, "info", "success"

A run below lesson 02's pixel-similarity baseline is never a success, whatever its curves look like.
"""

from __future__ import annotations

import math

from .training import Run

BASELINE = 0.9511  # lesson 02's pixel similarity on the validation set: a run below it is no success


def verdict(run: Run) -> tuple[str, str]:
    """(callout kind, markdown) saying honestly how the run ended."""
    if run.error:
        return "danger", f"**Training with your functions stopped:** {run.error}"
    if run.diverged_at:
        why = (" Squared error has no sigmoid to bound it: each step that overshoots makes the next error, and so "
               "the next step, bigger, until the numbers overflow." if run.settings.get("loss") == "squared" else "")
        return "danger", (f"**Diverged at epoch {run.diverged_at}.** The loss or the weights stopped being finite "
                          f"numbers, so there is nothing to chart.{why} The learning rate is too high for this "
                          "model: try a smaller one.")
    if not run.rows:
        return "warn", "No epoch finished."
    last = run.rows[-1]
    best_acc = max(r["batch_accuracy"] for r in run.rows)
    epochs = f"{len(run.rows)} epoch{'s' if len(run.rows) != 1 else ''}"
    took = f"trained earlier in {run.seconds:.2f} s, shown from the cache" if run.cached else f"{run.seconds:.2f} s"
    if run.together > 1:
        took = (f"all {run.together} learning rates trained together in {run.seconds:.2f} s"
                + (", earlier: shown from the cache" if run.cached else ""))
    head = (f"**{epochs}, {run.updates:,} updates ({took}):** validation accuracy "
            f"{last['batch_accuracy']:.4f}, loss {last['valid_loss']:.4f}.")
    notes = []
    if run.stopped:
        notes.append(run.stopped + ".")
    if run.saturated > 0.5 and run.weight_max > 20:
        notes.append(
            f"**The learning rate is so large that the model saturated.** The weights grew to {run.weight_max:,.0f}, "
            f"and {run.saturated:.0%} of the validation activations are beyond ±10, where the sigmoid is flat: "
            "its gradient is almost 0 there, so those images stop teaching the model anything. The loss cannot "
            "blow up (the sigmoid keeps every prediction in (0, 1)), so instead of diverging the model gets "
            "*stuck* wherever the first few huge steps threw it.")
    later = [r["valid_loss"] for r in run.rows[1:]]
    if len(later) >= 2 and max(later) - min(later) < 1e-4:
        notes.append("**Training is stuck:** after the first epoch the validation loss "
                     + ("does not change at all." if max(later) == min(later) else "hardly changes."))
    if last["valid_loss"] > 0.9 * run.start.get("valid_loss", 0) and run.weight_max < 20:
        notes.append("**The model has barely moved:** with steps this small it would need far more epochs; "
                     "try a larger learning rate.")
    if len(run.rows) > 1 and last["valid_loss"] > run.rows[0]["valid_loss"] * 1.05:
        notes.append("**Training got worse:** the validation loss went up from epoch 1 to the end.")
    if last["batch_accuracy"] < best_acc - 0.01:
        notes.append(f"Accuracy peaked at {best_acc:.4f} and fell back: steps this size bounce around the minimum.")
    if last["valid_loss"] >= run.start.get("valid_loss", math.inf):
        notes.append("The model ends **no better than where it started** (untrained validation loss "
                     f"{run.start['valid_loss']:.4f}).")
    if run.start.get("saturated", 0) > 0.2 and run.settings.get("loss") == "mnist_loss":
        notes.append(f"At the start, {run.start['saturated']:.0%} of the validation activations were already "
                     "saturated (beyond ±10, where the sigmoid is flat): those images hardly move the weights. With "
                     "shuffled batches that makes a start from large weights such as init_params' N(0, 1) the "
                     "slow one (lesson 05, section 7).")
    if last["batch_accuracy"] < BASELINE and not any(n.startswith("**") for n in notes):
        notes.append(f"Accuracy {last['batch_accuracy']:.4f} is below the {BASELINE} of lesson 02's pixel "
                     "similarity, which learns nothing at all.")
    kind = "warn" if any(n.startswith("**") for n in notes) else "info" if notes else "success"
    return kind, "\n\n".join([head] + notes)
