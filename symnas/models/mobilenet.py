"""A MobileNetV3 / ProxylessNAS-style macro network: stages of inverted-residual (MBConv) blocks.

Each stage has a depth, an output width, a kernel size, an expansion ratio and a squeeze-excite flag. Kernel,
expansion and SE may also be given per block (a list per stage, as ProxylessNAS / OFA search them); a per-block
list longer than the stage's depth is cut to the depth, so a space can fix the list at the largest depth and make
the depth itself a decision.

Example::

    >>> import torch
    >>> net = MobileNetV3Net(depths=[1, 2], widths=[16, 24], kernels=[3, [5, 7]], expansions=[1, 4],
    ...                      se=[False, True], stem_width=8, head_width=32)
    >>> net(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch
from torch import nn

from symnas.errors import BuildError
from symnas.symbolic.spec import register

__all__ = ["SqueezeExcite", "MBConv", "MobileNetV3Net"]

PerBlock = Union[Any, Sequence[Any]]


def _make_divisible(v: float, divisor: int = 8) -> int:
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite with hard-sigmoid gating (MobileNetV3), bottleneck ``channels // 4`` rounded to 8.

    Example::

        >>> SqueezeExcite(16)(torch.randn(1, 16, 4, 4)).shape
        torch.Size([1, 16, 4, 4])
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        mid = _make_divisible(channels / 4)
        self.fc = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, mid, 1), nn.ReLU(),
                                nn.Conv2d(mid, channels, 1), nn.Hardsigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x)


class MBConv(nn.Module):
    """Inverted residual block: 1×1 expand (skipped at ratio 1) → k×k depthwise → optional SE → 1×1 project;
    residual when stride 1 and widths agree. ``act`` is ``'relu'`` or ``'hswish'``.

    Example::

        >>> MBConv(16, 16, kernel=5, stride=1, expansion=3, se=True)(torch.randn(1, 16, 8, 8)).shape
        torch.Size([1, 16, 8, 8])
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: float, se: bool,
                 act: str = "hswish") -> None:
        super().__init__()
        Act = nn.Hardswish if act == "hswish" else nn.ReLU
        mid = int(round(c_in * expansion))
        layers: list[nn.Module] = []
        if mid != c_in:
            layers += [nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), Act()]
        layers += [nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False), nn.BatchNorm2d(mid),
                   Act()]
        if se:
            layers.append(SqueezeExcite(mid))
        layers += [nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


def _per_block(value: PerBlock, depth: int, where: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) < depth:
            raise BuildError(f"{where}: per-block list has {len(value)} entries, the stage has {depth} blocks")
        return list(value[:depth])
    return [value] * depth


class MobileNetV3Net(nn.Module):
    """Stem (3×3 stride-2 conv-BN-hswish) → stages of MBConv blocks → 1×1 conv to ``head_width`` → global average
    pool → linear classifier. The first block of a stage carries the stage's stride.

    Signature (all JSON-able; one entry per stage in each list)::

        MobileNetV3Net(depths: list[int], widths: list[int],
                       kernels: list[int | list[int]],          # 3, 5 or 7 (any odd int)
                       expansions: list[float | list[float]],   # e.g. 1, 3, 4, 6
                       se: list[bool | list[bool]],
                       strides: list[int] | None = None,        # default: 1 for the first stage, then 2
                       stem_width: int = 16, head_width: int = 256, num_classes: int = 10,
                       in_channels: int = 3, act: str = 'hswish')

    Example::

        >>> MobileNetV3Net([1], [8], [3], [2], [True], stem_width=8, head_width=16)(torch.randn(1, 3, 8, 8)).shape
        torch.Size([1, 10])
    """

    def __init__(self, depths: Sequence[int], widths: Sequence[int], kernels: Sequence[PerBlock],
                 expansions: Sequence[PerBlock], se: Sequence[PerBlock], strides: Optional[Sequence[int]] = None,
                 stem_width: int = 16, head_width: int = 256, num_classes: int = 10, in_channels: int = 3,
                 act: str = "hswish") -> None:
        super().__init__()
        w = "MobileNetV3Net"
        n = len(depths)
        if n == 0:
            raise BuildError(f"{w}: argument depths must list at least one stage")
        strides = list(strides) if strides is not None else [1] + [2] * (n - 1)
        for name, lst in (("widths", widths), ("kernels", kernels), ("expansions", expansions), ("se", se),
                          ("strides", strides)):
            if not isinstance(lst, (list, tuple)) or len(lst) != n:
                raise BuildError(f"{w}: argument {name} must be a list of {n} entries (one per stage), got {lst!r}")
        for name, v in (("stem_width", stem_width), ("head_width", head_width), ("num_classes", num_classes),
                        ("in_channels", in_channels)):
            _pos(v, f"{w}: argument {name}")
        if act not in ("hswish", "relu"):
            raise BuildError(f"{w}: argument act must be 'hswish' or 'relu', got {act!r}")
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_width, 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(stem_width), nn.Hardswish())
        blocks: list[nn.Module] = []
        c = stem_width
        for s in range(n):
            d = _pos(depths[s], f"{w}: depths[{s}]")
            width = _pos(widths[s], f"{w}: widths[{s}]")
            stride = _pos(strides[s], f"{w}: strides[{s}]")
            ks = _per_block(kernels[s], d, f"{w}: kernels[{s}]")
            es = _per_block(expansions[s], d, f"{w}: expansions[{s}]")
            ses = _per_block(se[s], d, f"{w}: se[{s}]")
            for b in range(d):
                k = _pos(ks[b], f"{w}: kernels[{s}][{b}]")
                if k % 2 == 0:
                    raise BuildError(f"{w}: kernels[{s}][{b}] must be odd, got {k}")
                e = es[b]
                if isinstance(e, bool) or not isinstance(e, (int, float)) or e < 1:
                    raise BuildError(f"{w}: expansions[{s}][{b}] must be a number >= 1, got {e!r}")
                if not isinstance(ses[b], bool):
                    raise BuildError(f"{w}: se[{s}][{b}] must be true or false, got {ses[b]!r}")
                blocks.append(MBConv(c, width, k, stride if b == 0 else 1, e, ses[b], act))
                c = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Conv2d(c, head_width, 1, bias=False), nn.BatchNorm2d(head_width),
                                  nn.Hardswish(), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(head_width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.blocks(self.stem(x))).flatten(1))


def _pos(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise BuildError(f"{where} must be a positive int, got {v!r}")
    return v


register(MobileNetV3Net)
