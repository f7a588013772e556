"""The NAS-Bench-101 network in plain torch, following the official ``model_builder.py`` / ``base_ops.py``.

A cell is an upper-triangular adjacency matrix (list of lists of 0/1, vertex 0 = input, last vertex = output) and
the labels of its interior vertices (``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``). Vertices that are
not on an input→output path are pruned first (as the official ``ModelSpec``). Channel handling is the official one:
the output channels are split evenly between the vertices feeding the output (which are concatenated), other
vertices take the largest width of their successors, inputs from interior vertices are truncated to the receiving
vertex's width, and the cell input reaches a vertex through a 1×1 conv-BN-ReLU projection.

Example::

    >>> import torch
    >>> m = [[0, 1, 1, 0, 0, 0, 0],
    ...      [0, 0, 0, 1, 0, 0, 0],
    ...      [0, 0, 0, 0, 1, 0, 0],
    ...      [0, 0, 0, 0, 0, 1, 0],
    ...      [0, 0, 0, 0, 0, 0, 1],
    ...      [0, 0, 0, 0, 0, 0, 1],
    ...      [0, 0, 0, 0, 0, 0, 0]]
    >>> ops = ['conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3', 'conv3x3-bn-relu', 'conv1x1-bn-relu']
    >>> net = NB101Network(m, ops, stem_channels=8, num_stacks=2, cells_per_stack=1)
    >>> net(torch.randn(2, 3, 16, 16)).shape
    torch.Size([2, 10])
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from symnas.errors import BuildError
from symnas.symbolic.spec import register

__all__ = ["NB101_OPS", "prune", "vertex_channels", "NB101Cell", "NB101Network"]

NB101_OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
MAX_VERTICES = 7
MAX_EDGES = 9


def _pos_int(value: object, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BuildError(f"{where}: argument {name} must be a positive int, got {value!r}")
    return value


def _check_cell(matrix: Sequence[Sequence[int]], ops: Sequence[str], where: str) -> tuple[list[list[int]], list[str]]:
    """Validates a cell; returns (matrix as lists of 0/1, interior op labels)."""
    if not isinstance(matrix, (list, tuple)) or not matrix:
        raise BuildError(f"{where}: argument matrix must be a non-empty list of lists, got {matrix!r}")
    n = len(matrix)
    if n < 2 or n > MAX_VERTICES:
        raise BuildError(f"{where}: argument matrix must have 2..{MAX_VERTICES} vertices, got {n}")
    m: list[list[int]] = []
    for i, row in enumerate(matrix):
        if not isinstance(row, (list, tuple)) or len(row) != n:
            raise BuildError(f"{where}: matrix[{i}] must be a list of {n} entries, got {row!r}")
        for j, v in enumerate(row):
            if v not in (0, 1) or isinstance(v, float):
                raise BuildError(f"{where}: matrix[{i}][{j}] must be 0 or 1, got {v!r}")
            if v and j <= i:
                raise BuildError(f"{where}: matrix[{i}][{j}] = 1 below or on the diagonal (must be upper-triangular)")
        m.append([int(v) for v in row])
    ops = list(ops)
    if len(ops) == n and ops[0] == "input" and ops[-1] == "output":
        ops = ops[1:-1]  # the official 7-label form
    if len(ops) != n - 2:
        raise BuildError(f"{where}: argument ops needs {n - 2} labels for a {n}-vertex matrix, got {len(ops)}")
    for i, op in enumerate(ops):
        if op not in NB101_OPS:
            raise BuildError(f"{where}: ops[{i}] = {op!r} is not one of {list(NB101_OPS)}")
    return m, ops


def prune(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """Removes vertices not on an input→output path (official ``ModelSpec._prune``); ``ops`` are interior labels.

    Raises :class:`BuildError` when the output is not reachable from the input.

    Example::

        >>> prune([[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ['maxpool3x3', 'conv1x1-bn-relu'])
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ['conv1x1-bn-relu'])
        >>> prune([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ['maxpool3x3'])
        Traceback (most recent call last):
        ...
        symnas.errors.BuildError: NB101 cell: the output vertex is not reachable from the input
    """
    m, ops = _check_cell(matrix, ops, "NB101 cell")
    n = len(m)
    fwd, stack = {0}, [0]
    while stack:
        v = stack.pop()
        for w in range(v + 1, n):
            if m[v][w] and w not in fwd:
                fwd.add(w)
                stack.append(w)
    bwd, stack = {n - 1}, [n - 1]
    while stack:
        v = stack.pop()
        for u in range(v):
            if m[u][v] and u not in bwd:
                bwd.add(u)
                stack.append(u)
    if n - 1 not in fwd:
        raise BuildError("NB101 cell: the output vertex is not reachable from the input")
    keep = sorted(fwd & bwd)
    labels = ["input"] + ops + ["output"]
    new_m = [[m[i][j] for j in keep] for i in keep]
    return new_m, [labels[i] for i in keep[1:-1]]


def vertex_channels(in_channels: int, out_channels: int, matrix: Sequence[Sequence[int]]) -> list[int]:
    """Channels of each vertex (official ``compute_vertex_channels``) for a pruned matrix.

    Example::

        >>> vertex_channels(16, 32, [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
        [16, 16, 16, 32]
    """
    n = len(matrix)
    ch = [0] * n
    ch[0], ch[n - 1] = in_channels, out_channels
    if n == 2:
        return ch
    in_degree_out = sum(matrix[v][n - 1] for v in range(1, n))
    interior, correction = divmod(out_channels, in_degree_out) if in_degree_out else (0, 0)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            ch[v] = interior + (1 if correction else 0)
            correction -= 1 if correction else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v][dst]:
                    ch[v] = max(ch[v], ch[dst])
        if ch[v] <= 0:
            raise BuildError(f"NB101 cell: vertex {v} gets no channels (out_channels {out_channels} too small)")
    return ch


class _ConvBNReLU(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__()
        self.op = nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out),
                                nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def _make_op(label: str, channels: int) -> nn.Module:
    if label == "conv3x3-bn-relu":
        return _ConvBNReLU(channels, channels, 3)
    if label == "conv1x1-bn-relu":
        return _ConvBNReLU(channels, channels, 1)
    return nn.MaxPool2d(3, stride=1, padding=1)


class NB101Cell(nn.Module):
    """One NAS-Bench-101 cell (module), given an already pruned matrix and its interior labels.

    ``NB101Cell(in_channels: int, out_channels: int, matrix: list[list[int]], ops: list[str])``

    Example::

        >>> cell = NB101Cell(8, 16, [[0, 1, 1], [0, 0, 1], [0, 0, 0]], ['conv1x1-bn-relu'])
        >>> cell(torch.randn(1, 8, 4, 4)).shape
        torch.Size([1, 16, 4, 4])
    """

    def __init__(self, in_channels: int, out_channels: int, matrix: Sequence[Sequence[int]],
                 ops: Sequence[str]) -> None:
        super().__init__()
        self.matrix = [list(r) for r in matrix]
        n = len(self.matrix)
        self.ch = vertex_channels(in_channels, out_channels, self.matrix)
        self.proj = nn.ModuleDict()
        for t in range(1, n):
            if self.matrix[0][t]:
                self.proj[str(t)] = _ConvBNReLU(in_channels, self.ch[t], 1)
        self.ops = nn.ModuleList(_make_op(ops[t - 1], self.ch[t]) for t in range(1, n - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n = self.matrix, len(self.matrix)
        tensors = [x]
        final: list[torch.Tensor] = []
        for t in range(1, n - 1):
            add_in = [tensors[s][:, :self.ch[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                add_in.append(self.proj[str(t)](x))
            h = add_in[0] if len(add_in) == 1 else torch.stack(add_in).sum(0)
            tensors.append(self.ops[t - 1](h))
            if m[t][n - 1]:
                final.append(tensors[t])
        if not final:
            return self.proj[str(n - 1)](x)
        out = final[0] if len(final) == 1 else torch.cat(final, 1)
        if m[0][n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network: 3×3 conv-BN-ReLU stem → ``num_stacks`` stacks of ``cells_per_stack`` cells,
    a 2×2 max-pool and channel doubling between stacks → global average pool → linear classifier.

    Signature (all JSON-able)::

        NB101Network(matrix: list[list[int]],  # upper-triangular 0/1, 2..7 vertices
                     ops: list[str],           # labels of the interior vertices (or the official 7 with
                                               # 'input'/'output' at the ends)
                     stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
                     num_classes: int = 10, in_channels: int = 3)

    The official network is the default (128 stem channels, 3 stacks × 3 cells). The cell is pruned first;
    ``self.matrix`` / ``self.ops`` hold the pruned cell. A cell whose output is unreachable raises BuildError.

    Example::

        >>> net = NB101Network([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ['conv3x3-bn-relu'], 8, 1, 1)
        >>> net(torch.randn(1, 3, 8, 8)).shape
        torch.Size([1, 10])
    """

    def __init__(self, matrix: Sequence[Sequence[int]], ops: Sequence[str], stem_channels: int = 128,
                 num_stacks: int = 3, cells_per_stack: int = 3, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        where = "NB101Network"
        for name, v in (("stem_channels", stem_channels), ("num_stacks", num_stacks),
                        ("cells_per_stack", cells_per_stack), ("num_classes", num_classes),
                        ("in_channels", in_channels)):
            _pos_int(v, name, where)
        try:
            self.matrix, self.ops = prune(matrix, ops)
        except BuildError as exc:
            raise BuildError(f"{where}: {exc}") from None
        self.stem = _ConvBNReLU(in_channels, stem_channels, 3)
        layers: list[nn.Module] = []
        c_in = c_out = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                c_out *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(c_in, c_out, self.matrix, self.ops))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_out, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.classifier(x.mean((2, 3)))


register(NB101Network)
