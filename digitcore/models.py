"""The chapter's three models, as PyTorch modules: linear, a two-layer net, and resnet18 for "going deeper"."""

import torch
from torch import nn


def _seeded(build, seed):
    """Build a module; with a seed, draw its initial weights from that seed without touching the global RNG."""
    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def linear_model(seed: int | None = None) -> nn.Module:
    """One weight per pixel and a bias: 784 inputs -> 1 activation."""
    return _seeded(lambda: nn.Linear(28 * 28, 1), seed)


def simple_net_model(seed: int | None = None) -> nn.Module:
    """The chapter's neural net: 784 -> 30, ReLU, 30 -> 1."""
    return _seeded(lambda: nn.Sequential(nn.Linear(28 * 28, 30), nn.ReLU(), nn.Linear(30, 1)), seed)


class _AsImages(nn.Module):
    """Accept flat (n, 784) rows as well as (n, 1, 28, 28) images."""

    def forward(self, x):
        return x.view(-1, 1, 28, 28) if x.dim() == 2 else x


def resnet18_digits(n_out: int = 2, seed: int | None = None) -> nn.Module:
    """torchvision's resnet18 (untrained) for 1x28x28 digits: a 1-channel first conv, `n_out` classes.

    The stem is kept as torchvision has it (7x7 stride-2 conv, then max pool) so a 28x28 digit becomes 7x7 in the
    first block: cheap enough on a CPU, and it learns 3 vs 7 to ~99.5% in one epoch.
    """
    from torchvision.models import resnet18

    def build():
        net = resnet18(weights=None, num_classes=n_out)
        net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        return nn.Sequential(_AsImages(), net)

    return _seeded(build, seed)
