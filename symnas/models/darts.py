"""The DARTS evaluation network (``NetworkCIFAR`` of the DARTS code, without the auxiliary head) in plain torch.

A genotype is given per cell type (normal, reduction) as 4 nodes × 2 ``(input, op)`` pairs: input 0 and 1 are the
two previous cells' outputs, input ``k >= 2`` is intermediate node ``k - 2``; every intermediate node is
concatenated into the cell output (DARTS' ``concat = range(2, 6)``). Ops: ``sep_conv_3x3``, ``sep_conv_5x5``,
``dil_conv_3x3``, ``dil_conv_5x5``, ``max_pool_3x3``, ``avg_pool_3x3``, ``skip_connect``, ``none``.

Example::

    >>> import torch
    >>> g = [[[0, 'sep_conv_3x3'], [1, 'skip_connect']]] * 4
    >>> net = DartsNetwork(g, g, C=4, layers=3)
    >>> net(torch.randn(2, 3, 16, 16)).shape
    torch.Size([2, 10])
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

from symnas.errors import BuildError
from symnas.symbolic.spec import register

__all__ = ["DARTS_OPS", "parse_genotype", "DartsCell", "DartsNetwork"]

DARTS_OPS = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
             "dil_conv_3x3", "dil_conv_5x5")
NODES = 4


class ReLUConvBN(nn.Module):
    """ReLU → conv (no bias) → BN."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, pad: int) -> None:
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, pad, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU → depthwise (dilated) conv → pointwise conv → BN."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, pad: int, dilation: int) -> None:
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_in, k, stride, pad, dilation, groups=c_in, bias=False),
                                nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two stacked DilConv with dilation 1 (the first carries the stride)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, pad: int) -> None:
        super().__init__()
        self.op = nn.Sequential(DilConv(c_in, c_in, k, stride, pad, 1), DilConv(c_in, c_out, k, 1, pad, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` op: zeros, subsampled by ``stride``."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halves the resolution with two offset 1×1 stride-2 convs, concatenated (c_out must be even)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        if c_out % 2:
            raise BuildError(f"DartsNetwork: FactorizedReduce needs an even channel count, got {c_out}")
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        y = x[:, :, 1:, 1:]
        if y.shape[-1] == 0 or y.shape[-2] == 0:
            y = x
        a, b = self.conv_1(x), self.conv_2(nn.functional.pad(y, (0, x.shape[-1] - y.shape[-1],
                                                                 0, x.shape[-2] - y.shape[-2])))
        return self.bn(torch.cat([a, b], 1))


_OPS: dict[str, Callable[[int, int], nn.Module]] = {
    "none": lambda C, s: Zero(s),
    "avg_pool_3x3": lambda C, s: nn.AvgPool2d(3, stride=s, padding=1, count_include_pad=False),
    "max_pool_3x3": lambda C, s: nn.MaxPool2d(3, stride=s, padding=1),
    "skip_connect": lambda C, s: nn.Identity() if s == 1 else FactorizedReduce(C, C),
    "sep_conv_3x3": lambda C, s: SepConv(C, C, 3, s, 1),
    "sep_conv_5x5": lambda C, s: SepConv(C, C, 5, s, 2),
    "dil_conv_3x3": lambda C, s: DilConv(C, C, 3, s, 2, 2),
    "dil_conv_5x5": lambda C, s: DilConv(C, C, 5, s, 4, 2),
}


def parse_genotype(genotype: Any, where: str = "genotype") -> list[tuple[int, str]]:
    """Validates a cell genotype; returns 8 ``(input, op)`` pairs (node k uses pairs 2k and 2k+1).

    Accepts 4 nodes of 2 pairs or a flat list of 8 pairs; a pair is ``[input, op]`` (the DARTS code's
    ``(op, input)`` order is accepted too, told apart by type).

    Example::

        >>> parse_genotype([[0, 'skip_connect'], ['sep_conv_3x3', 1]] * 4)[:2]
        [(0, 'skip_connect'), (1, 'sep_conv_3x3')]
    """
    if not isinstance(genotype, (list, tuple)):
        raise BuildError(f"{where}: must be a list of {NODES} nodes of 2 (input, op) pairs, got {genotype!r}")
    flat: list[Any] = []
    if len(genotype) == NODES and all(isinstance(n, (list, tuple)) and len(n) == 2 and
                                      all(isinstance(p, (list, tuple)) for p in n) for n in genotype):
        for n in genotype:
            flat.extend(n)
    else:
        flat = list(genotype)
    if len(flat) != 2 * NODES:
        raise BuildError(f"{where}: needs {NODES} nodes x 2 (input, op) pairs, got {len(flat)} pairs")
    out: list[tuple[int, str]] = []
    for i, pair in enumerate(flat):
        node = i // 2
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise BuildError(f"{where}: node {node} pair {i % 2} must be [input, op], got {pair!r}")
        a, b = pair
        inp, op = (b, a) if isinstance(a, str) else (a, b)
        if op not in _OPS:
            raise BuildError(f"{where}: node {node} pair {i % 2}: unknown op {op!r} (one of {list(DARTS_OPS)})")
        if isinstance(inp, bool) or not isinstance(inp, int) or not 0 <= inp < node + 2:
            raise BuildError(f"{where}: node {node} pair {i % 2}: input must be an int in [0, {node + 1}], "
                             f"got {inp!r}")
        out.append((inp, op))
    return out


class DartsCell(nn.Module):
    """A DARTS cell: preprocess both inputs to C channels, 4 nodes each summing two ops, concat the 4 nodes.

    ``DartsCell(genotype: list[tuple[int, str]], C_pp: int, C_p: int, C: int, reduction: bool,
    reduction_prev: bool)``

    Example::

        >>> cell = DartsCell(parse_genotype([[0, 'max_pool_3x3'], [1, 'dil_conv_3x3']] * 4), 8, 8, 4, True, False)
        >>> cell(torch.randn(1, 8, 8, 8), torch.randn(1, 8, 8, 8)).shape
        torch.Size([1, 16, 4, 4])
    """

    def __init__(self, genotype: Sequence[tuple[int, str]], C_pp: int, C_p: int, C: int, reduction: bool,
                 reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(C_pp, C) if reduction_prev else ReLUConvBN(C_pp, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0)
        self.indices = [i for i, _ in genotype]
        self.ops = nn.ModuleList(_OPS[op](C, 2 if reduction and i < 2 else 1) for i, op in genotype)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(NODES):
            a, b = 2 * k, 2 * k + 1
            states.append(self.ops[a](states[self.indices[a]]) + self.ops[b](states[self.indices[b]]))
        return torch.cat(states[2:], 1)


class DartsNetwork(nn.Module):
    """The DARTS CIFAR evaluation network: 3×3 conv-BN stem (``stem_multiplier * C`` channels) → ``layers``
    cells, reduction cells (channels doubled) at ``layers // 3`` and ``2 * layers // 3`` → global average pool →
    linear classifier. No auxiliary head, no drop-path (add them in training code if wanted).

    Signature (all JSON-able)::

        DartsNetwork(normal: list,            # 4 nodes x 2 [input, op] pairs (see parse_genotype)
                     reduce: list,            # same, for the reduction cells
                     C: int = 16, layers: int = 8, num_classes: int = 10, in_channels: int = 3,
                     stem_multiplier: int = 3)

    Example::

        >>> g = [[[0, 'sep_conv_5x5'], [1, 'avg_pool_3x3']], [[2, 'dil_conv_5x5'], [0, 'none']]] * 2
        >>> DartsNetwork(g, g, C=4, layers=2)(torch.randn(1, 3, 8, 8)).shape
        torch.Size([1, 10])
    """

    def __init__(self, normal: Any, reduce: Any, C: int = 16, layers: int = 8, num_classes: int = 10,
                 in_channels: int = 3, stem_multiplier: int = 3) -> None:
        super().__init__()
        for name, v in (("C", C), ("layers", layers), ("num_classes", num_classes), ("in_channels", in_channels),
                        ("stem_multiplier", stem_multiplier)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise BuildError(f"DartsNetwork: argument {name} must be a positive int, got {v!r}")
        self.normal = parse_genotype(normal, "DartsNetwork: argument normal")
        self.reduce = parse_genotype(reduce, "DartsNetwork: argument reduce")
        c_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, C
        cells: list[nn.Module] = []
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3) and layers >= 2
            if reduction:
                c_curr *= 2
            cells.append(DartsCell(self.reduce if reduction else self.normal, c_pp, c_p, c_curr, reduction,
                                   reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, NODES * c_curr
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean((2, 3)))


register(DartsNetwork)
