"""A small search space of ``@searchable`` modules for weight-sharing runs on digits (8x8 images).

Each of ``layers`` positions picks one of: ``ConvBNReLU`` with kernel 1, 3 or 5, identity, or 3x3 average
pooling (5**3 = 125 candidates with 3 layers). The space is an ordinary :class:`~symnas.space.space.Space`: random
search, ENAS and DARTS all take it unchanged.

Example::

    space = digits_space(C=16)
    model = space.build(space.sample(seed=0), seed=0)
"""
from __future__ import annotations

import torch
from torch import nn

from symnas.space.space import Space
from symnas.symbolic import nn as snn
from symnas.symbolic.placeholders import OneOf, oneof
from symnas.symbolic.spec import searchable, spec

__all__ = ["LAYER_OPS", "ConvBNReLU", "DigitsNet", "digits_space"]

LAYER_OPS = ("conv1x1", "conv3x3", "conv5x5", "identity", "avgpool3x3")


@searchable
class ConvBNReLU(nn.Module):
    """Conv (no bias, 'same' padding) → BatchNorm → ReLU at ``C`` channels.

    Example::

        ConvBNReLU(8, 3)(torch.randn(1, 8, 8, 8)).shape   # torch.Size([1, 8, 8, 8])
    """

    def __init__(self, C: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(C, C, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


@searchable
class DigitsNet(nn.Module):
    """Stem conv (1 → C) + BN + ReLU, the chosen layers, global average pooling, linear classifier.

    Example::

        DigitsNet([nn.Identity()], C=8)(torch.randn(2, 1, 8, 8)).shape   # torch.Size([2, 10])
    """

    def __init__(self, layers: list, C: int = 16, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C), nn.ReLU())
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.layers(self.stem(x)).mean((2, 3)))


def layer_choice(C: int) -> OneOf:
    return oneof([spec(ConvBNReLU, C, 1), spec(ConvBNReLU, C, 3), spec(ConvBNReLU, C, 5), snn.Identity(),
                     snn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)])


def digits_space(C: int = 16, layers: int = 3) -> Space:
    """The digits space: ``layers`` independent choices among :data:`LAYER_OPS`."""
    return Space(DigitsNet([layer_choice(C) for _ in range(layers)], C=C), name="digits")
