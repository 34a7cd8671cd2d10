"""Hidden checks for mnist_loss: very confident predictions, right and wrong, in an (n, 1) batch; and extreme
activations (+-100), where a hand-written sigmoid such as exp(x) / (1 + exp(x)) overflows to nan."""

from functools import partial

import torch

from digitcore.exercises import Check, probes
from digitcore.exercises.mnist_loss import EXERCISE, judge_value


def make_input(seed):
    g = torch.Generator().manual_seed(9100 + seed)
    predictions = (torch.randn(9, 1, generator=g) * 12).clamp(-30, 30)
    targets = torch.randint(0, 2, (9, 1), generator=g)
    return {"predictions": predictions, "targets": targets, "backward": False}


def make_extreme_input(seed):
    g = torch.Generator().manual_seed(9300 + seed)
    order = torch.randperm(8, generator=g)
    predictions = torch.tensor([100.0, -100.0, 100.0, -100.0, 90.0, -90.0, 1.5, -0.5])[order]
    targets = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])[order]
    return {"predictions": predictions, "targets": targets, "backward": False}


HIDDEN_CHECKS = [
    Check(EXERCISE, "hidden_confident", "hidden: very confident predictions", 1.0, probes.probe_mnist_loss,
          make_input, partial(judge_value, title="hidden batch", hidden=True), hidden=True),
    Check(EXERCISE, "hidden_extreme", "hidden: extreme activations (+-100)", 1.0, probes.probe_mnist_loss,
          make_extreme_input, partial(judge_value, title="extreme activations", hidden=True), hidden=True),
]
