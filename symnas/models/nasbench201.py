"""The NAS-Bench-201 network in plain torch, faithful to the official ``TinyNetwork`` / ``InferCell``.

Module names follow the official code, so ``state_dict`` keys match it (``stem.0.weight``,
``cells.3.layers.2.op.1.weight``, ``cells.5.conv_a.op.1.weight``, ``lastact.0.weight``, ``classifier.weight``).
The forward pass returns logits only (the official one returns ``(features, logits)``).

Example::

    >>> import torch
    >>> net = NB201Network(['nor_conv_3x3', 'skip_connect', 'avg_pool_3x3', 'none', 'nor_conv_1x1',
    ...                     'skip_connect'], C=8, N=1)
    >>> net(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""
from __future__ import annotations

from typing import Callable, Sequence, Union, cast

import torch
from torch import nn

from symnas.space.nasbench201 import EDGES, OPS, NASBench201Error, arch_str, code, ops_of

__all__ = ["ReLUConvBN", "Zero", "AvgPool3x3", "NB201Cell", "ResNetBasicBlock", "NB201Network", "make_op",
           "probe_network", "nb201_probe_build"]

Cell = Union[str, Sequence[Union[str, int]]]


def _positive_int(value: object, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise NASBench201Error(f"{where}: argument {name} must be a positive int, got {value!r}")
    return value


def _cell_ops(cell: Cell, where: str) -> tuple[str, ...]:
    try:
        return ops_of(code(cell))
    except NASBench201Error as exc:
        raise NASBench201Error(f"{where}: cell: {exc}") from None


class ReLUConvBN(nn.Module):
    """ReLU → Conv2d (no bias) → BatchNorm2d, as the official ``ReLUConvBN`` (attribute ``op``).

    Example::

        >>> ReLUConvBN(8, 16, 3, 2, 1)(torch.randn(1, 8, 32, 32)).shape
        torch.Size([1, 16, 16, 16])
    """

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` op: zeros of the input's shape (stride 1, same channels).

    Example::

        >>> Zero()(torch.ones(1, 2, 3, 3)).abs().sum().item()
        0.0
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class AvgPool3x3(nn.Module):
    """The ``avg_pool_3x3`` op: 3×3 average pooling, stride 1, padding 1, ``count_include_pad=False``
    (attribute ``op``, as the official ``POOLING`` when input and output channels agree).

    Example::

        >>> AvgPool3x3()(torch.ones(1, 1, 4, 4)).eq(1).all().item()
        True
    """

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def make_op(name: str, C: int) -> nn.Module:
    """A fresh module for one cell op at ``C`` channels (stride 1).

    Example::

        >>> type(make_op('skip_connect', 8)).__name__
        'Identity'
    """
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(C, C, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C, C, 3, 1, 1)
    if name == "avg_pool_3x3":
        return AvgPool3x3()
    raise NASBench201Error(f"make_op: unknown op {name!r} (expected one of {', '.join(OPS)})")


class NB201Cell(nn.Module):
    """A NAS-Bench-201 cell at ``C`` channels: node j = Σ_{i<j} op_ij(node_i), output = node 3.

    ``ops`` gives the 6 edge ops in :data:`~symnas.space.nasbench201.EDGES` order (names, indices or a
    cell string); ``layers[e]`` is the module of edge ``e``.

    Example::

        >>> cell = NB201Cell(4, ['nor_conv_3x3', 'none', 'skip_connect', 'none', 'none', 'avg_pool_3x3'])
        >>> cell(torch.randn(2, 4, 8, 8)).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(self, C: int, ops: Cell) -> None:
        super().__init__()
        self.C = _positive_int(C, "C", "NB201Cell")
        self.ops: tuple[str, ...] = _cell_ops(ops, "NB201Cell")
        self.layers = nn.ModuleList(make_op(op, C) for op in self.ops)
        self._inputs: list[list[tuple[int, int]]] = self._wiring(self.ops)

    @staticmethod
    def _wiring(ops: Sequence[str]) -> list[list[tuple[int, int]]]:
        """(source node, edge index) of the non-zero edges into nodes 1..3."""
        return [[(i, e) for e, (i, j) in enumerate(EDGES) if j == node and ops[e] != "none"] for node in (1, 2, 3)]

    @property
    def in_dim(self) -> int:
        return self.C

    @property
    def out_dim(self) -> int:
        return self.C

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for inputs in self._inputs:
            if not inputs:  # every incoming edge is `none`
                nodes.append(torch.zeros_like(x))
                continue
            total = self.layers[inputs[0][1]](nodes[inputs[0][0]])
            for i, e in inputs[1:]:
                total = total + self.layers[e](nodes[i])
            nodes.append(total)
        return nodes[-1]

    def extra_repr(self) -> str:
        return f"C={self.C}, arch={arch_str(self.ops)!r}"


class ResNetBasicBlock(nn.Module):
    """The residual block between stages (official ``ResNetBasicblock``): two ReLUConvBN 3×3 (``conv_a`` with
    ``stride``, ``conv_b``) plus a shortcut ``downsample`` — AvgPool2d(2, 2) → Conv 1×1 (no bias) for stride 2,
    ReLUConvBN 1×1 when only the channels change, none otherwise.

    Example::

        >>> ResNetBasicBlock(8, 16, 2)(torch.randn(1, 8, 32, 32)).shape
        torch.Size([1, 16, 16, 16])
    """

    def __init__(self, C_in: int, C_out: int, stride: int = 2) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise NASBench201Error(f"ResNetBasicBlock: argument stride must be 1 or 2, got {stride!r}")
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        self.downsample: nn.Module | None
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(C_in, C_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0)
        else:
            self.downsample = None
        self.in_dim, self.out_dim, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


def build_macro(net: nn.Module, C: int, N: int, num_classes: int, make_cell: Callable[[int], nn.Module]) -> None:
    """Adds the official macro skeleton to ``net``: ``stem``, ``cells`` (3 stages of N cells from ``make_cell(C)``
    joined by two stride-2 residual blocks), ``lastact``, ``global_pooling``, ``classifier``."""
    net.stem = nn.Sequential(nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(C))
    cells: list[nn.Module] = []
    C_prev = C
    for stage, C_curr in enumerate((C, 2 * C, 4 * C)):
        if stage > 0:
            cells.append(ResNetBasicBlock(C_prev, C_curr, 2))
        cells.extend(make_cell(C_curr) for _ in range(N))
        C_prev = C_curr
    net.cells = nn.ModuleList(cells)
    net.lastact = nn.Sequential(nn.BatchNorm2d(C_prev), nn.ReLU(inplace=True))
    net.global_pooling = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(C_prev, num_classes)


def macro_forward(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The forward pass of a network made by :func:`build_macro`: logits."""
    x = cast(nn.Module, net.stem)(x)
    for cell in cast(nn.ModuleList, net.cells):
        x = cell(x)
    lastact, pooling = cast(nn.Module, net.lastact), cast(nn.Module, net.global_pooling)
    return cast(nn.Module, net.classifier)(pooling(lastact(x)).flatten(1))


class NB201Network(nn.Module):
    """The NAS-Bench-201 macro network (official ``TinyNetwork``): stem (3×3 conv, BN) → N cells at C →
    reduction → N cells at 2C → reduction → N cells at 4C → BN-ReLU (``lastact``) → global average pool →
    linear ``classifier``. ``cells`` holds the 3N cells and the 2 reduction blocks in order. Returns logits.

    ``cell``: 6 op names (or indices) in edge order, or an official cell string.

    Example::

        >>> net = NB201Network('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+'
        ...                    '|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|')
        >>> round(sum(p.numel() for p in net.parameters()) / 1e6, 6)
        1.073466
    """

    #: constructor arguments whose whole effect the functional hash probes (see symnas.hash.key)
    symnas_inert = ("cell", "C", "N", "num_classes")

    def __init__(self, cell: Cell, C: int = 16, N: int = 5, num_classes: int = 10) -> None:
        super().__init__()
        self.C = _positive_int(C, "C", "NB201Network")
        self.N = _positive_int(N, "N", "NB201Network")
        self.num_classes = _positive_int(num_classes, "num_classes", "NB201Network")
        self.ops: tuple[str, ...] = _cell_ops(cell, "NB201Network")
        self.arch_str: str = arch_str(self.ops)
        build_macro(self, C, N, num_classes, lambda c: NB201Cell(c, self.ops))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return macro_forward(self, x)

    def extra_repr(self) -> str:
        return f"C={self.C}, N={self.N}, num_classes={self.num_classes}, arch={self.arch_str!r}"


def probe_network(cell: Cell, C: int = 4, N: int = 1, num_classes: int = 10) -> NB201Network:
    """The cheap probe network of the functional hash: the NB201 network of ``cell`` with ``C`` channels and ``N``
    cells per stage (hash it on a ``(2, 3, 8, 8)`` probe; see docs/hashing.md).

    Example::

        >>> probe_network(["nor_conv_3x3"] * 6).C
        4
    """
    return NB201Network(cell, C=C, N=N, num_classes=num_classes)


_PROBE_NETS: dict[tuple[int, int], tuple[NB201Network, dict[tuple[int, int, str], nn.Module]]] = {}


def _reused_probe(ops: tuple[str, ...], C: int, N: int) -> NB201Network:
    """One probe network per (C, N), its cells rewired to ``ops`` from a pool of op modules (one per cell, edge and
    op, so distinct edges stay distinct parameter instances)."""
    got = _PROBE_NETS.get((C, N))
    if got is None:
        net = NB201Network(ops, C=C, N=N)
        pool = {(i, e, op): cell.layers[e] for i, cell in enumerate(net.cells) if isinstance(cell, NB201Cell)
                for e, op in enumerate(ops)}
        _PROBE_NETS[(C, N)] = (net, pool)
        return net
    net, pool = got
    for i, cell in enumerate(net.cells):
        if isinstance(cell, NB201Cell):
            layers = cast(nn.ModuleList, cell.layers)
            for e, op in enumerate(ops):
                m = pool.get((i, e, op))
                if m is None:
                    m = pool[(i, e, op)] = make_op(op, cell.C)
                layers[e] = m
            cell.ops = ops
            cell._inputs = NB201Cell._wiring(ops)
    net.ops, net.arch_str = ops, arch_str(ops)
    return net


def nb201_probe_build(trial: object, C: int = 4, N: int = 1, reuse: bool = True) -> NB201Network:
    """The ``build`` of a functional dedup key for NAS-Bench-201 spaces: the probe network of a trial's cell
    (``trial.description.kwargs['cell']``, or a description that is the op list itself). With ``reuse`` (default)
    one network per (C, N) is rewired for each cell instead of built afresh: the functional hash re-seeds every
    weight it uses, so hash the result at once and do not keep it (the next call rewires it).

    Example::

        >>> from types import SimpleNamespace as T
        >>> nb201_probe_build(T(description=["nor_conv_3x3"] * 6)).N
        1
    """
    description = getattr(trial, "description", trial)
    kwargs = getattr(description, "kwargs", None)
    cell = kwargs["cell"] if isinstance(kwargs, dict) and "cell" in kwargs else description
    if reuse:
        return _reused_probe(_cell_ops(cast(Cell, cell), "nb201_probe_build"), C, N)
    return probe_network(cast(Cell, cell), C=C, N=N)


nb201_probe_build.inert = ("NB201Network.cell",)  # type: ignore[attr-defined]  # what the probe network reflects
