"""Hidden check for mnist_loss: very confident predictions, right and wrong, in an (n, 1) batch."""

from functools import partial

import torch

from digitcore.exercises import Check, probes
from digitcore.exercises.mnist_loss import EXERCISE, judge_value


def make_input(seed):
    g = torch.Generator().manual_seed(9100 + seed)
    predictions = (torch.randn(9, 1, generator=g) * 12).clamp(-30, 30)
    targets = torch.randint(0, 2, (9, 1), generator=g)
    return {"predictions": predictions, "targets": targets, "backward": False}


HIDDEN_CHECKS = [
    Check(EXERCISE, "hidden_confident", "hidden: very confident predictions", 1.0, probes.probe_mnist_loss,
          make_input, partial(judge_value, title="hidden batch", hidden=True), hidden=True),
]
