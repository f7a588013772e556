"""Structural hash of DAG cells (NAS-Bench-101/201, DARTS style): no torch, microseconds per cell.

A cell is given as a node-labelled DAG: ``adjacency[i][j]`` is the number of edges ``i -> j`` (0/1 matrices and
integer multiplicities both work; ``True``/``False`` too), ``labels[i]`` is the op of node ``i``. Every node sums
its inputs and applies its op. Node ``input`` (default 0) is the cell input, node ``output`` (default the last)
the cell output. Edge-labelled cells (NAS-Bench-201, DARTS) are turned into this form by making each edge an op
node (see :func:`symnas.hash.nb201.nb201_graph`).

The hash:

1. **zero ops** (``none``/``zero``) are removed, and so is every node left without inputs (it computes zero);
2. **identity ops** (``skip_connect``/``identity``, and pure summing nodes) are contracted, multiplying edge
   multiplicities through them (``x`` reached along two paths is ``2x``, not ``x``);
3. nodes that do not reach the output, or are not reached from the input, are pruned;
4. each remaining node gets a Merkle hash ``H(label, sorted multiset of (input hash, multiplicity))`` in
   topological order; the cell hash is the output node's hash.

Isomorphic cells get equal hashes whatever their node numbering. Two cells share a hash only when they unfold to
the same expression tree (a node used twice and two equal nodes on the same input unfold alike); the hash does not
apply algebra beyond that (``pool(a) + pool(b)`` and ``pool(a + b)`` stay apart), so it may split a functional
class but does not merge two.

Example::

    >>> adj = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    >>> a = structural_hash(adj, ["input", "conv3x3", "maxpool", "output"])
    >>> b = structural_hash(adj, ["input", "maxpool", "conv3x3", "output"])   # the same cell, renumbered
    >>> a == b
    True
"""
from __future__ import annotations

import hashlib
from typing import Collection, Sequence

from symnas.errors import SymnasError

IDENTITY_OPS: frozenset[str] = frozenset({"skip_connect", "identity", "skip", "sum", "add"})
ZERO_OPS: frozenset[str] = frozenset({"none", "zero"})


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
        if not acc:                                   # no live input: computes zero
            expand[v] = {}
        elif str(labels[v]) in identity and v != out:
            expand[v] = acc
        else:
            expand[v] = {v: 1}
            preds[v] = acc                            # base node: its inputs are now base nodes
    # Merkle hashes of base nodes reachable from the output (dead branches never enter).
    memo: dict[int, str] = {}

    def node_hash(v: int) -> str:
        got = memo.get(v)
        if got is None:
            if v == inp:
                got = _h("input")
            else:
                got = _h(str(labels[v]), tuple(sorted((node_hash(b), m) for b, m in preds[v].items())))
            memo[v] = got
        return got

    if out == inp:
        return _h("input")
    if not expand[out]:
        return _h("zero")
    return node_hash(out)


def count_classes(cells: Sequence[tuple[Sequence[Sequence[int]], Sequence[str]]],
                  **options: object) -> int:
    """Number of distinct structural hashes among ``cells`` (a list of ``(adjacency, labels)``).

    Example::

        >>> count_classes([([[0, 1], [0, 0]], ["input", "output"])] * 3)
        1
    """
    return len({structural_hash(adj, labels, **options) for adj, labels in cells})  # type: ignore[arg-type]


__all__ = ["structural_hash", "count_classes", "StructuralHashError", "IDENTITY_OPS", "ZERO_OPS"]
