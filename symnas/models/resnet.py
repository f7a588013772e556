"""A ResNet-style network with per-stage depth and width, basic or bottleneck blocks (CIFAR-style stem).

Example::

    >>> import torch
    >>> net = ResNet(depths=[1, 2], widths=[8, 16], block='bottleneck', stem_width=8)
    >>> net(torch.randn(2, 3, 16, 16)).shape
    torch.Size([2, 10])
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import nn

from symnas.errors import BuildError
from symnas.symbolic.spec import register

__all__ = ["BasicBlock", "Bottleneck", "ResNet"]


def _shortcut(c_in: int, c_out: int, stride: int) -> Optional[nn.Module]:
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with a residual (1×1 projection when shape changes); output width ``c_out``.

    Example::

        >>> BasicBlock(8, 16, 2)(torch.randn(1, 8, 8, 8)).shape
        torch.Size([1, 16, 4, 4])
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                                  nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = _shortcut(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + (x if self.shortcut is None else self.shortcut(x)))


class Bottleneck(nn.Module):
    """1×1 reduce to ``c_out // expansion`` → 3×3 (stride) → 1×1 expand to ``c_out``, residual.

    Example::

        >>> Bottleneck(8, 32, 1)(torch.randn(1, 8, 4, 4)).shape
        torch.Size([1, 32, 4, 4])
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, expansion: int = 4) -> None:
        super().__init__()
        mid = max(1, c_out // expansion)
        self.body = nn.Sequential(nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                                  nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                                  nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = _shortcut(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    """3×3 conv-BN-ReLU stem → stages of residual blocks (first block of each stage after the first has
    stride 2) → global average pool → linear classifier.

    Signature (all JSON-able)::

        ResNet(depths: list[int], widths: list[int],   # one entry per stage (block output widths)
               block: str = 'basic',                   # 'basic' or 'bottleneck'
               stem_width: int = 16, num_classes: int = 10, in_channels: int = 3,
               bottleneck_expansion: int = 4)

    Example::

        >>> ResNet([1, 1, 1], [8, 16, 32])(torch.randn(1, 3, 8, 8)).shape
        torch.Size([1, 10])
    """

    def __init__(self, depths: Sequence[int], widths: Sequence[int], block: str = "basic", stem_width: int = 16,
                 num_classes: int = 10, in_channels: int = 3, bottleneck_expansion: int = 4) -> None:
        super().__init__()
        w = "ResNet"
        if not isinstance(depths, (list, tuple)) or not depths:
            raise BuildError(f"{w}: argument depths must be a non-empty list, got {depths!r}")
        if not isinstance(widths, (list, tuple)) or len(widths) != len(depths):
            raise BuildError(f"{w}: argument widths must be a list of {len(depths)} entries, got {widths!r}")
        if block not in ("basic", "bottleneck"):
            raise BuildError(f"{w}: argument block must be 'basic' or 'bottleneck', got {block!r}")
        for name, v in (("stem_width", stem_width), ("num_classes", num_classes), ("in_channels", in_channels),
                        ("bottleneck_expansion", bottleneck_expansion)):
            _pos(v, f"{w}: argument {name}")
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(stem_width), nn.ReLU())
        blocks: list[nn.Module] = []
        c = stem_width
        for s, (d, width) in enumerate(zip(depths, widths)):
            _pos(d, f"{w}: depths[{s}]")
            _pos(width, f"{w}: widths[{s}]")
            for b in range(d):
                stride = 2 if s > 0 and b == 0 else 1
                blk: Any = (BasicBlock(c, width, stride) if block == "basic"
                            else Bottleneck(c, width, stride, bottleneck_expansion))
                blocks.append(blk)
                c = width
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.blocks(self.stem(x)).mean((2, 3)))


def _pos(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise BuildError(f"{where} must be a positive int, got {v!r}")
    return v


register(ResNet)
