"""Structural hash of DAG cells (NAS-Bench-101/201, DARTS style): no torch, microseconds per cell.

A cell is given as a node-labelled DAG: ``adjacency[i][j]`` is the number of edges ``i -> j`` (0/1 matrices and
integer multiplicities both work; ``True``/``False`` too), ``labels[i]`` is the op of node ``i``. Every node sums
its inputs and applies its op. Node ``input`` (default 0) is the cell input, node ``output`` (default the last)
the cell output. Edge-labelled cells (NAS-Bench-201, DARTS) are turned into this form by making each edge an op
node (see :func:`symnas.hash.nb201.nb201_graph`).

The hash:

1. **zero ops** (``none``/``zero``) are removed; a node left without inputs computes zero when its op is an
   identity or a parameter-free op (``zero_preserving``: pools), otherwise it is a constant of its op (a
   ReLU-conv-BN op on a zero input outputs its trainable BatchNorm bias, so it is not zero);
2. **identity ops** (``skip_connect``/``identity``, and pure summing nodes) are contracted, multiplying edge
   multiplicities through them (``x`` reached along two paths is ``2x``, not ``x``);
3. nodes that do not reach the output, or are not reached from the input, are pruned;
4. each remaining node gets a downward Merkle hash ``H(label, sorted multiset of (input hash, multiplicity))``;
   the cell hash is the minimum serialisation of the base-node graph over the relabellings that keep downward
   hashes (a canonical form up to isomorphism), so one node used twice (one parameter instance, ``2·f(x)``) and
   two equal nodes on one input (two instances, ``f1(x) + f2(x)``) hash apart. Past ``max_relabellings`` the
   given numbering is used instead (never merges, may split).

Isomorphic cells get equal hashes whatever their node numbering. The hash applies no algebra beyond that
(``pool(a) + pool(b)`` and ``pool(a + b)`` stay apart), so it may split a functional class but does not merge two.

Example::

    >>> adj = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    >>> a = structural_hash(adj, ["input", "conv3x3", "maxpool", "output"])
    >>> b = structural_hash(adj, ["input", "maxpool", "conv3x3", "output"])   # the same cell, renumbered
    >>> a == b
    True
"""
from __future__ import annotations

import hashlib
import itertools
import math
from typing import Collection, Sequence

from symnas.errors import SymnasError

IDENTITY_OPS: frozenset[str] = frozenset({"skip_connect", "identity", "skip", "sum", "add"})
ZERO_OPS: frozenset[str] = frozenset({"none", "zero"})
ZERO_PRESERVING_OPS: frozenset[str] = frozenset({"avg_pool_3x3", "max_pool_3x3", "maxpool3x3", "avgpool3x3",
                                                 "avg_pool", "max_pool"})


class StructuralHashError(SymnasError, ValueError):
    """A cell given to the structural hash is malformed (not square, wrong label count, a cycle)."""


def _h(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _topo_order(n: int, preds: list[dict[int, int]], where: str) -> list[int]:
    indeg = [len(p) for p in preds]
    succs: list[list[int]] = [[] for _ in range(n)]
    for j in range(n):
        for i in preds[j]:
            succs[i].append(j)
    order, stack = [], [i for i in range(n) if indeg[i] == 0]
    while stack:
        i = stack.pop()
        order.append(i)
        for j in succs[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                stack.append(j)
    if len(order) != n:
        raise StructuralHashError(f"{where}: the cell has a cycle (nodes {sorted(set(range(n)) - set(order))})")
    return order


def structural_hash(adjacency: Sequence[Sequence[int]], labels: Sequence[str], *,
                    input: int = 0, output: int = -1,
                    identity: Collection[str] = IDENTITY_OPS, zero: Collection[str] = ZERO_OPS,
                    zero_preserving: Collection[str] = ZERO_PRESERVING_OPS, max_relabellings: int = 5040,
                    where: str = "cell") -> str:
    """The structural hash (32 hex digits) of a node-labelled DAG cell; see the module docstring.

    ``where`` names the cell in error messages (e.g. a decision path). The input and output nodes are never
    contracted or zeroed whatever their labels.

    Example::

        >>> structural_hash([[0, 1], [0, 0]], ["input", "output"]) == structural_hash([[0]], ["input"])
        False
    """
    n = len(labels)
    if len(adjacency) != n or any(len(row) != n for row in adjacency):
        raise StructuralHashError(f"{where}: adjacency must be {n}x{n} (one row and column per label)")
    if n == 0:
        raise StructuralHashError(f"{where}: empty cell")
    inp, out = input % n, output % n
    preds: list[dict[int, int]] = [{} for _ in range(n)]
    for i in range(n):
        for j in range(n):
            m = int(adjacency[i][j])
            if m < 0:
                raise StructuralHashError(f"{where}: negative edge multiplicity at [{i}][{j}]")
            if m:
                if i == j:
                    raise StructuralHashError(f"{where}: self-loop on node {i}")
                preds[j][i] = m
    order = _topo_order(n, preds, where)
    # Expansion of every node as a multiset of "base" nodes (non-identity nodes): {base: multiplicity}.
    expand: dict[int, dict[int, int]] = {}
    for v in order:
        if v == inp:
            expand[v] = {v: 1}
            continue
        if str(labels[v]) in zero and v != out:
            expand[v] = {}
            continue
        acc: dict[int, int] = {}
        for p, m in preds[v].items():
            for b, mb in expand[p].items():
                acc[b] = acc.get(b, 0) + m * mb
        if not acc and (str(labels[v]) in identity or str(labels[v]) in zero_preserving) and v != out:
            expand[v] = {}                            # no live input and the op maps zero to zero
        elif str(labels[v]) in identity and v != out:
            expand[v] = acc
        else:
            expand[v] = {v: 1}
            preds[v] = acc                            # base node: its inputs are now base nodes (maybe none)
    if out == inp:
        return _h("input")
    if not preds[out]:
        return _h("zero")
    live: set[int] = set()
    stack = [out]
    while stack:
        v = stack.pop()
        if v not in live:
            live.add(v)
            stack.extend(b for b in preds[v] if b != inp)
    down: dict[int, str] = {}

    def dh(v: int) -> str:
        got = down.get(v)
        if got is None:
            got = down[v] = "input" if v == inp else _h(str(labels[v]), tuple(sorted(
                (dh(b), m) for b, m in preds[v].items())))
        return got

    groups: dict[str, list[int]] = {}
    for v in sorted(live):
        groups.setdefault(dh(v), []).append(v)
    ordered = [g for _, g in sorted(groups.items())]
    count = 1
    for g in ordered:
        count *= math.factorial(len(g))
    perms = (itertools.product(*(itertools.permutations(g) for g in ordered)) if count <= max_relabellings
             else iter([tuple(ordered)]))
    best = None
    for perm in perms:
        order = [v for g in perm for v in g]
        name = {v: n for n, v in enumerate(order)}
        name[inp] = -1
        form = tuple((str(labels[v]), tuple(sorted((name[b], m) for b, m in preds[v].items()))) for v in order)
        form += ((name[out],),)
        if best is None or form < best:
            best = form
    return _h("dag", best)


def count_classes(cells: Sequence[tuple[Sequence[Sequence[int]], Sequence[str]]],
                  **options: object) -> int:
    """Number of distinct structural hashes among ``cells`` (a list of ``(adjacency, labels)``).

    Example::

        >>> count_classes([([[0, 1], [0, 0]], ["input", "output"])] * 3)
        1
    """
    return len({structural_hash(adj, labels, **options) for adj, labels in cells})  # type: ignore[arg-type]


__all__ = ["structural_hash", "count_classes", "StructuralHashError", "IDENTITY_OPS", "ZERO_OPS",
           "ZERO_PRESERVING_OPS"]
